"""Loading ``init.lua``: run it, then validate everything it recorded.

Errors are the feature: every problem found is collected (not just the first)
and says where (``init.lua:12``), what (``tabs[0].panes[1].isolation.memroy``),
why (``is not a setting``) and what would be accepted (``did you mean
memory?``). A config with any error is refused whole; the caller keeps
whatever config it had.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from hexe import __version__
from hexe.commands.registry import parse_key
from hexe.config.floats import parse_floats
from hexe.config.lua import API_FUNCTIONS, NODE_KEY, LuaConfigRuntime, LuaFailure, display_path
from hexe.config.model import Config, Node, Options, PaneSpec, SplitSpec, TabSpec
from hexe.config.sections import EVENTS, KEY_HINT, SEGMENTS, Sections  # noqa: F401 (re-exported)
from hexe.config.tables import (  # noqa: F401 (MAX_DEPTH re-exported)
    MAX_DEPTH,
    Problems,
    Table,
    describe,
    isolation_values,
    line_of,
    lua_type,
    plain,
    unknown_key,
)
from hexe.errors import HexeError, SettingError, did_you_mean
from hexe.isolation import Layer, Profile
from hexe.plugin.manager import settings_of
from hexe.plugin.settings import Setting, Settings, default_settings
from hexe.values import parse_bool

DIRECTIONS = ("right", "down")


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


def exists(path: str) -> bool:
    """``pathlib.Path(path).exists()`` without pathlib (~3 ms of a ``hexe run``,
    with the ``urllib.parse`` it imports): missing is False, and so is a path
    through a file or a symlink loop; any other error (a directory that
    cannot be searched) is raised."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return False
        raise
    except ValueError:  # a NUL byte in it, as pathlib has it
        return False
    return True


def config_home(environ: Mapping[str, str]) -> str:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "hexe")


def find_config(
    environ: Mapping[str, str], explicit: str | None = None
) -> tuple[str | None, bool]:
    """(path, explicit?): ``--config``, else ``HEXE_CONFIG``, else the XDG location."""
    chosen = explicit or environ.get("HEXE_CONFIG") or None
    if chosen:
        return os.path.expanduser(chosen), True
    path = os.path.join(config_home(environ), "init.lua")
    try:
        present = exists(path)
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
# The loader
# --------------------------------------------------------------------------


class Loader(Sections):
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
        self.profiles: dict[str, Profile] = dict(self.settings.profiles)

    # -- entry --------------------------------------------------------------

    def load(self, path: str | None, *, source: str | None = None) -> Config:
        lua_dir = os.path.join(os.path.dirname(path), "lua") if path is not None else None
        shown = display_path(path) if path is not None else None
        if path is None and source is None:
            # no file: the built-in defaults, and no Lua runs now; the state
            # is made when something calls into it (hexe run never does)
            config = self.build([], None, None)
            if self.problems.items:
                raise ConfigError(sorted(self.problems.items, key=line_of), shown)
            return replace(config, runtime=LazyRuntime(self.api.functions, self.environ))
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
            raise ConfigError(sorted(self.problems.items, key=line_of), shown)
        return config

    def build(
        self, calls: list[Any], shown: str | None, runtime: LuaConfigRuntime | None
    ) -> Config:
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
        # every field of Options is an option (hexe/config/model.py says each one)
        known = tuple(f.name for f in dataclasses.fields(Options))
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

    def defaults(self, calls: list[tuple[str, list[Any]]]) -> Layer:
        values: dict[str, tuple[object, str]] = {}
        for where, args in calls:
            table = self.one_table(where, "hexe.defaults", args, "defaults")
            if table is not None:
                values.update(self.isolation_layer(table, "defaults", where, "init.lua").values)
        return Layer("init.lua", values)

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


class LazyRuntime:
    """The Lua state of a config without a file, made on first use.

    Without ``init.lua`` nothing runs Lua while loading; making the state
    (about 15 ms) waits until something asks for it, exactly as it would
    have been made (the plugins' functions, the same environment)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]], environ: Mapping[str, str]):
        self._args = (functions, environ)
        self._real: LuaConfigRuntime | None = None

    @property
    def made(self) -> bool:
        return self._real is not None

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            functions, environ = self._args
            self._real = LuaConfigRuntime(
                lua_dir=None, functions=functions, version=__version__, environ=environ
            )
        return getattr(self._real, name)


def load(
    path: str | os.PathLike[str] | None = None,
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
        return Loader(environ, pm).load(os.fspath(path) if path else None, source=source)
    found, was_explicit = find_config(environ, os.fspath(path) if path is not None else None)
    if explicit is not None:
        was_explicit = explicit
    if found is not None and not exists(found):
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
