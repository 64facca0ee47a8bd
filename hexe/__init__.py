"""hexe: a terminal multiplexer whose panes can be sandboxes.

The core package knows the spawn protocol, settings and (later) sessions and
screens; it knows nothing about namespaces, cgroups or drawing. Those are
plugins, which implement the hooks in :mod:`hexe.plugin.hookspecs` and mark them with
:data:`hookimpl`.
"""

import pluggy

__version__ = "0.1.0"

#: Decorator for hook implementations: ``@hexe.hookimpl`` or ``@hookimpl(trylast=True)``.
hookimpl = pluggy.HookimplMarker("hexe")

__all__ = ["__version__", "hookimpl"]
