"""The copy-mode and clipboard settings: mode_keys, set_clipboard, and the
per-pane ``clipboard`` isolation setting with its profile defaults."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest

from hexe import hookimpl
from hexe.config import ConfigError, load, pane_isolation
from hexe.plugin.manager import make_plugin_manager
from hexe.server.clipboard import ClipboardRoom

ENV = {"SHELL": "/bin/sh", "HOME": "/root"}


def lua(text: str):
    return load("init.lua", source=textwrap.dedent(text), environ=ENV)


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        lua(text)
    return info.value.errors


def test_options_default_to_vi_keys_and_the_clipboard_on():
    options = lua("").options
    assert (options.mode_keys, options.set_clipboard) == ("vi", True)


def test_options_take_emacs_keys_and_the_clipboard_off():
    options = lua('hexe.options { mode_keys = "emacs", set_clipboard = false }').options
    assert (options.mode_keys, options.set_clipboard) == ("emacs", False)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            'hexe.options { mode_keys = "vim" }',
            'options.mode_keys=vim is not a key table; use "vi" or "emacs"',
        ),
        ('hexe.options { set_clipboard = "maybe" }', "options.set_clipboard"),
        ('hexe.defaults { clipboard = "read" }', "clipboard=read is not a clipboard mode"),
    ],
)
def test_bad_values_name_the_setting_and_the_accepted_ones(text, message):
    errors = errors_of(text)
    assert any(message in e for e in errors), errors


def mode_of(text: str, environ: dict[str, str] | None = None, pm=None) -> str:
    """What the server decides for a clipboard write of pane ``p`` (its plugins asked)."""
    config = lua(text)
    iso = pane_isolation(config, config.find_pane("p"), environ or {})
    pane = SimpleNamespace(plan=SimpleNamespace(isolation=iso))
    server = SimpleNamespace(pm=pm or make_plugin_manager())
    allowed = ClipboardRoom.clipboard_allowed(server, pane)  # type: ignore[arg-type]
    return "write" if allowed else "deny"


@pytest.mark.parametrize(
    "profile, mode",
    [
        ("none", "write"),
        ("default", "write"),
        ("balanced", "write"),
        ("sandbox", "deny"),
        ("full", "deny"),
    ],
)
def test_clipboard_is_denied_by_default_in_full_and_sandbox_only(profile, mode):
    text = f'hexe.layout {{ hexe.pane {{ name = "p", isolation = {{ profile = "{profile}" }} }} }}'
    assert mode_of(text) == mode


def test_clipboard_setting_and_its_variable_override_the_profile():
    pane = 'hexe.layout { hexe.pane { name = "p", isolation = { profile = "full" } } }'
    assert mode_of(pane, {"HEXE_VOIDBOX_CLIPBOARD": "write"}) == "write"
    mine = 'hexe.layout { hexe.pane { name = "p", isolation = { clipboard = "deny" } } }'
    assert mode_of(mine) == "deny"


class NoClipboard:
    """A third party's plugin that refuses every pane's clipboard writes."""

    @hookimpl
    def hexe_clipboard_allowed(self, isolation):
        return False


def test_a_plugin_refusing_the_clipboard_wins_over_voidbox_allowing_it():
    pm = make_plugin_manager()
    pm.register(NoClipboard(), name="no-clipboard")
    pane = 'hexe.layout { hexe.pane { name = "p", isolation = { clipboard = "write" } } }'
    assert mode_of(pane, pm=pm) == "deny"
    assert mode_of(pane) == "write"


def test_without_any_plugin_answering_writes_are_allowed():
    """voidbox disabled: only the core's ``none`` profile exists, nothing refuses."""
    pm = make_plugin_manager(disabled=["voidbox"])
    assert pm.get_plugin("voidbox") is None
    pane = 'hexe.layout { hexe.pane { name = "p", isolation = { profile = "none" } } }'
    config = load("init.lua", source=pane, environ=ENV, pm=pm)
    iso = pane_isolation(config, config.find_pane("p"), {})
    server = SimpleNamespace(pm=pm)
    room_pane = SimpleNamespace(plan=SimpleNamespace(isolation=iso))
    assert ClipboardRoom.clipboard_allowed(server, room_pane)  # type: ignore[arg-type]
    assert pm.hook.hexe_clipboard_allowed(isolation=iso) == []
