"""Key dispatch in the server: prefix, bindings, passthrough, modes — without a terminal."""

from __future__ import annotations

import pytest

from hexe.config import load
from hexe.plugins import make_plugin_manager
from hexe.server.server import Client, Server


class Recorder(Server):
    def __init__(self, config):
        super().__init__("k", config, make_plugin_manager(), None, {})
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
