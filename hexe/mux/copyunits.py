"""A line as copy mode moves over it: characters with their display columns.

A wide character (CJK, most emoji) takes two columns, a combining mark or
other zero-width character none: it stays with the character before it, so
moving, selecting and copying never split them.
"""

from __future__ import annotations

from hexe.terminal.lines import char_width

#: A unit of a line: (first column, width, the characters: a base and its marks)
Unit = tuple[int, int, str]


def units(text: str) -> list[Unit]:
    """A line's characters with their columns; marks stay with their base."""
    if text.isascii():
        return [(i, 1, c) for i, c in enumerate(text)]
    out: list[Unit] = []
    column = 0
    marks = ""  # zero-width characters before any base: they go with the first
    for char in text:
        width = char_width(char)
        if width == 0:
            if out:
                x, w, chars = out[-1]
                out[-1] = (x, w, chars + char)
            else:
                marks += char
            continue
        out.append((column, width, marks + char))
        marks = ""
        column += width
    return out


def blank_class(char: str) -> int:
    return 0 if char[:1].isspace() or not char else 1


def word_class(char: str) -> int:
    """vi's classes: 0 blank, 1 a word character, 2 other punctuation."""
    first = char[:1]
    if not first or first.isspace():
        return 0
    return 1 if first.isalnum() or first == "_" else 2
