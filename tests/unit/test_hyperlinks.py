"""Hyperlinks (OSC 8), underline styles and colours in a pane's cells, scrollback and
rendering, and what a hostile program can and cannot make the server hold.

A pane's output is untrusted: its URIs are capped and cleaned, and the table
of links it can make the server keep is bounded in count and bytes, however
many links, and however long, it writes (docs/terminal.md).
"""

from __future__ import annotations

import random
import re
import tracemalloc

import pytest

from hexe.terminal import PaneScreen
from hexe.terminal.links import BYTES_LIMIT, ID_LIMIT, LINKS_LIMIT, URI_LIMIT, Links

OSC8 = re.compile(r"\x1b\]8;([^;\x1b]*);([^\x1b]*)\x1b\\")


def _link(uri: str, params: str = "") -> bytes:
    return f"\x1b]8;{params};{uri}\x1b\\".encode()


END = b"\x1b]8;;\x1b\\"


def _opened(rendered: str) -> list[str]:
    """The URIs of the links a rendered row opens, in order."""
    return [uri for _, uri in OSC8.findall(rendered) if uri]


# -- the table's bounds -------------------------------------------------------------------


def test_a_uri_longer_than_the_limit_opens_no_link():
    links = Links()
    start = "https://e.org/"
    assert links.open(";" + start + "a" * (URI_LIMIT - len(start))) != 0
    assert links.open(";" + start + "a" * (URI_LIMIT - len(start) + 1)) == 0
    # counted in bytes: 2 KiB of a 3-byte character is 6 KiB on the wire
    assert links.open(";https://e.org/" + "語" * (URI_LIMIT // 3)) == 0


def test_controls_are_removed_from_a_uri():
    links = Links()
    number = links.open(";http://a/\x01b\x7fc\x9bd\x85e\tf\ng")
    assert links.opening(number) == "\x1b]8;;http://a/bcdefg\x1b\\"


def test_an_id_is_cut_and_cleaned_and_never_reaches_the_terminal_as_written():
    links = Links()
    number = links.open("foo=1:id=" + "x" * 500 + "\x1b\x07<>" + ":bar=2;http://a/")
    opening = links.opening(number)
    assert opening == f"\x1b]8;id=hexe{number};http://a/\x1b\\"
    # one (id, URI) is one link; the same URI under another id is another
    assert links.open("id=" + "x" * ID_LIMIT + ";http://a/") == number
    assert links.open("id=y;http://a/") != number
    assert links.open(";http://a/") not in (0, number)


def test_the_table_keeps_at_most_its_count_and_bytes_whatever_is_written():
    links = Links()
    for i in range(LINKS_LIMIT * 4):
        links.open(f";http://e.org/{i}")
    assert len(links) == LINKS_LIMIT
    for i in range(LINKS_LIMIT * 4):
        links.open(f"id={i};http://e.org/{i:04d}" + "a" * (URI_LIMIT - 20))
    assert links.size <= BYTES_LIMIT and len(links) <= BYTES_LIMIT // (URI_LIMIT - 20)


def test_the_least_recently_used_link_goes_first_and_its_number_is_never_reused():
    links = Links(limit=3)
    a, b, c = (links.open(f";http://{n}/") for n in "abc")
    assert links.open(";http://a/") == a  # used again: now the newest
    d = links.open(";http://d/")
    assert links.opening(b) is None  # the least recently used went
    assert {links.opening(n) for n in (a, c, d)} == {
        "\x1b]8;;http://a/\x1b\\",
        "\x1b]8;;http://c/\x1b\\",
        "\x1b]8;;http://d/\x1b\\",
    }
    assert len({a, b, c, d, links.open(";http://b/")}) == 5  # b again: a new number


def test_numbers_are_never_shared_between_panes():
    one, two = PaneScreen(20, 3), PaneScreen(20, 3)
    one.feed(_link("http://one/") + b"x")
    two.feed(_link("http://two/") + b"y")
    n1 = one._vt.buffer[0][0].link
    n2 = two._vt.buffer[0][0].link
    assert n1 != n2
    assert two._vt.links.opening(n1) is None


# -- a hostile pane -----------------------------------------------------------------------


def test_a_flood_of_distinct_long_links_keeps_the_server_memory_bounded():
    """Every cell of 600 lines a link of its own, each URI the longest
    accepted: the pane holds at most its table's budget of URIs, however
    much scrollback names them."""
    screen = PaneScreen(20, 10, scrollback=3000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        pad = "p" * (URI_LIMIT - 40)
        for line in range(600):
            row = b"".join(_link(f"https://e.org/{line}/{x}/{pad}") + b"x" for x in range(20))
            screen.feed(row + END + b"\r\n")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    links = screen._vt.links
    assert len(links) <= LINKS_LIMIT and links.size <= BYTES_LIMIT
    # 12 000 URIs of 2 KiB (24 MiB) were written; what stays is the table
    # (256 KiB) and the compact lines (20 runs a line, each a short escape)
    assert grown < 8 << 20, grown
    # the newest lines still link to their URIs, evicted ones show as text
    newest = screen.render_row(screen.rows - 2)
    assert _opened(newest)[0].startswith("https://e.org/599/0/")
    assert _opened(screen.history_row(0)) == []
    assert screen.history_text(0) == "x" * 20


@pytest.mark.parametrize("seed", range(6))
def test_random_osc8_and_underline_sequences_never_break_the_screen(seed):
    rnd = random.Random(seed)
    pieces = [
        b"\x1b]8;;", b"\x1b]8;id=", b";", b":", b"=", b"http://a/", b"\x1b\\", b"\x07",
        b"\x1b[4:", b"\x1b[58:", b"\x1b[58;5;", b"\x1b[58;2;", b"\x1b[21m", b"\x1b[59m",
        b"3m", b"9", b"2", b"5", b"::", b"\x1b[0m", b"\x1b[24m", b"text", b"\r\n", b"\x9c",
        b"\x00", b"\x1b", "語".encode(), b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[2J",
    ]  # fmt: skip
    data = b"".join(rnd.choice(pieces) for _ in range(4000))
    whole = PaneScreen(17, 5, scrollback=50)
    whole.feed(data)
    bytewise = PaneScreen(17, 5, scrollback=50)
    for i in range(len(data)):
        bytewise.feed(data[i : i + 1])
    for screen in (whole, bytewise):
        for i in range(screen.line_count):
            rendered = screen.render_line(i)
            assert rendered.startswith("\x1b[0m") and rendered.endswith("\x1b[0m")
            # a link a row opens is closed before its end
            links = OSC8.findall(rendered)
            assert not links or links[-1] == ("", ""), rendered
    assert [whole.render_line(i) for i in range(whole.line_count)] == [
        bytewise.render_line(i) for i in range(bytewise.line_count)
    ]


# -- the cells, scrollback and the line path ------------------------------------------------


def test_links_and_underline_styles_are_kept_in_scrollback_and_brought_back():
    screen = PaneScreen(20, 3, scrollback=100)
    screen.feed(_link("http://a/") + b"ab" + END + b"\x1b[4:3;58;5;9mcd\x1b[0m\r\n")
    before = screen.render_row(0)
    screen.feed(b"\r\n" * 5)
    assert screen.history_row(0) == before  # compact in scrollback, the same
    assert _opened(before) == ["http://a/"] and "4:3;58:5:9" in before
    screen.resize(20, 10)  # the lines come back from scrollback as cells
    assert screen.render_row(0) == before
    assert screen._vt.buffer[0][2].ext == "4:3;58:5:9"


@pytest.mark.parametrize(
    "sgr", ["58;5;9", "58;2;1;2;3", "21", "4;58:5:1", "1;21;31", "58;5;9;59", "21;24"]
)
def test_the_line_path_gives_the_same_screen_as_the_cells_for_underline_sgr(sgr):
    lines = []
    for i in range(30):
        lines.append(f"plain {i} \x1b[31mred\x1b[{sgr}m styled {i}\x1b[0m end")
        if i % 7 == 3:
            lines.append(f"\x1b[{sgr}mcarried over")
    data = ("\r\n".join(lines) + "\r\ntail \x1b[" + sgr + "mcut").encode()

    def fed(fast: bool, chunk: int) -> PaneScreen:
        screen = PaneScreen(24, 6, scrollback=200)
        screen._parser.fast_lines = screen._parser.line_tails = fast
        screen._parser.plain_lines = fast
        for i in range(0, len(data), chunk):
            screen.feed(data[i : i + chunk])
        return screen

    def seen(screen: PaneScreen) -> tuple:
        return (
            [screen.render_line(i) for i in range(screen.line_count)],
            screen.cursor,
            screen._vt.cursor.attrs,
        )

    expected = seen(fed(False, len(data)))
    for chunk in (len(data), 1, 7, 64):
        assert seen(fed(True, chunk)) == expected, chunk


def test_a_stream_with_underline_colours_still_takes_the_line_path_elsewhere():
    """A line the line path gives back costs only its own batch: the lines
    after the next break in the text take the line path again."""
    screen = PaneScreen(40, 5, scrollback=1000)
    calls = []
    draw_lines = screen._vt.draw_lines

    def counting(lines, tail=None):
        done = draw_lines(lines, tail)
        calls.append((len(lines), done))
        return done

    screen._vt.draw_lines = counting
    # an underline colour that outlasts its line (one a reset in the line undoes
    # is read the cells' way when the line is read: test_terminal_raw_lines.py)
    styled = "".join(f"\x1b[31mline {i}\r\n" for i in range(50)) + "\x1b[58;5;1mx\r\n"
    more = "".join(f"\x1b[32mmore {i}\r\n" for i in range(50))
    screen.feed((styled + "a\x1b[0m\tb\r\n" + more).encode())
    given_back = [i for i, (_, done) in enumerate(calls) if not done]
    assert given_back  # the batch holding SGR 58
    # the one after the tab
    assert any(count >= 50 and done for count, done in calls[given_back[0] + 1 :])
