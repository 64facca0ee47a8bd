"""hexe's pane screen against stock pyte 0.8.2, and its fast paths against its slow ones.

Two guards for every fast path in :mod:`hexe.terminal`:

1. **Against pyte.** The same bytes go to stock ``pyte.Screen`` (through
   ``pyte.ByteStream``, fed whole) and to :class:`PaneScreen` (cut in two at
   every byte boundary); characters, attributes and the cursor must match on
   every cell, and for scrolling-only output the scrollback must match
   ``pyte.HistoryScreen``'s. The corpus keeps to what both are meant to do
   alike. Where hexe differs on purpose (see ``docs/performance.md``, "Where
   hexe's screen differs from pyte"), a test below pins hexe's behaviour.
2. **Against itself.** The line fast path (``VTScreen.draw_lines``), its
   plain-text variant (``VTScreen.draw_plain_lines``) and the
   character-by-character path must give the same rows, attributes, wrap
   flags, scrollback, cursor and dirty rows, for the corpus and for random
   output (hypothesis), however the input is cut.
"""

from __future__ import annotations

import copy
import functools
import pickle
import random

import pyte
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyte import graphics
from support.feeding import fed
from support.speed import cut_step, examples, share

from hexe.terminal import PaneScreen, vt
from hexe.terminal.cells import (
    ALL_FLAGS,
    BLANK,
    NotInLinePath,
    _apply,
    _apply_one_colour,
    apply_sgr,
    attrs_of,
    cell_of_escape,
    escape_of_state,
    sgr_effect,
    sgr_escape,
    state_of,
)

COLS, ROWS = 20, 6

# -- the corpus: what both screens are meant to agree on ---------------------------

LOG = "".join(
    f"[{i:02d}] cc -c src/file{i}.c -o obj/file{i}.o" + (" -Wall" * (i % 5)) + "\r\n"
    for i in range(14)
)

CORPUS: dict[str, str] = {
    "plain lines scrolling and wrapping": LOG + "last line, no newline",
    "exact-width lines": ("x" * COLS + "\r\n") * 8 + "y" * (2 * COLS) + "\r\nz",
    "empty lines": "a\r\n\r\n\r\nb\r\n" * 4,
    "plain lines cut in pieces, with blank pieces and trailing spaces": (
        "a" * COLS
        + " " * COLS
        + "b\r\n"  # a blank piece in the middle
        + "c" * (COLS + 1)
        + "\r\n"
        + "d" * COLS
        + " " * (COLS + 3)
        + "\r\n"  # blank last pieces
        + " " * (3 * COLS)
        + "\r\n"
        + ("e" * (COLS - 1) + "  ") * 3
        + "\r\n"
        + "f   \r\n\r\n   \r\n"
        + "g" * (2 * COLS)
        + "\r\n"
        + "h" * (COLS + 2)
        + "\r\nend"
    ),
    "sgr 16 colours and flags": (
        "\x1b[31mred\x1b[1mbold\x1b[0m \x1b[42mgreen bg\x1b[0m\r\n"
        "\x1b[3mit\x1b[23m\x1b[4mul\x1b[24m\x1b[7mrev\x1b[27m\x1b[9mstrike\x1b[29m\r\n"
        "\x1b[91mbright\x1b[39m \x1b[1;4;33mmany\x1b[22;24m only yellow\x1b[m\r\n"
    )
    * 3,
    "sgr 256 and true colour": "".join(
        f"\x1b[38;5;{n}m{n:03d}\x1b[48;5;{255 - n}m#\x1b[38;2;{n};{255 - n};7mrgb"
        f"\x1b[48;2;1;{n};3m \x1b[0m" + ("\r\n" if n % 3 == 2 else "")
        for n in range(0, 256, 17)
    ),
    "sgr every few bytes over long wrapping lines": "".join(
        f"\x1b[3{i % 8}m{'ab' * (i % 4 + 1)}\x1b[4{(i + 3) % 8}m{i}"
        + ("\x1b[0m\r\n" if i % 7 == 6 else "")
        for i in range(60)
    ),
    "wide characters": "日本語 text\r\n漢字と😀 mixed\r\nab日本cd\r\n" * 3,
    "combining characters": "e\u0301 a\u0308 n\u0303\r\ncafe\u0301\r\n",
    "cursor movement and erase": (
        "0123456789abcdefghij\r\n" * 4
        + "\x1b[2;5HXY\x1b[3A\x1b[2Bq\x1b[4Cr\x1b[2Ds"
        + "\x1b[1;1H\x1b[K\x1b[3;10H\x1b[1K\x1b[4;3H\x1b[2K"
        + "\x1b[5;1H\x1b[3X\x1b[2;2H\x1b[2@\x1b[4;5H\x1b[3P"
        + "\x1b7\x1b[6;6Hsaved\x1b8here"
        + "\x1b[10G|\x1b[4d^\tT\tT"
    ),
    "insert and delete lines": ("line %d\r\n" * 5) % (1, 2, 3, 4, 5)
    + "\x1b[2;1H\x1b[2L\x1b[4;1H\x1b[M\x1b[1;1H\x1b[3M",
    "erase display": "fill\r\n" * 5 + "\x1b[3;3H\x1b[J\x1b[2;2H\x1b[1J",
    "erase with a background colour": "\x1b[44mblue\x1b[K\r\n\x1b[0mplain\x1b[43m\x1b[2K\x1b[0m",
    "scrolling region": (
        "top\r\nr1\r\nr2\r\nr3\r\nbottom\r\n"
        + "\x1b[2;4r\x1b[4;1H"
        + "in region 1\r\nin region 2\r\nin region 3\r\n"
        + "\x1b[2;1H\x1bM\x1bMback\x1b[4;1H\x1bD\x1bDdown"
    ),
    "index": "a\x1bDb\r\x1bDc\x1bD\x1bD\x1bD\x1bD\x1bDd",
    "alternate screen, cleared and drawn": (
        LOG + "\x1b[?1049h\x1b[H\x1b[2J" + "\x1b[1;1Hvim-like\x1b[3;4H\x1b[7m status \x1b[0m"
    ),
    "carriage return overwrites (progress bars)": "".join(
        f"\r[{'#' * i}{'.' * (10 - i)}] {i * 10}%" for i in range(11)
    )
    + "\r\ndone\r\n",
    "backspace and tab": "abc\x08\x08X\tY\x08Z\r\n\tq\r\n",
    "lines mixing ascii, utf-8 and tabs": (
        "ascii line\r\ncaf\u00e9 line\r\n\ttabbed\r\nplain again\r\n" * 4
    ),
}

# Output that only scrolls the whole screen: pyte.HistoryScreen's history must
# hold the same lines as hexe's scrollback.
SCROLLING_ONLY = [
    "plain lines scrolling and wrapping",
    "exact-width lines",
    "empty lines",
    "plain lines cut in pieces, with blank pieces and trailing spaces",
    "sgr 16 colours and flags",
    "sgr every few bytes over long wrapping lines",
    "wide characters",
    "lines mixing ascii, utf-8 and tabs",
]


