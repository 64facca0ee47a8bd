"""The plugin layer: what a plugin may declare and call (hooks, settings)."""
