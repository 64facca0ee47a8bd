"""The cell model of one pane: pyte's ``Screen`` with what a multiplexer needs.

pyte (pinned, 0.8.2) keeps the grid and most VT100 operations: cursor motion,
margins, tabs, charsets, insert/delete characters. :class:`VTScreen` overrides
what a multiplexer cannot do without, or what pyte gets wrong for real programs:

- scrollback: lines leaving the top of the main screen (full-screen scroll
  region only, as in tmux) are compacted into a bounded ring; a full-screen
  erase keeps what it erases there too (tmux's ``scroll-on-clear``);
- the alternate screen (DECSET 47/1047/1049), with the main screen and its
  cursor put aside and restored;
- the modes a multiplexer acts on (bracketed paste, mouse, DECCKM, focus,
  keypad, synchronized output, cursor style) and the replies a program waits
  for (DA, DSR, DECRQM, window size);
- drawing: an interned-cell fast path for ASCII, wide characters that wrap
  instead of being cut at the margin, zero-width characters (ZWJ, variation
  selectors) that join the previous cell instead of stopping the draw;
- erasing with the background colour only (BCE), as xterm and tmux do;
- SGR with 256 and true colour kept as indexes/values, dim, hidden, and
  colon sub-parameters;
- resize that pushes rows into scrollback when the screen shrinks and pulls
  them back when it grows, instead of losing the top rows.

Escape sequences are parsed by :mod:`hexe.terminal.parser`, which calls the
methods here; the public face is :class:`hexe.terminal.screen.PaneScreen`.
Nothing here reads a PTY or draws to a terminal.
"""

from __future__ import annotations

import copy
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, count, repeat
from operator import itemgetter
from typing import Any

import pyte
from pyte import charsets as cs
from pyte import modes as mo
from pyte.screens import Margins, Savepoint, StaticDefaultDict, wcwidth

from hexe.terminal.cells import (
    BLANK,
    FLAG_PREFIX,
    PLAIN_GLYPHS,
    Cell,
    Glyphs,
    NotInLinePath,
    apply_sgr,
    cell_of_escape,
    escape_of_state,
    state_of,
)
from hexe.terminal.lines import (
    EMPTY,
    RESET,
    Line,
    Scrollback,
    compact,
    expand,
    line_of_runs,
    new_line,
    pack_line,
    segments,
)
from hexe.terminal.links import Links
from hexe.terminal.sgrline import (
    RAW_PER_COLUMN,
    SGR,
    SGR_IN_LINE,
    line_parts,
    runs_of_line,
    state_after,
)

# Private (DECSET) modes, numbered as the programs write them.
DECCKM = 1
DECCOLM = 3
DECSCNM = 5
MOUSE_X10 = 9
ALT_SCREEN_47 = 47
ALT_SCREEN_1047 = 1047
SAVE_CURSOR_1048 = 1048
ALT_SCREEN_1049 = 1049
MOUSE_NORMAL = 1000
MOUSE_BUTTON_EVENT = 1002
MOUSE_ANY_EVENT = 1003
FOCUS_EVENTS = 1004
MOUSE_UTF8 = 1005
MOUSE_SGR = 1006
MOUSE_URXVT = 1015
BRACKETED_PASTE = 2004
SYNCHRONIZED_OUTPUT = 2026

ALT_SCREENS = (ALT_SCREEN_47, ALT_SCREEN_1047, ALT_SCREEN_1049)
MOUSE_TRACKING = (MOUSE_X10, MOUSE_NORMAL, MOUSE_BUTTON_EVENT, MOUSE_ANY_EVENT)
MOUSE_ENCODINGS = (MOUSE_UTF8, MOUSE_SGR, MOUSE_URXVT)
# Private modes DECRQM can report on (1 set / 2 reset); others answer 0.
KNOWN_PRIVATE_MODES = frozenset(
    {DECCKM, DECCOLM, 5, 6, 7, 12, 25, *ALT_SCREENS, *MOUSE_TRACKING, FOCUS_EVENTS}
    | {*MOUSE_ENCODINGS, BRACKETED_PASTE, SYNCHRONIZED_OUTPUT}
)

_TITLE_STACK_LIMIT = 10
_GLYPH_TABLES_LIMIT = 512
REPEAT_LIMIT = 65535
#: Characters one cell may hold: its base and combining marks (tmux keeps a
#: few bytes; more is never text anyone reads, and each mark re-normalises).
CELL_TEXT_LIMIT = 16
# An SGR in a line: a lone true colour (group 1) apart from the others (group 2).
_SGR_IN_LINE = SGR_IN_LINE
# Rows the line path leaves on screen keep the compact line they were made
# from (:class:`_CachedRow`); off only to compare with the cells' own.
CACHE_LINES = True


@lru_cache(maxsize=64)  # widths come from clients: a bound
def _default_tabstops(columns: int) -> frozenset[int]:
    """The default tab stops (every 8th column) of a width, shared by every
    screen of that width until one sets or clears a stop (then it has a set of
    its own): a set of them is ~2 KiB a pane at 200 columns."""
    return frozenset(range(8, columns, 8))


def _private(mode: int) -> int:
    """pyte keeps private modes shifted left by 5 in ``Screen.mode``."""
    return mode << 5


class Row(StaticDefaultDict):
    """A screen row: column -> :class:`Cell`, sparse; missing columns are ``default``.

    ``wrapped`` is True when the program's text ran past the last column into
    the next row (a soft wrap, not a newline): copy mode joins such rows.
    """

    wrapped = False


class _CachedRow(Row):
    """A row drawn by the line path, carrying the :class:`Line` it was made
    from as ``cached`` (``(columns, line)``): rendering it and scrolling it
    off reuse that instead of compacting the cells again. Its first change
    makes it a plain :class:`Row` again, without the cache."""

    def _forget(self) -> None:
        self.__class__ = Row
        self.__dict__.pop("cached", None)

    def __setitem__(self, key, value) -> None:
        self._forget()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        self._forget()
        dict.__delitem__(self, key)

    def update(self, *args, **kwargs) -> None:
        self._forget()
        dict.update(self, *args, **kwargs)

    def pop(self, *args):
        self._forget()
        return dict.pop(self, *args)

    def popitem(self):
        self._forget()
        return dict.popitem(self)

    def clear(self) -> None:
        self._forget()
        dict.clear(self)

    def setdefault(self, key, default=None):
        self._forget()
        return dict.setdefault(self, key, default)

    def __ior__(self, other):
        self._forget()
        dict.update(self, other)
        return self


class _LazyRow(_CachedRow):
    """A row the line path left on screen whose cells are not made yet: it
    holds only ``cached`` and ``length`` (the columns its text took, blanks
    the compact line drops included). Rendering it and scrolling it off need
    only the line; the first call of any ``dict`` method (a read or a write)
    makes the cells, and the row is a :class:`_CachedRow` from then on."""

    def _make_cells(self) -> None:
        if type(self) is _RawRow:
            _RawRow._settle(self)
        if type(self) is not _LazyRow:  # made already (a method bound before)
            return
        self.__class__ = _CachedRow
        line = self.cached[1]
        text = line.text
        _fill_row(self, text, line.runs or ("", len(text)))
        length = self.__dict__.pop("length")
        if length > len(text):  # the trailing blanks, as the line path drew them
            dict.update(self, dict.fromkeys(range(len(text), length), BLANK))


