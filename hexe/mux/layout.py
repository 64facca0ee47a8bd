"""Where each pane of a tab sits: the split tree, its geometry, and the tabs of a window.

A tab's layout is a binary tree. A leaf is a pane id (an ``int``); a node is a
:class:`Split` of two children side by side (``"right"``) or stacked
(``"down"``), with ``ratio`` the first child's share. Between the two children
lies a one-cell border line, as in tmux: a column between side-by-side panes,
a row between stacked ones. :class:`Tab` adds focus, zoom and focus history;
:class:`Tabs` is the ordered list of tabs with the active one.

This module is pure geometry: no I/O, no terminal, no processes. The server
owns the panes and the window size; a renderer draws what
:meth:`Tab.geometry` returns.

The tree (:class:`Split`, :class:`Layout`) is made of frozen values: every
operation returns a new layout. A failed or clamped operation cannot leave a
half-edited tree behind, a test can compare layouts with ``==``, and the
server can keep the previous layout to see which panes changed size (and send
SIGWINCH only to those). Trees hold a handful of panes, so copying the path
from the root to the changed node costs nothing. :class:`Tab` and
:class:`Tabs` are the few mutable places where state changes.

The rules
---------
Sizes
    Along a split of ``n`` cells, the first child gets
    ``round_half_up((n - 1) * ratio)`` cells, the border 1, the second child the
    rest: two panes side by side at 81 columns get 40 + 1 + 40; at 80, 40 + 1 + 39.
    Ratios are what is stored, so resizing the window keeps every pane's share
    (proportional, as tmux does), and shrinking then growing the window gives
    back exactly the layout it had.
Minimums and a window that is too small
    Every pane gets at least 1x1. Each side of a split is first nudged so it
    keeps its minimum (one cell per pane plus the borders inside it, see
    :meth:`Layout.min_size`). When both minimums cannot be met, the first side
    (left or top) is served first and the second side gets what is left. A
    split with fewer than 3 cells across (no room for 1 + border + 1) shows its
    first child only: the panes of its second child get no geometry and are
    listed in :attr:`Geometry.hidden`. So the panes to the right and at the
    bottom disappear first, and come back with the same ratios when the
    window grows. A 0-sized area shows no pane. Nothing here raises for a
    size, and no size is negative.
Resize
    ``resize(pane, side, cells)`` moves the pane's edge on ``side`` by ``cells``
    towards ``side`` (the pane grows); when the pane touches the window edge
    on that side, it moves the opposite edge the same way (the pane shrinks).
    Either way the border moves towards ``side``, as tmux's ``resize-pane
    -L/-R/-U/-D``. The edge is the nearest border of that orientation in the
    tree; the panes behind it keep their ratios. The move is clamped so no
    pane drops below its minimum.
Focus by direction
    The candidates are the panes across the border on that side whose span
    overlaps the focused pane's. Among them, the one straight across from the
    cursor (when the caller passes it), else the most recently focused one
    (tmux's rule), else the one with the largest overlap, else the topmost or
    leftmost. At the window edge there is no neighbour (``None``); focus does
    not wrap.
Order (focus-next, focus-prev)
    Tree order, depth first, first child before second: for a layout built
    from ``init.lua`` it is the ``tabs[N].panes[M]`` numbering, and a new
    pane comes right after the pane it was split from (as in tmux).
Zoom
    A zoomed pane gets the whole area and no border is drawn; the others get
    no geometry. Any split, remove, resize or change of focus unzooms first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hexe.config.model import PaneSpec, SplitSpec, TabSpec

#: How two children of a split sit: side by side or stacked.
Direction = Literal["right", "down"]
#: A side of a pane: where focus goes, which way a border moves.
Side = Literal["left", "right", "up", "down"]

DIRECTIONS: tuple[Direction, ...] = ("right", "down")
SIDES: tuple[Side, ...] = ("left", "right", "up", "down")

Cell = tuple[int, int]  # (x, y): column, row from the top-left corner


# -- geometry values ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    """A block of cells: ``cols`` wide and ``rows`` high from column ``x``, row ``y``."""

    x: int
    y: int
    cols: int
    rows: int

    @property
    def right(self) -> int:
        """The first column past the rectangle."""
        return self.x + self.cols

    @property
    def bottom(self) -> int:
        """The first row past the rectangle."""
        return self.y + self.rows

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom

    def cells(self) -> Iterator[Cell]:
        for y in range(self.y, self.bottom):
            for x in range(self.x, self.right):
                yield (x, y)


@dataclass(frozen=True)
class Border:
    """One straight border line, one cell wide, between the two sides of a split.

    ``vertical``: a column between side-by-side panes, running ``length`` rows
    down from ``(x, y)``; otherwise a row between stacked panes, running
    ``length`` columns right.
    """

    x: int
    y: int
    length: int
    vertical: bool

    def cells(self) -> Iterator[Cell]:
        for i in range(self.length):
            yield (self.x, self.y + i) if self.vertical else (self.x + i, self.y)


_ARMS = (("u", 0, -1), ("d", 0, 1), ("l", -1, 0), ("r", 1, 0))


@dataclass(frozen=True)
class Geometry:
    """Where everything sits in a ``width`` x ``height`` area.

    Every cell of the area is in exactly one pane's rectangle or on exactly
    one border. ``hidden`` lists, in tree order, the panes that have no place:
    the area is too small for them, or another pane is zoomed. A hidden pane
    is not drawn; its program keeps the size it last had.
    """

    width: int
    height: int
    panes: Mapping[int, Rect]
    borders: tuple[Border, ...]
    hidden: tuple[int, ...] = ()

    def pane_at(self, x: int, y: int) -> int | None:
        """The pane under a cell (a mouse click), or None on a border or outside."""
        for pane, rect in self.panes.items():
            if rect.contains(x, y):
                return pane
        return None

    def border_cells(self) -> dict[Cell, str]:
        """Every border cell, with the arms of the line drawing that belongs there.

        The arms are a subset of ``"udlr"`` in that order: a vertical line's
        cells have ``u`` and ``d``, a horizontal one's ``l`` and ``r``, plus an
        arm towards each crossing line. So ``"ud"`` is ``│``, ``"lr"`` is
        ``─``, ``"udl"`` is ``┤``, ``"dlr"`` is ``┬`` and ``"udlr"`` is ``┼``.
        """
        own: dict[Cell, str] = {}
        for border in self.borders:
            arms = "ud" if border.vertical else "lr"
            for cell in border.cells():
                own[cell] = arms
        out: dict[Cell, str] = {}
        for (x, y), arms in own.items():
            out[(x, y)] = "".join(
                name for name, dx, dy in _ARMS if name in arms or (x + dx, y + dy) in own
            )
        return out

    def border_around(self, pane: int) -> frozenset[Cell]:
        """The border cells touching ``pane``, corners included: what to highlight
        when it has focus. Empty for a hidden pane or a pane with no border."""
        rect = self.panes.get(pane)
        if rect is None or not self.borders:
            return frozenset()
        ring = Rect(rect.x - 1, rect.y - 1, rect.cols + 2, rect.rows + 2)
        out = set()
        for border in self.borders:
            out.update(cell for cell in border.cells() if ring.contains(*cell))
        return frozenset(out)


# -- the tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Two children side by side (``right``) or stacked (``down``).

    ``ratio`` is the first child's share of the space after the border,
    strictly between 0 and 1.
    """

    direction: Direction
    ratio: float
    first: Tree
    second: Tree

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"{self.direction!r} is not a direction; use 'right' or 'down'")
        if not 0 < self.ratio < 1:
            raise ValueError(f"ratio {self.ratio!r} must be between 0 and 1")