# -- reading both screens the same way -----------------------------------------------


_PYTE_TABLES = {
    38: {**graphics.FG_ANSI, **graphics.FG_AIXTERM},
    48: {**graphics.BG_ANSI, **graphics.BG_AIXTERM},
}


@functools.cache  # called for every cell of every screen compared
def _pyte_colour(value: str, base: int) -> str:
    """hexe keeps the SGR that set a colour ("31", "38;5;9", "48;2;1;2;3");
    pyte keeps a name or a hex string: hexe's value as pyte writes it."""
    if value == "default":
        return "default"
    fields = value.split(";")
    if len(fields) == 3:
        return graphics.FG_BG_256[int(fields[2])]
    if len(fields) == 5:
        return "{:02x}{:02x}{:02x}".format(*map(int, fields[2:]))
    return _PYTE_TABLES[base][int(value)]


def hexe_cells(s: PaneScreen) -> list[list[tuple]]:
    vt = s._vt
    out = []
    for y in range(vt.lines):
        row = vt.buffer.get(y)
        cells = []
        for x in range(vt.columns):
            cell = row[x] if row is not None else vt.default_char
            cells.append(
                (
                    cell.data,
                    _pyte_colour(cell.fg, 38),
                    _pyte_colour(cell.bg, 48),
                    cell.bold,
                    cell.italics,
                    cell.underscore,
                    cell.strikethrough,
                    cell.reverse,
                )
            )
        out.append(cells)
    return out


def pyte_cells(screen: pyte.Screen) -> list[list[tuple]]:
    return [
        [
            (c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.strikethrough, c.reverse)
            for c in (screen.buffer[y][x] for x in range(screen.columns))
        ]
        for y in range(screen.lines)
    ]


def pyte_screen(data: bytes, history: int = 0) -> pyte.Screen:
    screen = pyte.HistoryScreen(COLS, ROWS, history=history) if history else pyte.Screen(COLS, ROWS)
    pyte.ByteStream(screen).feed(data)
    return screen


def sweep(size: int) -> range:
    """Cut positions in ``size`` bytes: every ``cut_step(1)``-th (every 4th by
    default, every one with ``HEXE_FUZZ_SCALE=1``), from a start drawn for
    each run, so that runs together cut everywhere."""
    step = cut_step(1)
    return range(random.randrange(step), size + 1, step)


#: cut positions this many bytes apart go into one feed (see :func:`assert_cuts`)
CUT_PERIOD = 1000


