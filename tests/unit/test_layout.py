"""Layout geometry: splits, borders, resize, zoom, remove, focus by direction, tabs."""

from __future__ import annotations

import itertools
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexe.config import load
from hexe.mux.layout import Border, Layout, Rect, Split, from_spec
from hexe.mux.tabs import Tab, Tabs

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ENV = {"SHELL": "/bin/sh", "HOME": "/root"}


def side_by_side(ratio: float = 0.5) -> Layout:
    return Layout(Split("right", ratio, 1, 2))


def grid() -> Layout:
    """1 2
    3 4"""
    return Layout(Split("right", 0.5, Split("down", 0.5, 1, 3), Split("down", 0.5, 2, 4)))


def tall_left() -> Layout:
    """1 | 2 over 3 over 4, at 81x25: 2 has rows 0-11, 3 rows 13-18, 4 rows 20-24."""
    return Layout(Split("right", 0.5, 1, Split("down", 0.5, 2, Split("down", 0.5, 3, 4))))


def coverage(geometry) -> Counter:
    counts: Counter = Counter()
    for rect in geometry.panes.values():
        counts.update(rect.cells())
    for border in geometry.borders:
        counts.update(border.cells())
    return counts


# -- sizes -----------------------------------------------------------------------------


def test_two_side_by_side_panes_at_81_columns_get_40_border_40():
    g = side_by_side().geometry(81, 24)
    assert g.panes == {1: Rect(0, 0, 40, 24), 2: Rect(41, 0, 40, 24)}
    assert g.borders == (Border(40, 0, 24, vertical=True),)


def test_two_stacked_panes_at_25_rows_get_12_border_12():
    g = Layout(Split("down", 0.5, 1, 2)).geometry(80, 25)
    assert g.panes == {1: Rect(0, 0, 80, 12), 2: Rect(0, 13, 80, 12)}
    assert g.borders == (Border(0, 12, 80, vertical=False),)


def test_an_odd_cell_goes_to_the_first_pane_as_in_tmux():
    g = side_by_side().geometry(80, 24)
    assert (g.panes[1].cols, g.panes[2].cols) == (40, 39)


def test_nested_splits_share_by_their_ratios():
    layout = Layout(Split("right", 0.6, 1, Split("down", 0.5, 2, 3)))
    g = layout.geometry(101, 25)
    assert g.panes == {
        1: Rect(0, 0, 60, 25),
        2: Rect(61, 0, 40, 12),
        3: Rect(61, 13, 40, 12),
    }
    assert g.borders == (Border(60, 0, 25, vertical=True), Border(61, 12, 40, vertical=False))
    assert not g.hidden


def test_every_cell_of_a_grid_is_a_pane_or_a_border_once():
    g = grid().geometry(81, 25)
    counts = coverage(g)
    assert set(counts) == set(Rect(0, 0, 81, 25).cells())
    assert set(counts.values()) == {1}


def test_resizing_the_window_keeps_the_ratios():
    layout = side_by_side(0.25)
    assert layout.geometry(81, 24).panes[1].cols == 20
    assert layout.geometry(161, 24).panes[1].cols == 40
    before = layout.geometry(81, 24)
    layout.geometry(5, 3)  # a tiny window does not change the layout
    assert layout.geometry(81, 24) == before


def test_a_pane_keeps_one_cell_when_its_ratio_would_give_none():
    g = side_by_side(0.01).geometry(11, 5)
    assert (g.panes[1].cols, g.panes[2].cols) == (1, 9)


def test_min_size_counts_one_cell_per_pane_and_the_borders():
    assert grid().min_size() == (3, 3)
    assert tall_left().min_size() == (3, 5)
    assert Layout().min_size() == (0, 0)


def test_a_too_small_window_hides_the_later_panes_first():
    # 4 panes in a row need 7 columns; at 5 the last one does not fit
    row = Layout(Split("right", 0.5, Split("right", 0.5, 1, 2), Split("right", 0.5, 3, 4)))
    g = row.geometry(5, 2)
    assert g.panes == {1: Rect(0, 0, 1, 2), 2: Rect(2, 0, 1, 2), 3: Rect(4, 0, 1, 2)}
    assert g.hidden == (4,)
    assert set(coverage(g).values()) == {1} and len(coverage(g)) == 10
    assert row.geometry(7, 2).hidden == ()


def test_a_split_narrower_than_three_cells_shows_its_first_child_only():
    g = side_by_side().geometry(2, 1)
    assert g.panes == {1: Rect(0, 0, 2, 1)} and g.borders == () and g.hidden == (2,)


