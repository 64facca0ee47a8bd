"""The line patterns of the terminal's fast path, against a plain reference, in both forms.

CPython 3.11.0-3.11.2 match possessive quantifiers inside a possessive
repetition wrongly; the parser then uses atomic groups instead
(``hexe/terminal/parser.py``). Both forms must give the reference's matches
on this Python, whichever one it uses.
"""

from __future__ import annotations

import random
import re

import pytest

from hexe.terminal import parser

PRINTABLE = {chr(c) for c in range(0x20, 0x7F)}


def ref_tail(s: str, pos: int) -> int:
    """How far printable ASCII and whole SGR sequences reach from ``pos``."""
    while pos < len(s):
        if s[pos] in PRINTABLE:
            pos += 1
        elif s.startswith("\x1b[", pos):
            j = pos + 2
            while j < len(s) and s[j] in "0123456789;":
                j += 1
            if j < len(s) and s[j] == "m":
                pos = j + 1
            else:
                break
        else:
            break
    return pos


def ref_lines(s: str, pos: int) -> int | None:
    """The end of the whole CR LF lines of the same from ``pos``; None for none."""
    end = None
    while True:
        stop = ref_tail(s, pos)
        if not s.startswith("\r\n", stop):
            return end
        pos = end = stop + 2


PIECES = ["a", "b", " ", "~", "\x1b", "[", "5", ";", "m", "H", "\r", "\n", "\r\n", "\x1b[1m",
          "\x1b[5;1H", "\x1b[", "\x1b[38;5;1m", "é", "\x07"]  # fmt: skip


def samples(count: int = 4000) -> list[str]:
    rnd = random.Random(11)
    return ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 16))) for _ in range(count)]


@pytest.mark.parametrize("form", ["possessive", "atomic"])
def test_the_line_patterns_match_as_the_reference(form):
    if form == "possessive" and not parser.possessive_ok():
        pytest.skip("this Python's re gets possessive quantifiers wrong (3.11.0-3.11.2)")
    lines = re.compile(getattr(parser, f"LINES_{form.upper()}"))
    tail = re.compile(getattr(parser, f"TAIL_{form.upper()}"))
    for s in samples():
        for pos in range(min(len(s), 3) + 1):
            found = lines.match(s, pos)
            assert (found.end() if found else None) == ref_lines(s, pos), (s, pos)
            assert tail.match(s, pos).end() == ref_tail(s, pos), (s, pos)


def test_the_parser_uses_a_form_that_is_right_here():
    for s in samples(500):
        assert parser._TAIL.match(s).end() == ref_tail(s, 0), s
