"""Copy mode's motions, selections and search over a real PaneScreen, by display width."""

from __future__ import annotations

import pytest

from hexe.mux.copycommands import COMMANDS
from hexe.mux.copykeys import EMACS, VI
from hexe.mux.copymode import CopyMode
from hexe.terminal import PaneScreen

JUMPS = {"jump-forward", "jump-backward", "jump-to-forward", "jump-to-backward"}


def copy_of(lines: list[str], cols: int = 40, rows: int = 10, keys: str = "vi") -> CopyMode:
    screen = PaneScreen(cols, rows, 1000)
    screen.feed("\r\n".join(lines).encode())
    copy = CopyMode(screen, keys)
    copy.cy, copy.cx = 0, 0
    copy.top = 0
    return copy


def press(copy: CopyMode, *keys: str) -> None:
    for key in keys:
        copy.key(key)


def test_every_key_of_both_tables_names_a_command():
    for table in (VI, EMACS):
        assert set(table.values()) <= set(COMMANDS) | JUMPS


def test_word_motions_stop_at_words_and_punctuation():
    copy = copy_of(["foo.bar baz  qux"])
    stops = []
    for _ in range(4):
        press(copy, "w")
        stops.append(copy.cx)
    assert stops == [3, 4, 8, 13]
    press(copy, "e")
    assert copy.cx == 15
    press(copy, "b", "b")
    assert copy.cx == 8
    press(copy, "0", "W")
    assert copy.cx == 8  # foo.bar is one WORD
    press(copy, "E")
    assert copy.cx == 10
    press(copy, "B")
    assert copy.cx == 8


def test_w_crosses_to_the_next_line_and_b_comes_back():
    copy = copy_of(["one two", "three"])
    press(copy, "w", "w")
    assert (copy.cx, copy.cy) == (0, 1)
    press(copy, "b")
    assert (copy.cx, copy.cy) == (4, 0)


def test_cursor_moves_over_wide_characters_by_their_width():
    copy = copy_of(["中文 字x emoji😀 end"])
    press(copy, "l")
    assert copy.cx == 2  # past 中 (two columns)
    press(copy, "l", "l")
    assert copy.cx == 5  # 文, then the space: on 字
    press(copy, "h")
    assert copy.cx == 4
    press(copy, "$")
    assert copy.cx == 19
    copy.move_to(3, 0)  # the right half of 文
    assert copy.cx == 2


def test_line_start_indentation_and_end():
    copy = copy_of(["    indented text"])
    press(copy, "$")
    assert copy.cx == 16
    press(copy, "^")
    assert copy.cx == 4
    press(copy, "0")
    assert copy.cx == 0


def test_f_t_and_repeat_jump_on_the_line():
    copy = copy_of(["a,b,c,d"])
    press(copy, "f", ",")
    assert copy.cx == 1
    press(copy, ";")
    assert copy.cx == 3
    press(copy, ",")
    assert copy.cx == 1
    press(copy, "$", "T", "b")
    assert copy.cx == 3
    press(copy, "F", "a")
    assert copy.cx == 0
    press(copy, "t", "d")
    assert copy.cx == 5


def test_h_m_l_go_to_the_top_middle_and_bottom_of_the_view():
    copy = copy_of([f"line{i}" for i in range(30)], rows=10)
    copy.top = 5
    press(copy, "H")
    assert copy.cy == 5
    press(copy, "M")
    assert copy.cy == 9
    press(copy, "L")
    assert copy.cy == 14
    press(copy, "g")
    assert copy.cy == 0
    press(copy, "G")
    assert copy.cy == copy.total - 1


def test_a_selection_never_cuts_a_wide_character():
    copy = copy_of(["ab中文cd"])
    copy.move_to(3, 0)  # the right half of 中
    press(copy, "v")
    assert copy.anchor == (2, 0)
    press(copy, "l")
    assert copy.selected_text() == "中文"


def test_line_selection_takes_whole_lines():
    copy = copy_of(["first line", "second line", "third"])
    copy.move_to(3, 0)
    press(copy, "V", "j")
    assert copy.selected_text() == "first line\nsecond line"