@pytest.mark.parametrize("size", [(0, 0), (0, 10), (10, 0), (-3, -1)])
def test_an_empty_area_shows_no_pane_and_never_raises(size):
    g = grid().geometry(*size)
    assert g.panes == {} and g.borders == () and g.hidden == (1, 3, 2, 4)
    assert g.width >= 0 and g.height >= 0


def test_pane_at_finds_the_pane_under_a_click():
    g = side_by_side().geometry(81, 24)
    assert (g.pane_at(0, 0), g.pane_at(40, 3), g.pane_at(41, 3), g.pane_at(81, 0)) == (
        1,
        None,
        2,
        None,
    )


# -- borders for the renderer ----------------------------------------------------------------


def test_border_cells_carry_the_arms_of_their_line_drawing():
    cells = grid().geometry(81, 25).border_cells()
    assert cells[(40, 0)] == "ud"  # │
    assert cells[(40, 12)] == "udlr"  # ┼: both columns split at the same row
    assert cells[(0, 12)] == "lr"  # ─
    tee = tall_left().geometry(81, 25).border_cells()
    assert tee[(40, 12)] == "udr"  # ├
    assert tee[(60, 19)] == "lr"


def test_border_around_the_focused_pane_is_what_touches_it():
    g = grid().geometry(81, 25)
    around = g.border_around(4)
    assert around == {(40, y) for y in range(12, 25)} | {(x, 12) for x in range(41, 81)}
    assert (40, 11) not in around and (0, 12) not in around
    assert Layout(7).geometry(10, 10).border_around(7) == frozenset()


# -- split and remove ---------------------------------------------------------------------


def test_split_puts_the_new_pane_right_of_or_below_the_old_one():
    layout = Layout.single(1).split(1, "right", 2).split(2, "down", 3, ratio=0.25)
    assert layout == Layout(Split("right", 0.5, 1, Split("down", 0.25, 2, 3)))
    assert layout.order() == [1, 2, 3]


def test_split_refuses_an_unknown_pane_and_a_taken_id():
    with pytest.raises(KeyError, match="no pane 9"):
        side_by_side().split(9, "right", 3)
    with pytest.raises(ValueError, match="pane 2 is already"):
        side_by_side().split(1, "down", 2)
    with pytest.raises(ValueError, match="not a direction"):
        side_by_side().split(1, "left", 3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        side_by_side().split(1, "down", 3, ratio=1.0)


def test_remove_gives_the_space_to_the_sibling():
    layout = Layout(Split("right", 0.5, 1, Split("down", 0.5, 2, 3)))
    g = layout.remove(2).geometry(81, 24)
    assert g.panes == {1: Rect(0, 0, 40, 24), 3: Rect(41, 0, 40, 24)}
    g = layout.remove(1).geometry(81, 25)
    assert g.panes == {2: Rect(0, 0, 81, 12), 3: Rect(0, 13, 81, 12)}


def test_removing_the_last_pane_leaves_an_empty_layout():
    layout = Layout.single(5).remove(5)
    assert layout.empty and len(layout) == 0 and layout.order() == []
    assert layout.geometry(80, 24).panes == {}


# -- resize -------------------------------------------------------------------------------


def test_resize_moves_the_border_toward_the_side_like_tmux():
    layout = side_by_side()
    cols = lambda lay: [r.cols for r in lay.geometry(81, 24).panes.values()]  # noqa: E731
    # pane 2's left edge moves left: it grows
    assert cols(layout.resize(2, "left", 5, 81, 24)) == [35, 45]
    # pane 1 touches the window on its left: its right edge moves left
    assert cols(layout.resize(1, "left", 5, 81, 24)) == [35, 45]
    assert cols(layout.resize(1, "right", 5, 81, 24)) == [45, 35]
    assert cols(layout.resize(2, "right", 5, 81, 24)) == [45, 35]


def test_resize_moves_the_nearest_border_of_that_orientation():
    layout = Layout(Split("right", 0.5, 1, Split("down", 0.5, 2, 3)))
    g = layout.resize(2, "down", 3, 81, 25).geometry(81, 25)
    assert (g.panes[2].rows, g.panes[3].rows) == (15, 9)
    assert g.panes[1].cols == 40
    g = layout.resize(3, "left", 10, 81, 25).geometry(81, 25)
    assert g.panes[1].cols == 30 and g.panes[2].cols == g.panes[3].cols == 50


def test_resize_clamps_so_no_pane_drops_below_one_cell():
    layout = Layout(Split("right", 0.5, 1, Split("right", 0.5, 2, 3)))
    g = layout.resize(1, "right", 500, 81, 24).geometry(81, 24)
    assert [g.panes[p].cols for p in (1, 2, 3)] == [77, 1, 1]
    g = layout.resize(1, "left", 500, 81, 24).geometry(81, 24)
    assert g.panes[1].cols == 1


@settings(max_examples=200, deadline=None)
@given(st.integers(3, 400), st.floats(0.05, 0.95), st.integers(0, 400))
def test_resize_moves_the_border_by_exactly_the_cells_asked_or_to_the_limit(width, ratio, cells):
    layout = side_by_side(ratio)
    before = layout.geometry(width, 5).panes[1].cols
    after = layout.resize(1, "right", cells, width, 5).geometry(width, 5).panes[1].cols
    assert after == min(before + cells, width - 2)
    after = layout.resize(2, "left", cells, width, 5).geometry(width, 5).panes[1].cols
    assert after == max(before - cells, 1)


def test_resize_without_a_border_on_that_axis_changes_nothing():
    layout = side_by_side()
    assert layout.resize(1, "up", 3, 81, 24) is layout
    assert Layout.single(1).resize(1, "left", 3, 80, 24) == Layout.single(1)
    with pytest.raises(ValueError, match="not a side"):
        layout.resize(1, "sideways", 1, 81, 24)


def test_a_resized_layout_keeps_its_proportions_when_the_window_grows():
    layout = side_by_side().resize(1, "left", 20, 81, 24)  # 20 | 60
    g = layout.geometry(161, 24)
    assert (g.panes[1].cols, g.panes[2].cols) == (40, 120)


# -- focus by direction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "pane, side, expected",
    [
        (1, "right", 2),
        (1, "down", 3),
        (1, "left", None),
        (1, "up", None),
        (4, "left", 3),
        (4, "up", 2),
        (4, "right", None),
        (4, "down", None),
        (2, "left", 1),
        (3, "up", 1),
    ],
)
def test_neighbor_on_a_two_by_two_grid(pane, side, expected):
    assert grid().neighbor(pane, side, 81, 25) == expected


