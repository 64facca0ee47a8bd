"""The pane screen: escape sequences in, rows, modes, replies and scrollback out.

Every test feeds real escape sequences (or a real program's output through a
real PTY) to a :class:`PaneScreen` and checks what a user would see.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyte.screens import wcwidth

from hexe.terminal import MouseEncoding, MouseMode, PaneScreen

SGR = re.compile(r"\x1b\[[0-9;]*m")


def screen(data: bytes | str = b"", cols: int = 20, rows: int = 5, scrollback: int = 100):
    s = PaneScreen(cols, rows, scrollback)
    s.feed(data.encode() if isinstance(data, str) else data)
    return s


def cells(rendered: str) -> int:
    """How many cells a rendered row takes on a terminal."""
    return sum(max(wcwidth(c), 0) for c in SGR.sub("", rendered))


def rows(s: PaneScreen) -> list[str]:
    return [s.row_text(y) for y in range(s.rows)]


def snapshot(s: PaneScreen) -> tuple:
    return (
        [s.render_row(y) for y in range(s.rows)],
        s.cursor,
        [s.history_row(i) for i in range(s.history_size)],
        s.title,
        s.alternate_screen,
    )


# -- text, colours, cursor ---------------------------------------------------------


def test_plain_text_and_cursor():
    s = screen("hello\r\nworld")
    assert rows(s)[:2] == ["hello", "world"]
    assert s.cursor == (5, 1)
    assert s.render_row(0) == "\x1b[0mhello" + " " * 15 + "\x1b[0m"


@pytest.mark.parametrize(
    "sequence,escape",
    [
        ("\x1b[31m", "\x1b[0;31m"),
        ("\x1b[38;5;196m", "\x1b[0;38;5;196m"),
        ("\x1b[38;2;1;2;3m", "\x1b[0;38;2;1;2;3m"),
        ("\x1b[38:2::1:2:3m", "\x1b[0;38;2;1;2;3m"),
        ("\x1b[48;5;21m", "\x1b[0;48;5;21m"),
        ("\x1b[1m", "\x1b[0;1m"),
        ("\x1b[7m", "\x1b[0;7m"),
        ("\x1b[3;4m", "\x1b[0;3;4m"),
        ("\x1b[1;31;44m", "\x1b[0;1;31;44m"),
        ("\x1b[01;34m", "\x1b[0;1;34m"),  # as ls writes it
        ("\x1b[95m", "\x1b[0;95m"),
    ],
)
def test_colours_and_attributes_render_as_sgr(sequence, escape):
    s = screen(f"a{sequence}X\x1b[0mb")
    assert s.render_row(0) == f"\x1b[0ma{escape}X\x1b[0mb" + " " * 17 + "\x1b[0m"
    assert s.row_text(0) == "aXb"


def test_attributes_accumulate_and_reset_selectively():
    s = screen("\x1b[1;31mA\x1b[22mB\x1b[39mC\x1b[7mD\x1b[27;4mE\x1b[mF")
    rendered = s.render_row(0)
    assert "\x1b[0;1;31mA\x1b[0;31mB\x1b[0mC\x1b[0;7mD\x1b[0;4mE\x1b[0mF" in rendered


def test_render_row_is_exactly_the_asked_width():
    s = screen("\x1b[41mred background\x1b[0m tail", cols=30)
    for width in (1, 5, 14, 15, 30, 40):
        rendered = s.render_row(0, width)
        assert cells(rendered) == width
        assert rendered.startswith("\x1b[0m") and rendered.endswith("\x1b[0m")


def test_erase_fills_with_the_background_colour_only():
    s = screen("abc\x1b[1;4;44m\x1b[K")
    rendered = s.render_row(0)
    assert rendered.startswith("\x1b[0mabc\x1b[0;44m" + " " * 17)
    assert cells(rendered) == 20


def test_cursor_movement_and_erase():
    s = screen("12345\x1b[3D\x1b[K\x1b[2;4HX\x1b[1;1H\x1b[2C>")
    assert rows(s)[:2] == ["12>", "   X"]
    assert s.cursor == (3, 0)


def test_cursor_visibility():
    s = screen("\x1b[?25l")
    assert not s.cursor_visible
    s.feed(b"\x1b[?25h")
    assert s.cursor_visible


# -- wide characters -----------------------------------------------------------------


def test_wide_characters_take_two_cells():
    s = screen("日本|😀|", cols=10)
    assert s.row_text(0) == "日本|😀|"
    assert s.cursor == (8, 0)
    for width in range(1, 14):
        assert cells(s.render_row(0, width)) == width


def test_a_wide_character_cut_by_the_width_becomes_a_space():
    s = screen("a日本", cols=10)
    assert SGR.sub("", s.render_row(0, 2)) == "a "
    assert SGR.sub("", s.render_row(0, 4)) == "a日 "


def test_a_wide_character_at_the_last_column_wraps_whole():
    s = screen("abcd日", cols=5)
    assert rows(s)[:2] == ["abcd", "日"]
    assert s.cursor == (2, 1)


def test_overwriting_half_of_a_wide_character_blanks_the_other_half():
    s = screen("日本\x1b[1;2Hx", cols=10)
    assert s.row_text(0) == " x本"
    assert cells(s.render_row(0)) == 10


def test_zero_width_characters_join_the_previous_cell_and_do_not_stop_drawing():
    s = screen("e\u0301 a\u200db ok", cols=10)
    assert s.row_text(0) == "\u00e9 a\u200db ok"
    assert cells(s.render_row(0)) == 10


# -- alternate screen and modes ---------------------------------------------------------


def test_alternate_screen_restores_the_main_screen_and_its_cursor():
    s = screen("shell prompt$ vim\r\nsecond line", cols=20, rows=5)
    before = snapshot(s)
    s.feed(b"\x1b[?1049h\x1b[H\x1b[2J~\r\n~\r\n\x1b[5;1H-- INSERT --")
    assert s.alternate_screen
    assert rows(s) == ["~", "~", "", "", "-- INSERT --"]
    assert s.take_dirty() == set(range(5))
    s.feed(b"\x1b[?1049l")
    assert not s.alternate_screen
    assert snapshot(s) == before
    assert s.cursor == (11, 1)
    assert s.take_dirty() == set(range(5))


@pytest.mark.parametrize("mode", [47, 1047])
def test_older_alternate_screen_modes_restore_the_main_screen(mode):
    s = screen("main")
    s.feed(f"\x1b[?{mode}halternate".encode())
    assert s.alternate_screen
    assert "alternate" in s.row_text(0)
    s.feed(f"\x1b[?{mode}l".encode())
    assert not s.alternate_screen
    assert s.row_text(0) == "main"


def test_bracketed_paste_mode():
    s = screen()
    assert not s.bracketed_paste
    s.feed(b"\x1b[?2004h")
    assert s.bracketed_paste
    s.feed(b"\x1b[?2004l")
    assert not s.bracketed_paste


def test_mouse_modes_and_encoding():
    s = screen()
    assert s.mouse_mode is None
    assert s.mouse_encoding == MouseEncoding.X10
    s.feed(b"\x1b[?1000h\x1b[?1006h")
    assert s.mouse_mode == MouseMode.NORMAL
    assert s.mouse_encoding == MouseEncoding.SGR
    s.feed(b"\x1b[?1002h")
    assert s.mouse_mode == MouseMode.BUTTON_EVENT
    s.feed(b"\x1b[?1003;1006h")
    assert s.mouse_mode == MouseMode.ANY_EVENT
    s.feed(b"\x1b[?1000l")  # turning off any tracking mode turns tracking off
    assert s.mouse_mode is None
    s.feed(b"\x1b[?1006l")
    assert s.mouse_encoding == MouseEncoding.X10


def test_application_cursor_keypad_and_focus_modes():
    s = screen("\x1b[?1h\x1b=\x1b[?1004h")
    assert s.application_cursor and s.application_keypad and s.focus_events
    s.feed(b"\x1b[?1l\x1b>\x1b[?1004l")
    assert not (s.application_cursor or s.application_keypad or s.focus_events)


def test_reset_returns_to_the_main_screen_and_default_modes():
    s = screen("\x1b[?1049h\x1b[?2004h\x1b[?1000h\x1b[31mx\x1bc")
    assert not s.alternate_screen
    assert not s.bracketed_paste and s.mouse_mode is None
    s.feed(b"y")
    assert s.render_row(0).startswith("\x1b[0my ")


# -- replies to the program ---------------------------------------------------------------


def test_cursor_position_report():
    s = screen("\x1b[3;7H\x1b[6n")
    assert s.take_responses() == b"\x1b[3;7R"
    assert s.take_responses() == b""


def test_cursor_position_report_after_a_full_row_is_on_the_last_column():
    s = screen("x" * 20 + "\x1b[6n")
    assert s.take_responses() == b"\x1b[1;20R"


def test_device_attributes_and_status():
    s = screen("\x1b[c\x1b[>c\x1b[5n\x1b[?2004h\x1b[?2004$p\x1b[?1049$p\x1b[?7777$p\x1b[18t")
    assert s.take_responses() == (
        b"\x1b[?1;2c\x1b[>84;0;0c\x1b[0n\x1b[?2004;1$y\x1b[?1049;2$y\x1b[?7777;0$y\x1b[8;5;20t"
    )


# -- sequences pyte's own parser gets wrong -------------------------------------------------


def test_strings_and_unknown_sequences_are_not_printed():
    s = screen(
        "a\x1bP+q5463\x1b\\b\x1b]8;;http://x\x1b\\c\x1b]8;;\x07d\x1b_apc\x1b\\e"
        "\x1b[>4;2mf\x1b[=cg\x1b[?uh\x1b[2 qi\x1b[!pj\x1b[4:3mk\x1b[0m"
    )
    assert s.row_text(0) == "abcdefghijk"
    assert "\x1b[0;4;4:3mk" in s.render_row(0)  # 4:3 is curly underline
    assert "\x1b[0;4mf" not in s.render_row(0)  # CSI > 4;2 m is not SGR
    assert s.cursor_style == 2


def test_line_drawing_charset():
    s = screen("\x1b(0lqqk\x1b(B ok")
    assert s.row_text(0) == "┌──┐ ok"


def test_repeat_the_last_character():
    s = screen("ab\x1b[3b")
    assert s.row_text(0) == "abbbb"


def test_title_from_osc_and_the_title_stack():
    s = screen("\x1b]0;first\x07")
    assert s.title == "first"
    s.feed(b"\x1b[22;0t\x1b]2;vim \x1b[31mfile\x1b\\")
    assert s.title == "vim "  # an escape inside the title ends it
    s.feed(b"\x1b]2;vim\x01 file\x1b\\")
    assert s.title == "vim file"  # no control characters reach the status bar
    s.feed(b"\x1b[23;0t")
    assert s.title == "first"


def test_delete_lines_pulls_up_blank_lines_too():
    s = screen("one\r\n\r\nthree\x1b[1;1H\x1b[M")
    assert rows(s)[:3] == ["", "three", ""]


# -- scrollback -------------------------------------------------------------------------


def feed_lines(s: PaneScreen, first: int, last: int) -> None:
    s.feed("".join(f"line {i}\r\n" for i in range(first, last)).encode())


def test_scrollback_is_a_bounded_ring_and_keeps_the_newest_lines():
    s = PaneScreen(40, 24, scrollback=10_000)
    for start in range(0, 25_000, 5_000):
        feed_lines(s, start, start + 5_000)
    assert s.history_size == 10_000
    # 24 rows: 23 lines and the empty row the cursor is on; 24977 lines scrolled off.
    assert s.row_text(22) == "line 24999" and s.row_text(23) == ""
    assert s.row_text(0) == "line 24977"
    assert s.history_text(9_999) == "line 24976"
    assert s.history_text(0) == "line 14977"
    assert s.history_base == 24_977 - 10_000


def test_history_keeps_colours_and_renders_like_a_row():
    s = screen("\x1b[38;5;196mred\x1b[0m plain\r\n" + "x\r\n" * 5)
    assert s.history_size == 2
    assert s.history_text(0) == "red plain"
    assert s.history_row(0) == "\x1b[0m\x1b[0;38;5;196mred\x1b[0m plain" + " " * 11 + "\x1b[0m"
    assert cells(s.history_row(0, 7)) == 7


def test_alternate_screen_output_never_reaches_scrollback():
    s = screen("\x1b[?1049h" + "full screen app\r\n" * 50 + "\x1b[?1049l")
    assert s.history_size == 0


def test_scrolling_inside_a_region_keeps_no_history():
    s = screen("\x1b[2;4r\x1b[4;1H" + "in region\n" * 10)
    assert s.history_size == 0
    s.feed(b"\x1b[r\x1b[5;1H" + b"\n" * 3)
    assert s.history_size == 3


def test_clear_scrollback_and_keep_the_cleared_screen():
    s = screen("a\r\nb\r\nc\r\nd\r\ne\r\nf")
    assert s.history_size == 1
    s.feed(b"\x1b[H\x1b[2J")  # as Ctrl-L does: what was on screen goes to scrollback
    assert [s.history_text(i) for i in range(s.history_size)] == list("abcdef")
    s.feed(b"\x1b[3J")  # as `clear` does
    assert s.history_size == 0


def test_zero_scrollback_keeps_nothing():
    s = screen("x\r\n" * 20, scrollback=0)
    assert s.history_size == 0


# -- resize ------------------------------------------------------------------------------


def test_shrinking_rows_moves_the_top_into_scrollback_and_growing_brings_it_back():
    s = screen("".join(f"row {i}\r\n" for i in range(4)) + "$ ", cols=20, rows=5)
    before = snapshot(s)
    s.resize(20, 3)
    assert (s.cols, s.rows) == (20, 3)
    assert rows(s) == ["row 2", "row 3", "$"]
    assert [s.history_text(i) for i in range(s.history_size)] == ["row 0", "row 1"]
    assert s.cursor == (2, 2)
    assert s.take_dirty() == {0, 1, 2}
    s.resize(20, 5)
    assert snapshot(s) == before


def test_shrinking_rows_drops_blank_rows_below_the_cursor_first():
    s = screen("top\r\n$ ", cols=20, rows=5)
    s.resize(20, 2)
    assert rows(s) == ["top", "$"]
    assert s.history_size == 0


def test_columns_are_cut_and_padded_and_the_cursor_stays_inside():
    s = screen("0123456789abcdefghij", cols=20, rows=3)
    s.resize(8, 3)
    assert s.row_text(0) == "01234567"
    assert s.cursor[0] <= 7
    assert cells(s.render_row(0)) == 8
    s.resize(30, 3)
    assert s.row_text(0) == "01234567"
    assert cells(s.render_row(0)) == 30
    s.feed(b"\r\n\tX")
    assert s.row_text(1) == "        X"


def test_resize_in_the_alternate_screen_keeps_the_main_screen():
    s = screen("main 1\r\nmain 2\r\n$ ", cols=20, rows=4)
    s.feed(b"\x1b[?1049h\x1b[Happ")
    s.resize(10, 6)
    s.feed(b"\x1b[?1049l")
    assert rows(s)[:3] == ["main 1", "main 2", "$"]
    assert s.cursor == (2, 2)


# -- input split anywhere -------------------------------------------------------------------

SAMPLE = (
    "\x1b]2;t\u00eftle\x07plain \x1b[1;38;5;208m\u65e5\u672c\x1b[0m caf\u00e9 \U0001f600\r\n"
    "\x1b[2;5H\x1b[38;2;10;20;30mtrue\x1b[m \u00e9\u0301 \x1bP+q54\x1b\\ end\r\n" * 3
).encode()


def test_utf8_and_escapes_split_at_every_byte_give_the_same_screen():
    whole = snapshot(screen(SAMPLE, cols=30, rows=4))
    for cut_at in range(len(SAMPLE) + 1):
        s = PaneScreen(30, 4, 100)
        s.feed(SAMPLE[:cut_at])
        s.feed(SAMPLE[cut_at:])
        assert snapshot(s) == whole, cut_at
    s = PaneScreen(30, 4, 100)
    for byte in SAMPLE:
        s.feed(bytes([byte]))
    assert snapshot(s) == whole


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_random_bytes_never_break_the_screen(data, cut_at):
    s = PaneScreen(12, 4, 20)
    s.feed(data[:cut_at])
    s.feed(data[cut_at:])
    for y in range(s.rows):
        assert cells(s.render_row(y)) == 12
    for i in range(s.history_size):
        assert cells(s.history_row(i)) == 12
    x, y = s.cursor
    assert 0 <= x < 12 and 0 <= y < 4
    s.resize(7, 2)
    assert all(cells(s.render_row(y)) == 7 for y in range(2))


_TOKENS = st.sampled_from(
    ["a", "bc ", "\u65e5", "\U0001f600", "\u0301", "\r\n", "\n", "\r", "\t", "\x08"]
    + ["\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b[H", "\x1b[3;2H", "\x1b[K", "\x1b[2;3r"]
    + ["\x1b[r", "\x1bM", "\x1b[?1049h", "\x1b[?1049l", "\x1b[L", "\x1b[2P", "\x1b[4h"]
    + ["\x1b[4l", "\x1b]0;x\x07", "\x1b7", "\x1b8", "\x1b(0q\x1b(B", "\x1b[S", "\x1b[2b"]
    + ["\x1b[?6h", "\x1b[?6l", "\x1b[3d", "\x1b[1;2;3C", "\x1b[44m", "\x1b[2X", "\x1b[?7l"]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_TOKENS, max_size=60), st.data())
def test_splitting_terminal_output_anywhere_gives_the_same_screen(tokens, data):
    stream = "".join(tokens).encode()
    cut_at = data.draw(st.integers(min_value=0, max_value=len(stream)))
    whole = screen(stream, cols=8, rows=4, scrollback=50)
    split = PaneScreen(8, 4, 50)
    split.feed(stream[:cut_at])
    split.feed(stream[cut_at:])
    assert snapshot(split) == snapshot(whole)


# -- dirty rows -------------------------------------------------------------------------------


def test_take_dirty_reports_changed_rows_once():
    s = screen("x")
    s.take_dirty()
    s.feed(b"\x1b[3;1Hchanged")
    assert s.take_dirty() == {2}
    assert s.take_dirty() == set()
    s.resize(10, 4)
    assert s.take_dirty() == {0, 1, 2, 3}


# -- search and copy ---------------------------------------------------------------------------


def test_search_backwards_and_forwards_across_history_and_screen():
    s = PaneScreen(30, 5, 100)
    s.feed(b"error one\r\nfine\r\nanother error\r\nok\r\nok\r\nok\r\nlast error here\r\n$ ")
    assert s.history_size == 3
    hits = []
    position = None
    while (position := s.search("error", backwards=True, start=position)) is not None:
        hits.append(position)
    assert hits == [(6, 5), (2, 8), (0, 0)]
    assert s.line_text(6) == s.row_text(3)
    hits = []
    position = None
    while (position := s.search("error", backwards=False, start=position)) is not None:
        hits.append(position)
    assert hits == [(0, 0), (2, 8), (6, 5)]
    assert s.search("missing") is None
    assert s.search("ERROR", ignore_case=True) == (6, 5)
    assert s.search("error", backwards=True, start=(0, 0), wrap=True) == (6, 5)


def test_search_columns_count_cells():
    s = screen("日本 needle", cols=20)
    assert s.search("needle") == (s.history_size, 5)


def test_copy_text_joins_soft_wrapped_lines():
    s = screen("echo a-long-command-that-wraps\r\nout  \r\n", cols=10, rows=6)
    assert s.row_wrapped(0) and not s.row_wrapped(3)
    start, end = (0, 0), (3, 9)
    assert s.copy_text(start, end) == "echo a-long-command-that-wraps\nout"
    assert s.copy_text((0, 5), (0, 8)) == "a-lo"
    assert s.copy_text((3, 1), (0, 5)) == "a-long-command-that-wraps\nou"


# -- a real program through a real PTY -----------------------------------------------------------


def run_in_pty(argv: list[str], cols: int, rows: int, env: dict[str, str]) -> bytes:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the program closed its end
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
        process.wait(timeout=10)
    return bytes(output)


def test_output_of_ls_through_a_pty():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color"}
    env["LS_COLORS"] = "di=01;34"
    env["LC_ALL"] = "C"
    output = run_in_pty(["ls", "--color=always", "-C", "/"], 80, 24, env)
    s = PaneScreen(80, 24)
    s.feed(output)
    text = "\n".join(rows(s))
    for name in ("etc", "usr"):
        assert re.search(rf"\b{name}\b", text), text
    row = next(y for y in range(s.rows) if re.search(r"\busr\b", s.row_text(y)))
    assert "\x1b[0;1;34musr" in s.render_row(row)


def test_output_of_printf_through_a_pty():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    script = r"printf '\033[31mred\033[0m plain\n\346\227\245\346\234\254\n\033]2;from printf\007'"
    output = run_in_pty(["sh", "-c", script], 20, 5, env)
    s = PaneScreen(20, 5)
    s.feed(output)
    assert rows(s)[:3] == ["red plain", "日本", ""]
    assert s.render_row(0).startswith("\x1b[0m\x1b[0;31mred\x1b[0m plain")
    assert s.title == "from printf"
    assert s.cursor == (0, 2)  # the PTY turned each \n into \r\n


def test_a_soft_wrap_is_told_in_reverse_screen_mode_too():
    """DECSCNM draws every row reversed; whether a row wraps onto the next
    (copy mode's and capture-pane -J's joins) stays the row's own."""
    for reverse in ("", "\x1b[?5h"):
        s = screen(reverse + "x" * 25 + "\r\nshort", cols=20)
        assert [s.row_wrapped(y) for y in range(3)] == [True, False, False], repr(reverse)
        with pytest.raises(IndexError):
            s.row_wrapped(5)


