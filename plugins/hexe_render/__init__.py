"""hexe_render: the built-in compositor — panes, borders, status line, overlays.

It implements ``hexe_render`` (one frame for one client) and the built-in
status segments. A frame is a list of terminal rows, each a string of
absolutely positioned pieces (a pane's row, a border run, the status line);
only rows that differ from the client's previous frame are sent. A pane's
rows are rendered again only when its screen reports them dirty, once per
frame whatever the number of clients. The whole frame is wrapped in
synchronized-output marks (DECSET 2026) so terminals that know them show it
at once.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hexe import hookimpl
from hexe.config.loader import SEGMENTS  # the built-in segment names, drawn below

_LINES = ("clip", "clip_start", "cut", "drawable", "fit", "text_width")


def _from_lines(name: str) -> Any:
    """``hexe.terminal.lines``'s ``name``, imported on its first call: loading
    the plugins (``hexe run``, ``hexe doctor``) does not load the terminal
    (pyte, wcwidth: ~40 ms). The first call puts the real functions here."""

    def first_call(*args: Any, **kwargs: Any) -> Any:
        from hexe.terminal import lines

        globals().update({n: getattr(lines, n) for n in _LINES})
        return globals()[name](*args, **kwargs)

    return first_call


clip, clip_start, cut, drawable, fit, text_width = (_from_lines(n) for n in _LINES)

if TYPE_CHECKING:
    from hexe.mux.view import View


NAME = "render"
#: Seconds a pane's synchronized update (DECSET 2026) may hold its rows.
SYNC_TIMEOUT = 1.0
RESET = "\x1b[0m"
STATUS_STYLE = "\x1b[30;42m"
MESSAGE_STYLE = "\x1b[30;43m"
BORDER_STYLE = ""
FOCUS_BORDER_STYLE = "\x1b[32m"
NOTICE_STYLE = "\x1b[30;43m"
SELECT_STYLE = "\x1b[7m"
MATCH_STYLE = "\x1b[30;43m"
CURRENT_MATCH_STYLE = "\x1b[30;46m"
GLYPHS = {
    "ud": "│",
    "lr": "─",
    "u": "│",
    "d": "│",
    "l": "─",
    "r": "─",
    "udl": "┤",
    "udr": "├",
    "dlr": "┬",
    "ulr": "┴",
    "udlr": "┼",
    "dr": "┌",
    "dl": "┐",
    "ur": "└",
    "ul": "┘",
}


@dataclass
class PaneRows:
    """Rendered rows of one pane's screen, refreshed from its dirty rows."""

    screen: Any
    cols: int
    rows: list[str] = field(default_factory=list)
    frame: int = -1
    #: when the program was first seen inside a synchronized update (DECSET 2026)
    sync_since: float | None = None
    #: counts the updates of ``rows``; ``changed``: the rows the last one changed
    version: int = 0
    changed: set[int] = field(default_factory=set)


@dataclass
class ClientState:
    cols: int
    rows: int
    lines: list[str]
    modes: str


_cache: dict[int, PaneRows] = {}
#: the number of the frame being drawn: a pane's dirty rows are taken once a frame
_pane_frame = {"n": 0}


def _pane_rows(pane: Any, echo: bool = False) -> list[str]:
    """The pane's rows as SGR strings, re-rendering only dirty rows (once per
    frame); in an echo frame, an unfocused pane's rows as they were."""
    screen = pane.screen
    cols = pane.rect.cols
    entry = _cache.get(pane.id)
    if (
        entry is None
        or entry.screen is not screen
        or entry.cols != cols
        or len(entry.rows) != screen.rows
    ):
        entry = PaneRows(screen, cols, [""] * screen.rows)
        _cache[pane.id] = entry
        screen.take_dirty()
        dirty: set[int] = set(range(screen.rows))
    elif entry.frame == _pane_frame["n"] or (echo and not pane.focused):
        return entry.rows  # an echo frame: its dirty rows wait for the next frame
    elif _holding(entry, screen):
        return entry.rows  # a synchronized update: shown when it ends
    else:
        dirty = screen.take_dirty()
    changed = set()
    for y in dirty:
        if 0 <= y < screen.rows:
            entry.rows[y] = screen.render_row(y, cols)
            changed.add(y)
    if changed:
        entry.version += 1
        entry.changed = changed
    entry.frame = _pane_frame["n"]
    return entry.rows


