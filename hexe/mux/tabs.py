"""The tabs of a window: each tab's layout with its focus, zoom and focus history.

:class:`Tab` is one tab (a tmux window) around a :class:`~hexe.mux.layout.Layout`
(the split tree, pure geometry); :class:`Tabs` is the ordered list of tabs
with the active one. These are the few mutable places where layout state
changes; the rules for sizes, resize, focus by direction and zoom are in
:mod:`hexe.mux.layout`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hexe.mux.floats import Box, Floats
from hexe.mux.layout import (
    Cell,
    Direction,
    Geometry,
    Layout,
    Rect,
    Side,
    Split,
    Tree,
    _get,
    _leaves,
    from_spec,
)

if TYPE_CHECKING:
    from hexe.config.model import PaneSpec, TabSpec


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
    #: the floating layer over the tiled panes (hexe/mux/floats.py)
    floats: Floats = field(default_factory=Floats)

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
        tab = cls(layout, spec.name)
        for float_spec in spec.floats:
            pane = allocate()
            specs[pane] = float_spec.pane
            tab.floats.request(pane, float_spec.size, 80, 23)  # fitted to the window later
            tab.floats.shown = tab.floats.active = float_spec.shown
        return tab, specs

    @property
    def empty(self) -> bool:
        """True once the last pane is gone: the caller closes the tab."""
        return self.layout.empty

    @property
    def last(self) -> int | None:
        """The pane focused before the current one ("focus back"), if still here."""
        return self.history[1] if len(self.history) > 1 else None

    def panes(self) -> list[int]:
        """Every pane of the tab: the tiled ones in order, then the floats, bottom first."""
        return [*self.layout.order(), *self.floats]

    @property
    def current(self) -> int | None:
        """The pane with the focus: the top float when the layer has it, else ``focused``."""
        top = self.floats.focused
        return self.focused if top is None else top

    def _touch(self, pane: int) -> None:
        if pane in self.history:
            self.history.remove(pane)
        self.history.insert(0, pane)

    # -- focus --

    def focus(self, pane: int) -> bool:
        """Focus ``pane``; True when focus moved (and the tab is unzoomed).
        A float is raised and the layer gets the focus; a tiled pane takes it back."""
        if pane in self.floats:
            return self.floats.focus(pane)
        if pane not in self.layout:
            raise KeyError(f"no pane {pane} in this tab")
        if self.floats.blur() and pane == self.focused:
            return True
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
        if self.floats.focused is not None:
            return self.floats.cycle(step)  # the layer has the focus: from float to float
        order = self.layout.order()
        if self.focused is None or len(order) < 2:
            return False
        return self.focus(order[(order.index(self.focused) + step) % len(order)])

    def focus_toward(self, side: Side, width: int, height: int, cursor: Cell | None = None) -> bool:
        """Focus the neighbour on ``side`` (:meth:`Layout.neighbor`, with this
        tab's history as the recently used panes); False at the window edge.
        From a float, the focus first goes back to the tiled pane below."""
        if self.floats.focused is not None:
            return self.floats.blur()
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
        target = self.focused if pane is None or pane in self.floats else pane
        if target is None:
            raise KeyError("this tab has no pane to split")
        self.floats.blur()  # a float's split is a tiled pane, below
        self.layout = self.layout.split(target, direction, new_pane, ratio)
        self.zoomed = None
        self.focused = new_pane
        self._touch(new_pane)

    def remove(self, pane: int) -> bool:
        """Take ``pane`` out; True when the tab is now empty (close it).

        When it had focus, focus goes back to the pane focused before it, else
        to the first pane of the sibling that took its space. A float just
        goes; when the last tiled pane goes, the top float takes its place.
        """
        if self.floats.remove(pane):
            return False
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
        if self.layout.empty and self.floats.top is not None:
            self.embed(self.floats.top)
        return self.layout.empty

    def float_pane(self, pane: int, box: Box, width: int, height: int) -> None:
        """Take a tiled pane out of the layout onto the floating layer, focused;
        the tab's only tiled pane stays (a tab's layout is never empty)."""
        if pane not in self.layout:
            raise KeyError(f"no tiled pane {pane} in this tab")
        if len(self.layout) < 2:
            raise ValueError("the only tiled pane of a tab cannot float")
        self.remove(pane)
        self.floats.add(pane, box, width, height)

    def embed(self, pane: int, direction: Direction = "right") -> None:
        """Put a float back into the layout, beside the focused tiled pane, focused."""
        if not self.floats.remove(pane):
            raise KeyError(f"no float {pane} in this tab")
        if self.layout.empty:
            self.layout = Layout.single(pane)
        else:
            assert self.focused is not None
            self.layout = self.layout.split(self.focused, direction, pane)
        self.floats.blur()
        self.zoomed = None
        self.focused = pane
        self._touch(pane)

    def resize(
        self, side: Side, cells: int, width: int, height: int, pane: int | None = None
    ) -> bool:
        """Resize the focused pane (or ``pane``); True when a border moved or it unzoomed."""
        target = self.focused if pane is None else pane
        if target is None or target in self.floats:
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
    #: the tab active before this one (tmux's last window), while it is open
    previous: Tab | None = field(default=None, repr=False)

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
            if pane in tab.layout or pane in tab.floats:
                return tab
        return None

    def new(self, tab: Tab, select: bool = True) -> int:
        """Add ``tab`` after the last one (and make it active); its number."""
        self.tabs.append(tab)
        if select or len(self.tabs) == 1:
            self._go(len(self.tabs) - 1)
        return len(self.tabs) - 1 + self.base

    def next(self) -> bool:
        return self._step(1)

    def prev(self) -> bool:
        return self._step(-1)

    def _step(self, step: int) -> bool:
        if len(self.tabs) < 2:
            return False
        self._go((self.index + step) % len(self.tabs))
        return True

    def _go(self, i: int) -> None:
        if i != self.index and 0 <= self.index < len(self.tabs):
            self.previous = self.tabs[self.index]
        self.index = i

    def select(self, number: int) -> bool:
        """Go to tab ``number``; False (nothing changes) when there is none."""
        i = number - self.base
        if not 0 <= i < len(self.tabs) or i == self.index:
            return False
        self._go(i)
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
        if self.previous is target:
            self.previous = None
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
