"""Lua values as the loader checks them: tables into :class:`Table` (named
keys and positional items), :class:`Problems` (every problem found, with
where), and the sentences that describe a wrong value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hexe.config.lua import NODE_KEY
from hexe.errors import SettingError
from hexe.isolation import Profile, parse_setting
from hexe.plugin.settings import Settings

#: how deep a table may nest
MAX_DEPTH = 64


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


def line_of(problem: str) -> tuple[str, int]:
    """Sort key: the file and line a problem names (``init.lua:12: ...``)."""
    m = re.match(r"^(.*?):(\d+): ", problem)
    return (m.group(1), int(m.group(2))) if m else ("~", 0)


def lua_type(value: Any) -> str | None:
    import lupa.lua54 as lupa  # here: no init.lua, no Lua state, no lupa

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
    import difflib  # only to suggest a name: not loaded by every command

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
    if allow is None:  # a profile-only setting (namespaces) is set in hexe.profile alone
        allow = [name for name in settings if not settings[name].profile_only]
    known = list(allow)
    values: dict[str, tuple[object, str]] = {}
    for key, raw in table.named.items():
        if key not in known:
            declared = settings.get(key)
            if declared is not None and declared.profile_only:
                problems.add(
                    where,
                    f"{path}.{key} is set by profiles only: define one with "
                    f'hexe.profile("name", {{ {key} = ... }}) and choose it with profile = "name"',
                )
            else:
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
