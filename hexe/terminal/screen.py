"""The screen of one pane, as the multiplexer sees it: bytes in, rows out.

:class:`PaneScreen` is the whole surface the server, the compositor and copy
mode use. Behind it, :mod:`hexe.terminal.parser` turns the PTY's bytes into
calls on :class:`hexe.terminal.vt.VTScreen` (a pyte screen), and rows leave the
top of the main screen into a bounded :class:`~hexe.terminal.lines.Scrollback`
of compact lines. Only this facade is public, so a faster cell model can
replace pyte behind it without the callers changing.

Coordinates: ``x`` is a column, ``y`` a row of the visible screen, both from
0. Copy mode and search number *lines* over scrollback and screen together:
line ``i`` is history line ``i`` while ``i < history_size``, else screen row
``i - history_size``; a position is ``(line, column)``, the column counting
cells (a wide character takes two).

Nothing here reads or writes file descriptors.
"""

from __future__ import annotations

import binascii
import bisect
import codecs
import re
from enum import IntEnum

from pyte import modes as mo

from hexe.terminal.cells import BLANK
from hexe.terminal.lines import (
    Line,
    Scrollback,
    column_to_index,
    compact,
    cut,
    index_to_column,
    render,
)
from hexe.terminal.parser import Parser
from hexe.terminal.vt import (
    BRACKETED_PASTE,
    DECCKM,
    FOCUS_EVENTS,
    MOUSE_ENCODINGS,
    MOUSE_TRACKING,
    SYNCHRONIZED_OUTPUT,
    VTScreen,
)

#: Decoded bytes an OSC 52 may set the clipboard to (the parser gathers a
#: long one up to its base64 length, ``parser.OSC52_LIMIT``).
CLIPBOARD_LIMIT = 1 << 20
#: OSC 52 requests kept until taken (the oldest go first).
CLIPBOARD_QUEUE = 8
#: OSC 133;A marks kept (the oldest go first).
PROMPT_MARKS = 10_000


class MouseMode(IntEnum):
    """Which mouse events the program asked for (its DECSET number)."""

    X10 = 9  # presses only
    NORMAL = 1000  # presses and releases
    BUTTON_EVENT = 1002  # ... and motion while a button is down
    ANY_EVENT = 1003  # ... and all motion


class MouseEncoding(IntEnum):
    """How the program wants mouse events written (its DECSET number)."""

    X10 = 0  # CSI M Cb Cx Cy, bytes offset by 32 (the default)
    UTF8 = 1005
    SGR = 1006  # CSI < b ; x ; y M/m
    URXVT = 1015


def _reversed_row(row: dict | None, columns: int) -> dict:
    """A row as DECSCNM (reverse screen) shows it: every cell's reverse video
    flipped, blanks included (xterm swaps the colours of the whole screen)."""
    get = row.get if row is not None else {}.get
    return {
        x: cell._replace(reverse=not cell.reverse)
        for x in range(columns)
        if (cell := get(x, BLANK)) is not None
    }


