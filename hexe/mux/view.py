"""What a renderer is given to draw one frame: a snapshot of the session as a client sees it.

The server builds a :class:`View`; the ``hexe_render`` hook (the built-in
``hexe_render`` plugin, or a replacement) turns it into terminal bytes.
Screens are live objects (:class:`hexe.terminal.PaneScreen`): a renderer
reads them and their dirty rows, and must not change anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PaneView:
    id: int
    rect: Any  # hexe.mux.layout.Rect: x, y, cols, rows
    screen: Any  # hexe.terminal.PaneScreen
    focused: bool
    title: str
    isolation: str  # "full 512M/100p"
    notice: str | None  # "exited 0", "isolation failed"
    copy: Any  # hexe.mux.copymode.CopyView, or None


@dataclass(frozen=True)
class View:
    cols: int
    rows: int
    session: str
    tabs: tuple[tuple[int, str, bool], ...]  # (index, name, active)
    panes: tuple[PaneView, ...]
    borders: Any  # from hexe.layout: the border cells between panes
    zoomed: bool
    status_left: tuple[Any, ...]  # segment names or Lua functions
    status_right: tuple[Any, ...]
    message: str | None
    prompt: tuple[str, str] | None  # (label, text typed so far)
    overlay: tuple[str, ...] | None  # the help screen
    focused_title: str
    focused_isolation: str
    mouse: bool
    runtime: Any = None  # the config's Lua runtime, for function segments
    hooks: Any = None  # the plugin manager's hooks (hexe_status_segment)
    known_panes: tuple[int, ...] = ()  # every pane of the session, shown or not
    #: the tab's shown floating panes, bottom first, drawn over the others
    #: with a border and title (each rect is the inside of its box)
    floats: tuple[PaneView, ...] = ()
    # A frame drawn at once for a key's echo: panes other than the focused one
    # may be shown as they were (their changes wait for the next frame).
    echo: bool = False
    #: a shown pane rang since the last frame: every client's terminal rings
    #: (taken once a frame by the server, whatever the number of clients)
    bell: bool = False

    def again(self, echo: bool, bell: bool) -> View:
        """This view for another frame (a new object: a renderer may keep
        what it drew for a view), with its own ``echo`` and ``bell``."""
        view = object.__new__(View)
        view.__dict__.update(self.__dict__, echo=echo, bell=bell)
        return view
