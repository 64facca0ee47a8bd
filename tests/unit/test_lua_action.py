"""``hexe.action(name, args...)``: a Lua key function runs registry actions.

The actions run in order once the function has returned (never inside Lua or
its time budget); a refused action, a budget overrun or a call outside a key
function runs nothing and says why.
"""

from __future__ import annotations

import pytest

from hexe.config import load
from hexe.config.loader import ConfigError
from hexe.config.lua import MAX_ACTIONS
from hexe.plugin.manager import make_plugin_manager
from hexe.server.server import Client, Server


class Recorder(Server):
    """The server's key dispatch, with actions and messages recorded."""

    def __init__(self, config):
        super().__init__("k", config, make_plugin_manager(), "never-listened.sock", {})
        self.actions: list[tuple[str, list]] = []
        self.messages: list[str] = []

    def run_action(self, client, name, args):
        self.actions.append((name, args))

    def show_message(self, text, *args, **kwargs):
        self.messages.append(text)

    def write_pane(self, pane, data):
        raise AssertionError(f"no key reaches the pane here: {data!r}")

    def focused(self):
        return None


def server_with(source: str) -> Recorder:
    return Recorder(load("init.lua", source=source, environ={}))


def test_a_key_function_runs_its_actions_in_order_then_the_one_it_returns():
    server = server_with(
        'hexe.key("prefix g", function(ctx)\n'
        '  hexe.action("select-tab", 2)\n'
        '  hexe.action("send-keys", "make test", "Enter")\n'
        '  return "new-tab"\n'
        "end)"
    )
    server.on_input(Client(None), b"\x02g")
    assert server.actions == [
        ("select-tab", [2]),
        ("send-keys", ["make test", "Enter"]),
        ("new-tab", []),
    ]
    assert server.messages == []


def test_an_unknown_action_is_an_error_at_its_line_and_nothing_runs():
    server = server_with(
        'hexe.key("prefix g", function()\n'
        '  hexe.action("new-tab")\n'
        '  hexe.action("split-rihgt")\n'
        "end)"
    )
    server.on_input(Client(None), b"\x02g")
    assert server.actions == []
    (message,) = server.messages
    assert "init.lua:3: hexe.action:" in message
    assert '"split-rihgt" is not an action; did you mean split-right?' in message


def test_wrong_arguments_are_refused_naming_the_argument():
    server = server_with('hexe.key("prefix g", function() hexe.action("select-tab", "two") end)')
    server.on_input(Client(None), b"\x02g")
    assert server.actions == []
    assert 'select-tab: n must be a whole number, got "two"' in server.messages[0]


def test_an_endless_loop_after_an_action_runs_nothing():
    server = server_with(
        'hexe.key("prefix g", function() hexe.action("new-tab") while true do end end)'
    )
    server.on_input(Client(None), b"\x02g")
    assert server.actions == []
    assert "time budget exceeded" in server.messages[0]


def test_a_key_function_may_ask_for_a_bounded_number_of_actions():
    server = server_with(
        'hexe.key("prefix g", function() for i = 1, 1000 do hexe.action("zoom") end end)'
    )
    server.on_input(Client(None), b"\x02g")
    assert server.actions == []
    assert f"more than {MAX_ACTIONS} actions in one key function" in server.messages[0]


def test_hexe_action_outside_a_key_function_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        load("init.lua", source='hexe.action("new-tab")', environ={})
    assert "runs only inside a key function" in str(caught.value)


def test_hexe_action_in_a_status_function_is_refused_after_a_key_function_ran():
    server = server_with(
        'hexe.key("prefix g", function() hexe.action("zoom") end)\n'
        'hexe.status { right = { function() hexe.action("new-tab") return "x" end } }'
    )
    server.on_input(Client(None), b"\x02g")
    assert server.actions == [("zoom", [])]
    status_fn = server.config.status.right[0]
    with pytest.raises(Exception, match="runs only inside a key function"):
        server.config.runtime.call(status_fn)
    assert server.actions == [("zoom", [])]
