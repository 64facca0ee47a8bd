"""The floating layer of a tab: panes drawn over the tiled ones, in boxes of their own.

A float is a pane like any other (its own PTY, isolation, cgroup); what is
particular to it lives here, pure and without I/O: its box (the outer
rectangle, border and title bar included), the stacking order (the last one
is on top), whether the layer is shown, and whether the focus is on the layer
or on the tiled panes below. Boxes are kept inside the window (:func:`clamp`)
and never smaller than :data:`MIN_COLS` x :data:`MIN_ROWS`.

Focus, as chosen for hexe: the focused float is always the top one. The focus
is on the layer (``active``) after a float is opened, shown, clicked or
selected; it goes back to the tiled pane that had it when the layer is hidden,
when a tiled pane is clicked or focused by direction, and when the last float
goes. Hiding the layer keeps every float running.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hexe.mux.layout import Rect

#: the smallest box: a border around 8 columns and 2 rows of the pane
MIN_COLS = 10
MIN_ROWS = 4
#: a new float's size, as a fraction of the window
DEFAULT_FRACTION = 0.6
#: each new float is placed this many cells down and right of the previous one
CASCADE = 2
SIDES = ("left", "right", "up", "down")


@dataclass(frozen=True)
class Box:
    """A float's outer rectangle: a one-cell border around the pane, the top row its title."""

    x: int
    y: int
    cols: int
    rows: int

    @property
    def inner(self) -> Rect:
        """Where the pane's screen is drawn (and so the size of its PTY)."""
        return Rect(self.x + 1, self.y + 1, max(self.cols - 2, 1), max(self.rows - 2, 1))

    @property
    def outer(self) -> Rect:
        return Rect(self.x, self.y, self.cols, self.rows)

    def contains(self, x: int, y: int) -> bool:
        return self.outer.contains(x, y)

    def edge(self, x: int, y: int) -> str:
        """What a cell of the box is for the mouse: ``"title"`` (drag to move), an
        edge or corner to resize (``"right"``, ``"down"``, ``"left"``, ``"down-right"``,
        ...), ``"inside"`` (the pane) or ``""`` (not in the box)."""
        if not self.contains(x, y):
            return ""
        right, bottom = x == self.x + self.cols - 1, y == self.y + self.rows - 1
        left = x == self.x
        if bottom and right:
            return "down-right"
        if bottom and left:
            return "down-left"
        if bottom:
            return "down"
        if y == self.y:
            return "title"
        if right:
            return "right"
        if left:
            return "left"
        return "inside"


def clamp(box: Box, width: int, height: int) -> Box:
    """``box`` made to fit a ``width`` x ``height`` window: at least the minimum size
    (or the window, when smaller), at most the window, and moved inside it."""
    width, height = max(width, 1), max(height, 1)
    cols = min(max(box.cols, MIN_COLS), width)
    rows = min(max(box.rows, MIN_ROWS), height)
    x = min(max(box.x, 0), width - cols)
    y = min(max(box.y, 0), height - rows)
    return Box(x, y, cols, rows)


