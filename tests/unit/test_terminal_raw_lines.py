"""Coloured lines drawn by the line path are kept as written (issue 18).

``VTScreen.draw_lines`` keeps a whole line that fits in a row as the program
wrote it (``hexe.terminal.sgrline``), with the escape of the attributes it
started in, in scrollback and in the row it leaves on screen (``_RawRow``),
and makes its text and runs only when it is read. Everything read back must
be what the character-by-character path gives, whatever the reads' cuts; an
SGR the line path cannot follow is read as the cells take it before a line's
last reset, and gives the whole batch to the cells after it; and what a
pane can make the server hold stays within a budget: a raw line at most
``RAW_PER_COLUMN`` characters a column, the SGR caches at their bounds.
"""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.feeding import fed
from support.speed import examples

from hexe.terminal import PaneScreen, cells, vt
from hexe.terminal.cells import NotInLinePath, sgr_effect
from hexe.terminal.lines import Line
from hexe.terminal.sgrline import RAW_PER_COLUMN

# Every attribute set and reset, 16/256/true colour, odd parameter lists, the
# double underline and underline colours (which only the cells follow).
COLOUR_SGR = [
    *"1 2 3 4 5 6 7 8 9 21 22 23 24 25 27 28 29 39 49 0".split(),
    *(f"{base}{n}" for base in ("3", "9", "4", "10") for n in range(8)),
    *["", ";", ";1", "1;", "0;;1", "00", "01", "031", "0;1;2;3;4;5;7;8;9", "7;27", "4;21;24"],
    *["38;5;0", "38;5;255", "48;5;16", "38;5;256", "38;5;007", "48;5", "38;5;", "38;5;21"],
    *["38;2;0;0;0", "48;2;255;255;255", "48;2;1;22;133", "38;2;21;58;121", "48;2;01;2;3"],
    *["38;2;256;0;0", "38;2;1;2", "38;2;1;2;3;", "1;38;2;1;2;3", "38;2;1;2;3;48;5;9"],
    *["58;2;1;2;3", "58;5;3", "021", "1;0058;5;1", "22;23;24;25;27;28;29", "65536"],
]
_FIELD = st.one_of(
    st.integers(min_value=0, max_value=300).map(str),
    st.sampled_from(["", "0", "00", "007", "38", "48", "58", "5", "2", "1", "21", "39", "255"]),
)
_COLOUR_SGR_PARAMS = st.one_of(
    st.sampled_from(COLOUR_SGR),
    st.lists(_FIELD, max_size=8).map(";".join),
    st.tuples(
        st.sampled_from(["38", "48"]),
        st.sampled_from(["2", "5"]),
        st.lists(st.integers(min_value=0, max_value=300).map(str), max_size=4),
    ).map(lambda t: ";".join([t[0], t[1], *t[2]])),
)


def state(s: PaneScreen) -> tuple:
    """Everything the line path could get wrong: scrollback as read back, the
    rows rendered and as cells, the cursor, the last character, dirty rows."""
    screen = s._vt
    rendered = [s.render_row(y) for y in range(s.rows)]
    return (
        list(s.history.lines),
        {type(line) for line in s.history.lines},  # Line, not a tuple that equals one
        [s.history.text(i) for i in range(s.history_size)],
        s.history.base,
        rendered,
        [s.row_wrapped(y) for y in range(s.rows)],
        [[screen.buffer[y][x] for x in range(screen.columns)] for y in range(screen.lines)],
        (screen.cursor.x, screen.cursor.y),
        screen.cursor.attrs,
        screen.last_char,
        sorted(screen.dirty),
    )


# The SGRs the line path follows, and those it gives to the cells.
FOLLOWED = []
for _params in COLOUR_SGR:
    try:
        sgr_effect(_params)
        FOLLOWED.append(_params)
    except NotInLinePath:
        pass
NOT_FOLLOWED = sorted(set(COLOUR_SGR) - set(FOLLOWED))


def _raw_items(s: PaneScreen) -> list[str]:
    return [item for item in s.history._ring if type(item) is str and "\x1b" in item]


