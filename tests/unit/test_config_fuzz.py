"""Random Lua values fed to every ``hexe.*`` function: a config or a config error, no traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.speed import examples

from hexe.config import ConfigError, load, pane_isolation
from hexe.config.lua import API_FUNCTIONS
from hexe.isolation import InvalidSettings

KEYS = [
    "profile",
    "memory",
    "pids",
    "cpu",
    "tmp_size",
    "hostname",
    "strict",
    "shell",
    "scrollback",
    "prefix",
    "remain_on_exit",
    "mouse",
    "name",
    "title",
    "command",
    "cwd",
    "env",
    "isolation",
    "direction",
    "ratio",
    "left",
    "right",
    "interval",
    "namespaces",
    "no_new_privs",
    "description",
]
WORDS = [
    "full",
    "none",
    "default",
    "balanced",
    "sandbox",
    "minimal",
    "512M",
    "1G",
    "lots",
    "max",
    "50000 100000",
    "50000",
    "user",
    "pid",
    "mount",
    "net",
    "right",
    "down",
    "prefix %",
    "C-b",
    "split-right",
    "select-tab",
    "pane_spawn",
    "pane_exit",
    "session",
    "/bin/sh",
    "all",
    "",
]


def lua_string(text: str) -> str:
    return '"' + "".join(f"\\{b}" for b in text.encode()) + '"'


scalars = st.one_of(
    st.just("nil"),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.integers(min_value=-(2**53), max_value=2**53).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"({f!r})"),
    st.sampled_from(WORDS).map(lua_string),
    st.text(max_size=12).map(lua_string),
    st.just("function() end"),
    # numbers Lua has and JSON does not
    st.sampled_from(["(1/0)", "(-1/0)", "(0/0)", "1e400", "math.huge", "math.mininteger"]),
    # tables with metamethods that misbehave when read
    st.sampled_from(
        [
            "setmetatable({}, {__index = function() error('boom') end})",
            "setmetatable({}, {__index = function() while true do end end})",
            "setmetatable({}, {__tostring = function() error('boom') end})",
            "setmetatable({}, {__len = function() return -1 end})",
        ]
    ),
)


def tables(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    named = st.lists(
        st.tuples(
            st.one_of(st.sampled_from(KEYS), st.from_regex(r"[a-z_]{1,8}", fullmatch=True)),
            children,
        ),
        max_size=5,
    )
    positional = st.lists(children, max_size=3)
    weird = st.lists(st.tuples(st.one_of(st.integers(-3, 5), st.booleans()), children), max_size=2)

    def build(parts: tuple[list[tuple[str, str]], list[str], list[tuple[object, str]]]) -> str:
        names, items, odd = parts
        fields = [f"{k} = {v}" for k, v in names] + items
        fields += [f"[{str(k).lower()}] = {v}" for k, v in odd]
        return "{ " + ", ".join(fields) + " }"

    return st.tuples(named, positional, weird).map(build)


def nodes(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["tab", "split", "pane"]), tables(children)).map(
        lambda kv: f"hexe.{kv[0]}({kv[1]})"
    )


values = st.recursive(
    scalars, lambda children: st.one_of(tables(children), nodes(children)), max_leaves=12
)

CALLS = list(API_FUNCTIONS)
statements = st.tuples(st.sampled_from(CALLS), st.lists(values, max_size=3)).map(
    lambda call: f"hexe.{call[0]}({', '.join(call[1])})"
)


@pytest.mark.slow
@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements, min_size=1, max_size=4))
def test_random_lua_values_give_a_config_or_a_config_error(lines):
    source = "\n".join(lines)
    try:
        config = load("fuzz.lua", source=source, environ={"SHELL": "/bin/sh"})
    except ConfigError as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)
        return
    for pane in config.panes():
        try:
            pane_isolation(config, pane, {})
        except (ConfigError, InvalidSettings):
            pass
