"""hexe: a terminal multiplexer whose panes can be sandboxes.

The core package knows the spawn protocol, settings and (later) sessions and
screens; it knows nothing about namespaces, cgroups or drawing. Those are
plugins, which implement the hooks in :mod:`hexe.plugin.hookspecs` and mark them with
:data:`hookimpl`.
"""

from typing import Any

from hexe.methodcache import install as _install_method_cache

__version__ = "0.1.0"

# every command imports dataclasses (the command registry): compile their
# generated methods once, not in every process
_install_method_cache()


def __getattr__(name: str) -> Any:
    """``hookimpl``, made on first use: a command that loads no plugin (``hexe
    list-panes``) does not pay for importing pluggy."""
    if name == "hookimpl":
        import pluggy

        #: Decorator for hook implementations: ``@hexe.hookimpl`` or ``@hookimpl(trylast=True)``.
        marker = pluggy.HookimplMarker("hexe")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'hexe' has no attribute {name!r}")


__all__ = ["__version__", "hookimpl"]