def _long_batch(seed: int, cols: int, count: int = 90, sgrs: list[str] = FOLLOWED) -> str:
    """Lines of words with an SGR every few characters, one read's worth: no
    line the line path does not take, so most rows go straight to
    scrollback. Among them lines ending with a reset, with an SGR after it,
    SGRs only, empty, blank, exactly as wide as the screen, wrapping, and
    plain lines in whatever attributes are current."""
    rnd = random.Random(seed)

    def sgr() -> str:
        return f"\x1b[{rnd.choice(sgrs)}m"

    out = []
    for n in range(count):
        kind = n % 9
        if kind == 0:
            line = sgr() + sgr()
        elif kind == 1:
            line = rnd.choice(["", "plain words", " " * (cols + 2)])
        elif kind == 2:
            line = sgr() + " " * rnd.randint(1, cols) + sgr() + "  "
        elif kind == 3:
            line = sgr() + "w" * (cols - 3) + sgr() + "xyz" + sgr()
        elif kind == 4:
            line = "a" * cols + sgr() + "b" * (cols - 1) + sgr() + "c" + sgr() + "d" * 3
        else:
            line = "".join(
                sgr() + rnd.choice(["ab", "cd ", "e", "fgh ij", " ", "k" * 9])
                for _ in range(rnd.randint(1, 8))
            )
            line += rnd.choice(["\x1b[0m", "\x1b[m", "\x1b[0m" + sgr(), "", sgr()])
        out.append(line + "\r\n")
    return "".join(out) + sgr() + "tail" + sgr()


def test_coloured_lines_scrolling_off_within_a_read_are_kept_as_written():
    data = _long_batch(0, 20).encode()
    fast, slow = fed(data, cols=20, rows=6), fed(data, cols=20, rows=6, fast=False)
    raw = _raw_items(fast)
    assert len(raw) > 30
    assert state(fast) == state(slow)
    for i in range(fast.history_size):
        assert type(fast.history[i]) is Line
        assert fast.history[i] == slow.history[i]
        assert fast.history.text(i) == slow.history.text(i)
        assert fast.history_text(i) == slow.history_text(i)
        assert fast.history_row(i) == slow.history_row(i)
        assert fast.line(i) == slow.line(i)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("cols", "rows", "limit"), [(20, 6, 1000), (7, 1, 3), (5, 3, 40), (9, 4, 0)]
)
def test_raw_lines_read_back_as_the_slow_path_draws_at_any_cut(seed, cols, rows, limit):
    data = _long_batch(seed, cols).encode()
    screen = {"cols": cols, "rows": rows, "limit": limit}
    expected = state(fed(data, fast=False, **screen))
    assert state(fed(data, **screen)) == expected
    assert state(fed(data, plain=False, **screen)) == expected
    # every 41st cut alone, and with another 300 bytes on; a feed takes the
    # cuts CUT_PERIOD apart at once (pieces that long hold whole lines), and
    # a mismatch is looked for again one cut at a time, to name it
    for offset in range(seed, min(CUT_PERIOD, len(data) + 1), 41):
        cuts = range(offset, len(data) + 1, CUT_PERIOD)
        pairs = sorted({c + extra for c in cuts for extra in (0, 300)})
        if state(fed(data, *cuts, **screen)) == expected == state(fed(data, *pairs, **screen)):
            continue
        for cut in cuts:
            assert state(fed(data, cut, **screen)) == expected, cut
            assert state(fed(data, cut, cut + 300, **screen)) == expected, cut
        pytest.fail(f"cuts at {list(cuts)} together, or each with one 300 bytes on")


#: cuts this many bytes apart go into one feed: a multiple of 41
CUT_PERIOD = 41 * 25


def test_raw_lines_come_back_down_when_the_screen_grows():
    data = _long_batch(5, 20).encode()
    fast, slow = fed(data, cols=20, rows=6), fed(data, cols=20, rows=6, fast=False)
    assert _raw_items(fast)
    for s in (fast, slow):
        s.resize(20, 30)
    assert state(fast) == state(slow)


@pytest.mark.parametrize("where", ["before a reset", "after the last reset"])
@pytest.mark.parametrize("params", NOT_FOLLOWED)
def test_an_sgr_only_the_cells_follow_is_read_as_the_cells_take_it(params, where):
    """Before the line's last reset, such an SGR is forgotten by the state
    and taken the cells' way when the line is read; after it, it would set
    the attributes later lines start in: the batch goes to the cells."""
    lines = [f"\x1b[3{n % 8}mline {n}\x1b[0m" for n in range(40)]
    if where == "before a reset":
        lines[3] += f"\x1b[{params}mu\x1b[1m\x1b[0m"
    else:
        lines[3] += f"\x1b[0m\x1b[{params}mu"  # and on to line 4's end
    data = ("\r\n" * 6 + "\r\n".join(lines) + "\r\n").encode()  # from the bottom row
    fast = fed(data, cols=20, rows=6)
    raw = _raw_items(fast)
    assert (lines[3] in raw) is (where == "before a reset")
    assert bool(raw) is (where == "before a reset")
    assert state(fast) == state(fed(data, cols=20, rows=6, fast=False))


def test_rep_after_early_lines_repeats_their_last_character():
    rows = 6
    for data in (
        "\r\n" * rows + "x\x1b[31my\x1b[m\r\n" + "\r\n" * 20 + "\x1b[3b",
        "\r\n" * rows + "ab",  # left unfinished, then continued by nothing but empty lines
    ):
        pieces = [data.encode(), ("\r\n" * 20 + "\x1b[2b").encode()]
        fast, slow = fed(b""), fed(b"", fast=False)
        for piece in pieces:
            fast.feed(piece)
            slow.feed(piece)
        assert state(fast) == state(slow)


