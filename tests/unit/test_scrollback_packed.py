"""Scrollback keeps a line in the default attributes that does not wrap as its bare
text (issue 18: the tuple around it was a quarter of its memory); every line read
back is the :class:`Line` that went in."""

from __future__ import annotations

import random
from collections import deque

from hexe.terminal import PaneScreen
from hexe.terminal.lines import Line, Scrollback


def _random_line(rng: random.Random) -> Line:
    text = "".join(rng.choice("ab c") for _ in range(rng.randrange(0, 12)))
    runs = None if rng.random() < 0.6 else ("\x1b[31m", len(text))
    return Line(text, runs, rng.random() < 0.2)


def test_lines_read_back_are_the_lines_pushed():
    rng = random.Random(18)
    packed, reference = Scrollback(50), deque(maxlen=50)
    base = 0
    for _ in range(2000):
        step = rng.random()
        if step < 0.5:
            line = _random_line(rng)
            base += len(reference) == 50
            packed.push(line)
            reference.append(line)
        elif step < 0.8:
            batch = [_random_line(rng) for _ in range(rng.randrange(0, 70))]
            base += max(0, len(reference) + len(batch) - 50)
            packed.extend(batch)
            reference.extend(batch)
        elif step < 0.95 and reference:
            assert packed.pop() == reference.pop()
        else:
            base += len(reference)
            packed.clear()
            reference.clear()
        assert packed.lines == list(reference)
        assert all(type(line) is Line for line in packed.lines)
        assert len(packed) == len(reference) and packed.base == base
        for i in range(len(reference)):
            assert packed[i] == reference[i] and type(packed[i]) is Line
            assert packed.text(i) == reference[i].text


def test_plain_lines_are_kept_as_their_text():
    screen = PaneScreen(20, 5, 100)
    screen.feed(b"".join(b"line %d\r\n" % n for n in range(30)) + b"\x1b[31mred\x1b[0m\r\n" * 5)
    ring = screen.history._ring
    # the plain lines as their text; the red ones as written (test_terminal_raw_lines.py)
    assert {type(item) for item in ring} == {str}
    assert [item for item in ring if "\x1b" not in item] == [f"line {n}" for n in range(30)]
    assert all(screen.history[i].runs is not None for i in range(30, len(ring)))
    assert screen.history_text(0) == "line 0"
    assert screen.history[0] == Line("line 0", None, False)


def test_a_scrollback_without_lines_has_no_ring_of_its_own():
    """An empty ring still holds a block of 64 slots: a pane that never
    scrolled (most of 250 idle shells) shares one that holds nothing."""

    a, b = Scrollback(100), Scrollback(100)
    assert a._ring is b._ring and len(a) == 0 and a.lines == []
    a.push("x")
    assert a._ring is not b._ring and len(a) == 1 and len(b) == 0 and a.text(0) == "x"
    b.extend(["y", "z"])
    assert [b.text(0), b.text(1)] == ["y", "z"] and len(a) == 1
    none = Scrollback(0)  # no scrollback: lines are dropped and counted, as before
    none.push("x")
    none.extend(["y"])
    assert len(none) == 0 and none.base == 2 and Scrollback(0)._ring is none._ring
    a.clear()
    b.clear()
    assert len(a) == len(b) == 0 and a.base == 1 and b.base == 2


def test_a_blank_row_is_rendered_as_one_string_for_its_width():
    """The renderer keeps every pane's rendered rows: the blank ones of an
    idle pane are one string a width (~3.5 KiB a pane), the same text as the
    general path makes (a run of default spaces goes through it)."""
    from hexe.terminal.lines import render

    for width in (0, 1, 7, 80):
        for text in ("", " ", " " * 100):
            fast = render(Line(text, None, False), width)
            slow = render(Line(" " * width, ("", width), False), width) if width else fast
            assert fast == slow and fast is render(Line("", None, False), width)
    assert render(Line(" x", None, False), 4) == "\x1b[0m x  \x1b[0m"
    screen = PaneScreen(20, 3)
    screen.feed(b"hi")
    rows = [screen.render_row(y) for y in range(3)]
    assert rows[1] is rows[2] and rows[0].startswith("\x1b[0mhi")
