"""Compact lines: how a row is kept in scrollback, rendered, measured and searched.

A :class:`Line` is a row reduced to its text and a run-length list of
attributes, with no per-cell objects: ``Line("ls -l", None, False)`` for plain
text, ``Line("ab", ("\\x1b[0;31m", 1, "", 1), False)`` for a red ``a`` and a
plain ``b``. Wide characters appear once in the text (their right half is
implied by their width), trailing blank cells are dropped, and ``wrapped`` says
the row continued on the next one (the program wrote past the last column).

Scrollback is a ring of these (:class:`Scrollback`); visible rows are compacted
on demand, so rendering a row and rendering a history line are the same code.

Widths follow pyte's ``wcwidth`` (the one the screen lays characters out with),
so a rendered line is always exactly as wide as asked. Nothing here knows about
escape parsing or the PTY.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from functools import lru_cache, partial
from itertools import compress
from operator import ne
from typing import NamedTuple

from pyte.screens import wcwidth

from hexe.terminal.cells import (
    BLANK,
    LINK_MARK,
    PLAIN_GLYPHS,
    Cell,
    attrs_from_escape,
    attrs_of,
    data_of,
    sgr_escape,
)
from hexe.terminal.links import LINK_END, Links
from hexe.terminal.sgrline import SGR, line_parts

RESET = "\x1b[0m"

# Zero-width joiners and emoji presentation selectors are kept in a line's text
# (copying gives the exact characters) but not sent to the outer terminal: many
# terminals would draw "👨‍👩" or "❤️" narrower or wider than the cells counted
# here, and everything right of it on the row (a border) would shift.
_NOT_RENDERED = str.maketrans({"\u200d": None, "\ufe0f": None})


def drawable(text: str) -> str:
    """``text`` as it is sent to the outer terminal: without the zero-width
    joiners and emoji presentation selectors a pane's rows leave out too, so
    that what hexe draws itself (a title, a tab name) takes the cells
    :func:`text_width` counts, on every terminal."""
    return text if text.isascii() else text.translate(_NOT_RENDERED)


class Line(NamedTuple):
    """A row without per-cell objects. ``runs`` is None when every character has
    the default attributes, else a flat tuple ``(escape, length, escape, length,
    …)`` where each length counts characters of ``text`` and each escape is the
    :func:`~hexe.terminal.cells.sgr_escape` of the run (``""`` for default)."""

    text: str
    runs: tuple | None
    wrapped: bool


EMPTY = Line("", None, False)
EMPTY_WRAPPED = Line("", None, True)

#: ``new_line((text, runs, wrapped))`` is ``Line(text, runs, wrapped)`` made
#: without the Python-level ``__new__`` of a NamedTuple: for hot paths, and
#: for ``map`` over tuples of fields.
new_line = partial(tuple.__new__, Line)


def char_width(char: str) -> int:
    """Cells taken by one code point: 0 for combining and other zero-width ones."""
    width = wcwidth(char)
    return width if width > 0 else 0


def text_width(text: str) -> int:
    """Cells taken by ``text`` as laid out on a screen."""
    if text.isascii():
        return len(text)
    return sum(map(char_width, text))


def clip(text: str, width: int) -> str:
    """The longest start of ``text`` that takes at most ``width`` cells: a
    wide character that would cross the edge is left out whole, never cut
    in half; zero-width characters stay with the one before them."""
    if text.isascii():
        return text[: max(width, 0)]
    used = 0
    for index, char in enumerate(text):
        used += char_width(char)
        if used > width:
            return text[:index]
    return text


def clip_start(text: str, width: int) -> str:
    """The longest end of ``text`` that takes at most ``width`` cells (a
    wide character crossing the edge is left out whole)."""
    if text.isascii():
        return text[len(text) - max(width, 0) :] if width > 0 else ""
    used = 0
    for index in range(len(text) - 1, -1, -1):
        used += char_width(text[index])
        if used > width:
            start = index + 1
            while start < len(text) and char_width(text[start]) == 0:
                start += 1  # marks whose base was left out
            return text[start:]
    return text


def fit(text: str, width: int) -> str:
    """``text`` clipped to ``width`` cells and padded with spaces to exactly
    ``width`` (a wide character that does not fit becomes spaces)."""
    shown = clip(text, width)
    return shown + " " * (width - text_width(shown))


def index_to_column(text: str, index: int) -> int:
    """The column where character ``index`` of a line's text starts."""
    return text_width(text[:index])