_TOKENS = st.one_of(
    _COLOUR_SGR_PARAMS.map(lambda params: f"\x1b[{params}m"),
    st.sampled_from(["a", "bcd ", "x" * 7, " " * 3, "\x1b[0m", "\x1b[m", "\x1b[21m"]),
    st.sampled_from(["\r\n"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(_TOKENS, min_size=20, max_size=200),
    st.data(),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=0, max_value=12),
)
def test_random_colour_batches_read_back_as_the_slow_path_draws(tokens, data, cols, rows, limit):
    stream = "".join(["\r\n" * rows, *tokens]).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=2)))
    screen = {"cols": cols, "rows": rows, "limit": limit}
    assert state(fed(stream, *cuts, **screen)) == state(fed(stream, *cuts, fast=False, **screen))


def _size(item) -> int:
    """Bytes an item of the scrollback ring holds (a Line's parts included)."""
    if type(item) is str:
        return sys.getsizeof(item)
    size = sys.getsizeof(item) + sys.getsizeof(item.text)
    if item.runs is not None:
        size += sys.getsizeof(item.runs) + sum(sys.getsizeof(x) for x in item.runs[::2])
    return size


def test_a_line_of_many_sgrs_that_change_nothing_is_not_kept_as_written():
    """A hostile pane: thousands of SGRs between two letters. Kept as written,
    each line would hold them all; past ``RAW_PER_COLUMN`` characters a
    column it is made into runs, so its memory has the same bound as any."""
    cols = 20
    line = "a" + "\x1b[m\x1b[1m\x1b[22m" * 2000 + "b\x1b[31mc\x1b[0m"
    data = ((line + "\r\n") * 60).encode()
    fast = fed(data, cols=cols, rows=6, limit=100)
    assert fast.history_size == 55
    assert max(map(_size, fast.history._ring)) < RAW_PER_COLUMN * cols + 200
    assert state(fast) == state(fed(data, cols=cols, rows=6, limit=100, fast=False))


def test_the_sgr_caches_stay_bounded_whatever_a_pane_prints():
    """Tens of thousands of distinct SGR parameter strings: every cache the
    line path and the cells fill keeps to its bound."""
    s = PaneScreen(40, 6, 100)
    for start in range(0, 20_000, 500):
        s.feed(
            "".join(
                f"\x1b[{n % 97};{n};38;5;{n % 256}mx{n}\x1b[48;2;{n % 256};{n >> 8};1my\r\n"
                for n in range(start, start + 500)
            ).encode()
        )
    assert len(cells.SGR_EFFECTS) <= cells._CACHE_LIMIT
    assert len(cells._sgr_cache) <= cells._CACHE_LIMIT
    assert len(cells._escape_cache) <= cells._CACHE_LIMIT
    assert len(cells._cells_of_escapes) <= cells._CACHE_LIMIT
    assert len(vt._GLYPHS_OF_ESCAPES) <= vt._GLYPH_TABLES_LIMIT
    assert s.history_size == 100
    assert s.history_text(99) == f"x{19_994}y"


def test_an_unread_raw_row_marked_wrapped_scrolls_off_wrapped(monkeypatch):
    """A row kept as written hands its raw line to scrollback only while it is
    still what it was made as: one marked as wrapping goes as its cells say."""
    data = ("\r\n" * 6 + "\x1b[31mab\x1b[0m\r\n" + "x\r\n" * 2).encode()
    screens = []
    for cache in (True, False):
        monkeypatch.setattr(vt, "CACHE_LINES", cache)
        s = fed(data)
        row = s._vt.buffer[2]
        assert (type(row).__name__ == "_RawRow") is cache
        row.wrapped = True
        s.feed(b"\r\n" * 6)
        screens.append(s)
    assert screens[0].history[-4] == Line("ab", ("\x1b[0;31m", 2), True)
    assert state(screens[0]) == state(screens[1])


@settings(max_examples=examples(400), deadline=None)
@given(
    st.lists(
        st.one_of(
            _COLOUR_SGR_PARAMS.map(lambda params: f"\x1b[{params}m"),
            st.sampled_from(["\x1b[m", "\x1b[38;m", "\x1b[48;m", "38;", "\x1b[0m", "m[;"]),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=9),
        ),
        max_size=30,
    ).map("".join)
)
def test_the_longest_text_a_line_can_hold_is_never_less_than_its_text(line):
    """Whether a line fits in a row is first told without reading its SGRs."""
    assert vt._longest_text(line) >= len(vt.SGR.sub("", line))
