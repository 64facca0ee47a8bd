"""How the compositor draws a pane in copy mode: search matches highlighted
(the one under the cursor apart), line and rectangle selections reversed."""

from __future__ import annotations

from types import SimpleNamespace

import hexe_render

from hexe.mux.copymode import CopyMode
from hexe.mux.layout import Rect
from hexe.terminal import PaneScreen


def rows_of(copy: CopyMode, cols: int = 12, rows: int = 3) -> list[str]:
    pane = SimpleNamespace(screen=copy.screen, copy=copy.view(), rect=Rect(0, 0, cols, rows))
    return hexe_render._copy_rows(pane)


def copy_of(lines: list[str]) -> CopyMode:
    screen = PaneScreen(12, 3, 100)
    screen.feed("\r\n".join(lines).encode())
    copy = CopyMode(screen)
    copy.top = 0
    return copy


def test_every_match_on_screen_is_highlighted_and_the_current_one_apart():
    copy = copy_of(["ab ab", "xx", "ab"])
    copy.cy, copy.cx = 0, 0
    assert copy.search("ab", backwards=False)  # on the second "ab" of line 0
    first, second, third = rows_of(copy)
    assert hexe_render.MATCH_STYLE + "ab" in first
    assert hexe_render.CURRENT_MATCH_STYLE + "ab" in first
    assert hexe_render.MATCH_STYLE not in second and "xx" in second
    assert hexe_render.MATCH_STYLE + "ab" in third


def test_a_rectangle_is_drawn_as_the_same_columns_of_each_line():
    copy = copy_of(["abcdef", "ghijkl"])
    copy.move_to(1, 0)
    for key in ("C-v", "j", "l", "l"):
        copy.key(key)
    first, second, _ = rows_of(copy)
    assert hexe_render.SELECT_STYLE + "bcd" in first
    assert hexe_render.SELECT_STYLE + "hij" in second


def test_a_line_selection_is_drawn_across_the_whole_width():
    copy = copy_of(["one", "two"])
    copy.move_to(1, 0)
    copy.key("V")
    first, second, _ = rows_of(copy)
    assert hexe_render.SELECT_STYLE + "one" + " " * 9 in first
    assert hexe_render.SELECT_STYLE not in second


def test_a_wide_character_keeps_its_two_columns_when_selected():
    copy = copy_of(["a中b"])
    copy.move_to(1, 0)
    copy.key("v")
    (first, _, _) = rows_of(copy)
    assert hexe_render.SELECT_STYLE + "中" in first
    assert first.count("中") == 1