def test_rectangle_selection_takes_the_same_columns_of_each_line():
    copy = copy_of(["abcdef", "ghijkl", "mnopqr"])
    copy.move_to(1, 0)
    press(copy, "C-v", "j", "j", "l", "l")
    assert copy.selected_text() == "bcd\nhij\nnop"
    assert copy.view().kind == "rect"
    press(copy, "C-v")  # back to a stream
    assert copy.selected_text() == "bcdef\nghijkl\nmnop"


def test_rectangle_selection_counts_display_columns():
    copy = copy_of(["abcdef", "中文字x", "mnopqr"])
    copy.move_to(2, 0)
    press(copy, "C-v", "j", "l")  # columns 2..4
    # a wide character is in, whole, when its first column is: 文 (2-3), 字 (4-5)
    assert copy.selected_text() == "cde\n文字"


def test_emacs_table_moves_and_selects():
    copy = copy_of(["hello world"], keys="emacs")
    press(copy, "C-e")
    assert copy.cx == 10
    press(copy, "C-a", "M-f")
    assert copy.cx == 4
    press(copy, "C-a", "C-Space", "C-f", "C-f")
    assert copy.key("M-w") == ("copy", "hel")
    assert copy.key("C-s") == ("search", "forward")
    assert copy.key("v") == ("unbound", None)


def test_search_is_a_regular_expression_with_smart_case():
    copy = copy_of(["Error one", "error two", "ERROR three", "fine"])
    assert copy.search("error", backwards=False)  # no capital: any case
    assert copy.cy == 1
    press(copy, "n")
    assert copy.cy == 2
    press(copy, "n")
    assert copy.cy == 0  # wraps round
    assert copy.search("Error", backwards=False)  # a capital: exact case
    assert copy.cy == 0 and copy.view().position.startswith("1/1 ")
    assert copy.search(r"t\w+e", backwards=False)
    assert (copy.cx, copy.cy) == (6, 2)


def test_search_position_counts_every_match_and_highlights_those_on_screen():
    copy = copy_of(["ab ab", "xx", "ab"])
    assert copy.search("ab", backwards=False)
    view = copy.view()
    assert view.position.startswith("2/3 ")
    assert view.matches == ((0, 0, 2), (0, 3, 5), (2, 0, 2))
    press(copy, "N")
    assert copy.view().position.startswith("1/3 ")


def test_search_columns_count_wide_characters():
    copy = copy_of(["中文 target"])
    assert copy.search("target", backwards=False)
    assert copy.cx == 5
    assert copy.view().matches == ((0, 5, 11),)


def test_a_bad_regular_expression_is_a_message_not_a_crash():
    copy = copy_of(["text"])
    assert not copy.search("(unclosed", backwards=False)
    assert "bad regular expression" in (copy.take_message() or "")


def test_a_catastrophic_pattern_stops_at_its_budget():
    # each line would take the backtracking engine ~0.7 s, all of them ~20 s
    copy = copy_of(["x" * 300 + "!" for _ in range(30)], cols=400, rows=30)
    found = copy.search(r"(x+x+)+y", backwards=False)
    assert not found
    assert "stopped early" in (copy.take_message() or "")
    assert copy.searching is not None and copy.searching.partial
    assert copy.view().matches == ()  # the frame's highlighting has its own budget


def test_prompt_marks_from_osc_133_are_jumped_to():
    screen = PaneScreen(40, 10, 1000)
    for n in range(3):
        screen.feed(f"\x1b]133;A\x07$ cmd{n}\r\nout{n}\r\nmore{n}\r\n".encode())
    copy = CopyMode(screen)
    assert screen.prompt_lines() == [0, 3, 6]
    press(copy, "{")
    assert copy.text(copy.cy) == "$ cmd2"
    press(copy, "{")
    assert copy.text(copy.cy) == "$ cmd1"
    press(copy, "}")
    assert copy.text(copy.cy) == "$ cmd2"
    press(copy, "}")
    assert "no later prompt" in (copy.take_message() or "")


@pytest.mark.parametrize("scrolled", [0, 25])
def test_prompt_marks_follow_their_lines_into_history(scrolled):
    screen = PaneScreen(40, 5, 1000)
    screen.feed(b"\x1b]133;A\x1b\\$ first\r\n")
    screen.feed(b"line\r\n" * scrolled)
    (mark,) = screen.prompt_lines()
    assert CopyMode(screen).text(mark) == "$ first"
