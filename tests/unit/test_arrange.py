"""The layout algorithms of hexe/mux/arrange.py: tmux's presets, spread, swap, rotate, borders."""

from __future__ import annotations

import pytest

from hexe.mux import arrange
from hexe.mux.layout import Layout
from hexe.mux.tabs import Tab, Tabs


def rects(
    layout: Layout, width: int = 80, height: int = 24
) -> dict[int, tuple[int, int, int, int]]:
    geometry = layout.geometry(width, height)
    return {p: (r.x, r.y, r.cols, r.rows) for p, r in geometry.panes.items()}


def covered_once(layout: Layout, width: int, height: int) -> bool:
    """Every cell of the area is in exactly one pane or on one border."""
    geometry = layout.geometry(width, height)
    seen: dict[tuple[int, int], int] = {}
    for rect in geometry.panes.values():
        for cell in rect.cells():
            seen[cell] = seen.get(cell, 0) + 1
    for border in geometry.borders:
        for cell in border.cells():
            seen[cell] = seen.get(cell, 0) + 1
    return set(seen.values()) == {1} and len(seen) == width * height


# -- presets ------------------------------------------------------------------------------


def test_even_sizes_give_the_cells_left_over_to_the_first_panes():
    assert arrange.even_sizes(80, 3) == [26, 26, 26]  # 78 + 2 borders
    assert arrange.even_sizes(81, 3) == [27, 26, 26]
    assert arrange.even_sizes(82, 3) == [27, 27, 26]
    assert arrange.even_sizes(2, 3) == [1, 1, 1]  # never below one cell


def test_even_horizontal_puts_the_panes_side_by_side_in_order_with_equal_widths():
    layout = arrange.preset("even-horizontal", [3, 1, 2], 80, 24)
    assert rects(layout) == {3: (0, 0, 26, 24), 1: (27, 0, 26, 24), 2: (54, 0, 26, 24)}
    assert layout.order() == [3, 1, 2]


def test_even_vertical_stacks_the_panes_with_equal_heights():
    layout = arrange.preset("even-vertical", [1, 2, 3, 4], 80, 23)
    assert [r[3] for r in rects(layout, 80, 23).values()] == [5, 5, 5, 5]
    layout = arrange.preset("even-vertical", [1, 2, 3], 80, 24)
    assert [rects(layout)[p][3] for p in (1, 2, 3)] == [8, 7, 7]


def test_main_horizontal_is_the_first_pane_24_rows_high_over_the_others():
    layout = arrange.preset("main-horizontal", [1, 2, 3], 120, 40)
    assert rects(layout, 120, 40) == {
        1: (0, 0, 120, 24),
        2: (0, 25, 60, 15),
        3: (61, 25, 59, 15),
    }


def test_main_horizontal_on_a_small_window_keeps_a_row_for_the_others_as_tmux():
    layout = arrange.preset("main-horizontal", [1, 2], 80, 23)
    assert rects(layout, 80, 23) == {1: (0, 0, 80, 21), 2: (0, 22, 80, 1)}


def test_main_vertical_is_the_first_pane_80_columns_wide_left_of_the_others():
    layout = arrange.preset("main-vertical", [1, 2, 3], 120, 40)
    assert rects(layout, 120, 40) == {
        1: (0, 0, 80, 40),
        2: (81, 0, 39, 20),
        3: (81, 21, 39, 19),
    }


@pytest.mark.parametrize(
    ("count", "shape"),
    [(1, (1, 1)), (2, (2, 1)), (3, (2, 2)), (4, (2, 2)), (5, (3, 2)), (7, (3, 3))],
)
def test_tiled_counts_rows_and_columns_as_tmux(count, shape):
    assert arrange.tiled_shape(count) == shape


