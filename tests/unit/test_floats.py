"""The floating layer's rules (hexe/mux/floats.py) and the tab's hook for it (hexe/mux/tabs.py)."""

from __future__ import annotations

import pytest

from hexe.config.loader import ConfigError, load
from hexe.mux.floats import MIN_COLS, MIN_ROWS, Box, Floats, clamp, default_box, drag, sized_box
from hexe.mux.layout import Rect
from hexe.mux.tabs import Tab, Tabs

W, H = 120, 39


def test_a_box_holds_its_pane_inside_a_one_cell_border():
    box = Box(10, 5, 30, 8)
    assert box.inner == Rect(11, 6, 28, 6)
    assert box.edge(20, 5) == "title"
    assert box.edge(10, 5) == "title"  # the top corners move it too
    assert box.edge(39, 12) == "down-right"
    assert box.edge(10, 12) == "down-left"
    assert box.edge(20, 12) == "down"
    assert box.edge(39, 8) == "right"
    assert box.edge(10, 8) == "left"
    assert box.edge(20, 8) == "inside"
    assert box.edge(40, 8) == "" and box.edge(9, 8) == ""


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (Box(10, 5, 30, 8), Box(10, 5, 30, 8)),  # fits: unchanged
        (Box(110, 5, 30, 8), Box(90, 5, 30, 8)),  # past the right edge: moved in
        (Box(-5, -3, 30, 8), Box(0, 0, 30, 8)),
        (Box(0, 0, 500, 100), Box(0, 0, W, H)),  # larger than the window: the window
        (Box(3, 3, 2, 1), Box(3, 3, MIN_COLS, MIN_ROWS)),  # too small: the minimum
    ],
)
def test_clamp_keeps_a_box_in_the_window_and_at_least_the_minimum(box, expected):
    assert clamp(box, W, H) == expected


def test_clamp_in_a_window_smaller_than_the_minimum_gives_the_window():
    assert clamp(Box(0, 0, 30, 8), 5, 2) == Box(0, 0, 5, 2)


def test_new_floats_are_centred_then_cascade():
    first = default_box(W, H, 0)
    assert first == Box(24, 8, 72, 23)
    assert default_box(W, H, 1) == Box(26, 10, 72, 23)


def test_init_lua_sizes_are_cells_or_fractions():
    assert sized_box(W, H, 60, 12) == Box(30, 13, 60, 12)
    assert sized_box(W, H, 0.5, 0.5, 0, 0) == Box(0, 0, 60, 19)
    assert sized_box(W, H, 60, 12, 100, 100) == Box(60, 27, 60, 12)  # kept in the window


def test_the_focused_float_is_the_top_one_while_the_layer_has_the_focus():
    floats = Floats()
    assert floats.focused is None and not floats
    floats.add(5, Box(0, 0, 20, 6), W, H)
    floats.add(6, Box(10, 2, 20, 6), W, H)
    assert list(floats) == [5, 6] and floats.focused == 6
    assert floats.focus(5) and list(floats) == [6, 5] and floats.focused == 5
    assert floats.blur() and floats.focused is None and floats.shown
    assert floats.cycle() is True and floats.focused == 6  # focus on the layer again
    assert floats.at(12, 3) == 6  # where they overlap: the top one
    assert floats.at(1, 1) == 5
    assert floats.at(100, 30) is None


def test_toggle_hides_the_layer_and_shows_it_with_the_focus_on_top():
    floats = Floats()
    floats.add(5, Box(0, 0, 20, 6), W, H)
    assert floats.toggle() is False
    assert floats.focused is None and floats.visible() == [] and floats.at(1, 1) is None
    assert 5 in floats  # hidden, not gone
    assert floats.toggle() is True and floats.focused == 5


def test_removing_the_last_float_gives_the_focus_back():
    floats = Floats()
    floats.add(5, Box(0, 0, 20, 6), W, H)
    floats.add(6, Box(0, 0, 20, 6), W, H)
    assert floats.remove(6) and floats.focused == 5
    assert floats.remove(5) and not floats.active
    assert floats.remove(5) is False