Tree = int | Split
Path = tuple[int, ...]  # 0 = first child, 1 = second child, from the root


def _leaves(tree: Tree) -> Iterator[int]:
    if isinstance(tree, Split):
        yield from _leaves(tree.first)
        yield from _leaves(tree.second)
    else:
        yield tree


def _find(tree: Tree, pane: int, path: Path = ()) -> Path | None:
    if not isinstance(tree, Split):
        return path if tree == pane else None
    return _find(tree.first, pane, (*path, 0)) or _find(tree.second, pane, (*path, 1))


def _get(tree: Tree, path: Path) -> Tree:
    for step in path:
        assert isinstance(tree, Split)
        tree = tree.second if step else tree.first
    return tree


def _put(tree: Tree, path: Path, sub: Tree) -> Tree:
    """``tree`` with the node at ``path`` replaced by ``sub``."""
    if not path:
        return sub
    assert isinstance(tree, Split)
    if path[0]:
        return replace(tree, second=_put(tree.second, path[1:], sub))
    return replace(tree, first=_put(tree.first, path[1:], sub))


def _min_len(tree: Tree, direction: Direction) -> int:
    """The fewest cells ``tree`` needs along ``direction`` ("right": columns)."""
    if not isinstance(tree, Split):
        return 1
    a, b = _min_len(tree.first, direction), _min_len(tree.second, direction)
    return a + 1 + b if tree.direction == direction else max(a, b)