def assert_cuts(
    data: bytes, expected: tuple, first: int, step: int, with_cuts: tuple[int, ...] = (0,), **screen
) -> None:
    """``data`` gives ``expected`` with a cut at every ``step``-th position from
    ``first`` (and at each ``+ with_cuts`` from it): many cuts a feed, about
    ``CUT_PERIOD`` bytes apart, so a sweep takes ``CUT_PERIOD / step`` feeds, not
    one a position. Pieces that long hold whole lines, so the line paths run as
    with a single cut. On a mismatch the single cut that shows it is named."""
    period = step * -(-CUT_PERIOD // step)  # a multiple of step: the same positions
    for offset in range(first % period, min(period, len(data) + 1), step):
        cuts = sorted(
            {c + extra for c in range(offset, len(data) + 1, period) for extra in with_cuts}
        )
        if state(fed(data, *cuts, **screen)) == expected:
            continue
        for cut in range(offset, len(data) + 1, period):
            alone = [cut + extra for extra in with_cuts]
            assert state(fed(data, *alone, **screen)) == expected, f"cuts at {alone}"
        pytest.fail(f"cuts at {cuts} together (each alone gives the same screen)")


def state(s: PaneScreen) -> tuple:
    """Everything a fast path could get wrong, at the cell level."""
    vt = s._vt
    return (
        hexe_cells(s),
        [(vt.buffer.get(y).wrapped if y in vt.buffer else False) for y in range(vt.lines)],
        [s.render_row(y) for y in range(s.rows)],
        list(s.history.lines),
        {type(line) for line in s.history.lines},  # Line, not a tuple that equals one
        s.history.base,
        (vt.cursor.x, vt.cursor.y),
        vt.cursor.attrs,
        vt.last_char,
        sorted(vt.dirty),
    )


# -- 1. against pyte ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CORPUS))
def test_same_cells_and_cursor_as_pyte_at_every_chunk_boundary(name):
    data = CORPUS[name].encode()
    reference = pyte_screen(data)
    expected = pyte_cells(reference)
    expected_cursor = (reference.cursor.x, reference.cursor.y)
    for cut in sweep(len(data)):
        s = fed(data, cut)
        assert hexe_cells(s) == expected, f"{name}: cut at {cut}"
        assert (s._vt.cursor.x, s._vt.cursor.y) == expected_cursor, f"{name}: cut at {cut}"


@pytest.mark.parametrize("name", SCROLLING_ONLY)
def test_same_scrollback_as_pyte_history_screen(name):
    data = CORPUS[name].encode()
    reference = pyte_screen(data, history=1000)
    expected = [
        "".join(row[x].data for x in range(COLS)).rstrip(" ") for row in reference.history.top
    ]
    s = fed(data)
    assert [s.history_text(i) for i in range(s.history_size)] == expected
    assert len(expected) > 0


def _counting_calls(s: PaneScreen) -> dict[str, list[int]]:
    """Lines given to ``draw_lines`` and to ``draw_plain_lines`` by each call."""
    calls: dict[str, list[int]] = {"draw_lines": [], "draw_plain_lines": []}
    vt = s._vt
    for name, lines_of_call in calls.items():
        method = getattr(vt, name)

        def counted(lines, *tail, method=method, lines_of_call=lines_of_call):
            lines_of_call.append(len(lines))
            return method(lines, *tail)

        setattr(vt, name, counted)
    return calls


def test_the_corpus_takes_the_fast_paths():
    """The guard is only worth something if the fast paths run on the corpus."""
    s = PaneScreen(COLS, ROWS, 1000)
    calls = _counting_calls(s)
    for name in SCROLLING_ONLY:
        s.feed(CORPUS[name].encode())
    assert sum(calls["draw_lines"]) >= 20
    assert sum(calls["draw_plain_lines"]) >= 20


# -- where hexe differs from pyte on purpose --------------------------------------------


def test_differs_a_wide_character_at_the_last_column_wraps_whole():
    data = ("x" * (COLS - 1) + "日").encode()
    assert pyte_screen(data).buffer[0][COLS - 1].data == "日"  # pyte: cut at the margin
    s = fed(data)
    assert s.row_text(1) == "日" and s.row_text(0) == "x" * (COLS - 1)


def test_differs_erase_keeps_only_the_background_colour():
    data = b"\x1b[1;7;31;44m\x1b[2K"
    cell = pyte_screen(data).buffer[0][0]
    assert (cell.bold, cell.reverse, cell.fg, cell.bg) == (True, True, "red", "blue")
    hexe = fed(data)._vt.buffer[0][0]
    assert (hexe.bold, hexe.reverse, hexe.fg, hexe.bg) == (False, False, "default", "44")


def test_differs_a_zero_width_joiner_joins_instead_of_stopping_the_draw():
    data = "a\u200db".encode()
    assert pyte_screen(data).buffer[0][1].data == " "  # pyte stops drawing at the ZWJ
    assert fed(data).row_text(0) == "a\u200db"


def test_differs_vertical_motion_leaves_the_pending_wrap():
    data = ("x" * COLS + "\x1b[Ay").encode()
    assert pyte_screen(data).cursor.x == 1  # pyte wrapped: y went to the next row
    s = fed(data)
    assert s.row_text(0) == "x" * (COLS - 1) + "y"  # xterm/tmux: overwrite the last column


def test_differs_characters_inserted_past_the_margin_are_gone():
    data = b"0123456789abcdefghij\x1b[1;2H\x1b[2@\x1b[3P"
    # pyte keeps the cell pushed past the last column, and DCH pulls it back
    assert "".join(pyte_screen(data).buffer[0][x].data for x in range(COLS)).rstrip() == (
        "023456789abcdefghi"
    )
    assert fed(data).row_text(0) == "023456789abcdefgh"


def test_differs_scroll_up_and_down_are_implemented():
    data = b"a\r\nb\r\nc\x1b[S"
    assert pyte_screen(data).buffer[0][0].data == "a"  # pyte 0.8.2 ignores SU and SD
    assert fed(data).row_text(0) == "b"


def test_differs_resetting_the_margins_homes_the_cursor():
    data = b"\x1b[2;4r\x1b[5;5Hx\x1b[r"
    assert (pyte_screen(data).cursor.x, pyte_screen(data).cursor.y) == (5, 4)
    assert fed(data).cursor == (0, 0)  # DECSTBM homes the cursor, as in xterm


def test_differs_the_alternate_screen_gives_the_main_screen_back():
    data = b"main\x1b[?1049h\x1b[2J\x1b[Halt\x1b[?1049l"
    assert pyte_screen(data).buffer[0][0].data == "a"  # pyte 0.8.2 has no alternate screen
    assert fed(data).row_text(0) == "main"


def test_differs_next_line_returns_the_carriage():
    data = b"ab\x1bEc"
    assert pyte_screen(data).buffer[1][2].data == "c"  # pyte: ESC E is a bare line feed
    assert fed(data).row_text(1) == "c"  # NEL: CR and LF (VT100, xterm)


# -- 2. the fast path against the slow one ----------------------------------------------


@pytest.mark.parametrize("name", list(CORPUS))
def test_line_fast_path_gives_the_same_screen_at_every_chunk_boundary(name):
    data = CORPUS[name].encode()
    expected = state(fed(data, fast=False))
    for cut in sweep(len(data)):
        assert state(fed(data, cut)) == expected, f"{name}: cut at {cut}"


def test_line_fast_path_keeps_a_bounded_scrollback_and_counts_what_it_dropped():
    data = "".join(f"\x1b[3{i % 8}mline {i}\x1b[0m {'w' * (i % 45)}\r\n" for i in range(3000))
    data = data.encode()
    for limit in (1, 7, 100, 5000):
        slow = PaneScreen(COLS, ROWS, limit)
        slow._parser.fast_lines = False
        slow.feed(data)
        fast = PaneScreen(COLS, ROWS, limit)
        fast.feed(data)
        assert list(fast.history.lines) == list(slow.history.lines), limit
        assert fast.history_base == slow.history_base, limit
        assert [fast.render_row(y) for y in range(ROWS)] == [
            slow.render_row(y) for y in range(ROWS)
        ]


# SGR forms the line path's state machine must follow exactly, beyond what
# pyte can be compared on (values out of range, cut extended colours).
ODD_SGR = [
    "38;2;255;0;10",
    "48;2;007;1;2",
    "38;2;1;256;3",
    "38;5;07",
    "48;5;256",
    "38;5",
    "38;2;1",
    "1;38;2;9;8;7;4",
    "22",
    "2;5;8;9",
    "21",
    "0;3",
    "",
    ";1",
    "25;28;29",
    "097",
    "39;49",
    "58;5;3",
    "7;27;7",
    "103",
    "38;6;1",
    "48;2;0;00;255",
    "38;2;10;20;30",
]


def test_line_fast_path_follows_odd_sgr_like_the_slow_path():
    data = "".join(
        f"w{i}\x1b[{params}m{'ab' * (i % 13)}\x1b[{ODD_SGR[-1 - i % len(ODD_SGR)]}m"
        + ("x" * (i % 3))
        + "\r\n"
        for i, params in enumerate(ODD_SGR * 2)
    ).encode()
    expected = state(fed(data, fast=False))
    for cut in range(0, len(data) + 1, 7):
        assert state(fed(data, cut)) == expected, f"cut at {cut}"


@pytest.mark.parametrize(
    "data", ["a\r\nbc\x1b[1m\r\n", "\x1b[1mb\x1b[0mc\x1b[31m\r\n", "d\x1b[m\r\n\x1b[m\r\n"]
)
def test_line_fast_path_remembers_the_last_character_for_rep(data):
    data = ("\r\n" * ROWS + data + "\x1b[3b").encode()  # REP: the last character, again
    assert state(fed(data)) == state(fed(data, fast=False))


# -- colour-heavy output: the line path's SGR state machine ----------------------------

# Every attribute set and reset, 16/256/true colour for fg and bg, empty and
# odd parameter lists, very long ones, the lone true colours the line path
# tells apart by its regular expression and forms it must not take for one.
COLOUR_SGR = [
    *"1 2 3 4 5 6 7 8 9 21 22 23 24 25 27 28 29 39 49 0".split(),
    *(f"{base}{n}" for base in ("3", "9", "4", "10") for n in range(8)),
    *["", ";", ";1", "1;", "0;;1", "00", "01", "031", "0;1;2;3;4;5;7;8;9", "7;27", "4;21;24"],
    *["22;23;24;25;27;28;29", "1;2;3;4;5;7;8;9;31;42", "99999999999999999999", "65536"],
    *["38;5;0", "38;5;255", "48;5;16", "48;5;231", "38;5;256", "38;5;007", "48;5", "38;5;"],
    *["38;2;0;0;0", "38;2;255;255;255", "48;2;1;22;133", "48;2;250;251;249", "38;2;199;200;9"],
    *["38;2;10;100;249", "48;2;0;0;0", "48;2;255;255;255", "38;2;9;99;200"],
    *["38;2;256;0;0", "38;2;1;2;300", "48;2;01;2;3", "38;2;00;1;1", "38;2;1;2", "38;2;1;2;3;"],
    *["38;2;;;", "48;2;1;2;3;4", "1;38;2;1;2;3", "38;2;1;2;3;1", "38;2;1;2;3;48;2;4;5;6"],
    *["38;2;1;2;3;0", "58;2;1;2;3", "28;2;1;2;3", "138;2;1;2;3", "38;22;1;2;3", "3;8;2;1;2;3"],
    *["38;2;1;2;3;48;5;9", "38;5;1;38;2;4;5;6;48;5;2", "38;2;2555;1;1", "48;2;1;2;25"],
    ";".join(["1", "0"] * 150),
    ";".join(str(n % 110) for n in range(300)),
    ";".join(["38;2;1;2;3"] * 40),
]


def _colour_stream(seed: int, count: int = 60, cols: int = COLS) -> str:
    """Lines of words with an SGR every few characters (from ``COLOUR_SGR``),
    among them lines ending with an SGR, lines of SGRs only, empty lines,
    blank coloured lines, lines exactly as wide as the screen and lines that
    wrap with an SGR at the wrap. Now and then a line the line path does not
    take (a tab, a bare LF, UTF-8, a colon sub-parameter) ends a batch, so the
    attributes are carried into the next one."""
    rnd = random.Random(seed)

    def sgr() -> str:
        return f"\x1b[{rnd.choice(COLOUR_SGR)}m"

    out = []
    for n in range(count):
        kind = n % 11
        if kind == 0:
            line = sgr() + sgr()  # SGRs only
        elif kind == 1:
            line = ""
        elif kind == 2:
            line = sgr() + " " * rnd.randint(1, 2 * cols) + sgr() + "  "  # blanks
        elif kind == 3:  # exactly as wide as the screen, SGR last
            line = sgr() + "w" * (cols - 3) + sgr() + "xyz" + sgr()
        elif kind == 4:  # wraps with an SGR exactly at the wrap
            line = "a" * cols + sgr() + "b" * (cols - 1) + sgr() + "c" + sgr() + "d" * 3
        elif kind == 5:
            line = rnd.choice(
                ["a\tb", "lf\nonly", "caf\u00e9", "\x1b[4:3mcurly\x1b[4m", "\x1b[38:2::1:2:3mc"]
            )
        else:
            line = "".join(
                sgr() + rnd.choice(["ab", "cd ", "e", "fgh ij", " ", "k" * 9])
                for _ in range(rnd.randint(1, 12))
            )
            if rnd.random() < 0.5:
                line += sgr()
        out.append(line + "\r\n")
    return "".join(out) + sgr() + "tail" + sgr()


COLOUR_STREAMS = {seed: _colour_stream(seed).encode() for seed in range(6)}


def test_colour_streams_take_the_line_path():
    s = PaneScreen(COLS, ROWS, 1000)
    calls = _counting_calls(s)
    s.feed(b"\r\n" * ROWS + COLOUR_STREAMS[0])
    assert sum(calls["draw_lines"]) >= 40 and len(calls["draw_lines"]) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("seed", list(COLOUR_STREAMS))
def test_line_fast_path_follows_colour_heavy_output_at_chunk_boundaries(seed):
    data = COLOUR_STREAMS[seed]
    expected = state(fed(data, fast=False))
    assert state(fed(data, plain=False)) == expected
    # every 20th cut (a different start for each seed); every 5th with HEXE_FUZZ_SCALE=1
    assert_cuts(data, expected, seed, cut_step(5))
    assert_cuts(data, expected, seed, 97, with_cuts=(0, 13, 200))


@pytest.mark.parametrize("seed", list(COLOUR_STREAMS))
@pytest.mark.parametrize(("cols", "rows", "limit"), [(1, 1, 1), (7, 1, 3), (5, 3, 2), (9, 4, 40)])
def test_line_fast_path_follows_colour_heavy_output_on_small_screens(seed, cols, rows, limit):
    data = _colour_stream(seed, cols=cols).encode()
    fast, lines_only, slow = _three_ways(data, cols=cols, rows=rows, limit=limit)
    assert fast == slow
    assert lines_only == slow
    assert_cuts(data, slow, seed, 61, cols=cols, rows=rows, limit=limit)


@pytest.mark.parametrize(
    ("params", "lone"),
    [
        ("38;2;1;2;3", True),
        ("48;2;255;0;9", True),
        ("38;2;0;0;0", True),
        ("48;2;250;199;100", True),
        ("38;2;01;2;3", False),
        ("38;2;256;1;1", False),
        ("38;2;1;2;2555", False),
        ("1;38;2;1;2;3", False),
        ("38;2;1;2;3;1", False),
        ("38;2;1;2;3;", False),
        ("58;2;1;2;3", False),
        ("138;2;1;2;3", False),
        ("38;5;1", False),
        ("38;2;1;2", False),
        ("", False),
    ],
)
def test_lone_true_colours_are_told_apart_by_the_line_regex(params, lone):
    true_colour, other = vt._SGR_IN_LINE.fullmatch(f"\x1b[{params}m").groups()
    assert (true_colour, other) == ((params, None) if lone else (None, params))


_PARAM_FIELD = st.one_of(
    st.integers(min_value=0, max_value=300).map(str),
    st.sampled_from(["", "0", "00", "007", "38", "48", "58", "5", "2", "1", "22", "39", "255"]),
)


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(_PARAM_FIELD, max_size=7).map(";".join))
def test_lone_true_colours_split_out_by_the_line_regex_set_their_colour(params):
    """What the line path's regular expression takes for a lone true colour
    must set that colour as kept (``";" + params``) and nothing else."""
    true_colour, other = vt._SGR_IN_LINE.fullmatch(f"\x1b[{params}m").groups()
    if true_colour is None:
        assert other == params
        return
    assert other is None and true_colour == params
    colour = ";" + params
    assert sgr_effect(params) == (
        (ALL_FLAGS, 0, colour, None) if params[0] == "3" else (ALL_FLAGS, 0, None, colour)
    )


