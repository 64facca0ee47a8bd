"""What a pane's program asks of the terminal: answers to queries, and modes
passed on to the outer terminal.

Queries (DA, DSR, XTVERSION, DECRQM) are answered by the pane's screen as
tmux answers them (checked against a live tmux when it is installed, and
against tmux 3.3a's recorded answers always). Cursor shape (DECSCUSR), focus
events (DECSET 1004), synchronized output (DECSET 2026), the bell, hyperlinks
(OSC 8), underline styles (SGR 4:N, 21) and colours (SGR 58/59) go through the
compositor (``hexe_render``) to the client's terminal, which is played by a
hexe pane screen here and read back.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import hexe_render
import pytest

from hexe import __version__
from hexe.mux.layout import Rect
from hexe.mux.view import PaneView, View
from hexe.terminal import PaneScreen

#: tmux 3.3a's answers, recorded with ``conformance_record.tmux_answers``
#: (80x24, the cursor home). tmux 3.3a answers no DECRQM; hexe does (as xterm).
TMUX_ANSWERS = {
    "\x1b[c": "\x1b[?1;2c",
    "\x1b[0c": "\x1b[?1;2c",
    "\x1b[>c": "\x1b[>84;0;0c",
    "\x1b[5n": "\x1b[0n",
    "\x1b[6n": "\x1b[1;1R",
    "\x1b[=c": "",
}
HEXE_ONLY = {
    "\x1bZ": "\x1b[?1;2c",  # DECID: xterm answers it as DA; tmux 3.3a does not
    "\x1b[>q": f"\x1bP>|hexe {__version__}\x1b\\",  # tmux: "\x1bP>|tmux 3.3a\x1b\\"
    "\x1b[?2004$p": "\x1b[?2004;2$y",
    "\x1b[?1004$p": "\x1b[?1004;2$y",
    "\x1b[?2026$p": "\x1b[?2026;2$y",
    "\x1b[?25$p": "\x1b[?25;1$y",
    "\x1b[?7$p": "\x1b[?7;1$y",
    "\x1b[4$p": "\x1b[4;2$y",
    # tmux 3.3a swaps the two numbers (8;80;24t); xterm's order is rows;columns
    "\x1b[18t": "\x1b[8;24;80t",
}


def _answer(query: str) -> str:
    screen = PaneScreen(80, 24)
    screen.feed(query.encode())
    return screen.take_responses().decode()


@pytest.mark.parametrize("query", sorted(TMUX_ANSWERS))
def test_a_query_is_answered_as_tmux_answers_it(query):
    assert _answer(query) == TMUX_ANSWERS[query]


@pytest.mark.parametrize("query", sorted(HEXE_ONLY))
def test_a_query_tmux_does_not_answer_is_answered_as_xterm_does(query):
    assert _answer(query) == HEXE_ONLY[query]


def test_the_recorded_answers_are_a_live_tmux_answers():
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: only tmux 3.3a's recorded answers are compared")
    sys.path.insert(0, str(Path(__file__).parents[2] / "scripts"))
    from conformance_record import tmux_answers

    live = tmux_answers(sorted(TMUX_ANSWERS))
    assert {q: _answer(q) for q in TMUX_ANSWERS} == live


# -- modes passed to the outer terminal -------------------------------------------------

COLS, ROWS = 20, 5


def _view(screen: PaneScreen, **changes) -> View:
    pane = PaneView(
        id=800, rect=Rect(0, 0, COLS, ROWS - 1), screen=screen, focused=True, title="",
        isolation="", notice=None, copy=None,
    )  # fmt: skip
    view = View(
        cols=COLS, rows=ROWS, session="s", tabs=(), panes=(pane,), borders=None, zoomed=False,
        status_left=(), status_right=(), message=None, prompt=None, overlay=None,
        focused_title="", focused_isolation="", mouse=False, known_panes=(800,),
    )  # fmt: skip
    return replace(view, **changes)


class _Client:
    """The client's terminal, drawn frame after frame."""

    def __init__(self) -> None:
        self.terminal = PaneScreen(COLS, ROWS)
        self.state = None
        self.frames: list[bytes] = []

    def draw(self, pane: PaneScreen) -> bytes:
        # the server takes a pane's bell once a frame (hexe/server/frames.py)
        view = _view(pane, bell=pane.take_bell())
        data, self.state = hexe_render.hexe_render(view=view, previous=self.state)
        self.terminal.feed(data)
        self.frames.append(data)
        return data


def test_the_focused_pane_cursor_shape_reaches_the_terminal():
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    assert client.terminal.cursor_style == 0
    pane.feed(b"\x1b[5 q")
    client.draw(pane)
    assert client.terminal.cursor_style == 5
    pane.feed(b"\x1b[2 q")
    client.draw(pane)
    assert client.terminal.cursor_style == 2


def test_focus_events_are_asked_of_the_terminal_while_the_program_wants_them():
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    assert not client.terminal.focus_events
    pane.feed(b"\x1b[?1004h")
    client.draw(pane)
    assert client.terminal.focus_events
    pane.feed(b"\x1b[?1004l")
    client.draw(pane)
    assert not client.terminal.focus_events