def _first_len(split: Split, length: int) -> int:
    """Cells of the first child when ``split`` spans ``length`` (>= 3) cells."""
    avail = length - 1
    want = math.floor(avail * split.ratio + 0.5)
    low = _min_len(split.first, split.direction)
    high = avail - _min_len(split.second, split.direction)
    if low <= high:
        return min(max(want, low), high)
    return min(low, avail - 1)  # both cannot fit: the first side is served first


def _divide(split: Split, rect: Rect) -> tuple[Rect, Border, Rect] | None:
    """The two children's rectangles and the border; None when only the first fits."""
    if split.direction == "right":
        if rect.cols < 3:
            return None
        n = _first_len(split, rect.cols)
        return (
            Rect(rect.x, rect.y, n, rect.rows),
            Border(rect.x + n, rect.y, rect.rows, vertical=True),
            Rect(rect.x + n + 1, rect.y, rect.cols - n - 1, rect.rows),
        )
    if rect.rows < 3:
        return None
    n = _first_len(split, rect.rows)
    return (
        Rect(rect.x, rect.y, rect.cols, n),
        Border(rect.x, rect.y + n, rect.cols, vertical=False),
        Rect(rect.x, rect.y + n + 1, rect.cols, rect.rows - n - 1),
    )


def _place(tree: Tree, rect: Rect, panes: dict[int, Rect], borders: list[Border]) -> None:
    if not isinstance(tree, Split):
        panes[tree] = rect
        return
    parts = _divide(tree, rect)
    if parts is None:
        _place(tree.first, rect, panes, borders)
        return
    first, border, second = parts
    _place(tree.first, first, panes, borders)
    borders.append(border)
    _place(tree.second, second, panes, borders)


def _rect_at(tree: Tree, path: Path, rect: Rect) -> Rect | None:
    """The rectangle of the node at ``path``, or None when it is hidden."""
    for step in path:
        assert isinstance(tree, Split)
        parts = _divide(tree, rect)
        if parts is None:
            if step:
                return None
        else:
            rect = parts[2] if step else parts[0]
        tree = tree.second if step else tree.first
    return rect


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"{side!r} is not a side; use one of {', '.join(SIDES)}")


