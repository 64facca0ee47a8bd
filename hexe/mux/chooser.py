"""The chooser (``choose-tree``, prefix s / prefix w): sessions, their tabs and panes as a tree.

A model only: rows built from what each session reported (``session-info``
and ``list-panes``), a cursor, the window of rows shown, and the lines drawn
in the help overlay's box: the tree above, a preview of the pane under the
cursor below. Nothing here talks to a server or draws: the server's
switching room (``hexe/server/switching.py``) feeds it and acts on the
choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hexe.terminal.lines import clip, text_width

#: Titles and names come from panes and other sessions: no control characters.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain(text: object, limit: int = 200) -> str:
    """``text`` with control characters removed, at most ``limit`` characters."""
    return _CONTROLS.sub("", str(text))[:limit]


@dataclass(frozen=True)
class Row:
    """One line of the tree: a session, a tab of it, or a pane of that tab."""

    kind: str  # "session" | "tab" | "pane"
    session: str
    label: str
    tab: int | None = None
    pane: int | None = None
    #: the pane previewed for this row (a tab's focused pane, a session's active one)
    preview: int | None = None
    current: bool = False  # the session, tab or pane this client shows now

    @property
    def depth(self) -> int:
        return {"session": 0, "tab": 1, "pane": 2}[self.kind]


@dataclass
class Chooser:
    """The tree of sessions and the cursor on it."""

    rows: list[Row]
    cursor: int = 0
    top: int = 0
    #: preview lines by (session, pane), filled in as the cursor visits panes
    previews: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, here: str, sessions: list[dict[str, Any]]) -> Chooser:
        """``sessions``: ``{"name", "panes": [list-panes entries] | None, "error"}``,
        this session (``here``) among them; the cursor starts on its active pane."""
        rows: list[Row] = []
        start = 0
        for info in sorted(sessions, key=lambda s: str(s["name"])):
            name = str(info["name"])
            panes = info.get("panes")
            active = next((p for p in panes or () if p.get("active")), None)
            label = plain(name, 64)
            if panes is None:
                label += f"  ({plain(info.get('error') or 'did not answer', 60)})"
            else:
                tabs = len({p["tab"] for p in panes})
                label += (
                    f"  {tabs} tab{'s' * (tabs != 1)}, {len(panes)} pane{'s' * (len(panes) != 1)}"
                )
                if name == here:
                    label += "  (this session)"
            rows.append(
                Row("session", name, label, preview=active["id"] if active else None,
                    current=name == here)
            )  # fmt: skip
            seen: set[int] = set()
            for pane in panes or ():
                tab = int(pane["tab"])
                if tab not in seen:
                    seen.add(tab)
                    focused = next((p for p in panes if p["tab"] == tab and p.get("focused")), pane)
                    tab_active = bool(focused.get("active"))
                    rows.append(
                        Row(
                            "tab", name, f"{tab}: {plain(pane.get('tab_name') or '', 60)}",
                            tab=tab, preview=focused["id"], current=name == here and tab_active,
                        )
                    )  # fmt: skip
                current = name == here and bool(pane.get("active"))
                if current:
                    start = len(rows)
                rows.append(
                    Row(
                        "pane", name,
                        f"pane {pane['id']}: {plain(pane.get('title') or '', 60)}",
                        tab=tab, pane=int(pane["id"]), preview=int(pane["id"]), current=current,
                    )
                )  # fmt: skip
        return cls(rows, cursor=start)

    @property
    def row(self) -> Row | None:
        return self.rows[self.cursor] if self.rows else None

    def move(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(self.cursor + step, len(self.rows) - 1))

    def move_to_kind(self, step: int, kind: str) -> None:
        """To the next (``step`` 1) or previous session or tab row."""
        i = self.cursor + step
        while 0 <= i < len(self.rows):
            if self.rows[i].kind == kind:
                self.cursor = i
                return
            i += step

    def lines(self, cols: int, rows: int) -> list[str]:
        """The box's lines (``cols`` wide, ``rows`` of them at most): the tree's
        window around the cursor, a rule, and the preview."""
        width = max(cols, 10)
        tree_rows = max(min(len(self.rows), rows // 2 - 1), 1)
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + tree_rows:
            self.top = self.cursor - tree_rows + 1
        out = []
        for i in range(self.top, min(self.top + tree_rows, len(self.rows))):
            row = self.rows[i]
            mark = ">" if i == self.cursor else " "
            here = "*" if row.current else " "
            text = f"{mark}{here}{'  ' * row.depth}{row.label}"
            out.append(_pad(clip(text, width), width))
        keys = "Enter: choose  Up/Down: move  Left/Right: sessions  Esc/q: close"
        out.append(_pad(clip("-- " + keys + " ", width), width, "-"))
        row = self.row
        preview = self.previews.get((row.session, row.preview), []) if row and row.preview else []
        room = max(rows - len(out), 0)
        shown = preview[-room:] if len(preview) > room else preview
        out += [_pad(clip(plain(line, 4 * width), width), width) for line in shown]
        out += [" " * width] * (room - len(shown))
        return out[:rows]


def _pad(text: str, width: int, fill: str = " ") -> str:
    return text + fill * max(width - text_width(text), 0)
