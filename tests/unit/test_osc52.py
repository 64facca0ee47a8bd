"""OSC 52 (clipboard) from a pane's program: recognised, gathered past the
parser's pending limit, bounded, and never answered when it asks to read."""

from __future__ import annotations

import base64

from hexe.terminal import PaneScreen
from hexe.terminal.parser import PENDING_LIMIT
from hexe.terminal.screen import CLIPBOARD_LIMIT


def osc52(text: bytes, end: bytes = b"\x07") -> bytes:
    return b"\x1b]52;c;" + base64.b64encode(text) + end


def test_a_short_write_is_taken_once():
    screen = PaneScreen(40, 5)
    screen.feed(b"before" + osc52(b"hello") + b"after")
    assert screen.take_clipboard() == [("write", b"hello")]
    assert screen.take_clipboard() == []
    assert screen.row_text(0) == "beforeafter"


def test_a_write_longer_than_the_pending_limit_arrives_in_small_reads():
    text = bytes(range(32, 127)) * 3000  # ~285 KB, ~380 KB of base64
    data = osc52(text, b"\x1b\\") + b"next"
    assert len(data) > 50 * PENDING_LIMIT
    screen = PaneScreen(40, 5)
    for i in range(0, len(data), 4095):  # the ST is cut between two reads too
        screen.feed(data[i : i + 4095])
    assert screen.take_clipboard() == [("write", text)]
    assert screen.row_text(0) == "next"


def test_a_write_over_the_cap_is_dropped_and_the_text_after_it_shown():
    data = osc52(b"x" * (CLIPBOARD_LIMIT + 10)) + b"shown"
    screen = PaneScreen(40, 5)
    for i in range(0, len(data), 65536):
        screen.feed(data[i : i + 65536])
    assert screen.take_clipboard() == [("too-long", b"")]
    assert screen.row_text(0) == "shown"


def test_a_read_request_is_reported_and_nothing_is_answered():
    screen = PaneScreen(40, 5)
    screen.feed(b"\x1b]52;c;?\x07")
    assert screen.take_clipboard() == [("read", b"")]
    assert screen.take_responses() == b""


def test_not_base64_is_ignored():
    screen = PaneScreen(40, 5)
    screen.feed(b"\x1b]52;c;not base64!\x07ok")
    assert screen.take_clipboard() == []
    assert screen.row_text(0) == "ok"


def test_an_escape_inside_a_long_write_ends_it_and_starts_the_next_sequence():
    body = b"\x1b]52;c;" + b"QUJD" * 2000
    screen = PaneScreen(40, 5)
    screen.feed(body)
    screen.feed(b"\x1b[31mred")
    screen.feed(b"\x1b[0m")
    assert screen.take_clipboard() == [("write", b"ABC" * 2000)]
    assert screen.row_text(0) == "red"