def column_to_index(text: str, column: int) -> int:
    """The index in ``text`` of the character covering ``column`` (a column in the
    right half of a wide character gives that character); ``len(text)`` past the end."""
    if text.isascii():
        return min(max(column, 0), len(text))
    used = 0
    for index, char in enumerate(text):
        width = char_width(char)
        if width and used + width > column:
            return index
        used += width
    return len(text)


def cut(text: str, start: int, end: int) -> str:
    """The characters of ``text`` whose first cell is in columns ``[start, end)``."""
    if text.isascii():
        return text[max(start, 0) : max(end, 0)]
    out = []
    used = 0
    keep = False
    for char in text:
        width = char_width(char)
        if width:
            keep = start <= used < end
            used += width
        if keep:
            out.append(char)
    return "".join(out)


def _normalize(cells: list[Cell]) -> list[Cell]:
    """Drop the right halves of wide characters and blank any half left alone
    (overwritten by a narrow character, or cut by a resize)."""
    out = []
    count = len(cells)
    i = 0
    while i < count:
        cell = cells[i]
        data = cell[0]
        if data == "":
            out.append(cell._replace(data=" "))
        elif not data.isascii() and wcwidth(data[0]) == 2:
            if i + 1 < count and cells[i + 1][0] == "":
                out.append(cell)
                i += 2
                continue
            out.append(cell._replace(data=" "))
        else:
            out.append(cell)
        i += 1
    return out


def compact(row: dict[int, Cell] | None, columns: int) -> Line:
    """The :class:`Line` for a screen row (pyte's sparse column -> Cell mapping,
    whose ``default`` fills missing columns) ``columns`` wide."""
    if row is None:
        return EMPTY
    wrapped = getattr(row, "wrapped", False)
    default = getattr(row, "default", BLANK)
    cached = getattr(row, "cached", None)  # a row drawn by the line path, unchanged since
    if cached is not None and cached[0] == columns and cached[1].wrapped == wrapped:
        if default is BLANK:
            return cached[1]
    if default is BLANK or default == BLANK:
        if not row:
            return EMPTY_WRAPPED if wrapped else EMPTY
        end = min(columns, max(row) + 1)
    else:
        end = columns
    cells = list(map(row.__getitem__, range(end)))
    datas = list(map(data_of, cells))
    text = "".join(datas)
    if "" in datas or not text.isascii():
        cells = _normalize(cells)
        text = "".join(map(data_of, cells))
    if list(map(PLAIN_GLYPHS.__getitem__, map(data_of, cells))) == cells:
        # All default attributes (mostly the very same interned cells: fast).
        return new_line((text.rstrip(" "), None, wrapped))
    keys = list(map(attrs_of, cells))
    count = len(keys)
    # Run boundaries, found without a Python-level loop over the cells.
    starts = [0, *compress(range(1, count), map(ne, keys[1:], keys[:-1])), count]
    one_char_cells = text.isascii()
    runs: list = []
    for i in range(len(starts) - 1):
        begin, stop = starts[i], starts[i + 1]
        runs.append(sgr_escape(keys[begin]))
        if one_char_cells:
            runs.append(stop - begin)
        else:
            runs.append(len("".join(map(data_of, cells[begin:stop]))))
    if runs[-2] == "":
        text = _trim_trailing_blanks(text, runs)
    if len(runs) == 2 and runs[0] == "":
        return new_line((text, None, wrapped))
    return new_line((text, tuple(runs), wrapped))


def _trim_trailing_blanks(text: str, runs: list) -> str:
    """Drop the blanks that end ``text`` from its last run (in the default
    attributes; ``runs`` is changed, and loses that run when nothing is left)."""
    trailing = runs[-1]
    kept = len(text[len(text) - trailing :].rstrip(" "))
    runs[-1] = kept
    if not kept:
        del runs[-2:]
    return text[: len(text) - trailing + kept]


def line_of_runs(text: str, runs: list, wrapped: bool) -> Line:
    """The :class:`Line` :func:`compact` would make of a row holding ``text``
    (one-cell characters from column 0, the rest of the row blank) in the
    attributes of ``runs`` (flat ``[escape, length, …]``, adjacent escapes
    differing; it is changed), without making the cells: the fast path's way
    into scrollback."""
    if not runs:
        return EMPTY_WRAPPED if wrapped else EMPTY
    if runs[-2] == "":  # trailing blanks in the default attributes are dropped
        text = _trim_trailing_blanks(text, runs)
    if not runs or (len(runs) == 2 and runs[0] == ""):
        return new_line((text, None, wrapped))
    return new_line((text, tuple(runs), wrapped))


