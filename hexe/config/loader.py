"""Loading ``init.lua``: run it, then validate everything it recorded.

Errors are the feature: every problem found is collected (not just the first)
and says where (``init.lua:12``), what (``tabs[0].panes[1].isolation.memroy``),
why (``is not a setting``) and what would be accepted (``did you mean
memory?``). A config with any error is refused whole; the caller keeps
whatever config it had.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import lupa.lua54 as lupa

from hexe import __version__
from hexe.commands.registry import DEFAULT_BINDINGS, check_action, parse_key, parse_keys
from hexe.config.floats import parse_floats
from hexe.config.lua import API_FUNCTIONS, NODE_KEY, LuaConfigRuntime, LuaFailure, display_path
from hexe.config.model import (
    Binding,
    Callback,
    Config,
    Node,
    Options,
    PaneSpec,
    SplitSpec,
    StatusSpec,
    TabSpec,
)
from hexe.errors import HexeError, SettingError, did_you_mean
from hexe.isolation import BUILTIN_PROFILES, NAMESPACES, Layer, Profile, parse_setting
from hexe.limits import parse_bool
from hexe.plugin.manager import settings_of
from hexe.plugin.settings import Setting, Settings, default_settings
from hexe.policy import ORDINARY_CAPS

EVENTS = {
    "pane_spawn": "before a pane (or hexe run) spawns; may change pane.isolation",
    "pane_exit": "after a pane's command ended; receives the pane and its exit code",
}
SEGMENTS = ("session", "tabs", "title", "isolation", "clock", "host")
DIRECTIONS = ("right", "down")
MAX_DEPTH = 64


class ConfigError(HexeError):
    """The config was refused. ``errors`` holds every problem, one sentence each."""

    def __init__(self, errors: list[str], path: str | None = None) -> None:
        self.errors = errors
        self.path = path
        super().__init__("\n".join(f"config error: {e}" for e in errors))


# --------------------------------------------------------------------------
# Plugins adding Lua functions and settings
# --------------------------------------------------------------------------


@dataclass
class ConfigAPI:
    """What a plugin may add to the config, through ``hexe_config_api(api)``.

    ``add_function("greet", fn)`` makes ``hexe.greet(...)`` call ``fn`` (Lua
    values arrive as lupa objects; return plain Python values).
    ``add_setting("landlock", parse)`` makes ``landlock`` an isolation setting
    (in ``hexe.defaults``, a pane's ``isolation`` and custom profiles);
    ``parse(label, value)`` returns the parsed value or raises
    ``hexe.errors.SettingError``; the result reaches the spawn hooks as
    ``plan.extra["landlock"]``. It is a shorthand for declaring a
    :class:`hexe.plugin.settings.Setting` in ``hexe_settings`` (which can
    also give a default, variables and documentation).
    """

    plugin: str = ""
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    owners: dict[str, str] = field(default_factory=dict)

    def add_function(self, name: str, fn: Callable[..., Any]) -> None:
        self._claim(f"hexe.{name}", name)
        self.functions[name] = fn

    def add_setting(self, name: str, parse: Callable[[str, object], Any], doc: str = "") -> None:
        self._claim(f"setting {name}", name)
        self.settings.add(Setting(name, parse, doc=doc), self.plugin)

    def _claim(self, what: str, name: str) -> None:
        builtin = {"version", *API_FUNCTIONS}
        if name in builtin or what in self.owners:
            owner = self.owners.get(what, "hexe")
            raise HexeError(f"plugin {self.plugin}: {what} already exists (from {owner})")
        self.owners[what] = self.plugin


def plugin_api(pm: Any) -> ConfigAPI:
    """The config API with every plugin's additions: ``hexe_settings``, then ``hexe_config_api``."""
    if pm is None:
        return ConfigAPI(settings=default_settings())
    api = ConfigAPI(settings=settings_of(pm))
    for impl in reversed(pm.hook.hexe_config_api.get_hookimpls()):
        api.plugin = impl.plugin_name
        impl.function(api=api)
    api.plugin = ""
    return api


# --------------------------------------------------------------------------
# Finding the file
# --------------------------------------------------------------------------


def config_home(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hexe"


def find_config(
    environ: Mapping[str, str], explicit: str | None = None
) -> tuple[Path | None, bool]:
    """(path, explicit?): ``--config``, else ``HEXE_CONFIG``, else the XDG location."""
    chosen = explicit or environ.get("HEXE_CONFIG") or None
    if chosen:
        return Path(os.path.expanduser(chosen)), True
    path = config_home(environ) / "init.lua"
    try:
        present = path.exists()
    except OSError as exc:  # e.g. a directory on the way the caller cannot search
        setting = "XDG_CONFIG_HOME" if environ.get("XDG_CONFIG_HOME") else "HOME"
        value = environ.get(setting) or os.path.expanduser("~")
        raise ConfigError(
            [
                f"{setting}={value}: cannot look for {display_path(path)}: "
                f"{exc.strerror or exc}; make that directory searchable by this user, "
                "or name a readable config with --config or HEXE_CONFIG"
            ],
            display_path(path),
        ) from exc
    return (path if present else None), False


# --------------------------------------------------------------------------
# Lua values -> Python
# --------------------------------------------------------------------------


@dataclass
class Table:
    """A Lua table: ``named`` keys and positional ``items`` (1..n)."""

    named: dict[str, Any]
    items: list[Any]


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, text: str) -> None:
        self.items.append(f"{where}: {text}" if where else text)


def _line_of(problem: str) -> tuple[str, int]:
    """Sort key: the file and line a problem names (``init.lua:12: ...``)."""
    m = re.match(r"^(.*?):(\d+): ", problem)
    return (m.group(1), int(m.group(2))) if m else ("~", 0)


def lua_type(value: Any) -> str | None:
    return lupa.lua_type(value)


def plain(
    value: Any,
    path: str,
    where: str,
    problems: Problems,
    raw: Any,
    depth: int = 0,
    seen: frozenset[str] = frozenset(),
) -> Any:
    """Convert Lua tables into :class:`Table` (recursively); keep functions as they are."""
    kind = lua_type(value)
    if kind == "table":
        if depth > MAX_DEPTH:
            problems.add(where, f"{path} is nested more than {MAX_DEPTH} levels deep")
            return Table({}, [])
        ident = raw.ident(value)  # wrappers differ, the table does not; no __tostring
        marker = raw.rawget(value, NODE_KEY)
        if marker is not None:
            return value  # a layout node: converted by the layout code
        if ident in seen:
            problems.add(where, f"{path} contains itself")
            return Table({}, [])
        named: dict[str, Any] = {}
        numbered: dict[int, Any] = {}
        for key, item in sorted(value.items(), key=lambda kv: (str(type(kv[0])), str(kv[0]))):
            if isinstance(key, bool) or not isinstance(key, (str, int, float)):
                problems.add(
                    where, f"{path} has a key of type {type(key).__name__}; keys are names"
                )
                continue
            if isinstance(key, float):
                if key != int(key):
                    problems.add(where, f"{path} has the key {key}; keys are names or 1, 2, 3...")
                    continue
                key = int(key)
            if isinstance(key, int):
                numbered[key] = item
            else:
                named[key] = item
        if numbered and sorted(numbered) != list(range(1, len(numbered) + 1)):
            problems.add(where, f"{path} has a gap in its list (keys {sorted(numbered)[:8]})")
        items = [
            plain(numbered[k], f"{path}[{k}]", where, problems, raw, depth + 1, seen | {ident})
            for k in sorted(numbered)
        ]
        converted = {
            k: plain(v, f"{path}.{k}", where, problems, raw, depth + 1, seen | {ident})
            for k, v in named.items()
        }
        return Table(converted, items)
    return value


def describe(value: Any) -> str:
    kind = lua_type(value)
    if kind is not None:
        return f"a Lua {kind}"
    if isinstance(value, Table):
        return "a table"
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def unknown_key(path: str, key: str, known: Iterable[str]) -> str:
    """``path.key is not a setting; did you mean ...`` for a key of a fixed table."""
    known = list(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"settings here: {', '.join(known)}"
    return f"{path}.{key} is not a setting; {hint}"


def isolation_values(
    table: Table,
    path: str,
    where: str,
    profiles: Mapping[str, Profile],
    settings: Settings,
    problems: Problems,
    allow: Iterable[str] | None = None,
) -> dict[str, tuple[object, str]]:
    """Check each isolation setting of ``table``; the valid ones as (raw, label)."""
    known = list(allow) if allow is not None else settings.names()
    values: dict[str, tuple[object, str]] = {}
    for key, raw in table.named.items():
        if key not in known:
            problems.add(where, settings.unknown_key(path, key, known))
            continue
        label = f"{path}.{key}"
        raw = _lua_value(raw)
        try:
            parse_setting(key, raw, label, profiles, settings)
        except SettingError as exc:
            problems.add(where, exc.message)
            continue
        values[key] = (raw, f"{where}: {label}")
    if table.items:
        problems.add(where, f"{path} takes named settings only (name = value)")
    return values


def _lua_value(value: Any) -> Any:
    """A plain Table back into the raw Python value a setting parser expects."""
    if isinstance(value, Table):
        if value.named:
            return {k: _lua_value(v) for k, v in value.named.items()}
        return [_lua_value(v) for v in value.items]
    return value


# --------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------


class Loader:
    """Runs one config file and turns its recorded calls into a :class:`Config`."""

    def __init__(self, environ: Mapping[str, str], pm: Any = None) -> None:
        self.environ = environ
        self.problems = Problems()
        #: "file:line: sentence" for what is accepted but likely a mistake
        self.warnings: list[str] = []
        #: where the tabs hexe.layout holds were written (the others do nothing)
        self.tabs_placed: set[str] = set()
        self.api = plugin_api(pm)
        self.settings: Settings = self.api.settings
        self.segments = list(SEGMENTS)
        if pm is not None:
            for names in pm.hook.hexe_status_segments():
                self.segments.extend(n for n in names or () if n not in self.segments)
        self.profiles: dict[str, Profile] = dict(BUILTIN_PROFILES)

    # -- entry --------------------------------------------------------------

    def load(self, path: Path | None, *, source: str | None = None) -> Config:
        lua_dir = path.parent / "lua" if path is not None else None
        shown = display_path(path) if path is not None else None
        try:
            runtime = LuaConfigRuntime(
                lua_dir=lua_dir,
                functions=self.api.functions,
                version=__version__,
                environ=self.environ,
            )
        except LuaFailure as exc:
            raise ConfigError([exc.message], shown) from exc
        if path is not None or source is not None:
            try:
                if source is not None:
                    runtime.run_source(source, shown or "init.lua")
                else:
                    assert path is not None
                    runtime.run_file(path)
            except LuaFailure as exc:
                raise ConfigError([exc.message], shown) from exc
        self.raw = runtime
        # checking reads Lua tables, which may run metamethods (__index, __gc):
        # under the same budget as the file itself
        try:
            config = runtime.guarded(lambda: self.build(runtime.calls, shown, runtime), 2.0)
        except LuaFailure as exc:
            raise ConfigError(
                [f"{shown or 'init.lua'}: while checking: {exc.message}"], shown
            ) from exc
        if path is not None and source is None:
            config = replace(config, file=str(path))
        if self.problems.items:
            raise ConfigError(sorted(self.problems.items, key=_line_of), shown)
        return config

    def build(self, calls: list[Any], shown: str | None, runtime: LuaConfigRuntime) -> Config:
        by_kind: dict[str, list[tuple[str, list[Any]]]] = {}
        for call in calls:
            where = f"{call.src}:{call.line}"
            n = int(call.n)
            args = [call.args[i] for i in range(1, n + 1)]
            by_kind.setdefault(call.kind, []).append((where, args))
        options = self.options(by_kind.get("options", []))
        for where, args in by_kind.get("profile", []):
            self.profile(where, args)
        defaults = self.defaults(by_kind.get("defaults", []))
        keys = self.keys(by_kind.get("key", []), by_kind.get("unbind", []), options.prefix)
        status = self.status(by_kind.get("status", []))
        callbacks = self.callbacks(by_kind.get("on", []))
        tabs = self.layout(by_kind.get("layout", []), options)
        for where, _ in by_kind.get("tab_made", []):
            if where not in self.tabs_placed:
                self.warnings.append(
                    f"{where}: hexe.tab outside hexe.layout {{ ... }} does nothing "
                    "(write hexe.layout { hexe.tab { ... } })"
                )
        return Config(
            path=shown,
            defaults=defaults,
            profiles=MappingProxyType(dict(self.profiles)),
            options=options,
            tabs=tabs,
            keys=MappingProxyType(keys),
            status=status,
            callbacks=MappingProxyType(callbacks),
            settings=self.settings,
            runtime=runtime,
            warnings=tuple(self.warnings),
        )

    # -- helpers ---------------------------------------------------------------

    def where_of(self, node: Any) -> str:
        return f"{self.raw.rawget(node, 'src')}:{self.raw.rawget(node, 'line')}"

    def one_table(self, where: str, name: str, args: list[Any], path: str) -> Table | None:
        if len(args) != 1 or lua_type(args[0]) != "table":
            self.problems.add(where, f"{name} takes one table, like {name} {{ ... }}")
            return None
        value = plain(args[0], path, where, self.problems, self.raw)
        if not isinstance(value, Table):
            self.problems.add(where, f"{name} takes a table, not a layout node")
            return None
        if value.items:
            self.problems.add(where, f"{path} takes named settings only (name = value)")
        return value

    def isolation_layer(
        self, table: Table, path: str, where: str, layer: str, allow: Iterable[str] | None = None
    ) -> Layer:
        """Validate isolation settings and return them as a settings layer."""
        values = isolation_values(
            table, path, where, self.profiles, self.settings, self.problems, allow
        )
        return Layer(layer, values)

    def expect(
        self, where: str, label: str, value: Any, kind: type | tuple[type, ...], forms: str
    ) -> bool:
        ok = isinstance(value, kind) and not (
            isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
        )
        if not ok:
            self.problems.add(where, f"{label} is {describe(value)}; {forms}")
        return ok

    # -- sections -----------------------------------------------------------------

    def options(self, calls: list[tuple[str, list[Any]]]) -> Options:
        shell = self.environ.get("SHELL") or "/bin/sh"
        values: dict[str, Any] = {"shell": shell}
        known = (
            "shell",
            "scrollback",
            "prefix",
            "remain_on_exit",
            "mouse",
            "client_timeout",
            "spawn_ahead",
            "answer_checksums",
            "mode_keys",
            "set_clipboard",
            "set_titles",
        )
        #: whole-number options: (lowest, highest, unit)
        ranges = {"scrollback": (0, 1_000_000, "lines"), "client_timeout": (1, 3600, "seconds")}
        for where, args in calls:
            table = self.one_table(where, "hexe.options", args, "options")
            if table is None:
                continue
            for key, value in table.named.items():
                label = f"options.{key}"
                if key not in known:
                    self.problems.add(where, unknown_key("options", key, known))
                elif key == "shell":
                    if self.expect(where, label, value, str, "use a path to a shell"):
                        values[key] = value
                elif key in ranges:
                    low, high, unit = ranges[key]
                    forms = f"use a number of {unit} ({low}..{high})"
                    if self.expect(where, label, value, int, forms):
                        if not low <= value <= high:
                            wrong = f"{label}={value} is out of range {low}..{high}"
                            self.problems.add(where, wrong)
                        else:
                            values[key] = value
                elif key == "prefix":
                    if self.expect(where, label, value, str, 'use a key like "C-b" or "C-a"'):
                        try:
                            values[key] = parse_key(value)
                        except ValueError as exc:
                            self.problems.add(where, f"{label}: {exc}")
                else:
                    try:
                        values[key] = Options.PARSERS.get(key, parse_bool)(label, value)
                    except SettingError as exc:
                        self.problems.add(where, exc.message)
        return Options(**values)

    def profile(self, where: str, args: list[Any]) -> None:
        if len(args) != 2 or not isinstance(args[0], str) or lua_type(args[1]) != "table":
            self.problems.add(
                where,
                "hexe.profile takes a name and a table: "
                'hexe.profile("build", { namespaces = {...} })',
            )
            return
        name = args[0]
        path = f"profiles.{name}"
        if name in BUILTIN_PROFILES:
            self.problems.add(
                where, f"{path}: {name} is a built-in profile and cannot be redefined"
            )
            return
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            self.problems.add(where, f"{path}: a profile name is letters, digits, - and _")
            return
        table = plain(args[1], path, where, self.problems, self.raw)
        if not isinstance(table, Table):
            return
        special = ("namespaces", "no_new_privs", "description")
        settings = [s for s in self.settings if s != "profile"]
        namespaces: list[str] = []
        raw_ns = table.named.get("namespaces")
        if raw_ns is None:
            self.problems.add(
                where, f'{path}.namespaces is missing; use a list like {{"user", "pid"}}'
            )
        elif not isinstance(raw_ns, Table) or raw_ns.named:
            self.problems.add(
                where,
                f"{path}.namespaces is {describe(raw_ns)}; use a list of "
                f"namespaces: {', '.join(NAMESPACES)}",
            )
        else:
            for i, ns in enumerate(raw_ns.items, start=1):
                if ns not in NAMESPACES:
                    hint = did_you_mean(str(ns), NAMESPACES)
                    self.problems.add(
                        where,
                        f"{path}.namespaces[{i}]={describe(ns)} is not a "
                        f"namespace; {hint}namespaces: {', '.join(NAMESPACES)}",
                    )
                else:
                    namespaces.append(ns)
        nnp = True
        if "no_new_privs" in table.named:
            try:
                nnp = parse_bool(f"{path}.no_new_privs", table.named["no_new_privs"])
            except SettingError as exc:
                self.problems.add(where, exc.message)
        description = table.named.get("description", "custom profile")
        if not isinstance(description, str):
            self.problems.add(where, f"{path}.description is {describe(description)}; use a string")
            description = "custom profile"
        rest = Table({k: v for k, v in table.named.items() if k not in special}, [])
        layer = self.isolation_layer(rest, path, where, "profile", allow=settings)
        if name in self.profiles:
            first = self.profiles[name].where
            self.problems.add(where, f"{path}: profile {name} is defined twice (first at {first})")
        self.profiles[name] = Profile(
            name=name,
            namespaces=frozenset(namespaces),
            description=description,
            builtin=False,
            no_new_privs=nnp,
            caps=ORDINARY_CAPS if namespaces else None,
            settings=MappingProxyType(dict(layer.values)),
            where=where,
        )

    def defaults(self, calls: list[tuple[str, list[Any]]]) -> Layer:
        values: dict[str, tuple[object, str]] = {}
        for where, args in calls:
            table = self.one_table(where, "hexe.defaults", args, "defaults")
            if table is not None:
                values.update(self.isolation_layer(table, "defaults", where, "init.lua").values)
        return Layer("init.lua", values)

    def keys(
        self,
        calls: list[tuple[str, list[Any]]],
        unbinds: list[tuple[str, list[Any]]],
        prefix: str = "C-b",
    ) -> dict[tuple[str, ...], Binding]:
        keys: dict[tuple[str, ...], Binding] = {
            k: Binding(k, "built-in", action, args)
            for k, (action, args) in DEFAULT_BINDINGS.items()
        }
        for where, args in unbinds:
            if len(args) != 1 or not isinstance(args[0], str):
                self.problems.add(where, 'hexe.unbind takes a key like "prefix z", or "all"')
                continue
            if args[0] == "all":
                keys.clear()
                continue
            try:
                keys.pop(parse_keys(args[0]), None)
            except ValueError as exc:
                self.problems.add(where, f"hexe.unbind: {exc}; {KEY_HINT}")
        for where, args in calls:
            if len(args) < 2 or not isinstance(args[0], str):
                self.problems.add(
                    where, 'hexe.key takes a key and an action: hexe.key("prefix %", "split-right")'
                )
                continue
            try:
                parsed = parse_keys(args[0])
            except ValueError as exc:
                self.problems.add(where, f"hexe.key: {exc}; {KEY_HINT}")
                continue
            action, rest = args[1], args[2:]
            if lua_type(action) == "function":
                if rest:
                    self.problems.add(
                        where, f"hexe.key {args[0]}: a function takes no arguments here"
                    )
                    continue
            else:
                problem = check_action(action, rest)
                if problem:
                    self.problems.add(where, f"hexe.key {args[0]}: {problem}")
                    continue
            if parsed == (prefix,):
                self.warnings.append(
                    f"{where}: hexe.key {args[0]}: {prefix} is the prefix key, so this binding"
                    f' never fires; bind "prefix {prefix}" for the prefix pressed twice'
                )
            before = keys.get(parsed)
            if before is not None and before.where != "built-in":
                self.warnings.append(
                    f"{where}: hexe.key {args[0]}: already bound at {before.where};"
                    " this binding replaces that one"
                )
            keys[parsed] = Binding(parsed, where, action, tuple(rest))
        return keys

    def status(self, calls: list[tuple[str, list[Any]]]) -> StatusSpec:
        values: dict[str, Any] = {}
        for where, args in calls:
            table = self.one_table(where, "hexe.status", args, "status")
            if table is None:
                continue
            for key, value in table.named.items():
                label = f"status.{key}"
                if key in ("left", "right"):
                    if not isinstance(value, Table) or value.named:
                        self.problems.add(
                            where,
                            f"{label} is {describe(value)}; use a list of "
                            f"segments: {', '.join(SEGMENTS)} or functions",
                        )
                        continue
                    segments = []
                    for i, seg in enumerate(value.items, start=1):
                        if lua_type(seg) == "function" or seg in self.segments:
                            segments.append(seg)
                        else:
                            hint = did_you_mean(str(seg), self.segments)
                            self.problems.add(
                                where,
                                f"{label}[{i}]={describe(seg)} is not a "
                                f"segment; {hint}segments: {', '.join(self.segments)}",
                            )
                    values[key] = tuple(segments)
                elif key == "interval":
                    if (
                        isinstance(value, (int, float))
                        and not isinstance(value, bool)
                        and value > 0
                    ):
                        values[key] = float(value)
                    else:
                        self.problems.add(
                            where, f"{label} is {describe(value)}; use seconds above 0"
                        )
                else:
                    self.problems.add(
                        where, unknown_key("status", key, ("left", "right", "interval"))
                    )
        return StatusSpec(**values)

    def callbacks(self, calls: list[tuple[str, list[Any]]]) -> dict[str, tuple[Callback, ...]]:
        out: dict[str, list[Callback]] = {}
        for where, args in calls:
            if len(args) != 2 or not isinstance(args[0], str) or lua_type(args[1]) != "function":
                self.problems.add(
                    where,
                    "hexe.on takes an event and a function: "
                    'hexe.on("pane_spawn", function(pane) ... end)',
                )
                continue
            event = args[0]
            if event not in EVENTS:
                hint = did_you_mean(event, list(EVENTS))
                events = ", ".join(EVENTS)
                self.problems.add(where, f'hexe.on: "{event}" is not an event; {hint}events: {events}')
                continue
            out.setdefault(event, []).append(Callback(event, where, args[1]))
        return {k: tuple(v) for k, v in out.items()}

    # -- layout --------------------------------------------------------------------

    def layout(self, calls: list[tuple[str, list[Any]]], options: Options) -> tuple[TabSpec, ...]:
        if not calls:
            pane = PaneSpec(path="tabs[0].panes[0]", where="built-in")
            return (TabSpec(path="tabs[0]", where="built-in", name=None, root=pane),)
        if len(calls) > 1:
            self.problems.add(
                calls[1][0],
                f"hexe.layout is called again (first at {calls[0][0]}); "
                "one layout describes every tab",
            )
        where, args = calls[0]
        if (
            len(args) != 1
            or lua_type(args[0]) != "table"
            or self.raw.rawget(args[0], NODE_KEY) is not None
        ):
            self.problems.add(
                where,
                "hexe.layout takes a list of tabs: "
                "hexe.layout { hexe.tab { ... }, hexe.tab { ... } }",
            )
            return ()
        table = plain(args[0], "layout", where, self.problems, self.raw)
        if not isinstance(table, Table):
            return ()
        for key in table.named:
            self.problems.add(where, f"layout.{key}: hexe.layout takes a list of tabs only")
        tabs = []
        # tabs and their panes count from 0, as on the status line and in select-tab
        for i, item in enumerate(table.items):
            path = f"tabs[{i}]"
            if lua_type(item) != "table" or self.raw.rawget(item, NODE_KEY) is None:
                self.problems.add(
                    where,
                    f"{path} is {describe(item)}; use hexe.tab {{ ... }}, "
                    "hexe.split { ... } or hexe.pane { ... }",
                )
                continue
            if self.raw.rawget(item, NODE_KEY) == "tab":
                tab = self.tab(item, path, options)
            else:  # a bare pane or split is a tab of its own
                counter = [0]
                root = self.node(item, path, options, counter)
                tab = TabSpec(path, self.where_of(item), None, root) if root else None
            if tab is not None:
                tabs.append(tab)
        if not table.items:
            self.problems.add(where, "hexe.layout has no tabs")
        return tuple(tabs)

    def tab(self, node: Any, path: str, options: Options) -> TabSpec | None:
        where = self.where_of(node)
        self.tabs_placed.add(where)
        spec = self.raw.rawget(node, "spec")
        if lua_type(spec) != "table":
            self.problems.add(where, f"{path}: hexe.tab takes a table")
            return None
        table = plain(spec, path, where, self.problems, self.raw)
        if not isinstance(table, Table):
            return None
        name, floats = None, ()
        for key, value in table.named.items():
            if key == "name":
                if self.expect(where, f"{path}.name", value, str, "use a string"):
                    name = value
            elif key == "floats":  # hexe/config/floats.py
                floats = parse_floats(self, value, path, where, options)
            else:
                self.problems.add(where, unknown_key(path, key, ("name", "floats")))
        if len(table.items) != 1:
            self.problems.add(
                where,
                f"{path} holds {len(table.items)} panes or splits; a tab holds "
                "one (use hexe.split to put two side by side)",
            )
            return None
        counter = [0]
        root = self.node(table.items[0], path, options, counter)
        return TabSpec(path, where, name, root, floats) if root is not None else None

    def node(self, node: Any, tab_path: str, options: Options, counter: list[int]) -> Node | None:
        if lua_type(node) != "table" or self.raw.rawget(node, NODE_KEY) is None:
            self.problems.add("", f"{tab_path}: {describe(node)} is not a pane or split")
            return None
        kind = self.raw.rawget(node, NODE_KEY)
        where = self.where_of(node)
        spec = self.raw.rawget(node, "spec")
        if kind == "tab":
            self.problems.add(where, f"{tab_path}: a tab cannot hold another tab")
            return None
        if lua_type(spec) != "table":
            self.problems.add(where, f"{tab_path}: hexe.{kind} takes a table")
            return None
        if kind == "pane":
            counter[0] += 1  # panes count from 0 in their tab, like tabs
            return self.pane(spec, f"{tab_path}.panes[{counter[0] - 1}]", where, options)
        return self.split(spec, tab_path, where, options, counter)

    def split(
        self, spec: Any, tab_path: str, where: str, options: Options, counter: list[int]
    ) -> SplitSpec | None:
        path = f"{tab_path}.split"
        table = plain(spec, path, where, self.problems, self.raw)
        if not isinstance(table, Table):
            return None
        direction, ratio = "right", 0.5
        for key, value in table.named.items():
            if key == "direction":
                if value in DIRECTIONS:
                    direction = value
                else:
                    hint = did_you_mean(str(value), DIRECTIONS)
                    self.problems.add(
                        where,
                        f"{path}.direction={describe(value)} is not a direction; "
                        f'{hint}use "right" (side by side) or "down" (stacked)',
                    )
            elif key == "ratio":
                if (
                    isinstance(value, (int, float))
                    and not isinstance(value, bool)
                    and 0 < value < 1
                ):
                    ratio = float(value)
                else:
                    self.problems.add(
                        where,
                        f"{path}.ratio={describe(value)} is not accepted; use a "
                        "fraction between 0 and 1 for the first child (0.5)",
                    )
            else:
                self.problems.add(where, unknown_key(path, key, ("direction", "ratio")))
        if len(table.items) != 2:
            self.problems.add(where, f"{path} holds {len(table.items)} children; a split holds two")
            return None
        children = [self.node(child, tab_path, options, counter) for child in table.items]
        if children[0] is None or children[1] is None:
            return None
        return SplitSpec(path, where, direction, ratio, (children[0], children[1]))

    def pane(self, spec: Any, path: str, where: str, options: Options) -> PaneSpec | None:
        table = plain(spec, path, where, self.problems, self.raw)
        if not isinstance(table, Table):
            return None
        known = ("name", "title", "command", "cwd", "env", "isolation", "remain_on_exit")
        fields: dict[str, Any] = {}
        for key, value in table.named.items():
            label = f"{path}.{key}"
            if key not in known:
                self.problems.add(where, unknown_key(path, key, known))
            elif key in ("name", "title"):
                if self.expect(where, label, value, str, "use a string"):
                    fields[key] = value
            elif key == "cwd":
                if self.expect(where, label, value, str, "use a directory path"):
                    fields[key] = os.path.expanduser(value)
            elif key == "command":
                command = self.command(value, label, where, options)
                if command is not None:
                    fields[key] = command
            elif key == "env":
                env = self.env(value, label, where)
                if env is not None:
                    fields[key] = MappingProxyType(env)
            elif key == "isolation":
                if not isinstance(value, Table) or value.items:
                    self.problems.add(
                        where,
                        f"{label} is {describe(value)}; use a table like "
                        '{ profile = "full", memory = "512M" }',
                    )
                else:
                    fields[key] = self.isolation_layer(value, label, where, "pane")
            else:
                try:
                    fields[key] = parse_bool(label, value)
                except SettingError as exc:
                    self.problems.add(where, exc.message)
        if table.items:
            self.problems.add(where, f"{path} takes named settings only (name = value)")
        return PaneSpec(path=path, where=where, **fields)

    def command(
        self, value: Any, label: str, where: str, options: Options
    ) -> tuple[str, ...] | None:
        parts = [value] if isinstance(value, str) else getattr(value, "items", [])
        if any(isinstance(p, str) and "\0" in p for p in parts):
            self.problems.add(where, f"{label} contains a NUL byte, which no command can take")
            return None
        if isinstance(value, str):
            if not value.strip():
                self.problems.add(where, f"{label} is empty")
                return None
            return (options.shell, "-c", value)
        if (
            isinstance(value, Table)
            and not value.named
            and value.items
            and all(isinstance(v, str) for v in value.items)
        ):
            return tuple(value.items)
        self.problems.add(
            where,
            f'{label} is {describe(value)}; use a string ("make -j4", run by '
            'the shell) or a list of strings ({"make", "-j4"})',
        )
        return None

    def env(self, value: Any, label: str, where: str) -> dict[str, str] | None:
        if not isinstance(value, Table) or value.items:
            self.problems.add(
                where, f"{label} is {describe(value)}; use a table of names to strings"
            )
            return None
        env = {}
        for key, item in value.named.items():
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                self.problems.add(where, f"{label}.{key} is {describe(item)}; use a string")
            elif "=" in key or not key or "\0" in key:
                self.problems.add(where, f'{label}: "{key}" is not a variable name')
            elif "\0" in str(item):
                self.problems.add(where, f"{label}.{key} contains a NUL byte")
            else:
                env[key] = str(item)
        return env


KEY_HINT = (
    'keys are a character (%, ", a) or a name (Up, Enter, F5, Space), with C- M- S- '
    'modifiers; "prefix X" is the prefix key, then X'
)


def load(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    pm: Any = None,
    explicit: bool | None = None,
    source: str | None = None,
) -> Config:
    """Load a config: ``path`` if given, else ``HEXE_CONFIG``, else the XDG location.

    No file at the XDG location means the built-in defaults (what the shipped
    ``config/init.lua`` spells out). A path given explicitly that does not
    exist is an error. ``source`` loads Lua text instead of a file (tests).
    Raises :class:`ConfigError` with every problem found.
    """
    environ = os.environ if environ is None else environ
    if source is not None:
        return Loader(environ, pm).load(Path(path) if path else None, source=source)
    found, was_explicit = find_config(environ, str(path) if path is not None else None)
    if explicit is not None:
        was_explicit = explicit
    if found is not None and not found.exists():
        if was_explicit:
            raise ConfigError([f"{display_path(found)}: no such file"], display_path(found))
        found = None
    config = Loader(environ, pm).load(found)
    if config.warnings:
        from hexe.log import get_logger

        for warning in config.warnings:
            get_logger().warning("config_warning", warning=warning)
    return config


__all__ = ["ConfigAPI", "ConfigError", "load", "find_config"]
