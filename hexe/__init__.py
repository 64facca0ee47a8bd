"""hexe: a terminal multiplexer whose panes can be sandboxes.

The core package knows the spawn protocol, settings and (later) sessions and
screens; it knows nothing about namespaces, cgroups or drawing. Those are
plugins, which implement the hooks in :mod:`hexe.plugin.hookspecs` and mark them with
:data:`hookimpl`.
"""

from __future__ import annotations

from hexe.methodcache import install_on_import as _install_method_cache

__version__ = "0.1.0"

# The methods dataclasses generates are compiled once, not in every process
# (hexe.methodcache), from the moment dataclasses is imported: a command that
# makes no dataclass (a request to a running session) does not import it, nor
# the inspect, ast, dis and tokenize it loads (~7 ms).
_install_method_cache()


def __getattr__(name: str) -> object:
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