def default_box(width: int, height: int, index: int = 0) -> Box:
    """Where a new float goes: :data:`DEFAULT_FRACTION` of the window, centred,
    each further one :data:`CASCADE` cells down and right of the one before."""
    cols = max(int(width * DEFAULT_FRACTION), MIN_COLS)
    rows = max(int(height * DEFAULT_FRACTION), MIN_ROWS)
    step = CASCADE * (index % 5)
    return clamp(
        Box((width - cols) // 2 + step, (height - rows) // 2 + step, cols, rows), width, height
    )


def sized_box(
    width: int,
    height: int,
    cols: float | None,
    rows: float | None,
    x: float | None = None,
    y: float | None = None,
) -> Box:
    """A box from init.lua's ``width``/``height``/``x``/``y``: whole numbers are cells,
    fractions (0 < f < 1) are parts of the window; an unset one takes the default
    size, an unset position centres the box."""

    def cells(value: float | None, whole: int, default: int) -> int:
        if value is None:
            return default
        return int(value * whole) if 0 < value < 1 else int(value)

    start = default_box(width, height)
    c = cells(cols, width, start.cols)
    r = cells(rows, height, start.rows)
    px = cells(x, width, (width - c) // 2)
    py = cells(y, height, (height - r) // 2)
    return clamp(Box(px, py, c, r), width, height)


@dataclass(eq=False)
class Floats:
    """The floats of one tab: their boxes in stacking order (last on top), the
    layer shown or hidden, the focus on the layer (``active``) or below it."""

    boxes: dict[int, Box] = field(default_factory=dict)
    shown: bool = True
    active: bool = False
    #: init.lua's size and place (cells or fractions), followed when the window
    #: changes size until the float is moved or resized
    requested: dict[int, tuple[float | None, ...]] = field(default_factory=dict)

    def __contains__(self, pane: object) -> bool:
        return pane in self.boxes

    def __len__(self) -> int:
        return len(self.boxes)

    def __iter__(self) -> Iterator[int]:
        """Pane ids, bottom first: the order to draw them in."""
        return iter(self.boxes)

    @property
    def top(self) -> int | None:
        return next(reversed(self.boxes), None) if self.boxes else None

    @property
    def focused(self) -> int | None:
        """The float with the focus (the top one), or None when the focus is below."""
        return self.top if self.active and self.shown else None

    def visible(self) -> list[tuple[int, Box]]:
        """(pane, box) bottom first; nothing while the layer is hidden."""
        return list(self.boxes.items()) if self.shown else []

    # -- changes --

    def add(self, pane: int, box: Box, width: int, height: int) -> None:
        """A new float on top, shown and focused."""
        self.boxes[pane] = clamp(box, width, height)
        self.shown = self.active = True

    def request(self, pane: int, size: tuple[float | None, ...], width: int, height: int) -> None:
        """A float of init.lua: ``size`` is its (width, height, x, y), each None for the default."""
        self.requested[pane] = size
        self.boxes[pane] = sized_box(width, height, *size)

    def remove(self, pane: int) -> bool:
        """Take ``pane`` out; True when it was a float. The focus stays on the
        layer (the next float down) unless it was the last one."""
        self.requested.pop(pane, None)
        if self.boxes.pop(pane, None) is None:
            return False
        if not self.boxes:
            self.active = False
        return True

    def focus(self, pane: int) -> bool:
        """Raise ``pane`` and give it the focus (showing the layer); True when anything changed."""
        if pane not in self.boxes:
            raise KeyError(f"no float {pane} in this tab")
        changed = not (self.shown and self.active and self.top == pane)
        self.boxes[pane] = self.boxes.pop(pane)
        self.shown = self.active = True
        return changed

    def blur(self) -> bool:
        """The focus goes below the layer (it stays shown); True when it was on it."""
        was, self.active = self.active, False
        return was

    def toggle(self) -> bool:
        """Hide the layer, or show it with the focus on the top float; True when shown."""
        if self.shown and self.boxes:
            self.shown = self.active = False
        else:
            self.shown = True
            self.active = bool(self.boxes)
        return self.shown

    def cycle(self, step: int = 1) -> bool:
        """Focus the next float (``step`` 1: the one at the bottom goes on top)."""
        if len(self.boxes) < 2:
            return False
        order = list(self.boxes)
        return self.focus(order[0] if step > 0 else order[-2])

    def place(self, pane: int, box: Box, width: int, height: int) -> bool:
        """Put ``pane`` at ``box`` (kept in the window); True when it moved or changed size."""
        new = clamp(box, width, height)
        self.requested.pop(pane, None)
        changed = self.boxes[pane] != new
        self.boxes[pane] = new
        return changed

    def move(self, pane: int, side: str, cells: int, width: int, height: int) -> bool:
        """Move the float ``cells`` toward ``side``."""
        dx, dy = _step(side, cells)
        box = self.boxes[pane]
        return self.place(pane, Box(box.x + dx, box.y + dy, box.cols, box.rows), width, height)

    def resize(self, pane: int, side: str, cells: int, width: int, height: int) -> bool:
        """Move the float's bottom-right corner ``cells`` toward ``side``: right
        and down make it larger, left and up smaller."""
        dx, dy = _step(side, cells)
        box = self.boxes[pane]
        return self.place(pane, Box(box.x, box.y, box.cols + dx, box.rows + dy), width, height)

    def fit(self, width: int, height: int) -> None:
        """The window changed size: every box kept inside it."""
        for pane, box in self.boxes.items():
            size = self.requested.get(pane)
            self.boxes[pane] = (
                sized_box(width, height, *size) if size else clamp(box, width, height)
            )

    def at(self, x: int, y: int) -> int | None:
        """The float under a cell (the top one where they overlap), when shown."""
        if not self.shown:
            return None
        for pane in reversed(self.boxes):
            if self.boxes[pane].contains(x, y):
                return pane
        return None


def drag(box: Box, grip: str, dx: int, dy: int) -> Box:
    """``box`` after the mouse moved ``dx``, ``dy`` from where it took ``grip``
    (:meth:`Box.edge`): the title moves it, an edge or corner resizes it (the
    opposite edge stays where it is). Not clamped."""
    x, y, cols, rows = box.x, box.y, box.cols, box.rows
    if grip == "title":
        return Box(x + dx, y + dy, cols, rows)
    if "right" in grip:
        cols += dx
    if "left" in grip:
        cols = max(cols - dx, MIN_COLS)
        x = box.x + box.cols - cols
    if "down" in grip:
        rows += dy
    return Box(x, y, cols, rows)


def _step(side: str, cells: int) -> tuple[int, int]:
    if side not in SIDES:
        raise ValueError(f"{side!r} is not a direction; use left, right, up or down")
    return {
        "left": (-cells, 0),
        "right": (cells, 0),
        "up": (0, -cells),
        "down": (0, cells),
    }[side]
