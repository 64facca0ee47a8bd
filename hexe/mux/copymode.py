"""Copy mode: scroll back through a pane's history, search, select and copy.

Lines are numbered over history and screen together: 0 is the oldest line
of scrollback, ``history_size + rows - 1`` the last row of the screen. The
keys are tmux's copy-mode-vi ones, with the arrows and page keys too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hexe.terminal.lines import text_width


@dataclass(frozen=True)
class CopyView:
    """What the compositor needs to draw a pane in copy mode."""

    top: int  # first displayed line (over history + screen)
    cursor: tuple[int, int]  # (x, line)
    selection: tuple[tuple[int, int], tuple[int, int]] | None  # ((x, line), (x, line)), ordered
    position: str  # "[12/340]": lines above the bottom / history size


class CopyMode:
    def __init__(self, screen: Any) -> None:
        self.screen = screen
        self.top = self.bottom_top
        self.cx, self.cy = screen.cursor[0], self.total - screen.rows + screen.cursor[1]
        self.anchor: tuple[int, int] | None = None
        self.last_search: tuple[str, bool] | None = None

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

    def _clamp(self) -> None:
        rows = self.screen.rows
        self.cy = max(0, min(self.cy, self.total - 1))
        self.cx = max(0, min(self.cx, self.screen.cols - 1))
        if self.cy < self.top:
            self.top = self.cy
        elif self.cy >= self.top + rows:
            self.top = self.cy - rows + 1
        self.top = max(0, min(self.top, self.bottom_top))

    def scroll(self, lines: int) -> None:
        """Move the view (the wheel); the cursor stays on screen."""
        self.top = max(0, min(self.top + lines, self.bottom_top))
        self.cy = max(self.top, min(self.cy, self.top + self.screen.rows - 1))

    # -- keys ---------------------------------------------------------------------

    def key(self, name: str) -> tuple[str, Any] | None:
        """Handle a key; returns ("copy", text), ("exit", None), ("search", direction) or None."""
        rows = self.screen.rows
        moves = {
            "Up": (0, -1),
            "k": (0, -1),
            "Down": (0, 1),
            "j": (0, 1),
            "Left": (-1, 0),
            "h": (-1, 0),
            "Right": (1, 0),
            "l": (1, 0),
            "PageUp": (0, -rows),
            "C-b": (0, -rows),
            "C-u": (0, -(rows // 2)),
            "PageDown": (0, rows),
            "C-f": (0, rows),
            "C-d": (0, rows // 2),
        }
        if name in moves:
            dx, dy = moves[name]
            self.cx += dx
            self.cy += dy
            if dy and abs(dy) >= rows // 2:
                self.top += dy
        elif name in ("g", "Home"):
            self.cy, self.cx = 0, 0
        elif name in ("G", "End"):
            self.cy = self.total - 1
        elif name == "0":
            self.cx = 0
        elif name == "$":
            self.cx = max(text_width(self.text(self.cy).rstrip()) - 1, 0)
        elif name in ("Space", "v"):
            self.anchor = (self.cx, self.cy)
        elif name in ("Enter", "y"):
            if self.anchor is None:
                return ("exit", None)
            return ("copy", self.selected_text())
        elif name in ("Escape", "q", "C-c"):
            return ("exit", None)
        elif name == "/":
            return ("search", "forward")
        elif name == "?":
            return ("search", "backward")
        elif name in ("n", "N") and self.last_search:
            needle, backwards = self.last_search
            self.search(needle, backwards if name == "n" else not backwards)
        self._clamp()
        return None

    def search(self, needle: str, backwards: bool) -> bool:
        self.last_search = (needle, backwards)
        found = self.screen.search(needle, backwards=backwards, start=(self.cy, self.cx))
        if found is None:
            return False
        self.cy, self.cx = found
        self._clamp()
        return True

    def selection(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        if self.anchor is None:
            return None
        a = (self.anchor[1], self.anchor[0])
        b = (self.cy, self.cx)
        first, last = sorted((a, b))
        return (first[1], first[0]), (last[1], last[0])

    def selected_text(self) -> str:
        """The selection, by screen columns (wide characters count two), soft wraps joined."""
        sel = self.selection()
        if sel is None:
            return ""
        (x0, y0), (x1, y1) = sel
        return self.screen.copy_text((y0, x0), (y1, x1))

    def view(self) -> CopyView:
        above = self.bottom_top - self.top
        return CopyView(
            top=self.top,
            cursor=(self.cx, self.cy),
            selection=self.selection(),
            position=f"[{above}/{self.screen.history_size}]",
        )