@dataclass(frozen=True)
class Layout:
    """The panes of one tab as a split tree; ``root`` None is an empty tab.

    Every method that changes the layout returns a new one; ``self`` is
    unchanged. An unknown pane id raises ``KeyError``: that is a bug in the
    caller, not something a user did.
    """

    root: Tree | None = None

    @classmethod
    def single(cls, pane: int) -> Layout:
        return cls(pane)

    @property
    def empty(self) -> bool:
        return self.root is None

    def __contains__(self, pane: object) -> bool:
        return (
            self.root is not None and isinstance(pane, int) and _find(self.root, pane) is not None
        )

    def __len__(self) -> int:
        return 0 if self.root is None else sum(1 for _ in _leaves(self.root))

    def order(self) -> list[int]:
        """The panes in tree order (focus-next / focus-prev cycle through it)."""
        return [] if self.root is None else list(_leaves(self.root))

    def min_size(self) -> tuple[int, int]:
        """(columns, rows) under which some pane would be hidden; (0, 0) when empty.

        A server that wants tmux's "no space for new pane" checks
        ``layout.split(...).min_size()`` against the window before splitting.
        """
        if self.root is None:
            return (0, 0)
        return (_min_len(self.root, "right"), _min_len(self.root, "down"))

    def _path(self, pane: int) -> Path:
        path = None if self.root is None else _find(self.root, pane)
        if path is None:
            raise KeyError(f"no pane {pane} in this layout")
        return path

    # -- changes --

    def split(self, pane: int, direction: Direction, new_pane: int, ratio: float = 0.5) -> Layout:
        """Split ``pane``: ``new_pane`` goes to its right (``"right"``, tmux
        ``split-window -h``) or below it (``"down"``, ``split-window -v``).
        ``pane`` keeps ``ratio`` of the space."""
        path = self._path(pane)
        if new_pane in self:
            raise ValueError(f"pane {new_pane} is already in this layout")
        assert self.root is not None
        return Layout(_put(self.root, path, Split(direction, ratio, pane, new_pane)))

    def remove(self, pane: int) -> Layout:
        """Take ``pane`` out; its sibling (pane or subtree) takes its space.
        Removing the last pane gives an empty layout."""
        path = self._path(pane)
        assert self.root is not None
        if not path:
            return Layout(None)
        parent = _get(self.root, path[:-1])
        assert isinstance(parent, Split)
        sibling = parent.first if path[-1] else parent.second
        return Layout(_put(self.root, path[:-1], sibling))

    def resize(self, pane: int, side: Side, cells: int, width: int, height: int) -> Layout:
        """Move the border on ``side`` of ``pane`` by ``cells`` towards ``side``;
        at the window edge, the opposite border (see the module's rules).

        ``width`` x ``height`` is the area the layout is shown in, since a
        border moves in cells and the tree stores ratios. Clamped so no pane
        drops below its minimum; returns ``self`` when nothing can move.
        """
        _check_side(side)
        path = self._path(pane)
        assert self.root is not None
        direction: Direction = "right" if side in ("left", "right") else "down"
        # the border on `side` is that of the nearest split of this direction
        # with the pane in its second child (left/up) or first child (right/down)
        toward = 1 if side in ("left", "up") else 0
        found = None
        for wanted in (toward, 1 - toward):
            for depth in range(len(path) - 1, -1, -1):
                node = _get(self.root, path[:depth])
                if isinstance(node, Split) and node.direction == direction:
                    if path[depth] == wanted:
                        found = path[:depth]
                        break
            if found is not None:
                break
        if found is None:
            return self
        split = _get(self.root, found)
        assert isinstance(split, Split)
        rect = _rect_at(self.root, found, Rect(0, 0, max(width, 0), max(height, 0)))
        if rect is None:
            return self
        length = rect.cols if direction == "right" else rect.rows
        if length < 3:
            return self
        avail = length - 1
        low = _min_len(split.first, direction)
        high = avail - _min_len(split.second, direction)
        if low > high:
            return self
        now = _first_len(split, length)
        delta = -cells if side in ("left", "up") else cells
        new = min(max(now + delta, low), high)
        if new == now:
            return self
        return Layout(_put(self.root, found, replace(split, ratio=new / avail)))

    # -- reading --

    def geometry(self, width: int, height: int) -> Geometry:
        """Every pane's rectangle and every border in a ``width`` x ``height`` area."""
        width, height = max(width, 0), max(height, 0)
        panes: dict[int, Rect] = {}
        borders: list[Border] = []
        if self.root is not None and width and height:
            _place(self.root, Rect(0, 0, width, height), panes, borders)
        hidden = tuple(p for p in self.order() if p not in panes)
        return Geometry(width, height, panes, tuple(borders), hidden)

    def neighbor(
        self,
        pane: int,
        side: Side,
        width: int,
        height: int,
        *,
        cursor: Cell | None = None,
        recent: Iterable[int] = (),
    ) -> int | None:
        """The pane that "focus ``side``" goes to from ``pane``, or None.

        ``cursor`` is the cursor's (column, row) inside ``pane``; ``recent``
        lists panes most recently focused first. The rule is in the module's
        docstring.
        """
        _check_side(side)
        self._path(pane)
        rects = self.geometry(width, height).panes
        here = rects.get(pane)
        if here is None:
            return None
        across = side in ("left", "right")  # candidates share rows, not columns
        lo, hi = (here.y, here.bottom) if across else (here.x, here.right)
        candidates: dict[int, tuple[int, int]] = {}  # pane -> (overlap, start)
        for other, rect in rects.items():
            if other == pane:
                continue
            adjacent = {
                "left": rect.right + 1 == here.x,
                "right": rect.x == here.right + 1,
                "up": rect.bottom + 1 == here.y,
                "down": rect.y == here.bottom + 1,
            }[side]
            start, end = (rect.y, rect.bottom) if across else (rect.x, rect.right)
            overlap = min(hi, end) - max(lo, start)
            if adjacent and overlap > 0:
                candidates[other] = (overlap, start)
        if not candidates:
            return None
        if cursor is not None:
            line = (
                (here.y + min(max(cursor[1], 0), here.rows - 1))
                if across
                else (here.x + min(max(cursor[0], 0), here.cols - 1))
            )
            for other in candidates:
                rect = rects[other]
                start, end = (rect.y, rect.bottom) if across else (rect.x, rect.right)
                if start <= line < end:
                    return other
        for other in recent:
            if other in candidates:
                return other
        return min(candidates, key=lambda p: (-candidates[p][0], candidates[p][1]))