def test_neighbor_on_an_uneven_layout_prefers_the_cursor_then_recent_then_overlap():
    layout = tall_left()
    # largest overlap with the tall pane: 2 (12 rows) over 3 (6) and 4 (5)
    assert layout.neighbor(1, "right", 81, 25) == 2
    # the pane straight across from the cursor's row
    assert layout.neighbor(1, "right", 81, 25, cursor=(0, 21)) == 4
    assert layout.neighbor(1, "right", 81, 25, cursor=(0, 14), recent=[4]) == 3
    # the cursor's row is a border row on the other side: the most recently used
    assert layout.neighbor(1, "right", 81, 25, cursor=(0, 19), recent=[4, 3]) == 4
    assert layout.neighbor(1, "right", 81, 25, recent=[3]) == 3
    for pane in (2, 3, 4):
        assert layout.neighbor(pane, "left", 81, 25) == 1
    assert layout.neighbor(3, "up", 81, 25) == 2
    assert layout.neighbor(3, "down", 81, 25) == 4
    assert layout.neighbor(1, "up", 81, 25) is None


def test_a_hidden_pane_has_no_neighbor():
    assert side_by_side().neighbor(2, "left", 2, 1) is None


# -- order and focus -------------------------------------------------------------------------


def test_order_is_tree_order_and_a_new_pane_comes_after_its_origin():
    layout = Layout(Split("right", 0.5, 1, Split("down", 0.5, 2, 3)))
    assert layout.order() == [1, 2, 3]
    assert layout.split(1, "down", 9).order() == [1, 9, 2, 3]


def test_focus_next_and_prev_cycle_around():
    tab = Tab(grid())
    assert tab.focused == 1
    seen = []
    for _ in range(4):
        tab.focus_next()
        seen.append(tab.focused)
    assert seen == [3, 2, 4, 1]
    tab.focus_prev()
    assert tab.focused == 4
    lone = Tab.single(1)
    assert not lone.focus_next() and lone.focused == 1


def test_focus_toward_uses_the_tabs_history_like_tmux():
    tab = Tab(tall_left())
    tab.focus(4)
    assert tab.focus_toward("left", 81, 25) and tab.focused == 1
    assert tab.focus_toward("right", 81, 25) and tab.focused == 4  # back where it came from
    assert not tab.focus_toward("right", 81, 25) and tab.focused == 4


def test_focus_last_goes_back_and_forth():
    tab = Tab(grid())
    tab.focus(4)
    assert tab.last == 1
    tab.focus_last()
    assert (tab.focused, tab.last) == (1, 4)