def test_tiled_fills_rows_and_the_last_pane_of_a_short_row_takes_the_rest():
    layout = arrange.preset("tiled", [1, 2, 3], 81, 24)
    assert rects(layout, 81, 24) == {
        1: (0, 0, 40, 11),
        2: (41, 0, 40, 11),
        3: (0, 12, 81, 12),  # the last row takes the row left over
    }
    layout = arrange.preset("tiled", [1, 2, 3, 4, 5], 80, 24)
    got = rects(layout)
    assert got[1] == (0, 0, 39, 7) and got[2] == (40, 0, 40, 7)
    assert got[5] == (0, 16, 80, 8)  # the last row: the rest of the height, the whole width


@pytest.mark.parametrize("name", arrange.LAYOUTS)
@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 9])
@pytest.mark.parametrize("size", [(80, 23), (120, 39), (7, 5), (200, 60)])
def test_every_preset_covers_the_area_once_and_keeps_the_order(name, count, size):
    panes = list(range(10, 10 + count))
    layout = arrange.preset(name, panes, *size)
    assert layout.order() == panes
    geometry = layout.geometry(*size)
    if not geometry.hidden:
        assert covered_once(layout, *size)


def test_an_unknown_layout_names_the_known_ones():
    with pytest.raises(ValueError, match="'diagonal' is not a layout; layouts: even-horizontal"):
        arrange.preset("diagonal", [1, 2], 80, 24)


def test_a_preset_scales_with_the_window_as_any_layout():
    layout = arrange.preset("even-horizontal", [1, 2], 81, 24)
    assert rects(layout, 81, 24)[1][2] == 40
    assert rects(layout, 161, 24)[1][2] == 80


# -- spread --------------------------------------------------------------------------------


def test_spread_evens_out_the_panes_beside_the_pane():
    layout = Layout(1).split(1, "right", 2, 0.8).split(2, "right", 3, 0.8)
    assert [r[2] for r in rects(layout).values()] != [26, 26, 26]
    spread = arrange.spread(layout, 3, 80, 24)
    assert [rects(spread)[p][2] for p in (1, 2, 3)] == [26, 26, 26]


def test_spread_leaves_the_other_direction_alone_and_goes_up_when_even():
    # 1 | (2 / 3): the column of 2 and 3 is uneven, and so is the row
    layout = Layout(1).split(1, "right", 2, 0.3).split(2, "down", 3, 0.8)
    once = arrange.spread(layout, 3, 80, 24)
    assert rects(once)[1] == rects(layout)[1]  # only 2 and 3 moved
    assert rects(once)[2][3] == rects(once)[3][3] + 1
    twice = arrange.spread(once, 3, 80, 24)  # 2 and 3 are even: the row is spread
    assert rects(twice)[1][2] in (39, 40) and rects(twice)[2][2] in (39, 40)
    assert arrange.spread(twice, 3, 80, 24) is twice  # nothing left to do


def test_spread_of_a_lone_pane_changes_nothing():
    layout = Layout(1)
    assert arrange.spread(layout, 1, 80, 24) is layout


# -- swap and rotate ------------------------------------------------------------------------


def test_swap_trades_places_and_sizes():
    layout = Layout(1).split(1, "right", 2, 0.25)
    swapped = arrange.swap(layout, 1, 2)
    assert rects(swapped)[2] == rects(layout)[1] and rects(swapped)[1] == rects(layout)[2]
    assert arrange.neighbour_in_order(layout, 2, 1) == 1  # wraps
    assert arrange.neighbour_in_order(layout, 1, -1) == 2


def test_replace_pane_puts_another_pane_in_the_place():
    layout = Layout(1).split(1, "down", 2)
    assert arrange.replace_pane(layout, 2, 9).order() == [1, 9]
    with pytest.raises(ValueError):
        arrange.replace_pane(layout, 2, 1)


def test_rotate_moves_every_pane_one_place_as_rotate_window():
    layout = Layout(1).split(1, "right", 2).split(2, "down", 3)
    up = arrange.rotate(layout)
    assert up.order() == [2, 3, 1]
    assert rects(up)[2] == rects(layout)[1]  # 2 is where 1 was
    down = arrange.rotate(layout, down=True)
    assert down.order() == [3, 1, 2]
    assert arrange.rotate(arrange.rotate(layout), down=True) == layout