def test_the_bell_rings_in_the_terminal_once():
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    pane.feed(b"ding\x07")
    assert b"\x07" in client.draw(pane)
    pane.feed(b"more")
    assert b"\x07" not in client.draw(pane)


def test_a_synchronized_update_is_shown_whole_when_it_ends():
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    pane.feed(b"\x1b[?2026hhalf a fra")
    client.draw(pane)
    assert client.terminal.row_text(0) == ""
    pane.feed(b"me\x1b[?2026l")
    client.draw(pane)
    assert client.terminal.row_text(0) == "half a frame"


def test_a_synchronized_update_never_ended_shows_after_the_timeout(monkeypatch):
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    pane.feed(b"\x1b[?2026hstuck")
    client.draw(pane)
    assert client.terminal.row_text(0) == ""
    monkeypatch.setattr(hexe_render, "SYNC_TIMEOUT", 0.0)
    client.draw(pane)
    assert client.terminal.row_text(0) == "stuck"


def _cell(screen: PaneScreen, x: int, y: int):
    return screen._vt.buffer[y][x]


@pytest.mark.parametrize(
    "sequence, sent, ext",
    [
        (b"\x1b[4:3mcurly\x1b[0m", b"4;4:3m", "4:3"),
        (b"\x1b[4:2mdouble\x1b[0m", b"4;4:2m", "4:2"),
        (b"\x1b[21mdouble\x1b[0m", b"4;4:2m", "4:2"),
        (b"\x1b[4:4mdotted\x1b[0m", b"4;4:4m", "4:4"),
        (b"\x1b[4:5mdashed\x1b[0m", b"4;4:5m", "4:5"),
        (b"\x1b[4;58;5;196mred\x1b[0m", b"4;58:5:196m", "58:5:196"),
        (b"\x1b[4;58:5:196mred\x1b[0m", b"4;58:5:196m", "58:5:196"),
        (b"\x1b[4;58;2;1;2;3mrgb\x1b[0m", b"4;58:2::1:2:3m", "58:2::1:2:3"),
        (b"\x1b[4:3;58:2::1:2:3mboth\x1b[0m", b"4;4:3;58:2::1:2:3m", "4:3;58:2::1:2:3"),
    ],
)
def test_underline_styles_and_colours_reach_the_terminal(sequence, sent, ext):
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    pane.feed(sequence)
    assert sent in client.draw(pane)
    assert _cell(client.terminal, 0, 0).ext == ext  # the terminal got the style
    assert _cell(client.terminal, 0, 0).underscore


@pytest.mark.parametrize(
    "sequence",
    [b"\x1b[4:3mx\x1b[4:0my", b"\x1b[4:3mx\x1b[24my", b"\x1b[4:3mx\x1b[4my", b"\x1b[4:3mx\x1b[0my"],
)
def test_an_underline_style_ends_as_xterm_ends_it(sequence):
    pane = PaneScreen(COLS, ROWS - 1)
    pane.feed(sequence)
    assert _cell(pane, 0, 0).ext == "4:3"
    assert _cell(pane, 1, 0).ext == ""


def test_sgr_59_ends_the_underline_colour_only():
    pane = PaneScreen(COLS, ROWS - 1)
    pane.feed(b"\x1b[4:3;58;5;9mx\x1b[59my")
    assert (_cell(pane, 0, 0).ext, _cell(pane, 1, 0).ext) == ("4:3;58:5:9", "4:3")


def test_a_hyperlink_reaches_the_terminal_and_ends_with_its_text():
    pane = PaneScreen(COLS, ROWS - 1)
    client = _Client()
    client.draw(pane)
    pane.feed(b"\x1b]8;;https://example.org\x1b\\link\x1b]8;;\x1b\\ plain")
    frame = client.draw(pane)
    assert b"\x1b]8;;https://example.org\x1b\\link\x1b]8;;\x1b\\" in frame
    links = client.terminal._vt.links
    opened = [links.opening(_cell(client.terminal, x, 0).link) for x in range(COLS)]
    assert opened[:4] == ["\x1b]8;;https://example.org\x1b\\"] * 4
    assert opened[4:] == [None] * (COLS - 4)  # the link is closed after its text


def test_a_hyperlink_survives_sgr_resets_and_reaches_capture():
    from hexe.server.commands import capture

    pane = PaneScreen(COLS, ROWS - 1)
    pane.feed(b"\x1b]8;id=x;http://a/\x07\x1b[1ma\x1b[0mb\x1b]8;;\x07c")
    captured = capture(pane, [{"escapes": True, "start": 0, "end": 0}])
    opening = pane._vt.links.opening(_cell(pane, 0, 0).link)
    assert opening is not None and opening.endswith(";http://a/\x1b\\")
    assert captured == (
        f"\x1b[0m\x1b[0;1m{opening}a\x1b[0m{opening}b\x1b]8;;\x1b\\\x1b[0mc\x1b[0m\n"
    )


def test_a_linked_row_closes_its_link_when_cut_by_the_pane_edge():
    pane = PaneScreen(8, 2)
    pane.feed(b"\x1b]8;;http://a/\x1b\\" + b"x" * 8)
    row = pane.render_row(0, 5)
    assert row.endswith("xxxxx\x1b]8;;\x1b\\\x1b[0m")
