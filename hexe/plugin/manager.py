"""The plugin manager: discovers plugins through the ``hexe`` entry-point group.

Built-in plugins (``voidbox``, ``cgroups``) are entry points of the ``hexe``
distribution itself, so they load exactly like a third-party plugin and can be
disabled the same way (``HEXE_DISABLE_PLUGINS=voidbox`` or
``hexe --disable-plugin voidbox``). Within each hook, the built-ins run before
third-party implementations unless a plugin asks for ``tryfirst``/``trylast``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

from hexe.errors import HexeError
from hexe.plugin import hookspecs
from hexe.plugin.settings import CORE, NONE_PROFILE, Profile, Setting, Settings, collect

if TYPE_CHECKING:
    from importlib import metadata

ENTRY_POINT_GROUP = "hexe"
CORE_DISTRIBUTION = "hexe"


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin as ``hexe plugins`` lists it."""

    name: str
    module: str
    distribution: str
    version: str
    builtin: bool
    hooks: tuple[str, ...]


def disabled_from_env(environ: Mapping[str, str]) -> list[str]:
    return [n.strip() for n in environ.get("HEXE_DISABLE_PLUGINS", "").split(",") if n.strip()]


class HexePluginManager(pluggy.PluginManager):
    """pluggy's manager plus what hexe remembers about discovery.

    ``dists``: plugin name -> its distribution; ``blocked``: disabled entry
    points by name (not loaded; :func:`settings_of` reads their declared
    settings only to name them in errors); ``unknown_disabled``: names asked
    to be disabled that no plugin has.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.dists: dict[str, metadata.Distribution | None] = {}
        self.blocked: dict[str, metadata.EntryPoint] = {}
        self.unknown_disabled: list[str] = []


def make_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    extra: Iterable[tuple[str, object]] = (),
    environ: Mapping[str, str] | None = None,
) -> HexePluginManager:
    """A plugin manager with every entry-point plugin loaded except ``disabled``.

    ``extra`` registers (name, plugin) pairs directly, after discovery, for
    embedding and tests. ``HEXE_DISABLE_PLUGINS`` (comma separated) adds to
    ``disabled``.
    """
    environ = os.environ if environ is None else environ
    pm = HexePluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    blocked = set(disabled) | set(disabled_from_env(environ))
    for name in blocked:
        pm.set_blocked(name)
    eps = entry_points(ENTRY_POINT_GROUP)
    # pluggy calls the most recently registered implementation first: register
    # third-party plugins first so the built-ins run first in every phase.
    eps.sort(key=lambda ep: _dist_name(ep) == CORE_DISTRIBUTION)
    seen: set[str] = set()
    for ep in eps:
        if ep.name in blocked:
            pm.blocked.setdefault(ep.name, ep)
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
        pm.dists[ep.name] = ep.dist
    for name, plugin in extra:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    known = {ep.name for ep in eps} | {name for name, _ in extra}
    pm.unknown_disabled = sorted(blocked - known)
    try:
        pm.check_pending()  # a hookimpl named like no hook (a typo) is an error, not ignored
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or "?"
        raise HexeError(
            f"plugin {name}: {exc}", hint=f"disable it with HEXE_DISABLE_PLUGINS={name}"
        ) from exc
    return pm


def entry_points(group: str) -> list[Any]:
    """``importlib.metadata.entry_points(group=group)``, found without importing
    ``importlib.metadata`` (with the ``email`` and ``zipfile`` it loads: ~15 ms
    of every ``hexe run``) when every distribution is a ``.dist-info`` or
    ``.egg-info`` directory on ``sys.path``; else by ``importlib.metadata``.

    The same entry points in the same order: the distributions of each
    ``sys.path`` directory as ``os.listdir`` gives them (grouped by name), the
    first of a name on the path hiding the others."""
    found = _scan_entry_points(group)
    if found is None:
        from importlib import metadata

        return list(metadata.entry_points(group=group))
    return found


class _Dist:
    """The distribution of a scanned entry point; its metadata read when asked."""

    def __init__(self, path: str) -> None:
        self.path = path
        stem = os.path.splitext(os.path.basename(path))[0]
        #: the name as the directory spells it, normalized (``hexe``, ``my_plugin``)
        self.normalized = _normalized(stem.partition("-")[0])
        self._real: Any = None

    def _dist(self) -> Any:
        if self._real is None:
            from importlib import metadata
            from pathlib import Path  # not at import: ~3 ms of a hexe run

            self._real = metadata.PathDistribution(Path(self.path))
        return self._real

    @property
    def metadata(self) -> Any:
        return self._dist().metadata

    @property
    def version(self) -> str:
        return str(self._dist().version)


class _EntryPoint:
    """An entry point as ``importlib.metadata.EntryPoint`` gives it (name, value,
    group, dist; ``load`` imports ``module`` and follows ``:attr.attr``)."""

    def __init__(self, name: str, value: str, group: str, dist: _Dist) -> None:
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def load(self) -> Any:
        import importlib

        module, _, attrs = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for attr in filter(None, attrs.split("[")[0].strip().split(".")):
            obj = getattr(obj, attr)
        return obj

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _scan_entry_points(group: str) -> list[Any] | None:
    """The entry points of ``group``, or None when a distribution may be
    somewhere this scan does not look (a zip or ``.egg`` on the path, a
    finder of distributions other than the path's)."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return None
    seen: set[str] = set()
    out: list[Any] = []
    for entry in sys.path:
        root = entry or os.getcwd()
        if root.lower().endswith(".egg") or os.path.isfile(root):
            return None
        try:
            children = os.listdir(root)
        except OSError:
            continue
        infos: dict[str, list[str]] = {}
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                name = _normalized(low.rpartition(".")[0].partition("-")[0])
                infos.setdefault(name, []).append(os.path.join(root, child))
        for paths in infos.values():
            for path in paths:
                stem = os.path.splitext(os.path.basename(path))[0]
                unique = _normalized(stem.partition("-")[0])
                if unique in seen:
                    continue
                seen.add(unique)
                out.extend(_entry_points_of(path, group))
    return out


def _entry_points_of(path: str, group: str) -> list[Any]:
    try:
        with open(os.path.join(path, "entry_points.txt"), encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return []
    dist = _Dist(path)
    section = None
    out = []
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section == group and section is not None:
            name, _, value = line.partition("=")
            out.append(_EntryPoint(name.strip(), value.strip(), group, dist))
    return out


def _dist_name(ep: Any) -> str:
    """The entry point's distribution's name, lower case (from a scanned
    distribution's directory name: ``hexe-0.1.0.dist-info`` is ``hexe``)."""
    dist = ep.dist
    if isinstance(dist, _Dist):
        return dist.normalized
    return (dist.metadata["Name"] or "").lower() if dist is not None else ""


def describe(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Loaded plugins with the hooks each implements, in registration order."""
    dists = pm.dists if isinstance(pm, HexePluginManager) else {}
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


def settings_of(pm: pluggy.PluginManager | None) -> Settings:
    """A new settings registry: ``profile`` and ``none``, then what each loaded
    plugin declares (settings and profiles).

    Declarations come from ``hexe_settings`` and ``hexe_profiles`` (see
    :mod:`hexe.plugin.settings`); those of disabled plugins are read only when
    a setting or profile is unknown, to say which plugin provides it.
    """
    blocked = pm.blocked if isinstance(pm, HexePluginManager) else {}

    def declared_by_disabled(hook: str) -> dict[str, Any]:
        found = []
        for name, ep in blocked.items():
            try:
                declare = getattr(ep.load(), hook, None)
                found.append((name, declare() if callable(declare) else ()))
            except Exception:  # a disabled plugin that cannot even be read names nothing
                continue
        return collect(found)

    registry = Settings(
        lambda: declared_by_disabled("hexe_settings"),
        lambda: declared_by_disabled("hexe_profiles"),
    )
    registry.add(PROFILE_SETTING, CORE)
    registry.add_profile(NONE_PROFILE, CORE)
    if pm is not None:
        for impl in reversed(pm.hook.hexe_settings.get_hookimpls()):
            for setting in impl.function() or ():
                registry.add(setting, impl.plugin_name)
        for impl in reversed(pm.hook.hexe_profiles.get_hookimpls()):
            for profile in impl.function() or ():
                registry.add_profile(profile, impl.plugin_name)
    return registry


def _no_parse(label: str, raw: object) -> object:  # pragma: no cover - profile is parsed apart
    raise AssertionError("profile is parsed with the profile table")


#: ``profile`` is the core's: parsed against the profile table (the registry's
#: profiles and the config's own, see hexe.isolation).
PROFILE_SETTING = Setting(
    "profile",
    _no_parse,
    doc="a named set of settings: none, one a plugin declares (voidbox: minimal, default, "
    "balanced, full, sandbox), or one of hexe.profile",
    env=("HEXE_VOIDBOX_PROFILE",),
)


__all__ = ["Profile", "describe", "features", "make_plugin_manager", "settings_of"]