def test_move_and_resize_stay_in_the_window():
    floats = Floats()
    floats.add(5, Box(10, 10, 20, 6), W, H)
    assert floats.move(5, "left", 4, W, H) and floats.boxes[5] == Box(6, 10, 20, 6)
    assert floats.move(5, "up", 100, W, H) and floats.boxes[5] == Box(6, 0, 20, 6)
    assert not floats.move(5, "up", 1, W, H)  # at the edge: nothing changes
    assert floats.resize(5, "right", 5, W, H) and floats.boxes[5] == Box(6, 0, 25, 6)
    assert floats.resize(5, "up", 100, W, H) and floats.boxes[5].rows == MIN_ROWS
    with pytest.raises(ValueError, match="not a direction"):
        floats.move(5, "sideways", 1, W, H)


def test_a_requested_size_follows_the_window_until_the_float_is_moved():
    floats = Floats()
    floats.request(5, (0.5, 0.5, None, None), W, H)
    floats.fit(60, 20)
    assert floats.boxes[5] == Box(15, 5, 30, 10)
    floats.move(5, "left", 1, 60, 20)
    floats.fit(W, H)
    assert floats.boxes[5] == Box(14, 5, 30, 10)  # the user's place now


def test_dragging_the_title_moves_and_an_edge_resizes():
    box = Box(10, 5, 30, 8)
    assert drag(box, "title", -3, 2) == Box(7, 7, 30, 8)
    assert drag(box, "down-right", 5, 2) == Box(10, 5, 35, 10)
    assert drag(box, "left", -4, 0) == Box(6, 5, 34, 8)  # the right edge stays
    assert drag(box, "down-left", 4, 1) == Box(14, 5, 26, 9)


def test_a_tab_focuses_floats_and_tiles():
    tab = Tab.single(1)
    tab.split("right", 2)
    tab.floats.add(3, Box(0, 0, 20, 6), W, H)
    assert tab.current == 3 and tab.focused == 2
    assert tab.panes() == [1, 2, 3]
    assert tab.focus(1) and tab.current == 1  # a tiled pane takes the focus back
    assert tab.focus(3) and tab.current == 3
    assert tab.focus(2) and tab.current == 2  # the focused tile: still a change (from the layer)
    tab.focus(3)
    assert tab.focus_toward("left", W, H) and tab.current == 2  # first back to the tiles
    assert tab.focus_toward("left", W, H) and tab.current == 1
    tab.focus(3)
    tab.split("down", 4)  # from a float: the tile below is split
    assert tab.current == 4 and 4 in tab.layout and 3 in tab.floats
    assert Tabs([tab]).find(3) is tab


def test_a_tiled_pane_floats_and_embeds_back_beside_the_focused_one():
    tab = Tab.single(1)
    tab.split("right", 2)
    tab.float_pane(2, Box(5, 5, 20, 6), W, H)
    assert tab.layout.order() == [1] and tab.current == 2
    with pytest.raises(ValueError, match="only tiled pane"):
        tab.float_pane(1, Box(5, 5, 20, 6), W, H)
    tab.embed(2)
    assert tab.layout.order() == [1, 2] and tab.current == 2 and not tab.floats


def test_a_float_outlives_the_last_tiled_pane_by_taking_its_place():
    tab = Tab.single(1)
    tab.floats.add(2, Box(5, 5, 20, 6), W, H)
    assert tab.remove(1) is False
    assert tab.layout.order() == [2] and tab.current == 2 and not tab.floats
    assert tab.remove(2) is True


def test_closing_a_float_leaves_the_tab():
    tab = Tab.single(1)
    tab.floats.add(2, Box(5, 5, 20, 6), W, H)
    assert tab.remove(2) is False and tab.current == 1


def test_floats_in_an_init_lua_tab_become_floating_panes_of_that_tab():
    config = load(
        source="""
hexe.layout { hexe.tab { name = "main", hexe.pane { },
  floats = { hexe.float { name = "scratch", isolation = { profile = "full" },
                          width = 0.5, height = 10, shown = false } } } }
""",
        environ={},
    )
    (spec,) = config.tabs[0].floats
    assert spec.pane.name == "scratch" and spec.size == (0.5, 10, None, None)
    assert not spec.shown
    assert config.find_pane("scratch") is spec.pane  # hexe run --pane scratch, config check
    ids = iter(range(1, 10))
    tabs, specs = Tabs.from_specs(config.tabs, lambda: next(ids))
    tab = tabs.active
    assert tab is not None and tab.layout.order() == [1] and list(tab.floats) == [2]
    assert specs[2] is spec.pane
    assert not tab.floats.shown and tab.current == 1