def _holding(entry: PaneRows, screen: Any) -> bool:
    """Whether the program is in a synchronized update (DECSET 2026) begun less
    than :data:`SYNC_TIMEOUT` ago: its rows are shown as they were before it,
    so a frame it draws in pieces appears whole (tmux does the same, with
    the same limit, so a program that never ends one cannot freeze its pane)."""
    if not getattr(screen, "synchronized_output", False):
        entry.sync_since = None
        return False
    now = time.monotonic()
    if entry.sync_since is None:
        entry.sync_since = now
    return now - entry.sync_since < SYNC_TIMEOUT


def _copy_rows(pane: Any) -> list[str]:
    """A pane in copy mode: history and screen from ``copy.top``; the
    selection reversed, search matches highlighted (the one under the cursor
    apart). A line with neither keeps its colours."""
    screen = pane.screen
    copy = pane.copy
    cols = pane.rect.cols
    history = screen.history_size
    out = []
    matches: dict[int, list[tuple[int, int]]] = {}
    for line, start, end in getattr(copy, "matches", ()):
        matches.setdefault(line, []).append((start, end))
    selected = getattr(copy, "selected_columns", None)
    for i in range(pane.rect.rows):
        line = copy.top + i
        if line >= history + screen.rows:
            out.append(RESET + " " * cols)
            continue
        columns = selected(line, cols) if selected is not None else None
        if columns is None and line not in matches:
            if line < history:
                out.append(screen.history_row(line, cols))
            else:
                out.append(screen.render_row(line - history, cols))
            continue
        text = screen.history_text(line) if line < history else screen.row_text(line - history)
        text = cut(text, 0, cols)
        text += " " * (cols - text_width(text))
        styles = [""] * cols  # a style per column; a character takes its first column's
        for start, end in matches.get(line, ()):
            here = start <= copy.cursor[0] < end and line == copy.cursor[1]
            for x in range(max(start, 0), min(end, cols)):
                styles[x] = CURRENT_MATCH_STYLE if here else MATCH_STYLE
        if columns is not None:
            for x in range(max(columns[0], 0), min(columns[1], cols)):
                styles[x] = SELECT_STYLE
        pieces = [RESET]
        x = 0
        while x < cols:
            end = x
            while end < cols and styles[end] == styles[x]:
                end += 1
            pieces.append(styles[x] + cut(text, x, end) + RESET)
            x = end
        out.append("".join(pieces))
    return out


# Controls in a segment (a tab name, a title a program set) would move the
# outer terminal's cursor: they are dropped. Widths below are display widths,
# of the text as drawn (:func:`_shown`).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _shown(text: str) -> str:
    """Text hexe draws itself as it reaches the terminal: no controls, no
    zero-width joiner or emoji selector (see ``lines.drawable``)."""
    return drawable(_CONTROLS.sub("", text))


def _segment(name: Any, view: Any) -> str:
    if not isinstance(name, str):  # a Lua function
        try:
            value = view.runtime.call(name)
        except Exception as exc:  # noqa: BLE001 - a user's function must not break drawing
            return _shown(f"<{exc}>")
        return "" if value is None else _shown(str(value))
    text = view.hooks.hexe_status_segment(name=name, view=view)
    return "" if text is None else _shown(text)


#: The status line last drawn, and what it was drawn from (see :func:`_status_line`).
_status: dict[str, Any] = {"key": None, "texts": None, "line": None}
#: Built-in segments whose text follows from the view's fields (and the clock's
#: minute) alone, while the render plugin is the only one answering for segments.
_KEYED_SEGMENTS = frozenset({"session", "tabs", "title", "isolation", "clock"})


_ours: list[Any] = [None, False]  # the hooks last asked about, and the answer


def _only_ours(hooks: Any) -> bool:
    """Whether this plugin alone answers ``hexe_status_segment`` (no other
    plugin overrides a built-in segment); plugins are registered once, before
    the server draws, so the answer is kept for the same hooks."""
    if _ours[0] is hooks:
        return _ours[1]
    try:
        impls = hooks.hexe_status_segment.get_hookimpls()
    except AttributeError:  # not a plugin manager's hooks (a test's stand-in)
        return False
    _ours[:] = [hooks, all(impl.function is hexe_status_segment for impl in impls)]
    return _ours[1]


