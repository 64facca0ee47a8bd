"""The plugin manager: discovers plugins through the ``hexe`` entry-point group.

Built-in plugins (``voidbox``, ``cgroups``) are entry points of the ``hexe``
distribution itself, so they load exactly like a third-party plugin and can be
disabled the same way (``HEXE_DISABLE_PLUGINS=voidbox`` or
``hexe --disable-plugin voidbox``). Within each hook, the built-ins run before
third-party implementations unless a plugin asks for ``tryfirst``/``trylast``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata

import pluggy

from hexe import hookspecs
from hexe.errors import HexeError

ENTRY_POINT_GROUP = "hexe"
CORE_DISTRIBUTION = "hexe"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    distribution: str
    version: str
    builtin: bool
    hooks: tuple[str, ...]


def disabled_from_env(environ: Mapping[str, str]) -> list[str]:
    return [n.strip() for n in environ.get("HEXE_DISABLE_PLUGINS", "").split(",") if n.strip()]


def make_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    extra: Iterable[tuple[str, object]] = (),
    environ: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """A plugin manager with every entry-point plugin loaded except ``disabled``.

    ``extra`` registers (name, plugin) pairs directly, after discovery, for
    embedding and tests. ``HEXE_DISABLE_PLUGINS`` (comma separated) adds to
    ``disabled``.
    """
    environ = os.environ if environ is None else environ
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    blocked = set(disabled) | set(disabled_from_env(environ))
    for name in blocked:
        pm.set_blocked(name)
    pm._hexe_dists = {}  # type: ignore[attr-defined]
    eps = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    # pluggy calls the most recently registered implementation first: register
    # third-party plugins first so the built-ins run first in every phase.
    eps.sort(key=lambda ep: _dist_name(ep) == CORE_DISTRIBUTION)
    seen: set[str] = set()
    for ep in eps:
        if ep.name in seen or pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
            continue
        seen.add(ep.name)
        try:
            plugin = ep.load()
        except Exception as exc:
            raise HexeError(
                f"plugin {ep.name} ({ep.value}) failed to load: {type(exc).__name__}: {exc}",
                hint=f"disable it with HEXE_DISABLE_PLUGINS={ep.name}",
            ) from exc
        pm.register(plugin, name=ep.name)
        pm._hexe_dists[ep.name] = ep.dist  # type: ignore[attr-defined]
    for name, plugin in extra:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    known = {ep.name for ep in eps} | {name for name, _ in extra}
    pm._hexe_unknown_disabled = sorted(blocked - known)  # type: ignore[attr-defined]
    return pm


def _dist_name(ep: metadata.EntryPoint) -> str:
    dist = ep.dist
    return (dist.metadata["Name"] or "").lower() if dist is not None else ""


def describe(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Loaded plugins with the hooks each implements, in registration order."""
    dists = getattr(pm, "_hexe_dists", {})
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(
            sorted(
                caller.name
                for caller in pm.get_hookcallers(plugin) or []
                if caller.name.startswith("hexe_")
            )
        )
        dist = dists.get(name)
        dist_name = (dist.metadata["Name"] or "") if dist is not None else ""
        out.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                distribution=dist_name,
                version=dist.version if dist is not None else "",
                builtin=dist_name.lower() == CORE_DISTRIBUTION,
                hooks=hooks,
            )
        )
    return out


def features(pm: pluggy.PluginManager) -> set[str]:
    """Every isolation feature some loaded plugin implements."""
    found: set[str] = set()
    for result in pm.hook.hexe_spawn_features():
        found.update(result or ())
    return found