class PaneScreen:
    """A pane's terminal screen with scrollback. Feed it PTY output; read rows."""

    def __init__(
        self, cols: int, rows: int, scrollback: int = 10_000, *, answer_checksums: bool = False
    ) -> None:
        """``answer_checksums``: answer DECRQCRA (a checksum of part of this
        screen, which esctest reads the screen with); off by default."""
        self.history = Scrollback(scrollback)
        self._vt = VTScreen(max(1, cols), max(1, rows), self.history)
        self._vt.answer_checksums = answer_checksums
        self._parser = Parser(self._vt)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._parser.on_osc = self._on_osc
        #: OSC 52 requests not yet taken (:meth:`take_clipboard`)
        self._clipboard: list[tuple[str, bytes]] = []
        #: absolute line numbers (``history_base + line``) of OSC 133;A marks
        self._prompts: list[int] = []

    def __repr__(self) -> str:
        return f"PaneScreen({self.cols}x{self.rows}, history={self.history_size})"

    # -- input -----------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Consume raw PTY output. UTF-8 and escape sequences may be split
        anywhere between calls; invalid UTF-8 shows as U+FFFD."""
        self._parser.feed(self._decoder.decode(data))

    def recover(self) -> None:
        """After a fault while feeding: drop any half-read sequence and UTF-8
        character, so the next output starts clean."""
        self._parser.pending = ""
        if self._parser.skipping is not None and self._parser.skipping.startswith("osc52"):
            self._parser.skipping = None  # a clipboard write cut by the fault: dropped
            self._parser.osc52 = []
        self._decoder.reset()

    def resize(self, cols: int, rows: int) -> None:
        """Resize to ``cols`` x ``rows``. Shrinking moves rows off the top into
        scrollback (blank rows below the cursor go first); growing brings them
        back. Columns are cut or padded on the right: no reflow."""
        self._vt.resize(lines=max(1, rows), columns=max(1, cols))

    def take_responses(self) -> bytes:
        """What the terminal must answer the program (DA, DSR, DECRQM, ...),
        oldest first; write it to the PTY."""
        vt = self._vt
        if not vt.responses:
            return b""
        data = "".join(vt.responses).encode()
        vt.responses.clear()
        return data

    def take_clipboard(self) -> list[tuple[str, bytes]]:
        """OSC 52 requests of the program since the last call, oldest first:
        ``("write", text)`` (decoded, at most :data:`CLIPBOARD_LIMIT` bytes),
        ``("read", b"")`` (a query: never to be answered with the clipboard)
        or ``("too-long", b"")``; at most :data:`CLIPBOARD_QUEUE` are kept."""
        taken, self._clipboard = self._clipboard, []
        return taken

    def _on_osc(self, code: str, text: str) -> None:
        if code == "133":
            if text[:1] == "A" and not self.alternate_screen:
                self._mark_prompt()
            return
        selection, _, data = text.partition(";")
        if not text:
            request: tuple[str, bytes] = ("too-long", b"")
        elif data == "?":
            request = ("read", b"")
        else:
            try:
                # base64.b64decode(..., validate=True), without importing base64
                decoded = binascii.a2b_base64(data.encode("ascii"), strict_mode=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                return  # not base64: ignored, as xterm does
            if len(decoded) > CLIPBOARD_LIMIT:
                request = ("too-long", b"")
            else:
                request = ("write", decoded)
        if len(self._clipboard) >= CLIPBOARD_QUEUE:
            del self._clipboard[0]
        self._clipboard.append(request)

    def _mark_prompt(self) -> None:
        line = self.history.base + len(self.history) + self._vt.cursor.y
        prompts = self._prompts
        if prompts and prompts[-1] >= line:
            if line in prompts:
                return
            del prompts[bisect.bisect_left(prompts, line) :]  # the rows below were redrawn
        prompts.append(line)
        if len(prompts) > PROMPT_MARKS:
            del prompts[: len(prompts) - PROMPT_MARKS]

    def prompt_lines(self) -> list[int]:
        """Lines (over scrollback and screen, as copy mode numbers them) where
        a shell prompt started (OSC 133;A), in order."""
        base = self.history.base
        total = self.line_count
        return [mark - base for mark in self._prompts if 0 <= mark - base < total]

    def take_bell(self) -> bool:
        """Whether the program rang the bell since the last call."""
        rung = self._vt.bell_rung
        self._vt.bell_rung = False
        return rung

    def take_dirty(self) -> set[int]:
        """Rows changed since the last call (every row after a resize, a scroll
        or a switch of screens)."""
        vt = self._vt
        dirty = vt.dirty
        vt.dirty = set()
        rows = vt.lines
        if len(dirty) and max(dirty) >= rows:
            return {y for y in dirty if y < rows}
        return dirty

    @property
    def has_dirty_rows(self) -> bool:
        """Whether rows changed since the last :meth:`take_dirty` (without taking them)."""
        return bool(self._vt.dirty)

    # -- state -----------------------------------------------------------------

    @property
    def cols(self) -> int:
        return self._vt.columns

    @property
    def rows(self) -> int:
        return self._vt.lines

    @property
    def cursor(self) -> tuple[int, int]:
        """``(x, y)``; a cursor waiting to wrap after the last column shows on it."""
        cursor = self._vt.cursor
        return min(cursor.x, self._vt.columns - 1), cursor.y

    @property
    def cursor_visible(self) -> bool:
        return mo.DECTCEM in self._vt.mode

    @property
    def cursor_style(self) -> int:
        """DECSCUSR: 0 default, 1/2 block, 3/4 underline, 5/6 bar (odd blinks)."""
        return self._vt.cursor_style

    @property
    def title(self) -> str:
        """Set by OSC 0 or 2; control characters removed."""
        return self._vt.title

    @property
    def alternate_screen(self) -> bool:
        """The program switched to the alternate screen (DECSET 47/1047/1049)."""
        return self._vt.put_aside is not None

    @property
    def bracketed_paste(self) -> bool:
        """DECSET 2004: wrap pastes in ``ESC [200~`` ... ``ESC [201~``."""
        return self._vt.private_mode(BRACKETED_PASTE)

    @property
    def mouse_mode(self) -> MouseMode | None:
        """Mouse events the program asked for (DECSET 9/1000/1002/1003), or None."""
        for mode in MOUSE_TRACKING:
            if self._vt.private_mode(mode):
                return MouseMode(mode)
        return None

    @property
    def mouse_encoding(self) -> MouseEncoding:
        """How to encode them (DECSET 1005/1006/1015; X10 bytes by default)."""
        for mode in MOUSE_ENCODINGS:
            if self._vt.private_mode(mode):
                return MouseEncoding(mode)
        return MouseEncoding.X10

    @property
    def application_cursor(self) -> bool:
        """DECCKM: arrow keys as ``ESC O A`` rather than ``ESC [ A``."""
        return self._vt.private_mode(DECCKM)

    @property
    def application_keypad(self) -> bool:
        """DECKPAM (``ESC =``) until DECKPNM (``ESC >``)."""
        return self._vt.application_keypad

    @property
    def focus_events(self) -> bool:
        """DECSET 1004: send ``ESC [I`` / ``ESC [O`` when the pane gains/loses focus."""
        return self._vt.private_mode(FOCUS_EVENTS)

    @property
    def synchronized_output(self) -> bool:
        """DECSET 2026: the program is between the start and end of a frame."""
        return self._vt.private_mode(SYNCHRONIZED_OUTPUT)

    # -- visible rows ------------------------------------------------------------

    def _row(self, y: int) -> Line:
        vt = self._vt
        if not 0 <= y < vt.lines:
            raise IndexError(f"row {y} is outside a screen of {vt.lines} rows")
        if mo.DECSCNM in vt.mode:
            return compact(_reversed_row(vt.buffer.get(y), vt.columns), vt.columns)
        return compact(vt.buffer.get(y), vt.columns)

    def render_row(self, y: int, width: int | None = None) -> str:
        """Row ``y`` as SGR-escaped text exactly ``width`` cells wide (default
        ``cols``), starting and ending with ``ESC [0m``."""
        return render(self._row(y), self.cols if width is None else width, self._vt.links)

    def row_text(self, y: int) -> str:
        """Row ``y`` as plain text, without trailing blanks; a wide character
        appears once."""
        return self._row(y).text.rstrip(" ")

    def row_wrapped(self, y: int) -> bool:
        """Row ``y`` continues on the next row (a soft wrap): the row's own
        flag, without making its line (and kept under DECSCNM too)."""
        vt = self._vt
        if not 0 <= y < vt.lines:
            raise IndexError(f"row {y} is outside a screen of {vt.lines} rows")
        return bool(getattr(vt.buffer.get(y), "wrapped", False))

    # -- scrollback ----------------------------------------------------------------

    @property
    def history_size(self) -> int:
        """Lines held in scrollback (at most the ``scrollback`` given)."""
        return len(self.history)

    @property
    def history_base(self) -> int:
        """Lines ever dropped from the front of the scrollback: history line
        ``i`` is absolute line ``history_base + i`` for as long as it is kept."""
        return self.history.base

    def history_row(self, i: int, width: int | None = None) -> str:
        """History line ``i`` (0 = oldest) rendered like :meth:`render_row`."""
        return render(self.history[i], self.cols if width is None else width, self._vt.links)

    def history_text(self, i: int) -> str:
        """History line ``i`` (0 = oldest) as plain text, like :meth:`row_text`."""
        return self.history.text(i).rstrip(" ")

    def clear_history(self) -> None:
        self.history.clear()

    # -- lines over scrollback and screen (copy mode) ---------------------------------

    @property
    def line_count(self) -> int:
        """``history_size + rows``: the lines copy mode can move over."""
        return len(self.history) + self._vt.lines

    def line(self, i: int) -> Line:
        """Line ``i`` over scrollback then screen, compact (text, attribute runs, wrapped)."""
        history = len(self.history)
        if 0 <= i < history:
            return self.history[i]
        return self._row(i - history)

    def line_text(self, i: int) -> str:
        return self.line(i).text.rstrip(" ")

    def render_line(self, i: int, width: int | None = None) -> str:
        return render(self.line(i), self.cols if width is None else width, self._vt.links)

    def copy_text(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """The text from position ``start`` to ``end``, both included, in
        reading order. Lines are joined with newlines except where a line
        soft-wrapped into the next; trailing blanks of each line are dropped."""
        if end < start:
            start, end = end, start
        (first, first_column), (last, last_column) = start, end
        first = max(first, 0)
        last = min(last, self.line_count - 1)
        parts = []
        for i in range(first, last + 1):
            line = self.line(i)
            begin = first_column if i == first else 0
            stop = last_column + 1 if i == last else 1 << 30
            text = cut(line.text, begin, stop)
            if line.wrapped and i != last:
                parts.append(text)
            else:
                parts.append(text.rstrip(" "))
                if i != last:
                    parts.append("\n")
        return "".join(parts)

    def search(
        self,
        needle: str,
        backwards: bool = True,
        start: tuple[int, int] | None = None,
        *,
        ignore_case: bool = False,
        wrap: bool = False,
    ) -> tuple[int, int] | None:
        """The position ``(line, column)`` of the next match of ``needle``.

        Backwards finds the nearest match that starts before ``start``,
        forwards the nearest that starts after it; without ``start`` the whole
        scrollback and screen are searched from the bottom (backwards) or the
        top (forwards). A match lies within one line. With ``wrap``, the search
        continues from the other end, as tmux's copy mode does.
        """
        if not needle:
            return None
        found = self._search(needle, backwards, start, ignore_case)
        if found is None and wrap and start is not None:
            found = self._search(needle, backwards, None, ignore_case)
        return found

    def _search(
        self, needle: str, backwards: bool, start: tuple[int, int] | None, ignore_case: bool
    ) -> tuple[int, int] | None:
        total = self.line_count
        pattern = re.compile(re.escape(needle), re.IGNORECASE) if ignore_case else None

        def starts(text: str) -> list[int]:
            if pattern is None:
                found, at = [], text.find(needle)
                while at >= 0:
                    found.append(at)
                    at = text.find(needle, at + 1)
                return found
            found, at = [], 0
            while (match := pattern.search(text, at)) is not None:
                found.append(match.start())
                at = match.start() + 1
            return found

        if backwards:
            line, column = start if start is not None else (total - 1, 1 << 30)
            line = min(line, total - 1)
            for i in range(line, -1, -1):
                text = self.line(i).text
                limit = column_to_index(text, column) if i == line else len(text) + 1
                hits = [at for at in starts(text) if at < limit]
                if hits:
                    return i, index_to_column(text, hits[-1])
        else:
            line, column = start if start is not None else (0, -1)
            line = max(line, 0)
            for i in range(line, total):
                text = self.line(i).text
                hits = starts(text)
                if i == line and column >= 0:
                    first = column_to_index(text, column)
                    hits = [at for at in hits if at > first]
                if hits:
                    return i, index_to_column(text, hits[0])
        return None
