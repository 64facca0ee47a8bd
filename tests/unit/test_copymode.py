"""Copy mode over a real PaneScreen: movement, search, selection by screen columns."""

from __future__ import annotations

from hexe.mux.copymode import CopyMode
from hexe.terminal import PaneScreen


def screen_with(lines: list[str], cols: int = 40, rows: int = 10) -> PaneScreen:
    screen = PaneScreen(cols, rows, 1000)
    screen.feed("".join(line + "\r\n" for line in lines).encode())
    return screen


def line_of(copy: CopyMode, text: str) -> int:
    return next(i for i in range(copy.total) if text in copy.text(i))


def test_starts_at_the_bottom_with_the_cursor_where_the_screens_is():
    copy = CopyMode(screen_with([f"line{i}" for i in range(30)]))
    assert copy.at_bottom and copy.view().position == "[0/21]"


def test_search_backward_finds_a_match_above_the_cursor():
    copy = CopyMode(screen_with([f"line{i}" for i in range(20)]))
    copy.cy, copy.cx = copy.total - 1, 7
    assert copy.search("line15", backwards=True)
    assert copy.view().cursor == (0, line_of(copy, "line15"))
    assert copy.search("line1", backwards=True)  # n: the next one up
    assert copy.text(copy.cy) == "line14"


def test_search_forward_and_not_found():
    copy = CopyMode(screen_with([f"line{i}" for i in range(20)]))
    copy.key("g")
    assert copy.search("line3", backwards=False)
    assert copy.text(copy.cy) == "line3"
    assert not copy.search("nowhere", backwards=False)


def test_selection_and_dollar_count_screen_columns_with_wide_characters():
    copy = CopyMode(screen_with(["a中b中c"]))
    copy.cy, copy.cx = line_of(copy, "中"), 0
    copy.key("v")
    copy.key("$")
    assert copy.cx == 6  # a=1, 中=2, b=1, 中=2, c=1: the last column is 6
    assert copy.selected_text() == "a中b中c"
    copy.anchor = (3, copy.cy)  # from b
    assert copy.selected_text() == "b中c"


def test_copy_returns_the_text_and_exit_without_selection_copies_nothing():
    copy = CopyMode(screen_with(["hello world"]))
    copy.cy, copy.cx = line_of(copy, "hello"), 0
    assert copy.key("Enter") == ("exit", None)
    copy.key("Space")
    for _ in range(4):
        copy.key("l")
    assert copy.key("y") == ("copy", "hello")


def test_paging_moves_the_view_and_scroll_keeps_the_cursor_on_screen():
    copy = CopyMode(screen_with([f"line{i}" for i in range(100)]))
    copy.key("PageUp")
    assert copy.view().position == "[10/91]"
    copy.scroll(100)
    assert copy.at_bottom and copy.top <= copy.cy < copy.top + 10