_COLOUR_SGR_PARAMS = st.one_of(
    st.sampled_from(COLOUR_SGR),
    st.lists(_PARAM_FIELD, max_size=8).map(";".join),
    st.tuples(
        st.sampled_from(["38", "48"]),
        st.sampled_from(["2", "5"]),
        st.lists(
            st.one_of(
                st.integers(min_value=0, max_value=300).map(str), st.sampled_from(["", "00"])
            ),
            max_size=4,
        ),
    ).map(lambda t: ";".join([t[0], t[1], *t[2]])),
)
_COLOUR_TOKENS = st.one_of(
    _COLOUR_SGR_PARAMS.map(lambda params: f"\x1b[{params}m"),
    st.sampled_from(["a", "bcd ", "x" * 7, " " * 3, "\r\n", "\r\n", "\r\n", "\r\n\r\n"]),
    st.sampled_from(["\t", "\u00e9", "\n", "\r", "\x1b[4:3m", "\x1b[38:5:9m", "\x1b[2J"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(_COLOUR_TOKENS, max_size=100),
    st.data(),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0, max_value=12),
)
def test_line_fast_path_matches_the_slow_path_on_random_colour_output(
    tokens, data, cols, rows, limit
):
    stream = "".join(["\r\n" * rows, *tokens]).encode()  # from the bottom row
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=3)))
    fast, lines_only, slow = _three_ways(stream, *cuts, cols=cols, rows=rows, limit=limit)
    assert fast == slow
    assert lines_only == slow


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(_COLOUR_TOKENS, max_size=60),
    st.data(),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0, max_value=12),
)
def test_lines_cut_by_reads_match_the_slow_path_on_random_colour_output(
    tokens, data, cols, rows, limit
):
    """Random output in many reads: the screen must read the same as the
    slow path's after every one of them."""
    stream = "".join(["\r\n" * rows, *tokens]).encode()
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(stream)), max_size=8))))
    pieces = _pieces(stream, *cuts)
    screen = {"cols": cols, "rows": rows, "limit": limit}
    expected = read_by_read(pieces, fast=False, **screen)
    assert read_by_read(pieces, **screen) == expected
    assert read_by_read(pieces, plain=False, **screen) == expected