def test_screens_share_the_default_tab_stops_until_one_changes_its_own():
    """The default stops of a width are one frozenset for every pane (a set of
    them was ~2 KiB a pane); HTS, TBC and a resize give a screen its own."""
    a, b = screen(cols=40), screen(cols=40)
    assert a._vt.tabstops is b._vt.tabstops and a._vt.tabstops == set(range(8, 40, 8))
    a.feed(b"\x1b[1;4H\x1bH\r\tx")  # HTS at column 4 (0-based 3), then HT from column 0
    assert a.row_text(0).startswith("   x") and 3 in a._vt.tabstops
    assert 3 not in b._vt.tabstops and b._vt.tabstops == set(range(8, 40, 8))
    b.feed(b"\r\tx")
    assert b.row_text(0).startswith("        x")
    c = screen(cols=40)
    c.feed(b"\x1b[1;9H\x1b[g\r\ty")  # TBC 0 at column 8: the next stop is 16
    assert c.row_text(0).startswith(" " * 16 + "y") and b._vt.tabstops is screen(cols=40)._vt.tabstops
    c.feed(b"\x1b[3g\r\tz")  # TBC 3: no stops, HT goes to the last column
    assert c.row_text(0).endswith("z") and not c._vt.tabstops
    b.resize(60, 5)  # widened with its default stops: the default of the new width
    assert b._vt.tabstops is screen(cols=60)._vt.tabstops
    a.resize(60, 5)  # its own stops keep the one it set, and get the new default ones
    assert a._vt.tabstops == {3, *range(8, 60, 8)}
    a.resize(30, 5)
    a.feed(b"\x1b[2;1H\x1b[Zq\x1b[2;30H\x1b[Zw")  # CBT: from column 29 to 24
    assert a.row_text(1)[24] == "w"
