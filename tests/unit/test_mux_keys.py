"""Key dispatch in the server: prefix, bindings, passthrough, modes — without a terminal."""

from __future__ import annotations

import pytest

from hexe.config import load
from hexe.plugin.manager import make_plugin_manager
from hexe.server.server import Client, Server


class Recorder(Server):
    def __init__(self, config):
        super().__init__("k", config, make_plugin_manager(), "never-listened.sock", {})
        self.actions: list[tuple[str, list]] = []
        self.typed = bytearray()

    def run_action(self, client, name, args):
        self.actions.append((name, args))

    def write_pane(self, pane, data):
        self.typed += data

    def focused(self):
        return FakePane()


class FakePane:
    id = 1
    title = "fake"
    copy = None

    class screen:  # noqa: N801 - stands in for a PaneScreen
        bracketed_paste = False


@pytest.fixture
def server():
    config = load(
        "init.lua",
        source='hexe.key("M-Left", "focus-left")\n'
        'hexe.key("prefix g", function() return "new-tab" end)',
        environ={},
    )
    return Recorder(config)


def test_prefix_then_key_runs_the_bound_action(server):
    server.on_input(Client(None), b'\x02%\x02"\x023')
    assert server.actions == [("split-right", []), ("split-down", []), ("select-tab", [3])]
    assert server.typed == b""


def test_other_input_goes_to_the_pane_byte_for_byte(server):
    server.on_input(Client(None), b"ls -l\x1b[A\r")
    assert server.typed == b"ls -l\x1b[A\r" and server.actions == []


def test_prefix_twice_sends_the_prefix(server):
    server.on_input(Client(None), b"\x02\x02")
    assert server.typed == b"\x02" and server.actions == []


def test_an_unbound_key_after_the_prefix_is_dropped(server):
    server.on_input(Client(None), b"\x02Qx")
    assert server.typed == b"x" and server.actions == []


def test_a_root_binding_needs_no_prefix(server):
    server.on_input(Client(None), b"\x1b[1;3D")
    assert server.actions == [("focus-left", [])]


def test_a_lua_binding_may_return_an_action(server):
    server.on_input(Client(None), b"\x02g")
    assert server.actions == [("new-tab", [])]


def test_the_prefix_split_across_two_reads_still_works(server):
    client = Client(None)
    server.on_input(client, b"\x02")
    server.on_input(client, b"z")
    assert server.actions == [("zoom", [])]


# -- the vocabulary: one check for keys, Lua and the command line ----------------------

from hexe.commands.registry import ACTIONS, check_action, coerce_args  # noqa: E402


def test_variadic_and_typed_arguments_are_checked():
    assert check_action("send-keys", ["ls", "Enter"]) is None
    assert "takes KEY..." in check_action("send-keys", [])
    assert "must be a string" in check_action("send-keys", [3])
    assert "must be a whole number" in check_action("select-pane", ["x"])
    assert check_action("kill-pane", []) is None  # tmux's name for close-pane
    assert "did you mean" in check_action("splt-right", [])


def test_command_line_words_become_the_argument_types():
    assert coerce_args("select-pane", ["3"]) == [3]
    assert coerce_args("send-keys", ["3", "Enter"]) == ["3", "Enter"]
    assert coerce_args("resize-left", []) == []


def test_every_action_has_a_handler_in_the_server():
    for name, action in ACTIONS.items():
        assert callable(getattr(Server, action.handler, None)), name
