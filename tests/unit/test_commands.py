"""The command registry: every entry reachable from the CLI, keys, Lua, the server and help.

Adding an action is one entry in ``hexe/commands/registry.py`` (plus its
``Server.do_<name>``); these tests fail when a place forgets one.
"""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexe.cli.parser import build_parser
from hexe.commands.registry import (
    ACTIONS,
    ALIASES,
    COMMANDS,
    DEFAULT_BINDINGS,
    QUERIES,
    check_action,
    parse_keys,
)
from hexe.config.loader import ConfigError, load
from hexe.server.server import PANE_OPENERS, Server


def sample_args(name: str) -> list[object]:
    """Arguments that satisfy the action's signature."""
    out: list[object] = []
    for arg, kind in ACTIONS[name].args:
        if arg.endswith("?"):
            continue
        out.append(1 if kind is int else "x")
    return out


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:  # argparse has no public way to list subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_action_is_a_cli_subcommand_with_its_target_options():
    subs = subcommands()
    for name, entry in COMMANDS.items():
        if not entry.cli:
            continue
        assert name in subs, name
        options = {o for a in subs[name]._actions for o in a.option_strings}
        assert ("-t" in options) == entry.targets_pane, name
        assert ("-P" in options) == entry.opens_pane, name
    for alias, target in ALIASES.items():
        assert alias in subs and target in ACTIONS


def test_entries_without_a_generated_subcommand_have_their_own_or_are_internal():
    subs = subcommands()
    own = {n for n, e in COMMANDS.items() if not e.cli}
    assert own == {
        "detach", "kill-session", "list-panes", "session-info", "capture-pane", "show-buffer",
        "new-float",
        "new-session", "switch-client",
    }  # fmt: skip
    assert {
        "detach", "kill-session", "list-panes", "capture-pane", "show-buffer", "new-session",
        "switch-client",
    } <= set(subs)  # fmt: skip


def test_every_action_has_a_server_handler_and_every_handler_an_action():
    handlers = {n for n in dir(Server) if n.startswith("do_")}
    assert handlers == {a.handler for a in ACTIONS.values()}
    for action in ACTIONS.values():
        assert callable(getattr(Server, action.handler)), action.name
    for name in QUERIES:
        assert callable(getattr(Server, name.replace("-", "_")))
    # entries sharing a handler pass their fixed arguments first
    assert ACTIONS["resize-up"].handler == "do_resize"
    assert ACTIONS["resize-up"].fixed == ("up",)
    assert ACTIONS["move-float-left"].handler == "do_move_float"
    assert ACTIONS["zoom"].handler == "do_zoom" and ACTIONS["zoom"].fixed == ()
    assert set(PANE_OPENERS) == {"split-right", "split-down", "new-tab", "new-float"}


def test_every_action_is_accepted_by_keys_and_lua_and_queries_are_not():
    for name in ACTIONS:
        assert check_action(name, sample_args(name)) is None, name
    for name in QUERIES:
        assert "is not an action" in (check_action(name, []) or "")
    lines = [
        f'hexe.key("prefix F{i % 12 + 1}", "{name}"'
        + "".join(f", {a!r}".replace("'", '"') for a in sample_args(name))
        + ")"
        for i, name in enumerate(ACTIONS)
    ]
    # one binding per key: bind each action alone so none overrides another
    for line, name in zip(lines, ACTIONS, strict=True):
        config = load(source=line + "\n", environ={})
        bound = [b.action for b in config.keys.values()]
        assert name in bound, name
    with pytest.raises(ConfigError, match="is not an action"):
        load(source='hexe.key("prefix F1", "list-panes")\n', environ={})


def test_default_bindings_come_from_the_entries():
    expected = {
        parse_keys(keys): (name, args)
        for name, entry in ACTIONS.items()
        for keys, args in entry.keys
    }
    assert DEFAULT_BINDINGS == expected
    assert DEFAULT_BINDINGS[("prefix", "%")] == ("split-right", ())


def test_help_overlay_shows_each_bindings_help_text():
    config = load(source="", environ={})
    fake = SimpleNamespace(config=config, overlay=None)
    Server.do_help(fake, None)  # type: ignore[arg-type]
    text = "\n".join(fake.overlay)
    for name, _ in DEFAULT_BINDINGS.values():
        assert ACTIONS[name].description in text, name
    assert "split-right      split the pane, the new one to the right" in text


def _parse_key_by_regex(text: str) -> str:
    """parse_key as it was written with a regular expression (the reference)."""
    import re

    from hexe.commands.registry import NAMED_KEYS

    m = re.match(r"^((?:[CMS]-)*)(.+)$", text)
    if not m:
        raise ValueError(text)
    mods, name = m.group(1), m.group(2)
    if len(name) == 1:
        if not name.isprintable() or name == " ":
            raise ValueError(text)
        if mods and "C-" in mods and name.isalpha():
            name = name.lower()
    elif name not in NAMED_KEYS:
        raise ValueError(text)
    return "".join(f"{m}-" for m in "CMS" if f"{m}-" in mods) + name


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["C-", "M-", "S-", "-", "C", "a", "Up", "F5", "%", " ", "\n", "é"]),
                max_size=6).map("".join))  # fmt: skip
def test_parse_key_reads_modifiers_as_the_regular_expression_did(text):
    from hexe.commands.registry import parse_key

    if text.endswith("\n"):
        # the expression's $ matched before a last newline: "Enter\n" was
        # Enter; now it is no key (send-keys types it as text)
        with pytest.raises(ValueError):
            parse_key(text)
        return
    try:
        expected = _parse_key_by_regex(text)
    except ValueError:
        with pytest.raises(ValueError):
            parse_key(text)
    else:
        assert parse_key(text) == expected