_ROW_CHANGES = [
    "\x1b[2;1Hxyz",
    "\x1b[2;1Hq",
    "\x1b[2;2H\x1b[K",
    "\x1b[2;2H\x1b[1K",
    "\x1b[2;4H\x1b[2K",
    "\x1b[2;1H\x1b[2P",
    "\x1b[2;1H\x1b[3@",
    "\x1b[2;1H\x1b[2X",
    "\x1b[2;3H\x1b[31mab",
    "\x1b[2;1H\x1b[L",
    "\x1b[2;1H\x1b[M",
    "\x1b[3;1H" + "w" * 30,
    "\x1b[2;8H\u00e9\u65e5",
    "\x1b[2;20Hz",
    "\x1b[2;1H\x1b[4hab\x1b[4l",
    "\x1b[2;19H\u65e5",
    "\x1b[1;1H\x1b[J",
    "\x1b[2;1H\x1b[1J",
    "\x1b[2J",
    "\x1b[2;3H\x1b[3b",
    "\x1b[2;5r\x1b[2;1H\x1b[S\x1b[r",
]


_HEADS = {
    "coloured": "".join(
        f"\x1b[3{n % 8}mline {n} \x1b[0mtail\x1b[44m{'-' * (n % 25)}\x1b[m\r\n" for n in range(30)
    ),
    "plain": "".join(f"line {n} tail{'-' * (n % 25)}{' ' * (n % 3)}\r\n" for n in range(30)),
}


@pytest.mark.parametrize("head", list(_HEADS))
@pytest.mark.parametrize("change", _ROW_CHANGES)
def test_rows_left_on_screen_by_the_line_path_show_later_changes(change, head):
    """Rows the line path leaves on screen keep their compact line for rendering and
    scrollback (``_CachedRow``); any change to such a row must be seen in both."""
    head = _HEADS[head].encode()
    s = fed(head)
    assert any(isinstance(s._vt.buffer.get(y), vt._LazyRow) for y in range(ROWS))
    data = head + (change + "\r\n" * (ROWS + 2)).encode()
    expected = state(fed(data, fast=False))
    for cut in (len(head), len(head) + 3, len(data) - 2):
        assert state(fed(data, cut)) == expected, (change, cut)
    # and before the changed rows scroll off
    partial = head + change.encode()
    assert state(fed(partial, len(head))) == state(fed(partial, fast=False))


_ROW_CALLS = {
    "getitem": lambda row: (row[0], row[3], row[12], row[999]),
    "contains": lambda row: (0 in row, 8 in row, 9 in row, 999 in row),
    "iter": list,
    "len": len,
    "bool": bool,
    "max": max,
    "reversed": lambda row: list(reversed(row)),
    "eq": lambda row: (row == {}, {} == row, row == dict(row.items())),
    "ne": lambda row: (row != {}, {} != row),
    "or": lambda row: (row | {0: BLANK}, {0: BLANK} | row),
    "repr": repr,
    "copy": lambda row: row.copy(),
    "dict": dict,
    "dict.update": lambda row: {**row},
    "get": lambda row: (row.get(1), row.get(999), row.get(999, "x")),
    "items": lambda row: list(row.items()),
    "keys": lambda row: list(row.keys()),
    "values": lambda row: list(row.values()),
    "sizeof": lambda row: row.__sizeof__() > 0,
    "copy.copy": lambda row: (type(copy.copy(row)), dict(copy.copy(row))),
    "deepcopy": lambda row: dict(copy.deepcopy(row)),
    "pickle": lambda row: dict(pickle.loads(pickle.dumps(row))),
    "a method bound before": lambda row: (row.get, row[0], row.get(1))[0](2),
    "setitem": lambda row: row.__setitem__(1, BLANK),
    "delitem": lambda row: row.__delitem__(1),
    "pop": lambda row: (row.pop(1), row.pop(999, None)),
    "popitem": lambda row: row.popitem(),
    "setdefault": lambda row: (row.setdefault(1, BLANK), row.setdefault(15, BLANK)),
    "update": lambda row: row.update({2: BLANK}),
    "ior": lambda row: row.__ior__({2: BLANK}),
    "clear": lambda row: row.clear(),
    "wrapped": lambda row: setattr(row, "wrapped", True),
}


# A row the line path leaves on screen: a line kept as written (``_RawRow``),
# or drawn into runs at once (``_LazyRow``: a piece of a line wider than the screen).
_LEFT_ROWS = {
    "_RawRow": "\x1b[31mab\x1b[0m  \x1b[1mc\x1b[0md   \r\n" + "\x1b[44mx\r\n" * 2,
    "_LazyRow": "\x1b[31mab\x1b[0m  \x1b[1mc\x1b[0md" + " " * (COLS - 4) + "e\x1b[44mx\r\nx\r\n",
}


@pytest.mark.parametrize("kind", list(_LEFT_ROWS))
@pytest.mark.parametrize("call", list(_ROW_CALLS))
def test_rows_left_on_screen_make_their_cells_on_any_use(call, kind, monkeypatch):
    """Rows the line path leaves on screen get their cells when first used
    (``_LazyRow``): every dict method, and whatever reads a dict from C,
    must see the row the cells would have made."""
    data = ("\r\n" * ROWS + _LEFT_ROWS[kind]).encode()
    use = _ROW_CALLS[call]
    lazy = fed(data)
    row = lazy._vt.buffer[ROWS - 4]
    assert type(row).__name__ == kind
    monkeypatch.setattr(vt, "CACHE_LINES", False)
    eager = fed(data)
    eager_row = eager._vt.buffer[ROWS - 4]
    assert type(eager_row) is vt.Row
    assert use(row) == use(eager_row)
    assert state(lazy) == state(eager)
    assert dict.copy(row) == dict.copy(eager_row)  # the cells themselves, once made
    # and the rows, used or not, scroll into scrollback alike
    lazy.feed(b"\r\n" * ROWS)
    eager.feed(b"\r\n" * ROWS)
    assert state(lazy) == state(eager)


