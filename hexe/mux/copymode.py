"""Copy mode: scroll back through a pane's history, search, select and copy.

Lines are numbered over history and screen together: 0 is the oldest line
of scrollback, ``history_size + rows - 1`` the last row of the screen. A
position is ``(x, line)`` with ``x`` a *display* column: a wide character
(CJK, most emoji) takes two, a combining mark none. The cursor always rests
on the first column of a character, so a selection never cuts a wide one in
half.

The keys come in two tables, tmux's ``copy-mode-vi`` and ``copy-mode``
(emacs), chosen by ``hexe.options { mode_keys = "vi" | "emacs" }``
(:mod:`hexe.mux.copykeys`); both name the same commands, the methods here.
Search is :mod:`hexe.mux.copysearch` (regular expressions, smart case,
bounded in time). Nothing here draws or talks to a client: the server reads
:meth:`CopyMode.view` and the results of :meth:`CopyMode.key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hexe.mux.copycommands import COMMANDS, jump
from hexe.mux.copykeys import table
from hexe.mux.copysearch import Search, SearchError
from hexe.mux.copyunits import Unit, units, word_class


@dataclass(frozen=True)
class CopyView:
    """What the compositor needs to draw a pane in copy mode."""

    top: int  # first displayed line (over history + screen)
    cursor: tuple[int, int]  # (x, line)
    selection: tuple[tuple[int, int], tuple[int, int]] | None  # ((x, line), (x, line)), ordered
    position: str  # "[12/340]": lines above the bottom / history size; "3/17 [12/340]" searching
    #: "char" (a stream), "line" (whole lines) or "rect" (a block of columns)
    kind: str = "char"
    #: (line, start, end) of each search match on the visible lines, end excluded
    matches: tuple[tuple[int, int, int], ...] = ()

    def selected_columns(self, line: int, cols: int) -> tuple[int, int] | None:
        """The columns ``[start, end)`` of ``line`` that are selected, or None."""
        sel = self.selection
        if sel is None or not sel[0][1] <= line <= sel[1][1]:
            return None
        (x0, y0), (x1, y1) = sel
        if self.kind == "line":
            return 0, cols
        if self.kind == "rect":
            left, right = min(x0, x1), max(x0, x1)
            return left, right + 1
        return (x0 if line == y0 else 0), (x1 + 1 if line == y1 else cols)


class CopyMode:
    def __init__(self, screen: Any, mode_keys: str = "vi") -> None:
        self.screen = screen
        self.mode_keys = mode_keys
        self.keys = table(mode_keys)
        self.top = self.bottom_top
        self.cx, self.cy = screen.cursor[0], self.total - screen.rows + screen.cursor[1]
        self.anchor: tuple[int, int] | None = None
        self.kind = "char"
        self.last_search: tuple[str, bool] | None = None
        self.searching: Search | None = None
        #: a key waiting for its character (f t F T): the command's name
        self.pending: str | None = None
        self.last_jump: tuple[str, str] | None = None
        #: something for the status line (a bad pattern, a search cut short)
        self.message: str | None = None
        self._units: dict[int, tuple[str, list[Unit]]] = {}

    # -- geometry ---------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.screen.history_size + self.screen.rows

    @property
    def bottom_top(self) -> int:
        return self.screen.history_size

    @property
    def at_bottom(self) -> bool:
        return self.top >= self.bottom_top

    def text(self, line: int) -> str:
        history = self.screen.history_size
        if line < history:
            return self.screen.history_text(line)
        return self.screen.row_text(line - history)

    def wrapped(self, line: int) -> bool:
        return bool(0 <= line < self.total and self.screen.line(line).wrapped)

    def units(self, line: int) -> list[Unit]:
        text = self.text(line) if 0 <= line < self.total else ""
        cached = self._units.get(line)
        if cached is not None and cached[0] == text:
            return cached[1]
        if len(self._units) > 256:
            self._units.clear()
        found = units(text)
        self._units[line] = (text, found)
        return found

    def index_at(self, line: int, x: int) -> int:
        """The unit covering column ``x`` of ``line`` (``len`` past the text)."""
        for i, (column, width, _) in enumerate(self.units(line)):
            if column + max(width, 1) > x:
                return i
        return len(self.units(line))

    def snap(self, x: int, line: int) -> int:
        """``x`` moved to the first column of the character covering it."""
        found = self.units(line)
        i = self.index_at(line, x)
        return found[i][0] if i < len(found) else x

    def _clamp(self) -> None:
        rows = self.screen.rows
        self.cy = max(0, min(self.cy, self.total - 1))
        self.cx = max(0, min(self.cx, self.screen.cols - 1))
        self.cx = self.snap(self.cx, self.cy)
        if self.cy < self.top:
            self.top = self.cy
        elif self.cy >= self.top + rows:
            self.top = self.cy - rows + 1
        self.top = max(0, min(self.top, self.bottom_top))

    def scroll(self, lines: int) -> None:
        """Move the view (the wheel); the cursor stays on screen."""
        self.top = max(0, min(self.top + lines, self.bottom_top))
        self.cy = max(self.top, min(self.cy, self.top + self.screen.rows - 1))
        self.cx = self.snap(self.cx, self.cy)

    def move_to(self, x: int, line: int) -> None:
        """Put the cursor on column ``x`` of ``line`` (a click), the view unmoved."""
        self.cy = max(0, min(line, self.total - 1))
        self.cx = self.snap(max(0, min(x, self.screen.cols - 1)), self.cy)

    # -- keys ---------------------------------------------------------------------

    def key(self, name: str) -> tuple[str, Any] | None:
        """Handle a key; returns ("copy", text), ("exit", None), ("search", direction),
        ("unbound", None) for a key the table does not have, or None."""
        if self.pending is not None:
            command, self.pending = self.pending, None
            char = " " if name == "Space" else name
            if len(char) == 1:
                self.last_jump = (command, char)
                jump(self, command, char)
                self._clamp()
            return None
        command = self.keys.get(name)
        if command is None:
            return ("unbound", None)
        return self.run(command)

    def run(self, command: str) -> tuple[str, Any] | None:
        """Run one copy-mode command by its tmux name (``cursor-left``)."""
        if command in ("jump-forward", "jump-backward", "jump-to-forward", "jump-to-backward"):
            self.pending = command
            return None
        handler = COMMANDS.get(command)
        if handler is None:
            return None
        result = handler(self)
        self._clamp()
        return result

    def select_word(self) -> None:
        """Select the word under the cursor (a double click)."""
        found = self.units(self.cy)
        i = self.index_at(self.cy, self.cx)
        if i >= len(found):
            return
        kind = word_class(found[i][2])
        first = last = i
        while first > 0 and word_class(found[first - 1][2]) == kind:
            first -= 1
        while last + 1 < len(found) and word_class(found[last + 1][2]) == kind:
            last += 1
        self.anchor, self.kind = (found[first][0], self.cy), "char"
        self.cx = found[last][0]

    def selection(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        if self.anchor is None:
            return None
        a = (self.anchor[1], self.anchor[0])
        b = (self.cy, self.cx)
        first, last = sorted((a, b))
        if self.kind == "rect":
            left, right = sorted((a[1], b[1]))
            return (left, first[0]), (right, last[0])
        return (first[1], first[0]), (last[1], last[0])

    def selected_text(self) -> str:
        """The selection by display columns, soft wraps joined; a rectangle's
        lines each cut to its columns (a wide character counts where it starts)."""
        sel = self.selection()
        if sel is None:
            return ""
        (x0, y0), (x1, y1) = sel
        if self.kind == "line":
            return self.screen.copy_text((y0, 0), (y1, 1 << 30))
        if self.kind == "rect":
            rows = []
            for line in range(y0, y1 + 1):
                rows.append(self.screen.copy_text((line, x0), (line, x1)).rstrip(" "))
            return "\n".join(rows)
        found = self.units(y1)
        i = self.index_at(y1, x1)
        end = found[i][0] + max(found[i][1], 1) - 1 if i < len(found) else x1
        return self.screen.copy_text((y0, x0), (y1, end))

    def _shape(self) -> tuple[int, ...]:
        return (self.screen.history_base, self.screen.history_size, self.screen.rows)

    def search(self, needle: str, backwards: bool) -> bool:
        """Find ``needle`` (a regular expression, smart case) from the cursor;
        False when there is no match or the pattern is bad (``message`` says)."""
        self.last_search = (needle, backwards)
        if self.searching is None or self.searching.pattern != needle:
            try:
                self.searching = Search(needle, backwards)
            except SearchError as exc:
                self.searching = None
                self.message = str(exc)
                return False
        found = self.searching
        found.find_all(self.total, self.text, self._shape())
        if found.partial:
            self.message = "search: stopped early (the pattern is too slow here, or too many)"
        target = found.next_from((self.cy, self.cx), backwards)
        if target is None:
            return False
        self.cy, self.cx = target
        self._clamp()
        return True

    def take_message(self) -> str | None:
        message, self.message = self.message, None
        return message

    def view(self) -> CopyView:
        above = self.bottom_top - self.top
        position = f"[{above}/{self.screen.history_size}]"
        matches: tuple[tuple[int, int, int], ...] = ()
        if self.searching is not None:
            # the count is of the last search (n, N count again): output
            # arriving must not make each frame search the whole history
            position = f"{self.searching.position((self.cy, self.cx))} {position}"
            rows = min(self.screen.rows, self.total - self.top)
            matches = self.searching.visible(self.top, rows, self.text)
        return CopyView(
            top=self.top,
            cursor=(self.cx, self.cy),
            selection=self.selection(),
            position=position,
            kind=self.kind,
            matches=matches,
        )
