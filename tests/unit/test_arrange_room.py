"""The arrangement room (hexe/server/arrange.py) on a server whose panes run nothing.

What a program inside a pane sees after each action is checked end to end in
tests/e2e/test_layouts_e2e.py; here the room's own rules: where the focus
goes, what a tab remembers, the y/n question of ``prefix &``, the mouse.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hexe.config.loader import load
from hexe.config.model import PaneSpec
from hexe.mux.input import Key, Mouse
from hexe.mux.layout import Layout
from hexe.mux.tabs import Tab, Tabs
from hexe.plugin.manager import make_plugin_manager
from hexe.server.server import Server
from hexe.server.state import ActionError, Pane


@pytest.fixture
def server(tmp_path: Path):
    config = load(source="", environ={})
    made = Server("t", config, make_plugin_manager(), tmp_path / "t.sock", {})
    made.cols, made.rows = 80, 24  # panes get 80x23

    def tab_of(*ids: int, name: str | None = None) -> Tab:
        layout = Layout(ids[0])
        for previous, pane_id in zip(ids, ids[1:], strict=False):
            layout = layout.split(previous, "right", pane_id)
        for pane_id in ids:
            made.panes[pane_id] = Pane(pane_id, PaneSpec(path="t", where="test"), 80, 23, 100)
        return Tab(layout, name)

    made.tab_of = tab_of
    yield made
    made.sel.close()


def attached() -> SimpleNamespace:
    return SimpleNamespace(attached=True, pid=1)


def test_rotate_keeps_the_focus_on_the_same_place(server):
    server.tabs = Tabs([server.tab_of(1, 2, 3)])
    server.tabs.active.focus(1)
    server.run_action(None, "rotate", [])
    tab = server.tabs.active
    assert tab.panes() == [2, 3, 1] and tab.focused == 2
    server.run_action(None, "rotate", ["-D"])
    assert tab.panes() == [1, 2, 3] and tab.focused == 1


def test_swap_pane_moves_the_focused_pane_and_the_focus_with_it(server):
    server.tabs = Tabs([server.tab_of(1, 2, 3)])
    server.tabs.active.focus(1)
    server.run_action(None, "swap-pane", ["-D"])
    assert server.tabs.active.panes() == [2, 1, 3] and server.tabs.active.focused == 1
    server.run_action(None, "swap-pane", ["-U"])
    assert server.tabs.active.panes() == [1, 2, 3]
    with pytest.raises(ActionError, match="swap-pane needs -U"):
        server.run_action(None, "swap-pane", [])


def test_select_layout_remembers_the_preset_for_next_layout_and_a_bare_call(server):
    server.tabs = Tabs([server.tab_of(1, 2, 3)])
    with pytest.raises(ActionError, match="no layout chosen for this tab yet"):
        server.run_action(None, "select-layout", [])
    server.run_action(None, "next-layout", [])  # none yet: the first, even-horizontal
    assert server.arranging.presets[server.tabs.active] == "even-horizontal"
    server.run_action(None, "select-layout", ["main-vertical"])
    server.run_action(None, "select-layout", ["-n"])
    assert server.arranging.presets[server.tabs.active] == "tiled"
    server.run_action(None, "next-layout", [])  # wraps
    assert server.arranging.presets[server.tabs.active] == "even-horizontal"
    server.run_action(None, "previous-layout", [])
    assert server.arranging.presets[server.tabs.active] == "tiled"
    assert server.panes[3].size == (80, 11)  # tiled: the last row, whole width
    server.tabs.active.resize("up", 3, *server.area, pane=3)
    server.run_action(None, "select-layout", [])  # re-applied
    assert server.panes[3].size == (80, 11)


def test_break_and_join_keep_every_pane_in_exactly_one_tab(server):
    server.tabs = Tabs([server.tab_of(1, 2)])
    server.run_action(None, "break-pane", ["solo"])  # the focused pane, 1
    assert [t.panes() for t in server.tabs] == [[2], [1]]
    assert server.tabs.active.name == "solo" and server.panes[1].size == (80, 23)
    server.run_action(None, "join-pane", [0, "right"])  # pane 1 back into tab 0
    assert [t.panes() for t in server.tabs] == [[2, 1]]  # the emptied tab closed
    assert server.tabs.active.focused == 1
    server.run_action(None, "break-pane", [])
    with pytest.raises(ActionError, match="'across' is not a direction"):
        server.run_action(None, "join-pane", [0, "across"])
    with pytest.raises(ActionError, match="pane 1 is already in tab 1"):
        server.run_action(None, "join-pane", [1])


def test_last_pane_and_last_tab(server):
    server.tabs = Tabs()
    server.tabs.new(server.tab_of(1, 2))
    server.tabs.new(server.tab_of(3))
    server.run_action(None, "last-tab", [])
    assert server.tabs.index == 0
    tab = server.tabs.active
    tab.focus(1)
    tab.focus(2)
    server.run_action(None, "last-pane", [])
    assert tab.focused == 1
    server.tabs.close()  # tab 0 closes: tab 1, the last tab, is the active one now
    with pytest.raises(ActionError, match="no last tab"):
        server.run_action(None, "last-tab", [])
    server.tabs = Tabs([server.tab_of(4)])  # a fresh window has no last tab
    with pytest.raises(ActionError, match="no last tab"):
        server.run_action(None, "last-tab", [])
    with pytest.raises(ActionError, match="no last pane"):
        server.run_action(None, "last-pane", [])


def test_move_and_swap_tab_keep_the_active_tab_active(server):
    a, b, c = (server.tab_of(n, name=name) for n, name in ((1, "a"), (2, "b"), (3, "c")))
    server.tabs = Tabs([a, b, c])
    server.run_action(None, "move-tab", ["2"])
    assert [t.name for t in server.tabs] == ["b", "c", "a"] and server.tabs.active is a
    server.run_action(None, "swap-tab", ["-2"])
    assert [t.name for t in server.tabs] == ["a", "c", "b"] and server.tabs.active is a
    with pytest.raises(ActionError, match="move-tab: no tab 5; tabs are 0..2"):
        server.run_action(None, "move-tab", ["5"])


def test_close_tab_from_a_key_asks_and_only_y_closes(server):
    server.tabs = Tabs([server.tab_of(1), server.tab_of(2, 3)])
    server.tabs.select(1)
    server.run_action(attached(), "close-tab", [])
    assert server.prompt["label"] == "close tab 1 (2 pane(s))? (y/n)"
    server.prompt_key(Key("n", b"n"))
    assert server.prompt is None and len(server.tabs) == 2
    server.run_action(attached(), "close-tab", [])
    server.prompt_key(Key("y", b"y"))
    assert len(server.tabs) == 1 and set(server.panes) == {1}


def press(x: int, y: int, button: int = 0) -> Mouse:
    return Mouse(button, x, y, True, 0, b"")


def release(x: int, y: int) -> Mouse:
    return Mouse(0, x, y, False, 0, b"")


def test_dragging_a_border_moves_it_and_a_press_inside_a_pane_does_not(server):
    server.tabs = Tabs([server.tab_of(1, 2)])  # 40 | 39 at 80 columns
    assert server.mouse_on_layout(press(40, 5))
    assert server.mouse_on_layout(press(25, 7, button=32))  # motion, button held
    assert server.panes[1].size == (25, 23)
    assert server.mouse_on_layout(release(25, 7))
    assert server.arranging.drag is None
    assert not server.mouse_on_layout(press(10, 5))  # inside pane 1: for the pane
    assert not server.mouse_on_layout(press(30, 5, button=32))
    assert server.panes[1].size == (25, 23)


def test_a_click_on_a_tab_name_selects_it_and_the_mouse_option_turns_it_off(server):
    from dataclasses import replace

    server.tabs = Tabs([server.tab_of(1, name="code"), server.tab_of(2, name="build")])
    server.tabs.select(1)
    # the status line: "[t] 0:code 1:build*"
    assert server.mouse_on_layout(press(6, 23))
    assert server.tabs.index == 0
    assert not server.mouse_on_layout(press(2, 23))  # the session's name
    server.config = replace(server.config, options=replace(server.config.options, mouse=False))
    assert not server.mouse_on_layout(press(13, 23))
    assert server.tabs.index == 0