# Plain text (printable ASCII lines, CR LF) around everything that must keep
# it from ``draw_plain_lines`` or make that hand over to ``draw_lines``.
_PLAIN = "".join(
    f"{'w' * (n % 7)} line {n}{' ' * (n % 4)}" + "x" * (n * 5 % (3 * COLS)) + "\r\n"
    for n in range(40)
)
PLAIN_CASES: dict[str, str] = {
    "plain only": _PLAIN,
    "wide, exact, blank and empty lines": CORPUS[
        "plain lines cut in pieces, with blank pieces and trailing spaces"
    ]
    * 3,
    "after coloured text, attributes left on": "\x1b[31mred\r\n" + _PLAIN + "\x1b[0m" + _PLAIN,
    "after an SGR ending a line": "a\x1b[1;44m\r\n" + _PLAIN + "b\x1b[m\r\n" + _PLAIN,
    "after an SGR back to the default colours": "\x1b[31m\x1b[39mx\r\n" + _PLAIN,
    "after reverse and underline turned off": "\x1b[7;4m\x1b[27;24m\r\n" + _PLAIN,
    "plain then coloured lines": _PLAIN + "\x1b[32mgreen\x1b[0m\r\n" * 3 + _PLAIN,
    "a coloured line in the middle": _PLAIN[:200] + "pre\x1b[1mbold\x1b[0m\r\n" + _PLAIN,
    "a tab in the middle": _PLAIN[:150] + "a\tb\r\n" + _PLAIN,
    "utf-8 in the middle": _PLAIN[:150] + "caf\u00e9 \u65e5\r\n" + _PLAIN,
    "a bare line feed in the middle": _PLAIN[:150] + "lf\nonly\r\n" + _PLAIN,
    "a bare carriage return in the middle": _PLAIN[:150] + "over\rOV\r\n" + _PLAIN,
    "DEL and C1 in the middle": _PLAIN[:150] + "a\x7fb\r\nc\u0085d\r\n" + _PLAIN,
    "a bell at the end of a line": _PLAIN[:150] + "ding\x07\r\n" + _PLAIN,
    "repeat after plain lines": _PLAIN + "abc\r\n\r\n\r\n\x1b[3b\r\n" + _PLAIN + "\x1b[2b",
    "reverse video screen": "\x1b[?5h" + _PLAIN + "\x1b[?5l" + _PLAIN,
    "alternate screen": "\x1b[?1049h" + _PLAIN + "\x1b[?1049l" + _PLAIN,
    "no autowrap": "\x1b[?7l" + _PLAIN + "\x1b[?7h" + _PLAIN,
    "scrolling region": "\x1b[2;4r" + _PLAIN + "\x1b[r" + _PLAIN,
    "line drawing charset": "\x1b(0" + _PLAIN + "\x1b(B" + _PLAIN,
}


def _three_ways(data: bytes, *cuts: int, **screen) -> tuple:
    """The states after the plain path, the line path alone and the slow path."""
    return (
        state(fed(data, *cuts, **screen)),
        state(fed(data, *cuts, plain=False, **screen)),
        state(fed(data, *cuts, fast=False, **screen)),
    )


@pytest.mark.parametrize("name", list(PLAIN_CASES))
def test_plain_line_path_gives_the_same_screen_at_chunk_boundaries(name):
    data = PLAIN_CASES[name].encode()
    expected = state(fed(data, fast=False))
    assert state(fed(data, plain=False)) == expected
    assert_cuts(data, expected, 0, 11, with_cuts=(0, 37))


@pytest.mark.parametrize("name", list(PLAIN_CASES))
@pytest.mark.parametrize(("cols", "rows", "limit"), [(1, 1, 1), (7, 1, 3), (5, 3, 2), (9, 4, 40)])
def test_plain_line_path_on_small_screens_and_scrollbacks(name, cols, rows, limit):
    """Batches far past the scrollback's bound (what is dropped still counts in
    ``history_base``), one-row screens, every line cut in pieces."""
    data = PLAIN_CASES[name].encode()
    fast, lines_only, slow = _three_ways(data, cols=cols, rows=rows, limit=limit)
    assert fast == slow
    assert lines_only == slow
    assert_cuts(data, slow, 0, 97, cols=cols, rows=rows, limit=limit)


def test_plain_lines_take_the_plain_path():
    s = PaneScreen(COLS, ROWS, 7)
    calls = _counting_calls(s)
    data = _PLAIN * 3 + PLAIN_CASES["wide, exact, blank and empty lines"] + "\r\n"
    # down to the bottom row first: the line paths start there
    s.feed(b"\r\n" * (ROWS - 1) + data.encode())
    # one batch, drawn without handing over to draw_lines
    assert calls["draw_plain_lines"] == [data.count("\r\n")]
    assert calls["draw_lines"] == []
    # in attributes other than the default ones, draw_lines does the work
    s.feed(b"\x1b[31m\r" + _PLAIN.encode())
    assert calls["draw_plain_lines"][1:] == [40]
    assert calls["draw_lines"] == [40]


def test_plain_line_path_rows_wrap_and_history_lines_trim_like_the_slow_path():
    """Spelled out for one case: pieces, wrap flags, trimmed and empty lines."""
    data = "a" * 5 + " " * 5 + "b" + "\r\n" + "c  \r\n\r\n" + " " * 12 + "\r\n" + "d" * 10 + "\r\n"
    s = fed(data.encode(), cols=5, rows=2)
    assert [tuple(line) for line in s.history.lines] == [
        ("aaaaa", None, True),
        ("", None, True),
        ("b", None, False),
        ("c", None, False),
        ("", None, False),
        ("", None, True),
        ("", None, True),
        ("", None, False),
        ("ddddd", None, True),
    ]
    assert s.row_text(0) == "ddddd" and s._vt.buffer[0].wrapped is False
    assert state(s) == state(fed(data.encode(), fast=False, cols=5, rows=2))


# -- lines cut by the end of a read: left unfinished, continued by the next ---------------


def light_state(s: PaneScreen) -> tuple:
    """What can be read between two reads without making a row's cells (a row
    left unfinished keeps only its compact line, and the next read continues it
    only if nothing used it since)."""
    vt = s._vt
    return (
        [s.render_row(y) for y in range(s.rows)],
        [s.row_wrapped(y) for y in range(s.rows)],
        list(s.history.lines),
        s.history.base,
        (vt.cursor.x, vt.cursor.y),
        vt.cursor.attrs,
        vt.last_char,
        sorted(s.take_dirty()),  # those of this read only
    )


