"""Configuration: ``init.lua``, loaded with lupa, validated, and turned into spawn plans.

- :func:`load` runs ``init.lua`` (with a time and memory budget) and returns
  a validated :class:`Config`, or raises :class:`ConfigError` listing every
  problem with its file and line.
- :func:`pane_isolation` folds the layers for one pane — built-in <
  ``hexe.defaults`` < ``HEXE_*`` environment < the pane's ``isolation`` (after
  ``pane_spawn`` callbacks) < command-line flags — and :func:`plan_for` makes
  the :class:`hexe.spawn.SpawnPlan` that panes and ``hexe run`` spawn.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hexe.config.loader import (
    ConfigAPI,
    ConfigError,
    Problems,
    Table,
    find_config,
    isolation_values,
    load,
    plain,
)
from hexe.config.lua import LuaFailure
from hexe.config.model import Config, PaneSpec, TabSpec
from hexe.isolation import Isolation, Layer, resolve
from hexe.plugin.settings import Settings, default_settings

__all__ = [
    "Config",
    "ConfigAPI",
    "ConfigError",
    "PaneSpec",
    "TabSpec",
    "find_config",
    "load",
    "pane_isolation",
    "plan_for",
    "reload",
    "run_exit_callbacks",
    "run_pane",
]


def reload(
    current: Config, *, environ: Mapping[str, str] | None = None, pm: Any = None
) -> tuple[Config, ConfigError | None]:
    """Load the running config's file again. A bad file keeps ``current``, and says why."""
    try:
        if current.file is not None:
            return load(current.file, environ=environ, pm=pm, explicit=True), None
        return load(environ=environ, pm=pm), None
    except ConfigError as exc:
        return current, exc


def run_pane(argv: tuple[str, ...]) -> PaneSpec:
    """The pane ``hexe run CMD`` stands for: no isolation of its own, ``kind`` run."""
    return PaneSpec(path="run", where="command line", title=argv[0] if argv else None, command=argv)


def _lua_friendly(value: Any) -> Any:
    """A resolved value as Lua can take it: plain numbers, strings, booleans and
    lists stay; sets become sorted lists; anything else its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)
    if isinstance(value, list | tuple):
        return [_lua_friendly(v) for v in value]
    return str(value)


def _effective(iso: Isolation, settings: Settings) -> dict[str, Any]:
    """What a ``pane_spawn`` callback sees as ``effective``: the profile and each
    declared setting's value (its ``effective`` form, else a plain one)."""
    out: dict[str, Any] = {"profile": iso.profile}
    for name in settings:
        if name == "profile" or name not in iso.values:
            continue
        declared = settings[name]
        value = iso.get(name)
        out[name] = declared.effective(value) if declared.effective else _lua_friendly(value)
    return out


def _layers(
    config: Config, environ: Mapping[str, str], pane_layer: Layer, flags: Layer | None
) -> list[Layer]:
    layers = [config.defaults, Layer.from_env(environ, config.settings), pane_layer]
    if flags is not None:
        layers.append(flags)
    return layers


def _settings(config: Config) -> Settings:
    return config.settings if config.settings is not None else default_settings()


def _resolve(config: Config, layers: list[Layer]) -> Isolation:
    """Raises :class:`InvalidSettings` (each error names its source: a variable, a flag, a line)."""
    return resolve(layers, config.profiles, config.settings)


