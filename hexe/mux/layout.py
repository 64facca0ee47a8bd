"""Where each pane of a tab sits: the split tree, its geometry, and the tabs of a window.

A tab's layout is a binary tree. A leaf is a pane id (an ``int``); a node is a
:class:`Split` of two children side by side (``"right"``) or stacked
(``"down"``), with ``ratio`` the first child's share. Between the two children
lies a one-cell border line, as in tmux: a column between side-by-side panes,
a row between stacked ones. :class:`~hexe.mux.tabs.Tab` (in
:mod:`hexe.mux.tabs`) adds focus, zoom, focus history and the tabs of a window.

This module is pure geometry: no I/O, no terminal, no processes. The server
owns the panes and the window size; a renderer draws what
:meth:`Tab.geometry` returns.

The tree (:class:`Split`, :class:`Layout`) is made of frozen values: every
operation returns a new layout. A failed or clamped operation cannot leave a
half-edited tree behind, a test can compare layouts with ``==``, and the
server can keep the previous layout to see which panes changed size (and send
SIGWINCH only to those). Trees hold a handful of panes, so copying the path
from the root to the changed node costs nothing. The tabs
(:mod:`hexe.mux.tabs`) are the few mutable places where state changes.

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hexe.config.model import PaneSpec, SplitSpec

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


def _geometry(root: Tree | None, width: int, height: int) -> Geometry:
    panes: dict[int, Rect] = {}
    borders: list[Border] = []
    if root is not None and width and height:
        _place(root, Rect(0, 0, width, height), panes, borders)
    hidden = tuple(p for p in _leaves(root) if p not in panes) if root is not None else ()
    return Geometry(width, height, MappingProxyType(panes), tuple(borders), hidden)


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
        """Every pane's rectangle and every border in a ``width`` x ``height`` area.

        Worked out once per layout and size (the server asks on every frame)
        and kept by this layout, the last size only: a table of every layout's
        geometry kept the trees of layouts long replaced (~10 KiB a pane at
        250 panes). The result is a value, its ``panes`` read-only."""
        width, height = max(width, 0), max(height, 0)
        memo = self.__dict__.get("_memo")
        if memo is None or memo.width != width or memo.height != height:
            memo = _geometry(self.root, width, height)
            object.__setattr__(self, "_memo", memo)  # a cache, not a field: frozen
        return memo

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