@pytest.mark.parametrize(
    ("floats", "error"),
    [
        ("3", "tabs[0].floats is 3; use a list of floats"),
        ("{ hexe.pane { } }", "tabs[0].floats[0] is a Lua table; use hexe.float"),
        ("{ hexe.float { width = -1 } }", "tabs[0].floats[0].width=-1 is not accepted"),
        ("{ hexe.float { height = 2.5 } }", "height=2.5 is not accepted; use whole cells"),
        ("{ hexe.float { shown = 3 } }", "tabs[0].floats[0].shown=3 is not a yes/no"),
        ("{ hexe.float { isolation = { profile = 'fulll' } } }", "fulll"),
        ("{ hexe.float { bogus = 1 } }", "tabs[0].floats[0].bogus is not a setting"),
    ],
)
def test_bad_floats_in_init_lua_say_what_and_where(floats, error):
    with pytest.raises(ConfigError) as info:
        load(source=f"hexe.layout {{ hexe.tab {{ hexe.pane {{ }}, floats = {floats} }} }}\n",
             environ={})  # fmt: skip
    assert error in str(info.value)
    assert "init.lua:1" in str(info.value)


def test_the_renderer_draws_a_float_boxed_over_the_tiles_and_puts_the_cursor_in_it():
    from types import SimpleNamespace

    import hexe_render

    from hexe.mux.layout import Layout
    from hexe.mux.view import PaneView, View
    from hexe.terminal.screen import PaneScreen

    geometry = Layout.single(1).geometry(40, 11)
    tiled = PaneScreen(40, 11)
    tiled.feed(b"".join(b"under-%d\r\n" % i for i in range(10)))
    box = Box(5, 2, 20, 6)
    floating = PaneScreen(box.inner.cols, box.inner.rows)
    floating.feed(b"on top")
    hooks = SimpleNamespace(hexe_status_segment=lambda name, view: "")
    view = View(
        40, 12, "s", ((0, "a", True),),
        (PaneView(1, geometry.panes[1], tiled, False, "sh", "none", None, None),),
        geometry, False, (), (), None, None, None, "", "", False, None, hooks, (1, 2),
        floats=(PaneView(2, box.inner, floating, True, "sh", "full", None, None),),
    )  # fmt: skip
    out, _ = hexe_render.hexe_render(view, None)
    from hexe.terminal.screen import PaneScreen as Terminal

    terminal = Terminal(40, 12)
    terminal.feed(out)
    rows = [terminal.row_text(y) for y in range(12)]
    assert rows[2][5:25] == "┌ sh full ─────────┐"
    assert rows[3][5:25] == "│on top            │"
    assert rows[7][5:25] == "└──────────────────┘"
    assert rows[1] == "under-1" and rows[9] == "under-9"  # the tile, around it
    assert rows[3][:5] == "under" and rows[3][25:].strip() == ""
    assert terminal.cursor == (12, 3)  # after "on top", inside the box


@pytest.mark.parametrize(
    "title",
    ["日本語のタイトルがとても長い", "👩\u200d👩\u200d👧 family ❤️ x", "e\u0301e\u0301" * 12],
)
def test_a_float_title_of_wide_characters_keeps_the_box_whole(title):
    """A program sets its float's title (OSC 2): the box's top row is exactly
    the box's width, no wide character cut in half, no joiner sent."""
    from types import SimpleNamespace

    import hexe_render

    from hexe.mux.layout import Layout
    from hexe.mux.view import PaneView, View
    from hexe.terminal.lines import text_width
    from hexe.terminal.screen import PaneScreen

    geometry = Layout.single(1).geometry(40, 11)
    box = Box(5, 2, 13, 4)
    hooks = SimpleNamespace(hexe_status_segment=lambda name, view: "")
    view = View(
        40, 12, "s", ((0, "a", True),),
        (PaneView(1, geometry.panes[1], PaneScreen(40, 11), False, "sh", "none", None, None),),
        geometry, False, (), (), None, None, None, "", "", False, None, hooks, (1, 2),
        floats=(PaneView(2, box.inner, PaneScreen(box.inner.cols, box.inner.rows), True, title,
                         "full", None, None),),
    )  # fmt: skip
    out, _ = hexe_render.hexe_render(view, None)
    assert "\u200d" not in out.decode()
    terminal = PaneScreen(40, 12)
    terminal.feed(out)
    top = terminal.row_text(2)
    assert top.startswith(" " * 5 + "┌") and top.rstrip().endswith("┐"), top
    assert text_width(top.rstrip()) == 5 + 13, top
    assert terminal.row_text(3)[5] == "│" and terminal.row_text(3)[5 + 12] == "│"