def test_split_focuses_the_new_pane():
    tab = Tab.single(1)
    tab.split("right", 2)
    tab.split("down", 3)
    assert tab.focused == 3 and tab.panes() == [1, 2, 3] and tab.last == 2


def test_removing_the_focused_pane_focuses_the_one_before_it():
    tab = Tab(grid())
    tab.focus(4)
    tab.focus(2)
    assert tab.remove(2) is False
    assert tab.focused == 4


def test_removing_a_never_left_pane_focuses_its_sibling():
    tab = Tab(Layout(Split("right", 0.5, 1, Split("down", 0.5, 2, 3))), focused=1)
    tab.history.clear()
    tab.history.append(1)
    assert tab.remove(1) is False and tab.focused == 2


def test_removing_the_last_pane_reports_an_empty_tab():
    tab = Tab.single(1)
    assert tab.remove(1) is True
    assert tab.empty and tab.focused is None


# -- zoom -------------------------------------------------------------------------------


def test_zoom_gives_the_pane_the_whole_area_and_unzoom_gives_it_back():
    tab = Tab(grid())
    tab.focus(4)
    assert tab.toggle_zoom() and tab.zoomed == 4
    g = tab.geometry(81, 25)
    assert g.panes == {4: Rect(0, 0, 81, 25)} and g.borders == () and g.hidden == (1, 3, 2)
    assert tab.toggle_zoom() and tab.zoomed is None
    assert tab.geometry(81, 25) == grid().geometry(81, 25)


@pytest.mark.parametrize(
    "change",
    [
        lambda tab: tab.split("down", 9),
        lambda tab: tab.remove(1),
        lambda tab: tab.focus(2),
        lambda tab: tab.focus_next(),
        lambda tab: tab.focus_toward("left", 81, 25),
        lambda tab: tab.resize("left", 2, 81, 25),
    ],
)
def test_a_split_remove_resize_or_focus_change_unzooms(change):
    tab = Tab(grid())
    tab.focus(4)
    tab.toggle_zoom()
    change(tab)
    assert tab.zoomed is None


def test_a_tab_of_one_pane_does_not_zoom():
    tab = Tab.single(1)
    assert not tab.toggle_zoom() and tab.zoomed is None


# -- tabs ----------------------------------------------------------------------------------


def test_tabs_new_next_prev_select_rename_close():
    tabs = Tabs()
    assert tabs.active is None and not tabs.next()
    a, b, c = Tab.single(1, "a"), Tab.single(2, "b"), Tab.single(3, "c")
    assert [tabs.new(t) for t in (a, b, c)] == [0, 1, 2]
    assert tabs.active is c
    assert tabs.next() and tabs.active is a  # wraps
    assert tabs.prev() and tabs.active is c
    assert tabs.select(1) and tabs.active is b
    assert not tabs.select(7) and tabs.active is b
    tabs.rename("logs")
    assert b.name == "logs" and tabs.number(b) == 1
    tabs.rename("")
    assert b.name is None
    assert tabs.find(3) is c and tabs.find(99) is None
    tabs.close()  # the active b: c takes its number and becomes active
    assert [t.name for t in tabs] == ["a", "c"] and tabs.active is c
    tabs.close(a)
    assert tabs.active is c and tabs.number(c) == 0
    tabs.close()
    assert tabs.active is None and len(tabs) == 0


def test_closing_the_last_tab_in_the_row_activates_the_one_before():
    tabs = Tabs()
    for pane in (1, 2, 3):
        tabs.new(Tab.single(pane))
    tabs.close()
    assert tabs.active is tabs.tabs[1] and tabs.index == 1


def test_tabs_can_count_from_one():
    tabs = Tabs(base=1)
    assert tabs.new(Tab.single(1)) == 1 and tabs.new(Tab.single(2)) == 2
    assert tabs.select(1) and tabs.active.focused == 1
    assert not tabs.select(0)


def test_a_new_tab_added_in_the_background_keeps_the_active_one():
    tabs = Tabs()
    tabs.new(Tab.single(1))
    tabs.new(Tab.single(2), select=False)
    assert tabs.active.focused == 1


# -- from init.lua -----------------------------------------------------------------------------