def segments(line: Line) -> Iterator[tuple[str, str]]:
    """``(escape, text)`` pairs of a line, in order."""
    if line.runs is None:
        yield "", line.text
        return
    text = line.text
    runs = line.runs
    position = 0
    for i in range(0, len(runs), 2):
        length = runs[i + 1]
        yield runs[i], text[position : position + length]
        position += length


def _clip(text: str, room: int) -> tuple[str, int]:
    """The part of ``text`` that fits in ``room`` cells, and its width; a wide
    character that does not fit becomes a space."""
    out = []
    used = 0
    for char in text:
        width = char_width(char)
        if used + width > room:
            if used < room:
                out.append(" " * (room - used))
                used = room
            break
        out.append(char)
        used += width
    return "".join(out), used


@lru_cache(maxsize=256)  # widths come from clients: a bound
def _blank(width: int) -> str:
    """A blank row rendered: one string for every blank row of every pane of
    that width (the renderer keeps each pane's rows: ~3.5 KiB an idle pane)."""
    return RESET + " " * max(width, 0) + RESET


def render(line: Line, width: int, links: Links | None = None) -> str:
    """The line as SGR-escaped text exactly ``width`` cells wide: it starts with
    a reset and ends with one, and is padded with plain spaces. Runs in a
    hyperlink open it (OSC 8, as ``links`` has it) and the line closes it."""
    row = line.text
    if line.runs is None and (not row or (row[0] == " " and row.count(" ") == len(row))):
        return _blank(width)  # no copy of the row (strip's) on the way to finding out
    out = [RESET]
    used = 0
    current = ""
    for escape, text in segments(line):
        if used >= width:
            break
        if text.isascii():
            size = len(text)
            if used + size > width:
                text = text[: width - used]
                size = width - used
        else:
            size = text_width(text)
            if used + size > width:
                text, size = _clip(text, width - used)
            text = text.translate(_NOT_RENDERED)
        if escape != current:
            out.append(escape or RESET)
            current = escape
        out.append(text)
        used += size
    if used < width:
        if current:
            out.append(RESET)
        out.append(" " * (width - used))
    out.append(RESET)
    rendered = "".join(out)
    if "\x00" in rendered:  # a LINK_MARK: one memchr a row, the loop above stays as it was
        return _with_links(rendered, links)
    return rendered


# Where a run starts in a rendered line (text holds no ESC): its SGR, and the
# link mark its escape carries, if any.
_RUN_START = re.compile(r"\x1b\[[0-9;:]*m(?:" + re.escape(LINK_MARK) + r"([0-9]+);\x1b\\)?")


def _with_links(rendered: str, links: Links | None) -> str:
    """A rendered line whose runs carry link marks, with each mark replaced by
    the OSC 8 that opens its link (nothing for a link not kept) and the link
    ended where a run without one starts (the last reset ends any)."""
    out = []
    position = 0
    linked = False
    for match in _RUN_START.finditer(rendered):
        number = match[1]
        opening = None
        if number is not None and links is not None:
            opening = links.opening(int(number))
        if opening is None and linked:
            out.append(rendered[position : match.start()])
            out.append(LINK_END)
            position = match.start()
            linked = False
        if number is not None:
            out.append(rendered[position : match.start(1) - len(LINK_MARK)])
            if opening is not None:
                out.append(opening)
                linked = True
            position = match.end()
    out.append(rendered[position:])
    return "".join(out)


def expand(line: Line, columns: int, row: dict[int, Cell]) -> None:
    """Write a line's cells back into an empty screen row (``row``), cut at
    ``columns``: the inverse of :func:`compact`, for lines brought back from
    scrollback when a screen grows."""
    x = 0
    previous = None
    for escape, text in segments(line):
        attrs = attrs_from_escape(escape)
        for char in text:
            width = char_width(char)
            if width == 0:
                if previous is not None:
                    cell = row[previous]
                    row[previous] = cell._replace(data=cell.data + char)
                continue
            if x + width > columns:
                return
            row[x] = attrs._replace(data=char)
            if width == 2:
                row[x + 1] = attrs._replace(data="")
            previous = x
            x += width
    row.wrapped = line.wrapped  # type: ignore[attr-defined]