def _status_texts(view: Any) -> tuple[str, ...]:
    """Each segment's text, left then right.

    A frame asks again only for what may have changed: a built-in segment
    (:data:`_KEYED_SEGMENTS`) when a field of the view it is made from changed
    (the clock: its minute); a Lua function or a plugin's segment (and every
    segment while another plugin answers for segments) on every frame but a
    key's echo frame, which shows them as last drawn (the frame that follows,
    or the status line's interval, draws them anew)."""
    names = view.status_left + view.status_right
    ours = _only_ours(view.hooks)
    keyed = [ours and isinstance(n, str) and n in _KEYED_SEGMENTS for n in names]
    clock = int(time.time() // 60) if "clock" in names else None  # the minute shown
    key = (
        names, view.hooks, view.runtime, view.session, view.tabs, view.zoomed,
        view.focused_title, view.focused_isolation, clock,
    )  # fmt: skip
    cached = _status["texts"]
    if cached is not None and _status["key"] == key:
        if view.echo or all(keyed):
            return cached
        texts = tuple(
            text if keep else _segment(name, view)
            for name, keep, text in zip(names, keyed, cached, strict=True)
        )
    else:
        texts = tuple(_segment(name, view) for name in names)
    _status["key"] = key
    _status["texts"] = texts
    return texts


def _status_line(view: Any) -> tuple[str, int | None]:
    """The last row, and the cursor column when a prompt is open."""
    cols = view.cols
    if view.prompt is not None:
        label, text = view.prompt
        line = _shown(f"{label}: {text}")
        shown = clip_start(line, cols - 1)  # the end, where the typing is
        return MESSAGE_STYLE + fit(shown, cols) + RESET, text_width(shown)
    if view.message:
        return MESSAGE_STYLE + fit(_shown(view.message), cols) + RESET, None
    texts = _status_texts(view)
    drawn = _status["line"]
    if drawn is not None and drawn[0] == (cols, texts):
        return drawn[1], None
    split = len(view.status_left)
    left = " ".join(s for s in texts[:split] if s)
    right = " ".join(s for s in texts[split:] if s)
    left = clip(left, cols)
    space = cols - text_width(left) - text_width(right)
    if space < 1:
        right = clip(right, max(cols - text_width(left) - 1, 0))
        space = cols - text_width(left) - text_width(right)
    line = left + " " * max(space, 0) + right
    line = STATUS_STYLE + fit(line, cols) + RESET
    _status["line"] = ((cols, texts), line)
    return line, None


def _overlay(view: Any, lines: list[str]) -> None:
    """Draw the help box centred over the panes (pieces appended to the rows)."""
    body = [_shown(line) for line in view.overlay]
    area = max(view.rows - 1, 1)
    width = min(max(text_width(line) for line in body) + 4, view.cols)
    height = min(len(body) + 2, area)
    x0 = max((view.cols - width) // 2, 0)
    y0 = max((area - height) // 2, 0)
    shown = body[: height - 2]
    for i in range(height):
        if i == 0 or i == height - 1:
            text = "+" + "-" * (width - 2) + "+"
        else:
            text = "| " + fit(shown[i - 1], width - 4) + " |"
        lines[y0 + i] += f"\x1b[{y0 + i + 1};{x0 + 1}H" + "\x1b[0;7m" + text + RESET


def _draw_pane(pane: Any, lines: list[str], area: int, echo: bool) -> None:
    """A pane's rows (and its copy-mode or exit tag) appended to the frame's rows."""
    rect = pane.rect
    rows = _copy_rows(pane) if pane.copy is not None else _pane_rows(pane, echo)
    for i in range(min(rect.rows, len(rows), area - rect.y)):
        lines[rect.y + i] += f"\x1b[{rect.y + i + 1};{rect.x + 1}H" + rows[i]
    tag = None
    if pane.copy is not None:
        tag = pane.copy.position
        ty = rect.y
    elif pane.notice:
        tag = _shown(f"[{pane.notice}]")
        ty = rect.y + rect.rows - 1
    if tag and text_width(tag) <= rect.cols:
        x = rect.x + rect.cols - text_width(tag)
        lines[ty] += f"\x1b[{ty + 1};{x + 1}H" + NOTICE_STYLE + tag + RESET


def _floats(view: Any, lines: list[str], area: int) -> None:
    """The floating panes over everything else, bottom first: a box whose top row
    holds the title (and isolation), then the pane inside it."""
    for pane in view.floats:
        rect = pane.rect  # the inside: the box is one cell larger on each side
        x0, y0, inner = rect.x - 1, rect.y - 1, rect.cols
        style = FOCUS_BORDER_STYLE if pane.focused else BORDER_STYLE
        label = _shown(" ".join(t for t in (pane.title, pane.isolation) if t))
        label = clip(f" {label} ", inner) if label else ""
        top = "┌" + label + "─" * (inner - text_width(label)) + "┐"
        if 0 <= y0 < area:
            lines[y0] += f"\x1b[{y0 + 1};{x0 + 1}H" + RESET + style + top + RESET
        for y in range(rect.y, min(rect.y + rect.rows, area)):
            lines[y] += f"\x1b[{y + 1};{x0 + 1}H" + RESET + style + "│" + RESET
            lines[y] += f"\x1b[{y + 1};{rect.x + inner + 1}H" + style + "│" + RESET
        bottom = rect.y + rect.rows
        if bottom < area:
            row = "└" + "─" * inner + "┘"
            lines[bottom] += f"\x1b[{bottom + 1};{x0 + 1}H" + RESET + style + row + RESET
        _draw_pane(pane, lines, area, view.echo)


#: Border rows drawn, by (borders, the focused pane's rectangle): a layout's
#: lines cost O(cells x borders) to work out, and they change only with the
#: layout, the size or the focus — not with every key's echo frame.
_borders_drawn: dict[tuple[Any, Any], dict[int, str]] = {}
BORDER_CACHE = 32


_last_borders: list[Any] = [None, None, None]  # geometry, focused, rows: the last frame's


def _border_rows(geometry: Any, focused: int | None) -> dict[int, str]:
    """Each row's border pieces, absolutely positioned, the focused pane's highlighted."""
    last = _last_borders
    if last[0] is geometry and last[1] == focused and _borders_drawn:
        return last[2]  # the same geometry (a layout's is kept) and focus as the last frame's
    rows = _border_rows_of(geometry, focused)
    last[:] = [geometry, focused, rows]
    return rows


def _border_rows_of(geometry: Any, focused: int | None) -> dict[int, str]:
    rect = geometry.panes.get(focused) if focused is not None else None
    key = (geometry.borders, rect)
    rows = _borders_drawn.get(key)
    if rows is None:
        highlight = geometry.border_around(focused) if rect is not None else frozenset()
        runs: dict[int, list[tuple[int, str]]] = {}
        for (x, y), arms in geometry.border_cells().items():
            style = FOCUS_BORDER_STYLE if (x, y) in highlight else BORDER_STYLE
            runs.setdefault(y, []).append((x, style + GLYPHS.get(arms, "┼") + RESET))
        rows = {
            y: "".join(f"\x1b[{y + 1};{x + 1}H" + glyph for x, glyph in sorted(cells))
            for y, cells in runs.items()
        }
        if len(_borders_drawn) >= BORDER_CACHE:
            _borders_drawn.clear()
        _borders_drawn[key] = rows
    return rows


def _focused(view: Any) -> Any:
    """The pane with the focus: a float's when the layer has it, else a tiled one."""
    for pane in view.floats:
        if pane.focused:
            return pane
    return next((p for p in view.panes if p.focused), None)


@dataclass
class Composed:
    """The panes' and borders' rows of the last frame composed, and what they
    were composed from: the next frame with the same structure (panes,
    rectangles, notices, borders, focus) composes again only the rows where a
    pane's row changed."""

    structure: tuple[Any, ...]
    borders: dict[int, str]  # the border rows used (kept: compared by identity)
    cover: list[list[int]]  # for each row, the indexes of the panes on it
    lines: list[str]  # without floats, overlay and the status line
    #: each pane's rows used: their :class:`PaneRows` and its version
    used: dict[int, tuple[PaneRows, int]] = field(default_factory=dict)
    panes: tuple[Any, ...] = ()  # the pane views composed (kept: compared by identity)
    geometry: Any = None  # the view's borders (kept: compared by identity)


_composed: dict[str, Composed | None] = {"last": None}
_known: dict[str, Any] = {"panes": None}  # the panes of the session when _cache was pruned
#: Every client drawn from the same view gets the same new state (its rows do
#: not depend on what the client showed before), so clients attached at
#: different times share their previous state from the next frame on and a
#: frame is composed once whatever their number.
_frame_state: dict[str, Any] = {"view": None, "state": None, "cursor": ""}


def _tag(pane: Any) -> tuple[int, str] | None:
    """The tag drawn over a pane's right edge: (its row in the pane, the text)."""
    if pane.copy is not None:
        tag, at = pane.copy.position, 0
    elif pane.notice:
        tag, at = _shown(f"[{pane.notice}]"), pane.rect.rows - 1
    else:
        return None
    return (at, tag) if tag and text_width(tag) <= pane.rect.cols else None


def _row(y: int, panes: tuple[Any, ...], on_row: list[int], rows_of: list[list[str]],
         tags: list[tuple[int, str] | None], borders: dict[int, str]) -> str:  # fmt: skip
    """Row ``y`` of the panes' area: each pane's piece (and tag) in the view's
    order, then the border pieces."""
    parts = []
    for index in on_row:
        pane = panes[index]
        rect = pane.rect
        i = y - rect.y
        rows = rows_of[index]
        if i < len(rows):
            parts.append(f"\x1b[{y + 1};{rect.x + 1}H" + rows[i])
        tag = tags[index]
        if tag is not None and tag[0] == i:
            x = rect.x + rect.cols - text_width(tag[1])
            parts.append(f"\x1b[{y + 1};{x + 1}H" + NOTICE_STYLE + tag[1] + RESET)
    border = borders.get(y)
    if border:
        parts.append(border)
    return "".join(parts)


def _compose(view: Any, area: int) -> list[str]:
    """The frame's rows of panes and borders (not floats, overlay, status)."""
    panes = view.panes
    rows_of = [_copy_rows(p) if p.copy is not None else _pane_rows(p, view.echo) for p in panes]
    if _known["panes"] != view.known_panes:
        for gone in set(_cache) - set(view.known_panes):
            del _cache[gone]  # closed panes; background tabs' panes keep their rows
        _known["panes"] = view.known_panes
    geometry = view.borders
    last = _composed["last"]
    if (
        last is not None
        and last.panes is panes
        and last.geometry is geometry
        and last.structure[:2] == (view.cols, view.rows)
    ):
        # the same pane views (the server keeps them while nothing in them
        # changed) and geometry: the same structure and borders
        borders, structure = last.borders, last.structure
    else:
        borders = {}
        if geometry is not None and geometry.borders:
            focused = next((p.id for p in panes if p.focused), None)
            borders = _border_rows(geometry, focused)
        structure = (
            view.cols, view.rows,
            tuple((p.id, p.rect, p.focused, p.notice, p.copy is None) for p in panes),
        )  # fmt: skip
    if last is not None and last.structure == structure and last.borders is borders:
        lines = list(last.lines)
        changed: set[int] = set()
        for pane in panes:
            used = last.used.get(pane.id)
            entry = _cache.get(pane.id)
            if used is not None and used[0] is entry and pane.copy is None:
                if used[1] == entry.version:
                    continue
                if used[1] + 1 == entry.version:
                    top = pane.rect.y
                    changed.update(top + y for y in entry.changed)
                    continue
            changed.update(range(pane.rect.y, pane.rect.y + pane.rect.rows))
        cover = last.cover
        todo: Any = changed
    else:
        lines = [""] * area
        cover = [[] for _ in range(area)]
        for index, pane in enumerate(panes):
            rect = pane.rect
            for y in range(max(rect.y, 0), min(rect.y + rect.rows, area)):
                cover[y].append(index)
        todo = range(area)
    if todo:
        tags = [_tag(p) for p in panes]
        for y in todo:
            if 0 <= y < area:
                lines[y] = _row(y, panes, cover[y], rows_of, tags, borders)
    used = {}
    for pane in panes:
        entry = _cache.get(pane.id)
        if entry is not None and pane.copy is None:
            used[pane.id] = (entry, entry.version)
    _composed["last"] = Composed(structure, borders, cover, lines, used, panes, geometry)
    return lines


def _frame(view: Any) -> tuple[ClientState, str]:
    """This view's rows, modes and cursor, composed once for all its clients."""
    if _frame_state["view"] is view:
        return _frame_state["state"], _frame_state["cursor"]
    _frame_state["view"] = view
    _pane_frame["n"] += 1
    area = max(view.rows - 1, 1)
    lines = _compose(view, area) + [""] * (view.rows - area)
    if view.floats:
        _floats(view, lines, area)
    if view.overlay:
        _overlay(view, lines)
    status, prompt_x = _status_line(view)
    lines[view.rows - 1] = f"\x1b[{view.rows};1H" + status
    state = ClientState(view.cols, view.rows, lines, _modes(view))
    cursor = _cursor(view, prompt_x)
    _frame_state["state"], _frame_state["cursor"] = state, cursor
    return state, cursor


@hookimpl
def hexe_render(view: View, previous: Any) -> tuple[bytes, Any]:
    state, cursor = _frame(view)
    lines, modes = state.lines, state.modes

    out: list[str] = []
    full = previous is None or (previous.cols, previous.rows) != (view.cols, view.rows)
    if full:
        out.append("\x1b[0m\x1b[H\x1b[2J")
        out.append(modes)
        changed = range(view.rows)
    else:
        if modes != previous.modes:
            out.append(modes)
        changed = [y for y in range(view.rows) if lines[y] != previous.lines[y]]
    for y in changed:
        # clear the row first: pieces from a previous layout must not linger
        # (ECH, the session's width only: a larger terminal keeps what is beyond)
        out.append(f"\x1b[{y + 1};1H\x1b[0m\x1b[{view.cols}X" + lines[y])
    out.append(cursor)
    if view.bell:
        out.append("\x07")  # a pane rang: the outer terminal rings (once a frame)
    data = "\x1b[?2026h\x1b[?25l" + "".join(out) + "\x1b[?2026l"
    return data.encode(), state


def _modes(view: Any) -> str:
    """Terminal modes mirrored from the focused pane (cursor keys, cursor
    shape, focus events), and ours (mouse, paste). Sent when they change.

    Focus events (DECSET 1004) are asked of the outer terminal only while the
    focused pane's program wants them: the terminal's ``ESC [ I`` / ``ESC [ O``
    then reach that program as any unbound input does."""
    focused = _focused(view)
    screen = focused.screen if focused is not None else None
    key = (
        view.mouse,
        bool(screen and screen.application_cursor),
        getattr(screen, "cursor_style", 0) or 0,
        bool(getattr(screen, "focus_events", False)),
    )
    modes = _modes_drawn.get(key)
    if modes is None:
        if len(_modes_drawn) >= 64:
            _modes_drawn.clear()  # a program cycling through cursor styles
        mouse, app_cursor, style, focus = key
        modes = _modes_drawn[key] = (
            ("\x1b[?1000h\x1b[?1002h\x1b[?1006h" if mouse else "\x1b[?1002l\x1b[?1000l")
            + "\x1b[?2004h"
            + ("\x1b[?1h" if app_cursor else "\x1b[?1l")
            + f"\x1b[{style} q"
            + ("\x1b[?1004h" if focus else "\x1b[?1004l")
        )
    return modes


#: The modes' text by (mouse, cursor keys, cursor style, focus events): a few at most.
_modes_drawn: dict[tuple[Any, ...], str] = {}


def _cursor(view: Any, prompt_x: int | None) -> str:
    if prompt_x is not None:
        return f"\x1b[{view.rows};{prompt_x + 1}H\x1b[?25h"
    if view.overlay:
        return ""
    focused = _focused(view)
    if focused is None:
        return ""
    rect = focused.rect
    if focused.copy is not None:
        cx, line = focused.copy.cursor
        y = line - focused.copy.top
        return f"\x1b[{rect.y + y + 1};{rect.x + cx + 1}H\x1b[?25h"
    screen = focused.screen
    if not screen.cursor_visible:
        return ""
    cx, cy = screen.cursor
    cx = min(cx, rect.cols - 1)
    return f"\x1b[{rect.y + cy + 1};{rect.x + cx + 1}H\x1b[?25h"


@hookimpl
def hexe_status_segments() -> list[str]:
    return list(SEGMENTS)


@hookimpl
def hexe_status_segment(name: str, view: View) -> str | None:
    if name == "session":
        return f"[{view.session}]"
    if name == "tabs":
        return " ".join(f"{n}:{title}{'*' if active else ''}" for n, title, active in view.tabs) + (
            " (zoomed)" if view.zoomed else ""
        )
    if name == "title":
        return f'"{view.focused_title}"' if view.focused_title else ""
    if name == "isolation":
        return view.focused_isolation
    if name == "clock":
        # the precise clock, as the minute the status line is kept for: without
        # a time, strftime reads time(NULL), a coarse clock that shows the old
        # second for up to a tick after a new one begins
        return time.strftime("%H:%M", time.localtime(time.time()))
    if name == "host":
        import socket  # here: every hexe run loads this plugin, and socket costs ~2 ms

        return socket.gethostname()
    return None