def from_spec(
    node: PaneSpec | SplitSpec, allocate: Callable[[], int]
) -> tuple[Layout, dict[int, PaneSpec]]:
    """The layout ``init.lua`` describes, with a fresh id for each pane.

    ``allocate`` returns the next free pane id (``itertools.count(1).__next__``);
    ids are taken in tree order. Returns the layout and, for the caller to
    spawn each pane, the mapping pane id -> its :class:`PaneSpec`.
    """
    from hexe.config.model import SplitSpec

    specs: dict[int, PaneSpec] = {}

    def build(node: PaneSpec | SplitSpec) -> Tree:
        if isinstance(node, SplitSpec):
            first = build(node.children[0])
            second = build(node.children[1])
            return Split(node.direction, node.ratio, first, second)
        pane = allocate()
        if pane in specs:
            raise ValueError(f"the allocator gave pane id {pane} twice")
        specs[pane] = node
        return pane

    return Layout(build(node)), specs


# -- tabs --------------------------------------------------------------------------------


@dataclass(eq=False)
class Tab:
    """One tab (a tmux window): its layout, the focused pane, zoom, focus history.

    ``name`` None means no name was given; the status bar may show the
    focused pane's title instead. ``history`` lists panes most recently
    focused first; ``history[0]`` is the focused pane.
    """

    layout: Layout
    name: str | None = None
    focused: int | None = None
    zoomed: int | None = None
    history: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.focused is None and not self.layout.empty:
            self.focused = self.layout.order()[0]
        if self.focused is not None:
            if self.focused not in self.layout:
                raise KeyError(f"no pane {self.focused} in this tab")
            self._touch(self.focused)

    @classmethod
    def single(cls, pane: int, name: str | None = None) -> Tab:
        return cls(Layout.single(pane), name)

    @classmethod
    def from_spec(
        cls, spec: TabSpec, allocate: Callable[[], int]
    ) -> tuple[Tab, dict[int, PaneSpec]]:
        """A tab from ``init.lua``, focused on its first pane; see :func:`from_spec`."""
        layout, specs = from_spec(spec.root, allocate)
        return cls(layout, spec.name), specs

    @property
    def empty(self) -> bool:
        """True once the last pane is gone: the caller closes the tab."""
        return self.layout.empty

    @property
    def last(self) -> int | None:
        """The pane focused before the current one ("focus back"), if still here."""
        return self.history[1] if len(self.history) > 1 else None

    def panes(self) -> list[int]:
        return self.layout.order()

    def _touch(self, pane: int) -> None:
        if pane in self.history:
            self.history.remove(pane)
        self.history.insert(0, pane)

    # -- focus --

    def focus(self, pane: int) -> bool:
        """Focus ``pane``; True when focus moved (and the tab is unzoomed)."""
        if pane not in self.layout:
            raise KeyError(f"no pane {pane} in this tab")
        if pane == self.focused:
            return False
        self.zoomed = None
        self.focused = pane
        self._touch(pane)
        return True

    def focus_last(self) -> bool:
        return self.last is not None and self.focus(self.last)

    def focus_next(self) -> bool:
        return self._cycle(1)

    def focus_prev(self) -> bool:
        return self._cycle(-1)

    def _cycle(self, step: int) -> bool:
        order = self.layout.order()
        if self.focused is None or len(order) < 2:
            return False
        return self.focus(order[(order.index(self.focused) + step) % len(order)])

    def focus_toward(self, side: Side, width: int, height: int, cursor: Cell | None = None) -> bool:
        """Focus the neighbour on ``side`` (:meth:`Layout.neighbor`, with this
        tab's history as the recently used panes); False at the window edge."""
        if self.focused is None:
            return False
        target = self.layout.neighbor(
            self.focused, side, width, height, cursor=cursor, recent=self.history[1:]
        )
        return target is not None and self.focus(target)

    # -- changes --

    def split(
        self, direction: Direction, new_pane: int, ratio: float = 0.5, pane: int | None = None
    ) -> None:
        """Split the focused pane (or ``pane``); the new pane gets focus."""
        target = self.focused if pane is None else pane
        if target is None:
            raise KeyError("this tab has no pane to split")
        self.layout = self.layout.split(target, direction, new_pane, ratio)
        self.zoomed = None
        self.focused = new_pane
        self._touch(new_pane)

    def remove(self, pane: int) -> bool:
        """Take ``pane`` out; True when the tab is now empty (close it).

        When it had focus, focus goes back to the pane focused before it, else
        to the first pane of the sibling that took its space.
        """
        path = self.layout._path(pane)
        root = self.layout.root
        sibling: Tree | None = None
        if path:
            assert root is not None
            parent = _get(root, path[:-1])
            assert isinstance(parent, Split)
            sibling = parent.first if path[-1] else parent.second
        self.layout = self.layout.remove(pane)
        self.zoomed = None
        if pane in self.history:
            self.history.remove(pane)
        if self.focused == pane:
            if sibling is None:
                self.focused = None
            else:
                self.focused = self.history[0] if self.history else next(_leaves(sibling))
                self._touch(self.focused)
        return self.layout.empty

    def resize(
        self, side: Side, cells: int, width: int, height: int, pane: int | None = None
    ) -> bool:
        """Resize the focused pane (or ``pane``); True when a border moved or it unzoomed."""
        target = self.focused if pane is None else pane
        if target is None:
            return False
        was_zoomed, self.zoomed = self.zoomed is not None, None
        before = self.layout
        self.layout = self.layout.resize(target, side, cells, width, height)
        return was_zoomed or self.layout != before

    # -- zoom --

    def toggle_zoom(self) -> bool:
        """Zoom the focused pane, or unzoom; a tab of one pane does not zoom.
        True when the zoom changed."""
        if self.zoomed is not None:
            self.zoomed = None
            return True
        if self.focused is None or len(self.layout) < 2:
            return False
        self.zoomed = self.focused
        return True

    def geometry(self, width: int, height: int) -> Geometry:
        """What to draw: the layout's geometry, or the zoomed pane over the whole area."""
        if self.zoomed is None:
            return self.layout.geometry(width, height)
        width, height = max(width, 0), max(height, 0)
        order = self.layout.order()
        if not (width and height):
            return Geometry(width, height, {}, (), tuple(order))
        others = tuple(p for p in order if p != self.zoomed)
        return Geometry(width, height, {self.zoomed: Rect(0, 0, width, height)}, (), others)