def test_from_spec_builds_the_tree_of_a_real_config():
    config = load(
        "init.lua",
        source=textwrap.dedent(
            """
            hexe.layout {
              hexe.tab { name = "code",
                hexe.split { direction = "right", ratio = 0.6,
                  hexe.pane { name = "editor" },
                  hexe.split { direction = "down",
                    hexe.pane { name = "top" },
                    hexe.pane { name = "bottom" },
                  },
                },
              },
            }
            """
        ),
        environ=ENV,
    )
    layout, specs = from_spec(config.tabs[0].root, itertools.count(10).__next__)
    assert layout == Layout(Split("right", 0.6, 10, Split("down", 0.5, 11, 12)))
    assert {pane: spec.name for pane, spec in specs.items()} == {
        10: "editor",
        11: "top",
        12: "bottom",
    }
    assert layout.geometry(101, 25).panes[10] == Rect(0, 0, 60, 25)


def test_tabs_from_the_shipped_test_layout_config():
    config = load(CONFIGS / "layout.lua", environ=ENV)
    tabs, specs = Tabs.from_specs(config.tabs, itertools.count(1).__next__)
    assert [t.name for t in tabs] == ["code", "build"] and tabs.active.name == "code"
    assert [specs[p].name for p in tabs.active.panes()] == ["editor", "untrusted", "web"]
    assert tabs.active.focused == 1
    assert [specs[p].name for p in tabs.tabs[1].panes()] == ["make"]


# -- properties ------------------------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("split"),
            st.integers(0, 50),
            st.sampled_from(["right", "down"]),
            st.floats(0.05, 0.95),
        ),
        st.tuples(st.just("remove"), st.integers(0, 50)),
        st.tuples(
            st.just("resize"),
            st.integers(0, 50),
            st.sampled_from(["left", "right", "up", "down"]),
            st.integers(0, 30),
            st.integers(0, 60),
            st.integers(0, 30),
        ),
    ),
    max_size=20,
)


def build(ops) -> Layout:
    layout, next_id = Layout.single(0), itertools.count(1)
    for op in ops:
        panes = layout.order()
        pane = panes[op[1] % len(panes)]
        if op[0] == "split":
            layout = layout.split(pane, op[2], next(next_id), op[3])
        elif op[0] == "remove" and len(panes) > 1:
            layout = layout.remove(pane)
        elif op[0] == "resize":
            after = layout.resize(pane, *op[2:])
            assert after.order() == panes
            layout = after
    return layout


@settings(max_examples=250, deadline=None)
@given(operations, st.integers(0, 60), st.integers(0, 30))
def test_every_cell_belongs_to_exactly_one_pane_or_border(ops, width, height):
    layout = build(ops)
    g = layout.geometry(width, height)
    counts = coverage(g)
    assert set(counts) == set(Rect(0, 0, width, height).cells())
    assert all(n == 1 for n in counts.values())
    for rect in g.panes.values():
        assert rect.cols >= 1 and rect.rows >= 1
    assert sorted([*g.panes, *g.hidden]) == sorted(layout.order())
    min_cols, min_rows = layout.min_size()
    if width >= min_cols and height >= min_rows:
        assert g.hidden == ()
    assert set(g.border_cells()) == {c for b in g.borders for c in b.cells()}


@settings(max_examples=100, deadline=None)
@given(operations, st.integers(1, 60), st.integers(1, 30))
def test_a_neighbor_is_across_the_border_and_leads_back(ops, width, height):
    layout = build(ops)
    g = layout.geometry(width, height)
    back = {"left": "right", "right": "left", "up": "down", "down": "up"}
    for pane, rect in g.panes.items():
        for side in back:
            other = layout.neighbor(pane, side, width, height)
            if other is None:
                continue
            there = g.panes[other]
            assert {
                "left": there.right + 1 == rect.x,
                "right": there.x == rect.right + 1,
                "up": there.bottom + 1 == rect.y,
                "down": there.y == rect.bottom + 1,
            }[side]
            assert layout.neighbor(other, back[side], width, height, recent=[pane]) == pane


def test_a_layouts_geometry_is_kept_by_it_and_goes_with_it():
    """Worked out once per size and kept by the layout: a table of every
    layout's geometry kept replaced layouts' trees alive (~10 KiB a pane at
    250 panes)."""
    import gc
    import weakref

    old = Layout.single(1).split(1, "right", 2).split(2, "down", 3)
    first = old.geometry(80, 24)
    assert old.geometry(80, 24) is first and old.geometry(100, 24) is not first
    assert old.geometry(100, 24).panes[3].right == 100  # one past its last column
    gone = weakref.ref(old.root)  # type: ignore[arg-type]
    new = old.split(3, "right", 4)
    assert new.geometry(80, 24).panes.keys() == {1, 2, 3, 4}
    del old, first
    gc.collect()
    assert gone() is None