def read_by_read(pieces: list[bytes], **screen) -> list[tuple]:
    """``light_state`` after each piece is fed, then the full ``state``."""
    fast = screen.pop("fast", True)
    s = fed(b"", fast=fast, **screen)
    states = []
    for piece in pieces:
        s.feed(piece)
        states.append(light_state(s))
    states.append(state(s))
    return states


def _pieces(data: bytes, *cuts: int) -> list[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


_CUT_STREAMS = {
    "colour": COLOUR_STREAMS[1],
    "plain": PLAIN_CASES["plain only"].encode(),
    "wide plain": PLAIN_CASES["wide, exact, blank and empty lines"].encode(),
    "sgr every few bytes": CORPUS["sgr every few bytes over long wrapping lines"].encode(),
    "plain then coloured": PLAIN_CASES["plain then coloured lines"].encode(),
}


@pytest.mark.parametrize("name", list(_CUT_STREAMS))
@pytest.mark.parametrize("step", [3, 7, 16, 61])
def test_lines_cut_by_reads_are_continued_like_the_slow_path(name, step):
    """Cut every ``step`` bytes: most reads end inside a line, which the line
    path leaves unfinished on the bottom row and the next read continues. The
    screen must read the same as the slow path's after every read."""
    data = b"\r\n" * ROWS + _CUT_STREAMS[name]
    pieces = _pieces(data, *range(step, len(data), step))
    expected = read_by_read(pieces, fast=False)
    assert read_by_read(pieces) == expected
    assert read_by_read(pieces, tails=False) == expected
    assert read_by_read(pieces, plain=False) == expected


# A read ending inside a line, something between, and the rest of the line.
_UNFINISHED = {
    "plain": "abc",
    "coloured": "a\x1b[31mbc\x1b[44m",
    "true colour": "\x1b[38;2;1;2;3mab\x1b[48;5;9mc",
    "trailing blanks": "ab  ",
    "coloured blanks": "\x1b[41mab  \x1b[0m",
    "sgr only": "\x1b[1;33m",
    "exactly the width": "\x1b[35m" + "w" * COLS,
    "wrapping": "v" * (COLS + 3) + "\x1b[7m",
    "twice the width": "u" * (2 * COLS),
    "cut in an sgr": "ab\x1b[38;5",
}
_BETWEEN = [
    "",
    "\x1b[A\x1b[B",
    "\x1b[2;1Hzz\x1b[6;4H",
    "\x1b[2;1Hzz\x1b[6;21H",
    "\x1b[31m",
    "\x1b[m",
    "\x08",
    "\x08\x1b[C",
    "\r",
    "\x1b[K",
    "\x1b[2K",
    "\x1b[1K",
    "\x1b7\x1b[H\x1b8",
    "\x1b[?1049hX\x1b[?1049l",
    "\x1b[?5h",
    "\x1b[?7l",
    "\x1b(0",
    "\x1b[4h",
    "\x1b[2;3r",
    "\x1b[2b",
    "\x1b[S",
    "\x07",
    "\t",
]
_REST = ["def\r\n", "\r\n", "\x1b[0m\r\nxyz\r\n", "gh", "\x1b[32m", "m\r\nq" + "r" * COLS]
_REST += ["x\r\ny", "\r\nz", "\x1b[m"]


@pytest.mark.parametrize("unfinished", list(_UNFINISHED))
@pytest.mark.parametrize("between", _BETWEEN)
def test_a_line_left_unfinished_is_continued_only_when_nothing_changed_it(unfinished, between):
    head = ("".join(f"line {n} \x1b[3{n % 8}mcol\x1b[m\r\n" for n in range(ROWS + 2))).encode()
    for rest in share(_REST):  # a quarter of the rests each run; all with HEXE_FUZZ_SCALE=1
        pieces = [head + _UNFINISHED[unfinished].encode(), between.encode(), rest.encode()]
        pieces.append(b"more\r\n")
        assert read_by_read(pieces) == read_by_read(pieces, fast=False), rest


def test_lines_cut_by_reads_take_the_line_paths():
    """A read ending inside a line hands that line's start to the line paths
    as their ``tail``; the next read continues it there, not the slow way."""
    s = PaneScreen(COLS, ROWS, 100)
    vt_screen = s._vt
    tails = []
    for name in ("draw_lines", "draw_plain_lines"):
        method = getattr(vt_screen, name)

        def spy(lines, tail=None, method=method, name=name):
            tails.append((name, len(lines), tail))
            return method(lines, tail)

        setattr(vt_screen, name, spy)
    slow = []
    draw = vt_screen.draw
    vt_screen.draw = lambda text: (slow.append(text), draw(text))
    s.feed(b"\r\n" * (ROWS - 1))  # down to the bottom row, the slow way
    s.feed(b"a\x1b[31mb\r\ncd\x1b[1")
    s.feed(b"mef\x1b[m\r\nplain\r\nplai")
    s.feed(b"n two\r\nthree\r\nfo")
    s.feed(b"ur\r\n")
    assert tails == [
        ("draw_lines", 1, "cd"),
        ("draw_lines", 2, "plai"),
        ("draw_plain_lines", 2, "fo"),
        ("draw_plain_lines", 1, None),
    ]
    assert slow == []
    assert [s.row_text(y) for y in range(ROWS)] == [
        "cdef",
        "plain",
        "plain two",
        "three",
        "four",
        "",
    ]


_PLAIN_TOKENS = st.sampled_from(
    ["a", "bcd ", "x" * 7, "y" * 9, " ", " " * 4, "\r\n", "\r\n", "\r\n", "\r\n\r\n"]
    + ["\x1b[31m", "\x1b[0m", "\x1b[m", "\x1b[1;44m", "\x1b[3b", "\t", "\r", "\n", "é"]
)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(_PLAIN_TOKENS, max_size=150),
    st.data(),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=1, max_value=12),
)
def test_plain_line_path_matches_the_slow_path_on_random_text(tokens, data, cols, rows, limit):
    stream = "".join(tokens).encode()
    cut = data.draw(st.integers(min_value=0, max_value=len(stream)))
    fast, lines_only, slow = _three_ways(stream, cut, cols=cols, rows=rows, limit=limit)
    assert fast == slow
    assert lines_only == slow