def spawn_callbacks(
    config: Config, pane: PaneSpec, environ: Mapping[str, str], kind: str = "pane"
) -> Layer:
    """Run the ``pane_spawn`` callbacks; the pane's isolation layer as they left it.

    Each callback gets a table: ``name``, ``title``, ``path``, ``kind``
    (``pane`` or ``run``), ``command``, ``cwd``, ``isolation`` (the pane's own
    settings, as written; the callback may change them) and ``effective``
    (what the pane would get without the callback). Only ``isolation`` is read
    back. A callback that fails refuses the spawn: running the pane without
    what the callback meant to set could weaken it.
    """
    layer = pane.isolation
    callbacks = config.callbacks.get("pane_spawn", ())
    if not callbacks:
        return layer
    runtime = config.runtime
    for callback in callbacks:
        before = {k: v for k, (v, _) in layer.values.items()}
        effective = _effective(
            _resolve(config, _layers(config, environ, layer, None)), _settings(config)
        )
        table = runtime.table(
            {
                "name": pane.name,
                "title": pane.title,
                "path": pane.path,
                "kind": kind,
                "command": list(pane.command) if pane.command else None,
                "cwd": pane.cwd,
                "isolation": before,
                "effective": effective,
            }
        )
        label = f"pane_spawn callback ({callback.where})"
        problems = Problems()

        def run_and_read(
            callback: Any = callback,
            table: Any = table,
            label: str = label,
            problems: Problems = problems,
        ) -> Any:
            callback.function(table)
            isolation = runtime.rawget(table, "isolation")
            return plain(isolation, f"{pane.path}.isolation", label, problems, runtime)

        try:
            after = runtime.guarded(run_and_read, 0.5)
        except LuaFailure as exc:
            raise ConfigError([f"{label}: {exc.message}"], config.path) from exc
        if not isinstance(after, Table):
            problems.add(label, f"{pane.path}.isolation must stay a table")
            raise ConfigError(problems.items, config.path)
        checked = isolation_values(
            after, f"{pane.path}.isolation", label, config.profiles, _settings(config), problems
        )
        if problems.items:
            raise ConfigError(problems.items, config.path)
        values = {}
        for key, (raw, new_label) in checked.items():
            unchanged = key in layer.values and layer.values[key][0] == raw
            values[key] = layer.values[key] if unchanged else (raw, new_label)
        layer = Layer("pane", values)
    return layer


def pane_isolation(
    config: Config,
    pane: PaneSpec,
    environ: Mapping[str, str] | None = None,
    flags: Layer | None = None,
    kind: str = "pane",
    callbacks: bool = True,
) -> Isolation:
    """The isolation ``pane`` gets: built-in < defaults < environment < pane < flags.

    ``callbacks=False``: without running the ``pane_spawn`` callbacks (for a
    sandbox prepared ahead, which must not run the user's code for a pane
    that may never exist; the pane's own plan runs them)."""
    environ = os.environ if environ is None else environ
    pane_layer = spawn_callbacks(config, pane, environ, kind) if callbacks else pane.isolation
    return _resolve(config, _layers(config, environ, pane_layer, flags))


def plan_for(
    config: Config,
    pane: PaneSpec,
    environ: Mapping[str, str] | None = None,
    flags: Layer | None = None,
    kind: str = "pane",
    name: str = "",
    isolation: Isolation | None = None,
) -> Any:
    """The :class:`hexe.spawn.SpawnPlan` for ``pane``; ``isolation``, when
    given, is what :func:`pane_isolation` returned for the same arguments."""
    from hexe.spawn import SpawnPlan

    environ = os.environ if environ is None else environ
    if isolation is None:
        isolation = pane_isolation(config, pane, environ, flags, kind)
    argv = pane.command or (config.options.shell,)
    env = {**environ, **pane.env}
    return SpawnPlan(
        argv=tuple(argv),
        isolation=isolation,
        env=env,
        cwd=pane.cwd,
        name=name,
        extra=dict(isolation.extra),
    )


def run_exit_callbacks(
    config: Config, pane: PaneSpec, exit_code: int, kind: str = "pane"
) -> list[str]:
    """Run the ``pane_exit`` callbacks; their failures, as sentences (the pane is gone)."""
    failures = []
    runtime = config.runtime
    for callback in config.callbacks.get("pane_exit", ()):
        table = runtime.table(
            {"name": pane.name, "title": pane.title, "path": pane.path, "kind": kind}
        )
        try:
            runtime.call(callback.function, table, exit_code)
        except LuaFailure as exc:
            failures.append(f"pane_exit callback ({callback.where}): {exc.message}")
    return failures


def describe_isolation(
    iso: Isolation, settings: Settings | None = None
) -> list[tuple[str, str, str]]:
    """(setting, value, source) rows, as ``hexe config check`` prints them.

    One row per setting some loaded plugin declares (``settings``), shown as
    the setting shows it: with the cgroups plugin disabled there is no
    ``memory`` row claiming a limit. A value the profile decided says so.
    """
    declared = settings if settings is not None else default_settings()
    rows = [("profile", iso.profile, iso.sources.get("profile", "built-in"))]
    for name in declared:
        if name == "profile" or name not in iso.values:
            continue
        setting = declared[name]
        source = iso.sources.get(name, "built-in")
        if source == "built-in" and (iso.profile in setting.profiles or setting.finish):
            source = f"from the profile ({iso.profile})"
        rows.append((name, setting.show(iso.get(name)), source))
    return rows
