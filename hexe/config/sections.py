"""The profile, key, status and hook sections of ``init.lua``, checked: the
methods of :class:`hexe.config.loader.Loader` that read ``hexe.profile``,
``hexe.key``/``hexe.unbind``, ``hexe.status`` and ``hexe.on``."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hexe.commands.registry import DEFAULT_BINDINGS, check_action, parse_keys
from hexe.config.model import Binding, Callback, StatusSpec
from hexe.config.tables import Problems, Table, describe, lua_type, plain, unknown_key
from hexe.errors import did_you_mean
from hexe.isolation import Layer, Profile
from hexe.plugin.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterable

EVENTS = {
    "pane_spawn": "before a pane (or hexe run) spawns; may change pane.isolation",
    "pane_exit": "after a pane's command ended; receives the pane and its exit code",
}
SEGMENTS = ("session", "tabs", "title", "isolation", "clock", "host")
KEY_HINT = (
    'keys are a character (%, ", a) or a name (Up, Enter, F5, Space), with C- M- S- '
    'modifiers; "prefix X" is the prefix key, then X'
)


class Sections:
    """Mixed into :class:`hexe.config.loader.Loader`, which sets these fields."""

    problems: Problems
    warnings: list[str]
    profiles: dict[str, Profile]
    settings: Settings
    segments: list[str]
    raw: Any

    if TYPE_CHECKING:

        def isolation_layer(
            self,
            table: Table,
            path: str,
            where: str,
            layer: str,
            allow: Iterable[str] | None = None,
        ) -> Layer: ...

    def profile(self, where: str, args: list[Any]) -> None:
        """``hexe.profile(name, { description = ..., <setting> = ... })``: a profile of
        the config's own. Any declared setting but ``profile`` may be set; one
        declared with ``missing`` (voidbox's ``namespaces``) must be."""
        if len(args) != 2 or not isinstance(args[0], str) or lua_type(args[1]) != "table":
            self.problems.add(
                where,
                "hexe.profile takes a name and a table: "
                'hexe.profile("build", { namespaces = {...} })',
            )
            return
        name = args[0]
        path = f"profiles.{name}"
        declared = self.settings.profiles.get(name) or self.settings.disabled_profiles().get(name)
        if declared is not None:
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
        for setting in self.settings:
            required = self.settings[setting].missing
            if required and setting not in table.named:
                self.problems.add(where, f"{path}.{setting} is missing; {required}")
        description = table.named.get("description", "custom profile")
        if not isinstance(description, str):
            self.problems.add(where, f"{path}.description is {describe(description)}; use a string")
            description = "custom profile"
        rest = Table({k: v for k, v in table.named.items() if k != "description"}, [])
        allow = [s for s in self.settings if s != "profile"]
        layer = self.isolation_layer(rest, path, where, "profile", allow=allow)
        if name in self.profiles:
            first = self.profiles[name].where
            self.problems.add(where, f"{path}: profile {name} is defined twice (first at {first})")
        self.profiles[name] = Profile(
            name=name,
            description=description,
            builtin=False,
            settings=MappingProxyType({k: raw for k, (raw, _) in layer.values.items()}),
            labels=MappingProxyType({k: label for k, (_, label) in layer.values.items()}),
            where=where,
        )

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
                self.problems.add(
                    where, f'hexe.on: "{event}" is not an event; {hint}events: {events}'
                )
                continue
            out.setdefault(event, []).append(Callback(event, where, args[1]))
        return {k: tuple(v) for k, v in out.items()}