_LINE_TOKENS = st.sampled_from(
    ["a", "bcd ", "x" * 7, " " * 3, "\r\n", "\r\n", "\r\n", "\r", "\n", "\t", "é", "日"]
    + ["\x1b[31m", "\x1b[0m", "\x1b[m", "\x1b[1;44m", "\x1b[38;5;200m", "\x1b[48;2;1;2;3m"]
    + ["\x1b[7m", "\x1b[27m", "\x1b[K", "\x1b[2J", "\x1b[H", "\x1b[2;3r", "\x1b[r", "\x1b[?7l"]
    + ["\x1b[?7h", "\x1b[4h", "\x1b[4l", "\x1b[?1049h", "\x1b[?1049l", "\x1b(0", "\x1b(B"]
    + ["\x1b[?5h", "\x1b[?5l", "\x1b[3A", "\x1b[S", "\x1b[44m\x1b[K", "\x0e", "\x0f"]
    # SGR the line path's state machine must follow exactly (sgr_effect):
    # leading zeros, values out of range, cut extended colours, flags on and off
    + ["\x1b[38;2;255;0;10m", "\x1b[48;2;007;1;2m", "\x1b[38;2;1;256;3m", "\x1b[38;5;07m"]
    + ["\x1b[48;5;256m", "\x1b[38;5m", "\x1b[38;2;1m", "\x1b[1;38;2;9;8;7;4m", "\x1b[22m"]
    + ["\x1b[2;5;8;9m", "\x1b[21m", "\x1b[0;3m", "\x1b[;1m", "\x1b[25;28;29m", "\x1b[097m"]
    + ["\x1b[39;49m", "\x1b[58;5;3m", "\x1b[7;27;7m", "\x1b[103m", "\x1b[38;6;1m"]
)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(_LINE_TOKENS, max_size=120),
    st.data(),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0, max_value=12),
)
def test_line_fast_path_matches_the_slow_path_on_random_output(tokens, data, cols, rows, limit):
    stream = "".join(tokens).encode()
    cut = data.draw(st.integers(min_value=0, max_value=len(stream)))
    slow = PaneScreen(cols, rows, limit)
    slow._parser.fast_lines = False
    slow.feed(stream)
    fast = PaneScreen(cols, rows, limit)
    fast.feed(stream[:cut])
    fast.feed(stream[cut:])
    assert state(fast) == state(slow)


_COLOUR_FIELD = st.one_of(
    st.integers(min_value=0, max_value=300).map(str),
    st.sampled_from(["", "007", "x", "²", "-1"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.sampled_from(["38", "48", "58", "3"]),
    st.sampled_from(["5", "2", "1"]),
    st.lists(_COLOUR_FIELD, min_size=1, max_size=4),
    st.sampled_from([BLANK, BLANK._replace(bold=True, fg="31")]),
)
def test_one_colour_sgr_fast_path_matches_the_general_one(head, kind, fields, attrs):
    params = ";".join([head, kind, *fields])
    quick = _apply_one_colour(attrs, params)
    if quick is not None:
        assert quick == _apply(attrs, params, BLANK)


_SGR_FIELD = st.one_of(
    st.integers(min_value=0, max_value=300).map(str),
    st.sampled_from(["", "0", "00", "007", "38", "48", "58", "5", "2", "1", "22", "27", "39"]),
)
_ATTRS = st.builds(
    lambda fg, bg, flags: BLANK._replace(
        fg=fg,
        bg=bg,
        **dict(
            zip(
                (
                    "bold",
                    "italics",
                    "underscore",
                    "strikethrough",
                    "reverse",
                    "blink",
                    "dim",
                    "hidden",
                ),
                flags,
                strict=True,
            )
        ),
    ),
    st.sampled_from(["default", "31", "97", "38;5;200", "38;2;1;2;3"]),
    st.sampled_from(["default", "44", "107", "48;5;0", "48;2;255;255;255"]),
    st.lists(st.booleans(), min_size=8, max_size=8),
)


@settings(max_examples=examples(400), deadline=None)
@given(_ATTRS, st.lists(st.lists(_SGR_FIELD, max_size=6).map(";".join), min_size=1, max_size=4))
def test_sgr_effects_on_a_state_match_the_cells(attrs, sgrs):
    """The line path follows SGR as (mask, fg, bg) and effects; the escapes it
    gives must be those of the cells the general parser makes."""
    _follow_effects(attrs, sgrs)


def _follow_effects(attrs, sgrs):
    mask, fg, bg = state_of(attrs)
    assert escape_of_state(mask, fg, bg) == sgr_escape(attrs_of(attrs))
    for params in sgrs:
        if apply_sgr(attrs, params, BLANK).ext:  # an underline style or colour:
            with pytest.raises(NotInLinePath):  # the line path gives the line back
                sgr_effect(params)
            return
        keep, on, new_fg, new_bg = sgr_effect(params)
        mask = mask & keep | on
        fg = fg if new_fg is None else new_fg
        bg = bg if new_bg is None else new_bg
        attrs = apply_sgr(attrs, params, BLANK)
        escape = escape_of_state(mask, fg, bg)
        assert escape == sgr_escape(attrs_of(attrs)), params
        assert cell_of_escape(escape) == attrs, params


# Parameters like those of an escape the line path writes back (a reset, flags,
# a colour for fg and bg), valid or not: flags out of order, twice, 6 and 21,
# colours out of range, with leading zeros or cut.
_ESCAPE_LIKE = st.tuples(
    st.lists(
        st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "9", "21", "01"]), max_size=4
    ),
    st.sampled_from(["", "31", "97", "39", "38;5;200", "38;5;256", "38;5", "38;2;1;2;3"]),
    st.sampled_from(["", "38;2;01;2;3", "38;2;255;255;256", "38;2;0;0;0", "90"]),
    st.sampled_from(["", "44", "107", "49", "48;5;0", "48;2;255;255;255", "48;2;1;2", "100"]),
).map(lambda t: ";".join(["0", *t[0], *(colour for colour in t[1:] if colour)]))


@settings(max_examples=examples(400), deadline=None)
@given(_ATTRS, _ATTRS, _ESCAPE_LIKE)
def test_escapes_written_back_set_the_whole_state(attrs, other, params):
    """An unfinished row's runs are drawn again from their escapes: from any
    state, each must give exactly its attributes (and escape-like parameters
    what the cells say)."""
    escape = sgr_escape(attrs_of(attrs))
    keep, on, new_fg, new_bg = sgr_effect(escape[2:-1] or "0")
    mask, fg, bg = state_of(other)
    state = (
        mask & keep | on,
        fg if new_fg is None else new_fg,
        bg if new_bg is None else new_bg,
    )
    assert state == state_of(attrs)
    _follow_effects(other, [params])


@pytest.mark.parametrize(
    "params",
    [
        *["0;38;5;256", "0;48;5;256", "0;38;2;256;1;1", "0;38;2;01;2;3", "0;38;5;07", "0;108"],
        *["0;109", "0;38", "0;1;1", "0;4;1", "0;6", "0;21", "0;38;5;1;38;5;2", "0;31;32"],
        *["0;44;41", "0;48;2;1;2;3;38;5;1", "0;1;31;2", "0;01", "0;31;", "0;;31", "0;38;2;1;2;3;4"],
        *["0;1;2;3;4;5;7;8;9;97;107", "0;9;38;2;255;0;0;48;5;255", "0;2;1", "0;8;7", "0;38;6;1"],
    ],
)
def test_escape_like_parameters_do_what_the_cells_say(params):
    for attrs in (BLANK, BLANK._replace(bold=True, fg="38;2;1;2;3", bg="44", reverse=True)):
        _follow_effects(attrs, [params])
