"""cgroups: limits (placeholder while the drivers are written)."""