def _making_cells(name: str):
    def method(self, *args, **kwargs):
        _LazyRow._make_cells(self)
        return getattr(self, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in (
    *("__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__len__"),
    *("__reversed__", "__eq__", "__ne__", "__or__", "__ror__", "__ior__", "__repr__"),
    *("__sizeof__", "clear", "copy", "get", "items", "keys", "pop", "popitem"),
    *("setdefault", "update", "values", "__reduce__", "__reduce_ex__"),
):
    setattr(_LazyRow, _name, _making_cells(_name))


class _RawRow(_LazyRow):
    """A :class:`_LazyRow` made of a line kept as written (``raw``: see
    :mod:`hexe.terminal.sgrline`) on a screen ``raw_columns`` wide, one
    that does not wrap. Its compact line and length are made when first
    asked for (to render it), and it is a :class:`_LazyRow` from then on;
    scrolled off unread, it hands the raw line to scrollback as it is. Most
    rows of fast coloured output scroll by between two frames unread."""

    @property
    def cached(self) -> tuple[int, Line]:  # type: ignore[override]
        _RawRow._settle(self)
        return self.cached

    @property
    def length(self) -> int:  # type: ignore[override]
        _RawRow._settle(self)
        return self.length

    def _settle(self) -> None:
        if type(self) is not _RawRow:
            return
        fields = self.__dict__
        text, runs = line_parts(fields.pop("raw"))
        fields["length"] = len(text)
        fields["cached"] = (fields.pop("raw_columns"), line_of_runs(text, runs, False))
        self.__class__ = _LazyRow


def _raw_row(raw: str, columns: int) -> Row | None:
    """The screen row for a line kept as written (see :class:`_RawRow`)."""
    if CACHE_LINES:
        row = _RawRow(BLANK)
        row.raw = raw
        row.raw_columns = columns
        return row
    text, runs = line_parts(raw)
    return _row_of(text, runs, False, columns) if text else None


def _screen_row(item: str | tuple, columns: int) -> Row | None:
    """The screen row for one of the rows :meth:`VTScreen.draw_lines` makes
    (see :func:`_rows_of_lines`); None for an empty one."""
    if item.__class__ is str:
        if "\x1b" in item:
            return _raw_row(item, columns)  # type: ignore[arg-type]
        return _row_of(item, ["", len(item)], False, columns) if item else None  # type: ignore[arg-type]
    text, runs, wrapped = item
    return _row_of(text, runs, wrapped, columns) if text or wrapped else None


def _kept(item: str | tuple) -> Line | str:
    """One of the rows :meth:`VTScreen.draw_lines` makes as scrollback keeps it."""
    if item.__class__ is str:
        return item if "\x1b" in item else item.rstrip(" ")  # type: ignore[union-attr]
    return pack_line(line_of_runs(*item))


def _text_of(item: str | tuple) -> str:
    """The text of one of the rows :meth:`VTScreen.draw_lines` makes."""
    if item.__class__ is str:
        return SGR.sub("", item) if "\x1b" in item else item  # type: ignore[arg-type]
    return item[0]


def _row_leaving(row: Row | None, columns: int) -> Line | str:
    """A screen row scrolling off, as scrollback keeps it: a :class:`_RawRow`
    still unread (and not resized since) as its raw line."""
    if (
        type(row) is _RawRow
        and row.raw_columns == columns
        and row.default is BLANK
        and not row.wrapped
    ):
        return row.raw
    return pack_line(compact(row, columns))


def _row_of(text: str, runs: list, wrapped: bool, columns: int) -> Row:
    """The screen row for ``text`` (one-cell characters from column 0) in the
    attributes of ``runs`` (flat ``[escape, length, …]``; it may be changed)."""
    if CACHE_LINES:  # the cells are made when first asked for
        return _lazy_row(len(text), line_of_runs(text, runs, wrapped), columns)
    row = Row(BLANK)
    _fill_row(row, text, runs)
    if wrapped:
        row.wrapped = True
    return row


def _lazy_row(length: int, line: Line, columns: int) -> Row:
    """A :class:`_LazyRow` of ``line``, whose text took ``length`` columns."""
    row = _LazyRow(BLANK)
    row.length = length
    row.cached = (columns, line)
    if line.wrapped:
        row.wrapped = True
    return row


def _plain_row(text: str, wrapped: bool, columns: int) -> Row:
    """:func:`_row_of` for printable ASCII in the default attributes, whose
    compact line is its text without the trailing blanks (no runs to find)."""
    if not CACHE_LINES:
        return _row_of(text, ["", len(text)], wrapped, columns)
    return _lazy_row(len(text), new_line((text.rstrip(" "), None, wrapped)), columns)


_GLYPHS_OF_ESCAPES: dict[str, Glyphs] = {"": PLAIN_GLYPHS}


def _glyphs_of_escape(escape: str) -> Glyphs:
    """The interned cells of the attributes an escape of a run sets."""
    glyphs = _GLYPHS_OF_ESCAPES.get(escape)
    if glyphs is None:
        if len(_GLYPHS_OF_ESCAPES) >= _GLYPH_TABLES_LIMIT:
            _GLYPHS_OF_ESCAPES.clear()
            _GLYPHS_OF_ESCAPES[""] = PLAIN_GLYPHS
        glyphs = _GLYPHS_OF_ESCAPES[escape] = Glyphs(cell_of_escape(escape))
    return glyphs


def _fill_row(row: dict, text: str, runs) -> None:
    """Put the cells of ``text`` (one-cell characters from column 0) in the
    attributes of ``runs`` (flat ``(escape, length, …)``) into ``row``,
    through ``dict``'s own methods."""
    x = 0
    for i in range(0, len(runs), 2):
        glyph = _glyphs_of_escape(runs[i]).__getitem__
        end = x + runs[i + 1]
        dict.update(row, zip(range(x, end), map(glyph, text[x:end]), strict=True))
        x = end


def _longest_text(line: str) -> int:
    """The most characters of text ``line`` (one-cell characters and SGR)
    can hold, counted without reading its SGRs: each takes 3 characters
    (ESC, ``[``, ``m``) and one parameter character but ``ESC [m``; those
    starting ``38;`` or ``48;`` (256 and true colours) two more."""
    sgrs = line.count("\x1b")
    colours = line.count("\x1b[38;") + line.count("\x1b[48;")
    return len(line) - 4 * sgrs + line.count("\x1b[m") - 2 * colours


def _rows_of_lines(lines: list[str], columns: int, state: tuple, add) -> tuple:
    """Whole lines drawn from ``state`` (``(mask, fg, bg, escape)``): their
    rows given to ``add``, and the state after them. A line that fits in a
    row and holds an SGR, or is drawn in attributes other than the default
    ones, is kept as written: a ``str`` holding ESC, the escape of the
    attributes it starts in, then the line (:mod:`hexe.terminal.sgrline`);
    its runs are made when it is read. A line of text in the default
    attributes is its ``str``; others (wider than a row, or with more SGR
    than :data:`~hexe.terminal.sgrline.RAW_PER_COLUMN` allows) are
    ``(text, runs, wrapped)`` for each row. Raises ``NotInLinePath`` for
    an SGR the state cannot follow that matters after the line (see
    :func:`~hexe.terminal.sgrline.state_after`)."""
    mask, fg, bg, escape = state
    limit = RAW_PER_COLUMN * columns
    prefix = FLAG_PREFIX
    for line in lines:
        size = len(line)
        if "\x1b" not in line:
            if size > columns:
                _cut_rows(line, [escape, size], columns, add)
            else:
                add(escape + line if escape and line else line)
            continue
        if size > limit or (
            size - 3 * line.count("\x1b") > columns  # each SGR takes 3 characters at least
            and _longest_text(line) > columns
            and len(SGR.sub("", line)) > columns
        ):
            text, runs, mask, fg, bg, escape = runs_of_line(line, mask, fg, bg, escape)
            if len(text) <= columns:
                add((text, runs, False))
            else:
                _cut_rows(text, runs, columns, add)
            continue
        add(escape + line if escape else line)
        mask, fg, bg = state_after(line, mask, fg, bg)
        escape = f"{prefix[mask]}{fg}{bg}m" if mask or fg or bg else ""
    return mask, fg, bg, escape


@dataclass
class _PutAside:
    """The main screen while the alternate one is shown: its rows, its cursor
    and its DECSC slot (each screen has its own, as in xterm)."""

    buffer: defaultdict
    cursor: Savepoint
    savepoints: list = field(default_factory=list)


def _is_blank(row: Row | None, columns: int) -> bool:
    return row is None or compact(row, columns) == EMPTY


def _cut_rows(text: str, runs: list, columns: int, add) -> None:
    """A line of one-cell characters wider than the screen, as the rows it
    wraps into: ``add((text, runs, wrapped))`` for each."""
    start = 0
    row: list = []
    used = 0
    for i in range(0, len(runs), 2):
        escape = runs[i]
        length = runs[i + 1]
        while length:
            if used == columns:
                add((text[start : start + columns], row, True))
                start += columns
                row, used = [], 0
            take = min(length, columns - used)
            row += (escape, take)
            used += take
            length -= take
    add((text[start:], row, False))


def _cut_plain(lines: list[str], lengths: list[int], columns: int) -> tuple[list[str], list[bool]]:
    """Lines of one-cell characters in the default attributes as the rows they
    take on a screen ``columns`` wide: their texts (a line wider than the screen
    cut in ``columns``-wide pieces) and whether each row wraps into the next
    (all but a cut line's last piece). ``lengths`` are the lines' lengths."""
    texts: list[str] = []
    wrapped: list[bool] = []
    # By number of rows: an itemgetter of the pieces' slices, and their flags.
    cutters: dict[int, tuple[itemgetter, tuple[bool, ...]]] = {}
    start = 0
    for i in compress(count(), map(columns.__lt__, lengths)):  # the lines that do not fit
        if i > start:
            texts += lines[start:i]
            wrapped += repeat(False, i - start)
        rows = (lengths[i] - 1) // columns + 1  # at least 2: the getter gives a tuple
        cutter = cutters.get(rows)
        if cutter is None:
            slices = [slice(x, x + columns) for x in range(0, rows * columns, columns)]
            cutter = cutters[rows] = (itemgetter(*slices), (True,) * (rows - 1) + (False,))
        texts += cutter[0](lines[i])
        wrapped += cutter[1]
        start = i + 1
    texts += lines[start:]
    wrapped += repeat(False, len(lines) - start)
    return texts, wrapped


class VTScreen(pyte.Screen):
    """One pane's screen state. See the module docstring for what differs from pyte."""

    def __init__(self, columns: int, lines: int, scrollback: Scrollback) -> None:
        self.scrollback = scrollback
        self.put_aside: _PutAside | None = None
        self.responses: list[str] = []
        self.title_stack: list[str] = []
        self.bell_rung = False
        self.application_keypad = False
        self.cursor_style = 0
        self.last_char = ""
        #: the alternate screen's DECSC slot while the main screen is shown
        self.alternate_savepoints: list = []
        #: answer DECRQCRA (a checksum of a rectangle of this screen): off by
        #: default, as a program could otherwise read back what is on screen
        self.answer_checksums = False
        self._glyphs: Glyphs | None = None
        self._glyph_tables: dict[Cell, Glyphs] = {}
        #: the hyperlinks (OSC 8) cells of this screen and its scrollback name
        self.links = Links()
        super().__init__(columns, lines)
        self.buffer = defaultdict(self.new_row)

    # -- state ---------------------------------------------------------------

    @property
    def default_char(self) -> Cell:
        """What blank cells hold. DECSCNM (reverse screen) does not change it:
        it is a way of showing the screen, applied when a row is read
        (:meth:`hexe.terminal.screen.PaneScreen.render_row`), so the text's
        own reverse video survives turning it on and off (xterm, tmux)."""
        return BLANK

    def new_row(self, default: Cell | None = None) -> Row:
        return Row(self.default_char if default is None else default)

    def reset(self) -> None:
        """RIS: back to the main screen, cleared, modes and attributes at their
        defaults. Scrollback is kept (as xterm and tmux do)."""
        self.put_aside = None
        self.alternate_savepoints = []
        super().reset()
        self.tabstops = _default_tabstops(self.columns)
        self.cursor.attrs = self.default_char
        self.savepoints = []
        self.title_stack = []
        self.application_keypad = False
        self.cursor_style = 0
        self.last_char = ""

    def soft_reset(self) -> None:
        """DECSTR (``CSI ! p``): modes, margins, attributes and saved cursor reset;
        the screen's contents and the cursor position stay."""
        self.mode.difference_update({mo.IRM, mo.DECOM, _private(DECCKM)})
        self.mode.update({mo.DECAWM, mo.DECTCEM})
        self.margins = None
        self.cursor.attrs = self.default_char
        self.charset = 0
        self.g0_charset = cs.LAT1_MAP
        self.g1_charset = cs.VT100_MAP
        self.savepoints = []
        self.application_keypad = False

    def private_mode(self, mode: int) -> bool:
        return _private(mode) in self.mode

    def write_process_input(self, data: str) -> None:
        self.responses.append(data)

    def bell(self, *args: Any) -> None:
        self.bell_rung = True

    def _settle_x(self) -> None:
        """Leave the pending-wrap position (one past the last column) as xterm
        does when the cursor moves vertically."""
        if self.cursor.x >= self.columns:
            self.cursor.x = self.columns - 1

    # -- drawing -------------------------------------------------------------

    def _glyphs_for(self, attrs: Cell) -> Glyphs:
        glyphs = PLAIN_GLYPHS if attrs == BLANK else self._glyph_tables.get(attrs)
        if glyphs is None:
            if len(self._glyph_tables) >= _GLYPH_TABLES_LIMIT:
                self._glyph_tables.clear()
            glyphs = self._glyph_tables[attrs] = Glyphs(attrs)
        self._glyphs = glyphs
        return glyphs

    def draw(self, data: str) -> None:
        """Put printable text at the cursor, wrapping at the right margin (DECAWM)."""
        if not data:
            return
        self.last_char = data[-1]
        charset = self.g1_charset if self.charset else self.g0_charset
        if charset is not cs.LAT1_MAP:
            data = data.translate(charset)
        attrs = self.cursor.attrs
        glyphs = self._glyphs
        if glyphs is None or glyphs.attrs is not attrs:
            glyphs = self._glyphs_for(attrs)
        if data.isascii() and mo.IRM not in self.mode:
            self._draw_narrow(data, glyphs)
        else:
            self._draw_any(data, glyphs)

    def _wrap(self) -> None:
        self.buffer[self.cursor.y].wrapped = True
        self.cursor.x = 0
        self.index()

    def _draw_narrow(self, data: str, glyphs: Glyphs) -> None:
        """Runs of one-cell characters: whole slices of a row at a time."""
        columns = self.columns
        cursor = self.cursor
        buffer = self.buffer
        dirty = self.dirty
        autowrap = mo.DECAWM in self.mode
        glyph = glyphs.__getitem__
        position = 0
        length = len(data)
        while position < length:
            x = cursor.x
            if x >= columns:
                if autowrap:
                    self._wrap()
                    x = 0
                else:  # each further character replaces the one in the last column
                    position = length - 1
                    x = columns - 1
            end = min(length, position + columns - x)
            if not autowrap and end == length and x + end - position >= columns:
                # no wrap to wait for: the cursor stays on the last column (xterm, tmux)
                row = buffer[cursor.y]
                cells = map(glyph, data[position:end])
                row.update(zip(range(x, x + end - position), cells, strict=True))
                cursor.x = columns - 1
                dirty.add(cursor.y)
                return
            row = buffer[cursor.y]
            if end - position == 1:
                row[x] = glyph(data[position])
            else:
                cells = map(glyph, data[position:end])
                row.update(zip(range(x, x + end - position), cells, strict=True))
            cursor.x = x + end - position
            dirty.add(cursor.y)
            position = end

    def _draw_any(self, data: str, glyphs: Glyphs) -> None:
        """Character by character: wide, zero-width, insert mode."""
        columns = self.columns
        cursor = self.cursor
        autowrap = mo.DECAWM in self.mode
        insert = mo.IRM in self.mode
        for char in data:
            width = wcwidth(char)
            if width <= 0:
                if width == 0:
                    self._combine(char)
                continue  # not printable
            if width > columns:
                continue  # a wide character on a one-column pane: dropped, as tmux does
            x = cursor.x
            if x + width > columns:
                if autowrap:
                    self._wrap()
                    x = 0
                elif x >= columns - 1 and width == 2 and x < columns and self._wide_at_edge(x):
                    continue  # tmux: a wide character that cannot fit is dropped
                else:
                    x = columns - width
            if insert:
                cursor.x = x
                self.insert_characters(width)
            row = self.buffer[cursor.y]
            row[x] = glyphs[char]
            if width == 2:
                row[x + 1] = glyphs[""]
            cursor.x = x + width if autowrap or x + width < columns else columns - 1
            self.dirty.add(cursor.y)

    def _wide_at_edge(self, x: int) -> bool:
        """Autowrap off, the cursor on the last column: whether the last two
        columns hold a wide character already (then tmux drops the next one)."""
        row = self.buffer.get(self.cursor.y)
        return row is not None and dict.get(row, x) is not None and row[x].data == ""

    def _combine(self, char: str) -> None:
        """Attach a zero-width character to the cell before the cursor."""
        y = self.cursor.y
        x = min(self.cursor.x, self.columns) - 1
        if x < 0:
            above = self.buffer.get(y - 1) if y > 0 else None
            if above is None or not above.wrapped:
                return
            y -= 1
            x = self.columns - 1
        row = self.buffer[y]
        if x > 0 and row[x].data == "":
            x -= 1
        cell = row[x]
        if len(cell.data) >= CELL_TEXT_LIMIT:
            return  # the cell is full: more marks are dropped (linear in the input)
        data = cell.data + char
        if unicodedata.combining(char):
            data = unicodedata.normalize("NFC", data)
        row[x] = cell._replace(data=data)
        self.dirty.add(y)

    # -- the fast path: whole lines scrolling up from the bottom row ---------------

    def can_draw_lines(self) -> bool:
        """Whether :meth:`draw_lines` may be used now: the cursor at the start
        of a blank bottom row of the main screen, scrolling the whole screen
        into scrollback, wrapping on, no insert mode, reverse video or charset.
        Or the cursor at the end of the bottom row, which :meth:`draw_lines`
        left unfinished (a line cut by the end of a read), untouched since."""
        cursor = self.cursor
        y = self.lines - 1
        if cursor.y != y or self.put_aside is not None:
            return False
        attrs = cursor.attrs
        if attrs[11] or attrs[12]:  # an underline style or colour, a link: cells only
            return False
        if cursor.x:
            row = self.buffer.get(y)
            if (
                type(row) is not _LazyRow
                or row.length != cursor.x
                or row.wrapped
                or row.cached[0] != self.columns
            ):
                return False
        margins = self.margins
        if margins is not None and (margins.top or margins.bottom != y):
            return False
        mode = self.mode
        if mo.DECAWM not in mode or mo.IRM in mode or mo.DECSCNM in mode:
            return False
        if self.charset or self.g0_charset is not cs.LAT1_MAP or self.scrollback.limit <= 0:
            return False
        if cursor.x:
            return True
        row = self.buffer.get(y)
        return row is None or (not row and not row.wrapped and row.default is BLANK)

    def _unfinished(self) -> tuple[int, Line | None]:
        """The columns and line of the row :meth:`draw_lines` left unfinished
        at the bottom, the cursor at its end (see :meth:`can_draw_lines`); 0
        and None when the cursor is at the start of a blank bottom row."""
        if not self.cursor.x:
            return 0, None
        row = self.buffer[self.lines - 1]
        return row.length, row.cached[1]

    def draw_lines(self, lines: list[str], tail: str | None = None) -> bool:
        """Each of ``lines`` (printable ASCII and SGR sequences) drawn, then CR LF;
        then ``tail`` (the same, cut by the end of the read), left unfinished.

        The same screen, scrollback and cursor as drawing them one character
        at a time, when :meth:`can_draw_lines` holds; but rows that scroll off
        within the batch go to scrollback without cells, and the screen is
        shifted once. A line that fits in a row is kept as written, in
        scrollback or in the row it leaves on screen (:class:`_RawRow`), and
        made into runs when it is read (:func:`_rows_of_lines`); only the
        attributes it leaves are worked out now, from the SGRs after its
        last reset. The attributes are followed as a ``(mask, fg, bg)``
        state and each SGR as a cached effect on it
        (:func:`~hexe.terminal.cells.sgr_effect`): a run of text needs only
        its escape, built by joining strings, not a cell. A lone true colour
        in the form it is kept in is told apart by the regular expression
        that splits the line, and sets its colour without a look-up.

        The tail's last row stays on the bottom row with the cursor at its
        end, and the next call continues it: the row is drawn again from its
        start with what follows, as one line (its runs written back as SGR,
        each from a reset, then the current attributes').

        False, and nothing changed, when a line holds an SGR the state cannot
        follow (an underline style or colour), unless the line is kept as
        written and a reset later in it undoes that SGR (it is read the way
        cells take it): the caller draws them the character way.
        """
        columns = self.columns
        start_attrs = self.cursor.attrs
        mask, fg, bg = state_of(start_attrs)
        escape = start_escape = escape_of_state(mask, fg, bg)
        head, unfinished = self._unfinished()
        if unfinished is not None:
            again = []
            for run_escape, piece in segments(unfinished):
                again += (run_escape or RESET, piece)
            if head > len(unfinished.text):  # blanks the line dropped
                again += (RESET, " " * (head - len(unfinished.text)))
            again.append(escape or RESET)
            if lines:
                lines = ["".join(again) + lines[0], *lines[1:]]
            else:
                tail = "".join(again) + (tail or "")
        produced: list = []  # rows, as _rows_of_lines gives them
        add = produced.append
        try:
            if lines:
                state = _rows_of_lines(lines, columns, (mask, fg, bg, escape), add)
                mask, fg, bg, escape = state
            if tail is not None:  # drawn at once: it stays on screen
                text, runs, mask, fg, bg, escape = runs_of_line(tail, mask, fg, bg, escape)
                if len(text) <= columns:
                    add((text, runs, False))
                else:
                    _cut_rows(text, runs, columns, add)
        except NotInLinePath:
            return False
        if escape != start_escape:
            self.cursor.attrs = cell_of_escape(escape)
        self._finish_lines(produced, tail is not None, head)
        return True

    def _finish_lines(self, produced: list, tail: bool, head: int) -> None:
        """Scroll ``produced`` rows (as :func:`_rows_of_lines` gives them) up
        through the screen, all but the last if it is a ``tail``'s (then a
        ``(text, runs, wrapped)``): that one is put on the bottom row, the
        cursor at its end. ``head`` is the columns of the row left
        unfinished before, drawn again as the start of the first."""
        last = ""
        for item in reversed(produced):
            last = _text_of(item)
            if last:
                break
        if last:
            # (unless nothing was drawn but the unfinished row again)
            drawn = 0
            if head:
                for item in reversed(produced):
                    drawn += len(_text_of(item))
                    if drawn > head:
                        break
            if not head or drawn > head:
                self.last_char = last[-1]
        last_row = produced.pop() if tail else None
        if produced:
            self._place_lines(produced)
        if last_row is not None:
            self._leave_unfinished(last_row[0], last_row[1], bool(produced), head)
        else:
            self.cursor.x = 0

    def _leave_unfinished(self, text: str, runs: list, placed: bool, head: int) -> None:
        """Put ``text`` (a tail's last row) on the bottom row, the cursor at its
        end; ``placed``: rows were scrolled up before it (the bottom row is
        blank), else it is the row of ``head`` columns left unfinished before,
        continued, or a new one."""
        if placed or len(text) > head:
            y = self.lines - 1
            if text:
                self.buffer[y] = _row_of(text, runs, False, self.columns)
            self.cursor.x = len(text)
            self.dirty.add(y)

    def draw_plain_lines(self, lines: list[str], tail: str | None = None) -> None:
        """:meth:`draw_lines` for lines of printable ASCII only (``" "`` to
        ``"~"``: no SGR, no controls), with the same result.

        In the default attributes such a line is its own text, so rows going
        to scrollback are made without a Python loop over them: ``str.rstrip``
        trims them (only spaces can trail) and each becomes a :class:`Line`
        by ``tuple.__new__``. Lines wider than the screen are cut in pieces
        first. In other attributes, :meth:`draw_lines` does the work, and for
        an unfinished row in colour it draws the first line.
        """
        attrs = self.cursor.attrs
        if attrs is not BLANK and escape_of_state(*state_of(attrs)):
            self.draw_lines(lines, tail)
            return
        head, unfinished = self._unfinished()
        if unfinished is not None:
            if unfinished.runs is not None:
                if not lines:
                    self.draw_lines(lines, tail)
                    return
                self.draw_lines(lines[:1])
                lines = lines[1:]
                head = 0
            else:
                again = unfinished.text + " " * (head - len(unfinished.text))
                if lines:
                    lines = [again + lines[0], *lines[1:]]
                else:
                    tail = again + (tail or "")
        if tail is not None:
            lines = [*lines, tail]
        if not lines:
            return
        columns = self.columns
        lengths = list(map(len, lines))
        if max(lengths) > columns:
            texts, wrapped = _cut_plain(lines, lengths, columns)
        else:
            texts, wrapped = lines, None
        for text in reversed(lines):
            if text:
                # (unless nothing was drawn but the unfinished row again)
                if not head or sum(lengths) > head:
                    self.last_char = text[-1]
                break
        last = None
        if tail is not None:
            if texts is lines:
                texts = lines[:-1]
                last = lines[-1]
            else:
                last = texts.pop()
                wrapped.pop()

        def history_of(start: int, stop: int) -> list:
            trimmed = map(str.rstrip, texts[start:stop])
            if wrapped is None:  # none wraps: scrollback keeps their bare text
                return list(trimmed)
            return [
                new_line((t, None, True)) if w else t
                for t, w in zip(trimmed, wrapped[start:stop], strict=True)
            ]

        def row_of(i: int) -> Row | None:
            text = texts[i]
            wraps = wrapped is not None and wrapped[i]
            if text[-1:] > " " and not wraps:
                # its own raw line (plain text is): scrolled off unread, as
                # most rows of a flood are, it goes to scrollback as it is
                return _raw_row(text, columns)
            return _plain_row(text, wraps, columns) if text or wraps else None

        self._place_rows(len(texts), history_of, row_of)
        if last is not None:
            self._leave_unfinished(last, ["", len(last)] if last else [], bool(texts), head)
        else:
            self.cursor.x = 0

    def _place_lines(self, produced: list) -> None:
        """Scroll ``produced`` rows (as :func:`_rows_of_lines` gives them) up
        through the screen, from its bottom row."""
        columns = self.columns
        self._place_rows(
            len(produced),
            lambda start, stop: list(map(_kept, produced[start:stop])),
            lambda i: _screen_row(produced[i], columns),
        )

    def _place_rows(self, count: int, history_of, row_of) -> None:
        """Scroll ``count`` new rows up through the screen, from its bottom row:
        ``history_of(start, stop)`` gives each of the new rows ``start`` to
        ``stop`` (excluded) that go to scrollback as scrollback keeps it
        (:func:`~hexe.terminal.lines.pack_line`: a :class:`Line`, or its bare text),
        ``row_of(i)`` the screen row of new row ``i``, one that stays on
        screen (None for an empty one)."""
        if not count:
            return
        keep = self.lines - 1  # rows above the (blank) bottom one
        buffer = self.buffer
        columns = self.columns
        scrollback = self.scrollback
        old = [buffer.get(y) for y in range(keep)]
        off_old = min(count, keep)  # old rows that leave the top
        off_new = count - keep if count > keep else 0  # new rows that never stay
        total = off_old + off_new
        skipped = max(0, total - scrollback.limit)
        history = [_row_leaving(old[i], columns) for i in range(min(skipped, off_old), off_old)]
        history += history_of(max(0, skipped - off_old), off_new)
        scrollback.extend(history, skipped, packed=True)
        buffer.clear()
        for y in range(keep):
            source = count + y
            if source < keep:
                row = old[source]
                if row is not None:
                    buffer[y] = row
            else:
                row = row_of(source - keep)
                if row is not None:
                    buffer[y] = row
        self.dirty.update(range(self.lines))

    def repeat(self, count: int | None = None) -> None:
        """REP (``CSI n b``): the last printed character again, n times."""
        if self.last_char:
            # at most a screenful: more only scrolls the same character by (xterm
            # clamps it too), and every drawn character costs
            limit = min(REPEAT_LIMIT, self.columns * self.lines)
            self.draw(self.last_char * min(count or 1, limit))

    def select_graphic_rendition(self, *attrs: int, **kwargs: Any) -> None:
        self.sgr(";".join(map(str, attrs)))

    def sgr(self, params: str) -> None:
        """SGR from its raw parameter string (keeps ``:`` sub-parameters)."""
        self.cursor.attrs = apply_sgr(self.cursor.attrs, params, self.default_char)

    def hyperlink(self, body: str) -> None:
        """OSC 8 (``params;URI``): the text drawn next links to the URI (see
        :class:`~hexe.terminal.links.Links`), until an OSC 8 with no URI."""
        link = self.links.open(body)
        attrs = self.cursor.attrs
        if attrs.link != link:
            self.cursor.attrs = attrs._replace(link=link)

    # -- scrolling and scrollback ----------------------------------------------

    def _shift_up(self, top: int, bottom: int, count: int) -> None:
        buffer = self.buffer
        for y in range(top, bottom + 1):
            source = y + count
            if source <= bottom and source in buffer:
                buffer[y] = buffer.pop(source)
            else:
                buffer.pop(y, None)
        self.dirty.update(range(top, bottom + 1))

    def _shift_down(self, top: int, bottom: int, count: int) -> None:
        buffer = self.buffer
        for y in range(bottom, top - 1, -1):
            source = y - count
            if source >= top and source in buffer:
                buffer[y] = buffer.pop(source)
            else:
                buffer.pop(y, None)
        self.dirty.update(range(top, bottom + 1))

    def _keeps_history(self, top: int, bottom: int) -> bool:
        return (
            self.put_aside is None
            and top == 0
            and bottom == self.lines - 1
            and self.scrollback.limit > 0
        )

    def _scroll_up(self, count: int) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        count = min(count, bottom - top + 1)
        if self._keeps_history(top, bottom):
            push = self.scrollback.push
            buffer = self.buffer
            columns = self.columns
            for y in range(count):
                push(_row_leaving(buffer.get(y), columns))
        self._shift_up(top, bottom, count)

    def index(self) -> None:
        """IND / LF: down one row; at the bottom margin the region scrolls up."""
        top, bottom = self.margins or Margins(0, self.lines - 1)
        y = self.cursor.y
        if y == bottom:
            self._scroll_up(1)
        elif y < self.lines - 1:
            self.cursor.y = y + 1
        self._settle_x()

    def reverse_index(self) -> None:
        """RI: up one row; at the top margin the region scrolls down."""
        top, bottom = self.margins or Margins(0, self.lines - 1)
        y = self.cursor.y
        if y == top:
            self._shift_down(top, bottom, 1)
        elif y > 0:
            self.cursor.y = y - 1
        self._settle_x()

    def next_line(self) -> None:
        """NEL (``ESC E``): carriage return and index."""
        self.carriage_return()
        self.index()

    def scroll_up(self, count: int | None = None) -> None:
        """SU (``CSI n S``): the region scrolls up; the cursor stays."""
        self._scroll_up(count or 1)

    def scroll_down(self, count: int | None = None) -> None:
        """SD (``CSI n T``): the region scrolls down; the cursor stays."""
        top, bottom = self.margins or Margins(0, self.lines - 1)
        self._shift_down(top, bottom, min(count or 1, bottom - top + 1))

    def insert_lines(self, count: int | None = None) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if top <= self.cursor.y <= bottom:
            self._shift_down(self.cursor.y, bottom, min(count or 1, bottom - self.cursor.y + 1))
            self._settle_x()

    def delete_lines(self, count: int | None = None) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if top <= self.cursor.y <= bottom:
            self._shift_up(self.cursor.y, bottom, min(count or 1, bottom - self.cursor.y + 1))
            self._settle_x()

    def set_margins(self, top: int | None = None, bottom: int | None = None) -> None:
        if (top is None or top == 0) and bottom is None:
            self.margins = None
            self.cursor_position()
            return
        super().set_margins(top, bottom)

    # -- erasing -------------------------------------------------------------

    def _blank(self) -> Cell:
        """What erased cells become: the default cell with the current background."""
        default = self.default_char
        background = self.cursor.attrs.bg
        return default if background == "default" else default._replace(bg=background)

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        y = self.cursor.y
        x = min(self.cursor.x, self.columns)
        if how == 0:
            columns = range(x, self.columns)
        elif how == 1:
            columns = range(0, min(x + 1, self.columns))
        elif how == 2:
            columns = range(self.columns)
        else:
            return
        self.dirty.add(y)
        blank = self._blank()
        if how == 2:
            if blank is self.default_char:
                self.buffer.pop(y, None)
            else:
                self.buffer[y] = self.new_row(blank)
            return
        row = self.buffer[y]
        if blank is row.default:
            for column in columns:
                row.pop(column, None)
        else:
            row.update(dict.fromkeys(columns, blank))
        if how == 0:
            row.wrapped = False

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how == 3:  # xterm: the scrollback only
            if self.put_aside is None:
                self.scrollback.clear()
            return
        if how == 0:
            rows = range(self.cursor.y + 1, self.lines)
        elif how == 1:
            rows = range(self.cursor.y)
        elif how == 2:
            rows = range(self.lines)
            if self._keeps_history(0, self.lines - 1):
                self._keep_screen_in_history()
        else:
            return
        blank = self._blank()
        buffer = self.buffer
        for y in rows:
            if blank is self.default_char:
                buffer.pop(y, None)
            else:
                buffer[y] = self.new_row(blank)
        self.dirty.update(rows)
        if how in (0, 1):
            self.erase_in_line(how)

    def _keep_screen_in_history(self) -> None:
        lines = [compact(self.buffer.get(y), self.columns) for y in range(self.lines)]
        while lines and lines[-1] == EMPTY:
            lines.pop()
        for line in lines:
            self.scrollback.push(line)

    def erase_characters(self, count: int | None = None) -> None:
        x = self.cursor.x
        if x >= self.columns:
            return
        row = self.buffer[self.cursor.y]
        row.update(dict.fromkeys(range(x, min(x + (count or 1), self.columns)), self._blank()))
        self.dirty.add(self.cursor.y)

    def insert_characters(self, count: int | None = None) -> None:
        count = count or 1
        x = self.cursor.x
        if x >= self.columns:
            return
        row = self.buffer[self.cursor.y]
        blank = self._blank()
        for column in range(self.columns - 1, x - 1, -1):
            source = column - count
            if source >= x and source in row:
                row[column] = row[source]
            elif blank is row.default:
                row.pop(column, None)
            else:  # the inserted blanks take the background colour (BCE)
                row[column] = blank
        self.dirty.add(self.cursor.y)

    # -- cursor ----------------------------------------------------------------

    def cursor_up(self, count: int | None = None) -> None:
        margins = self.margins
        top = margins.top if margins and self.cursor.y >= margins.top else 0
        self.cursor.y = max(self.cursor.y - (count or 1), top)
        self._settle_x()

    def cursor_down(self, count: int | None = None) -> None:
        margins = self.margins
        bottom = margins.bottom if margins and self.cursor.y <= margins.bottom else self.lines - 1
        self.cursor.y = min(self.cursor.y + (count or 1), bottom)
        self._settle_x()

    def cursor_to_line(self, line: int | None = None) -> None:
        """VPA; in origin mode relative to the top margin (pyte asserts there is one)."""
        self.cursor.y = self._row_of_line(line)
        self._settle_x()

    def _row_of_line(self, line: int | None) -> int:
        """The row a CUP/VPA line number (1-based) names: in origin mode counted
        from the top margin and clamped to the region (xterm, tmux), else
        clamped to the screen."""
        y = (line or 1) - 1
        margins = self.margins
        if mo.DECOM in self.mode and margins is not None:
            return min(y + margins.top, margins.bottom)
        return min(y, self.lines - 1)

    def cursor_position(self, line: int | None = None, column: int | None = None) -> None:
        """CUP/HVP (pyte ignores a CUP past the region in origin mode; xterm clamps)."""
        self.cursor.y = self._row_of_line(line)
        self.cursor.x = min((column or 1) - 1, self.columns - 1)

    def alignment_display(self) -> None:
        """DECALN (``ESC # 8``): the screen filled with ``E``, margins reset,
        the cursor home (xterm, tmux)."""
        glyph = self._glyphs_for(BLANK)["E"]
        self.buffer.clear()
        for y in range(self.lines):
            dict.update(self.buffer[y], dict.fromkeys(range(self.columns), glyph))
        self.margins = None
        self.cursor.x = self.cursor.y = 0
        self.dirty.update(range(self.lines))

    def tab(self) -> None:
        """HT; with a wrap pending the cursor stays waiting (xterm, tmux): the
        next character goes to the next row."""
        if self.cursor.x >= self.columns:
            return
        super().tab()
        self.cursor.x = min(self.cursor.x, self.columns - 1)

    def set_tab_stop(self) -> None:
        """HTS: a stop at the cursor's column (the screen's own set from now on)."""
        self._own_tabstops()
        super().set_tab_stop()

    def clear_tab_stop(self, how: int = 0) -> None:
        """TBC: the stop at the cursor's column (0), or every stop (3)."""
        self._own_tabstops()
        super().clear_tab_stop(how)

    def _own_tabstops(self) -> None:
        if type(self.tabstops) is frozenset:
            self.tabstops = set(self.tabstops)

    def tab_forward(self, count: int | None = None) -> None:
        """CHT (``CSI n I``)."""
        for _ in range(min(count or 1, self.columns)):
            self.tab()

    def tab_backward(self, count: int | None = None) -> None:
        """CBT (``CSI n Z``)."""
        for _ in range(min(count or 1, self.columns)):
            x = min(self.cursor.x, self.columns - 1)
            self.cursor.x = max((stop for stop in self.tabstops if stop < x), default=0)

    def _savepoint(self) -> Savepoint:
        return Savepoint(
            copy.copy(self.cursor),
            self.g0_charset,
            self.g1_charset,
            self.charset,
            mo.DECOM in self.mode,
            mo.DECAWM in self.mode,
        )

    def save_cursor(self) -> None:
        """DECSC: one slot (pyte keeps a stack, which grows without end when a
        program saves and never restores)."""
        self.savepoints = [self._savepoint()]

    def restore_cursor(self) -> None:
        """DECRC: the slot stays, so restoring twice gives the same position.
        Origin mode comes back as saved, on or off, and a wrap that was
        pending is pending again; autowrap (DECAWM) is left as it is. With nothing
        saved, the cursor goes home in the default attributes and character
        sets (xterm, tmux)."""
        if not self.savepoints:
            self.mode.discard(mo.DECOM)
            self.cursor.x = self.cursor.y = 0
            self.cursor.attrs = self.default_char
            self.g0_charset = cs.LAT1_MAP
            self.g1_charset = cs.VT100_MAP
            self.charset = 0
            return
        saved = self.savepoints[-1]
        keep = saved._replace(cursor=copy.copy(saved.cursor))
        wrap = mo.DECAWM in self.mode
        super().restore_cursor()
        if saved.origin:
            self.mode.add(mo.DECOM)
        else:
            self.mode.discard(mo.DECOM)
        if not wrap:  # DECAWM is not part of what DECSC saves (xterm's DECSC_FLAGS, tmux)
            self.mode.discard(mo.DECAWM)
        self.savepoints = [keep]

    # -- modes -----------------------------------------------------------------

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if not kwargs.get("private"):
            super().set_mode(*modes)
            return
        others = []
        for mode in modes:
            if mode in ALT_SCREENS:
                self._enter_alternate(mode)
            elif mode == SAVE_CURSOR_1048:
                self.save_cursor()
            elif mode == DECCOLM:
                self._column_mode()
            elif mode == DECSCNM:
                self.mode.add(mo.DECSCNM)
                self.dirty.update(range(self.lines))
            elif mode in MOUSE_TRACKING or mode in MOUSE_ENCODINGS:
                group = MOUSE_TRACKING if mode in MOUSE_TRACKING else MOUSE_ENCODINGS
                self.mode.difference_update(_private(m) for m in group)
                self.mode.add(_private(mode))
            else:
                others.append(mode)
        if others:
            super().set_mode(*others, private=True)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if not kwargs.get("private"):
            super().reset_mode(*modes)
            return
        others = []
        for mode in modes:
            if mode in ALT_SCREENS:
                self._exit_alternate(restore_cursor=mode == ALT_SCREEN_1049)
            elif mode == SAVE_CURSOR_1048:
                self.restore_cursor()
            elif mode == DECCOLM:
                self._column_mode()
            elif mode == DECSCNM:
                self.mode.discard(mo.DECSCNM)
                self.dirty.update(range(self.lines))
            elif mode in MOUSE_TRACKING:
                # Turning off any tracking mode turns mouse reporting off (xterm, tmux).
                self.mode.difference_update(_private(m) for m in MOUSE_TRACKING)
            else:
                others.append(mode)
        if others:
            super().reset_mode(*others, private=True)

    def _column_mode(self) -> None:
        """DECCOLM would switch between 80 and 132 columns; a pane's size is the
        multiplexer's, so only the side effects happen (as in tmux)."""
        self.margins = None
        self.erase_in_display(2)
        self.cursor_position()

    def _enter_alternate(self, mode: int) -> None:
        if self.put_aside is None:
            self.put_aside = _PutAside(self.buffer, self._savepoint(), self.savepoints)
            self.savepoints = self.alternate_savepoints  # kept from its last time
            self.buffer = defaultdict(self.new_row)
            self.dirty.update(range(self.lines))
        self.mode.add(_private(mode))

    def _exit_alternate(self, restore_cursor: bool) -> None:
        self.mode.difference_update(_private(m) for m in ALT_SCREENS)
        main = self.put_aside
        if main is None:
            return
        self.put_aside = None
        self.buffer = main.buffer
        self.alternate_savepoints = self.savepoints
        self.savepoints = main.savepoints
        if restore_cursor:
            saved = main.cursor
            self.cursor = saved.cursor
            self.g0_charset, self.g1_charset = saved.g0_charset, saved.g1_charset
            self.charset = saved.charset
            for mode, on in ((mo.DECOM, saved.origin), (mo.DECAWM, saved.wrap)):
                if on:
                    self.mode.add(mode)
                else:
                    self.mode.discard(mode)
            self.ensure_hbounds()
            self.ensure_vbounds()
        self.dirty.update(range(self.lines))

    # -- replies -----------------------------------------------------------------

    def report_device_status(self, mode: int = 0, **kwargs: Any) -> None:
        """DSR: 5 -> "OK", 6 -> the cursor position (1-based; never one past the
        last column, where pyte would put a cursor waiting to wrap)."""
        if mode == 6:
            x = min(self.cursor.x, self.columns - 1) + 1
            y = self.cursor.y + 1
            if mo.DECOM in self.mode and self.margins is not None:
                y -= self.margins.top
            prefix = "?" if kwargs.get("private") else ""
            self.write_process_input(f"\x1b[{prefix}{y};{x}R")
        elif mode == 5 and not kwargs.get("private"):
            self.write_process_input("\x1b[0n")

    def report_device_attributes(self, mode: int = 0, **kwargs: Any) -> None:
        """Primary DA (``CSI c``, ``ESC Z``): a VT100 with advanced video, as
        tmux answers (pyte says VT102)."""
        if mode == 0 and not kwargs.get("private"):
            self.write_process_input("\x1b[?1;2c")

    def report_secondary_attributes(self, *params: int) -> None:
        """Secondary DA (``CSI > c``): tmux's answer (terminal type 84, ``T``),
        so that programs treat a hexe pane as they treat a tmux pane."""
        if not params or params[0] == 0:
            self.write_process_input("\x1b[>84;0;0c")

    def report_version(self, *params: int) -> None:
        """XTVERSION (``CSI > q``): ``DCS > | hexe <version> ST``, as tmux
        names itself."""
        if not params or params[0] == 0:
            from hexe import __version__

            self.write_process_input(f"\x1bP>|hexe {__version__}\x1b\\")

    def request_mode(self, mode: int = 0, private: bool = False) -> None:
        """DECRQM (``CSI ? n $ p``): 1 set, 2 reset, 0 not recognised."""
        if private:
            state = 1 if _private(mode) in self.mode else 2 if mode in KNOWN_PRIVATE_MODES else 0
            self.write_process_input(f"\x1b[?{mode};{state}$y")
        else:
            state = 1 if mode in self.mode else 2 if mode in (mo.IRM, mo.LNM) else 0
            self.write_process_input(f"\x1b[{mode};{state}$y")

    def window_operation(self, *params: int) -> None:
        """XTWINOPS (``CSI n t``): 18 reports the size in characters, 22/23 push
        and pop the title (vim and less do that around the alternate screen)."""
        operation = params[0] if params else 0
        if operation == 18:
            self.write_process_input(f"\x1b[8;{self.lines};{self.columns}t")
        elif operation == 22:
            self.title_stack.append(self.title)
            del self.title_stack[:-_TITLE_STACK_LIMIT]
        elif operation == 23 and self.title_stack:
            self.title = self.title_stack.pop()

    def request_checksum(self, pid: int = 0, page: int = 0, *rect: int) -> None:
        """DECRQCRA (``CSI Pid ; Pp ; Pt ; Pl ; Pb ; Pr * y``), when
        :attr:`answer_checksums` is on: ``DCS Pid ! ~ XXXX ST``, the 16-bit sum
        of the characters in the rectangle of *this* screen (1-based, relative
        to the margins in origin mode; a blank cell counts as a space, as in
        xterm since patch 279). The rectangle is clamped to the screen, so an answer
        costs at most one pass over it."""
        if not self.answer_checksums:
            return
        top, left, bottom, right = (list(rect) + [0, 0, 0, 0])[:4]
        offset = self.margins.top if mo.DECOM in self.mode and self.margins else 0
        top = max(top or 1, 1) + offset
        left = max(left or 1, 1)
        bottom = min(bottom + offset if bottom else self.lines, self.lines)
        right = min(right or self.columns, self.columns)
        total = 0
        width = max(right - left + 1, 0)
        for y in range(top - 1, bottom):
            row = self.buffer.get(y)
            if not row:
                total += 32 * width  # blanks
                continue
            for x in range(left - 1, right):
                cell = row[x]
                if cell.data:  # (the right half of a wide character counts 0)
                    total += ord(cell.data[0])
        self.write_process_input(f"\x1bP{pid}!~{total & 0xFFFF:04X}\x1b\\")

    def set_cursor_style(self, style: int | None = None) -> None:
        """DECSCUSR (``CSI n SP q``): 0/1 blinking block ... 6 steady bar."""
        self.cursor_style = style or 0

    # -- resize ------------------------------------------------------------------

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Resize to ``lines`` x ``columns``. Rows leave through the top into
        scrollback (blank rows below the cursor go first) and come back from it
        when the screen grows; columns are cut on the right (no reflow)."""
        lines = max(1, lines or self.lines)
        columns = max(1, columns or self.columns)
        old_lines, old_columns = self.lines, self.columns
        if (lines, columns) == (old_lines, old_columns):
            return
        keep = min(columns, old_columns)
        main = self.put_aside
        self._cut_columns(self.buffer, keep)
        if main is not None:
            self._cut_columns(main.buffer, keep)
            self._resize_rows(self.buffer, self.cursor, old_lines, lines, columns, history=False)
            self._resize_rows(main.buffer, main.cursor.cursor, old_lines, lines, columns, True)
        else:
            self._resize_rows(self.buffer, self.cursor, old_lines, lines, columns, history=True)
        self.lines, self.columns = lines, columns
        self.margins = None
        if self.tabstops == _default_tabstops(old_columns):
            self.tabstops = _default_tabstops(columns)  # shared again if it was not
        elif columns > old_columns:
            self._own_tabstops()
            self.tabstops.update(t for t in range(8, columns, 8) if t >= old_columns)
        cursors = [self.cursor] + [s.cursor for s in self.savepoints]
        if main is not None:
            cursors.append(main.cursor.cursor)
            cursors += [s.cursor for s in main.savepoints]
        cursors += [s.cursor for s in self.alternate_savepoints]
        for cursor in cursors:
            cursor.x = min(cursor.x, columns - 1)
            cursor.y = min(cursor.y, lines - 1)
        self.dirty = set(range(lines))

    def _resize_rows(self, buffer, cursor, old: int, new: int, columns: int, history: bool) -> None:
        """Rows ``old`` -> ``new`` of one buffer (its columns already cut)."""
        if new < old:
            excess = old - new
            y = old - 1
            while excess and y > cursor.y and _is_blank(buffer.get(y), columns):
                buffer.pop(y, None)
                y -= 1
                excess -= 1
            if excess:
                if history and self.scrollback.limit > 0:
                    for y in range(excess):
                        self.scrollback.push(compact(buffer.get(y), columns))
                for y in range(old):
                    source = y + excess
                    if source < old and source in buffer:
                        buffer[y] = buffer.pop(source)
                    else:
                        buffer.pop(y, None)
                cursor.y = max(0, cursor.y - excess)
        elif new > old and history:
            pulled = min(new - old, len(self.scrollback))
            if pulled:
                for y in range(old - 1, -1, -1):
                    if y in buffer:
                        buffer[y + pulled] = buffer.pop(y)
                for y in range(pulled - 1, -1, -1):
                    row = buffer[y] = self.new_row()
                    expand(self.scrollback.pop(), columns, row)
                cursor.y += pulled

    @staticmethod
    def _cut_columns(buffer, keep: int) -> None:
        for row in buffer.values():
            if row and max(row) >= keep:
                for x in [x for x in row if x >= keep]:
                    del row[x]