#: the ring of every scrollback that has no line yet (holds none: maxlen 0)
_NO_LINES: deque[str | Line] = deque(maxlen=0)


class Scrollback:
    """Lines scrolled off the top of a screen, oldest first, at most ``limit``.

    ``base`` counts the lines ever dropped from the front (by the bound or by
    :meth:`clear`), so ``base + i`` is a stable number for line ``i`` while
    output keeps arriving: copy mode can hold on to a position with it.

    A line in the default attributes that does not wrap (most of a build
    log) is kept as its bare text, not a :class:`Line`: the tuple around it
    was a quarter of such a line's memory. A coloured line the line fast
    path sent straight here may be kept as the program wrote it (a raw line,
    :mod:`hexe.terminal.sgrline`: a ``str`` holding ESC, which text never
    does), made into its text and runs only when read. Every line read back
    is a :class:`Line` (:meth:`__getitem__`, :meth:`pop`, :attr:`lines`).
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        #: made at the first line: an empty ring still holds a block of 64
        #: slots (~0.7 KiB a pane that never scrolls)
        self._ring: deque[str | Line] = _NO_LINES
        self.base = 0

    def _made(self) -> deque[str | Line]:
        ring = self._ring
        if ring is _NO_LINES and self.limit:
            ring = self._ring = deque(maxlen=self.limit)
        return ring

    @property
    def lines(self) -> list[Line]:
        """Every line, oldest first, as a :class:`Line` (made for the call)."""
        return [_unpacked(item) for item in self._ring]

    def __len__(self) -> int:
        return len(self._ring)

    def __getitem__(self, index: int) -> Line:
        return _unpacked(self._ring[index])

    def text(self, index: int) -> str:
        """Line ``index``'s text (without making its :class:`Line`, but for a raw line)."""
        item = self._ring[index]
        if item.__class__ is not str:
            return item[0]
        return item if "\x1b" not in item else raw_text(item)  # type: ignore[operator,arg-type]

    def push(self, line: Line | str) -> None:
        ring = self._ring
        if ring is _NO_LINES:  # a line at a time on the PTY's path: no call unless needed
            ring = self._made()
        if len(ring) == self.limit:
            self.base += 1
        ring.append(pack_line(line))

    def extend(self, lines: list, skipped: int = 0, packed: bool = False) -> None:
        """Push ``skipped`` lines that are not given (they would not survive
        the bound anyway), then ``lines`` (each a :class:`Line`, or the bare
        text of one in the default attributes that does not wrap; ``packed``:
        each already as :func:`pack_line` gives it): only valid when
        ``lines`` alone fill the ring, or nothing is skipped."""
        if not packed:
            lines = list(map(pack_line, lines))
        if self._ring is _NO_LINES:
            self._made()
        if skipped:
            assert len(lines) >= self.limit
            self.base += len(self._ring) + skipped + len(lines) - self.limit
            self._ring.clear()
            self._ring.extend(lines)
            return
        overflow = len(self._ring) + len(lines) - self.limit
        if overflow > 0:
            self.base += overflow
        self._ring.extend(lines)

    def pop(self) -> Line:
        """Take back the newest line (a screen growing pulls it down again)."""
        return _unpacked(self._ring.pop())

    def clear(self) -> None:
        self.base += len(self._ring)
        self._ring.clear()


def pack_line(line: Line | str) -> Line | str:
    """How :class:`Scrollback` keeps ``line``: its bare text when it has
    the default attributes and does not wrap, else the line itself (a raw
    line, a ``str`` holding ESC, as it is)."""
    if line.__class__ is str or line[1] is not None or line[2]:
        return line
    return line[0]


def raw_line(raw: str) -> Line:
    """The :class:`Line` of a line kept as written (:mod:`hexe.terminal.sgrline`):
    the one the line path would have made of it, not wrapped."""
    text, runs = line_parts(raw)
    return line_of_runs(text, runs, False)


def raw_text(raw: str) -> str:
    """The text of :func:`raw_line`'s line, without making its runs (copy
    mode's search reads every line of scrollback): the line without its SGRs,
    unless blanks end it (they are dropped in the default attributes only)."""
    text = SGR.sub("", raw)
    return raw_line(raw).text if text.endswith(" ") else text


def _unpacked(item: Line | str) -> Line:
    if item.__class__ is not str:
        return item  # type: ignore[return-value]
    if "\x1b" in item:  # type: ignore[operator]
        return raw_line(item)  # type: ignore[arg-type]
    return new_line((item, None, False))