@dataclass(eq=False)
class Tabs:
    """The tabs of a window, in order, and which one is active.

    A tab's number is its position plus ``base`` (0 as tmux's default
    ``base-index``; 1 to count from one). Closing a tab renumbers the ones
    after it (tmux's ``renumber-windows on``).
    """

    tabs: list[Tab] = field(default_factory=list)
    index: int = 0
    base: int = 0

    def __len__(self) -> int:
        return len(self.tabs)

    def __iter__(self) -> Iterator[Tab]:
        return iter(self.tabs)

    @property
    def active(self) -> Tab | None:
        return self.tabs[self.index] if self.tabs else None

    def number(self, tab: Tab) -> int:
        return self._index(tab) + self.base

    def _index(self, tab: Tab) -> int:
        for i, t in enumerate(self.tabs):
            if t is tab:
                return i
        raise KeyError("that tab is not in this window")

    def find(self, pane: int) -> Tab | None:
        """The tab holding ``pane`` (when its program exits, say)."""
        for tab in self.tabs:
            if pane in tab.layout:
                return tab
        return None

    def new(self, tab: Tab, select: bool = True) -> int:
        """Add ``tab`` after the last one (and make it active); its number."""
        self.tabs.append(tab)
        if select or len(self.tabs) == 1:
            self.index = len(self.tabs) - 1
        return len(self.tabs) - 1 + self.base

    def next(self) -> bool:
        return self._step(1)

    def prev(self) -> bool:
        return self._step(-1)

    def _step(self, step: int) -> bool:
        if len(self.tabs) < 2:
            return False
        self.index = (self.index + step) % len(self.tabs)
        return True

    def select(self, number: int) -> bool:
        """Go to tab ``number``; False (nothing changes) when there is none."""
        i = number - self.base
        if not 0 <= i < len(self.tabs) or i == self.index:
            return False
        self.index = i
        return True

    def rename(self, name: str | None, tab: Tab | None = None) -> None:
        """Rename the active tab (or ``tab``); None or "" clears the name."""
        target = self.active if tab is None else tab
        if target is None:
            raise KeyError("there is no tab to rename")
        target.name = name or None

    def close(self, tab: Tab | None = None) -> None:
        """Remove the active tab (or ``tab``). When it was active, the tab that
        took its number becomes active, else the new last one."""
        target = self.active if tab is None else tab
        if target is None:
            return
        i = self._index(target)
        del self.tabs[i]
        if i < self.index or self.index >= len(self.tabs):
            self.index = max(self.index - 1, 0)

    @classmethod
    def from_specs(
        cls, specs: Sequence[TabSpec], allocate: Callable[[], int], base: int = 0
    ) -> tuple[Tabs, dict[int, PaneSpec]]:
        """Every tab of ``init.lua``'s layout, the first one active."""
        tabs = cls(base=base)
        panes: dict[int, PaneSpec] = {}
        for spec in specs:
            tab, more = Tab.from_spec(spec, allocate)
            tabs.new(tab, select=False)
            panes.update(more)
        return tabs, panes