# -- borders by mouse -------------------------------------------------------------------------


def test_border_at_finds_the_split_under_a_border_cell():
    layout = Layout(1).split(1, "right", 2).split(2, "down", 3)  # 1 | (2 / 3) at 80x24
    assert arrange.border_at(layout, 80, 24, 40, 5) == ()
    assert arrange.border_at(layout, 80, 24, 60, 12) == (1,)
    assert arrange.border_at(layout, 80, 24, 10, 5) is None  # inside pane 1
    assert arrange.border_at(layout, 80, 24, 90, 5) is None  # outside


def test_drag_border_moves_it_under_the_pointer_and_stops_at_the_minimum():
    layout = Layout(1).split(1, "right", 2)
    dragged = arrange.drag_border(layout, (), 80, 24, 20, 3)
    assert rects(dragged)[1] == (0, 0, 20, 24) and rects(dragged)[2] == (21, 0, 59, 24)
    assert rects(arrange.drag_border(layout, (), 80, 24, 79, 3))[2][2] == 1
    assert rects(arrange.drag_border(layout, (), 80, 24, -5, 3))[1][2] == 1
    assert arrange.drag_border(layout, (), 80, 24, 40, 3) is layout  # already there


# -- tabs and the status line -------------------------------------------------------------------


def test_moved_and_swapped_orders():
    assert arrange.moved(4, 0, 2) == [1, 2, 0, 3]
    assert arrange.moved(4, 3, 0) == [3, 0, 1, 2]
    assert arrange.swapped(4, 0, 3) == [3, 1, 2, 0]


def test_parse_tab_move_takes_numbers_and_relative_steps():
    assert arrange.parse_tab_move("2", 0, 3, 0) == 2
    assert arrange.parse_tab_move("+1", 0, 3, 0) == 1
    assert arrange.parse_tab_move("-1", 2, 3, 1) == 1
    assert arrange.parse_tab_move("3", 0, 3, 1) == 2  # counted from 1
    with pytest.raises(ValueError, match="no tab 3; tabs are 0..2"):
        arrange.parse_tab_move("3", 0, 3, 0)
    with pytest.raises(ValueError, match=r"no tab -1 \(-1 from 0\)"):
        arrange.parse_tab_move("-1", 0, 3, 0)
    with pytest.raises(ValueError, match="'left' is not a tab number"):
        arrange.parse_tab_move("left", 0, 3, 0)


def test_status_tab_at_finds_a_label_by_column():
    left = [("[t]", False), ("0:sh 1:vim* 2:top", True)]
    labels = ["0:sh", "1:vim*", "2:top"]
    line = "[t] 0:sh 1:vim* 2:top"
    assert arrange.status_tab_at(left, [], 80, labels, line.index("0:sh")) == 0
    assert arrange.status_tab_at(left, [], 80, labels, line.index("vim")) == 1
    assert arrange.status_tab_at(left, [], 80, labels, line.index("2:top") + 4) == 2
    assert arrange.status_tab_at(left, [], 80, labels, line.index(" 1:")) is None  # a space
    assert arrange.status_tab_at(left, [], 80, labels, 1) is None  # the session
    right = [("0:a 1:b*", True)]
    assert arrange.status_tab_at([("[t]", False)], right, 40, ["0:a", "1:b*"], 38) == 1


def test_tabs_remember_the_tab_active_before():
    tabs = Tabs()
    a, b, c = Tab.single(1), Tab.single(2), Tab.single(3)
    for tab in (a, b, c):
        tabs.new(tab)
    assert tabs.active is c and tabs.previous is b
    tabs.select(0)
    assert tabs.previous is c
    tabs.next()
    assert tabs.active is b and tabs.previous is a
    tabs.close(a)
    assert tabs.previous is None
