"""Floating panes: open, show/hide, move, resize, float and embed them; their mouse and view.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md. The rules (boxes,
stacking, focus) are in :mod:`hexe.mux.floats`; a float is an ordinary pane
otherwise (started, sized, read and reaped by the panes room). This room
does not draw: it hands the renderer a :class:`~hexe.mux.view.PaneView` per
shown float.
"""

from __future__ import annotations

from dataclasses import replace

from hexe.isolation import Layer
from hexe.mux.copymode import CopyMode
from hexe.mux.floats import Box, default_box, drag
from hexe.mux.input import Mouse, encode_mouse
from hexe.mux.tabs import Tab
from hexe.mux.view import PaneView
from hexe.server.state import ActionError, Client, Pane, pane_view
from hexe.terminal import MouseEncoding, MouseMode


class FloatsRoom:
    """Floating panes: actions, sizes, mouse drags and the views of the shown ones."""

    #: a mouse drag under way: (pane, grip, x, y where it began, the box then)
    float_drag: tuple[int, str, int, int, Box] | None = None

    # -- actions --

    def do_new_float(
        self, client: Client | None, isolation: str | None = None, command: str | None = None
    ) -> int:
        """A float over the target pane's tab: the shell (or ``command``) with the
        isolation of the focused pane, or the profile ``isolation`` names."""
        like = self.target()
        tab = self.tabs.find(like.id) if like is not None else self.tabs.active
        if tab is None:
            raise ActionError("there is no tab to open a floating pane in")
        spec = replace(self.default_spec(like), path="float", where="new-float")
        if isolation:
            if isolation not in self.config.profiles:
                raise ActionError(
                    f'new-float: isolation "{isolation}" is not a profile; profiles: '
                    f'{", ".join(self.config.profiles)} (or "" for the focused pane\'s)'
                )
            layer = Layer("pane", {"profile": (isolation, "new-float --isolation")})
            spec = replace(spec, isolation=layer)
        if command:
            if "\0" in command:
                raise ActionError("new-float: the command contains a NUL byte")
            spec = replace(spec, command=(self.config.options.shell, "-c", command))
        pane_id = self.new_pane_id()
        width, height = self.area
        tab.floats.add(pane_id, default_box(width, height, len(tab.floats)), width, height)
        inner = tab.floats.boxes[pane_id].inner
        try:
            self.start_pane(pane_id, spec, inner.cols, inner.rows)
        except BaseException:
            if pane_id not in self.panes:  # the tab never holds a pane that is not there
                tab.floats.remove(pane_id)
            raise
        self.log.info("float_opened", pane=pane_id, profile=isolation or None)
        self.layout_panes()
        return pane_id

    def do_toggle_floats(self, client: Client | None) -> None:
        tab = self.tabs.active
        if tab is None:
            return
        if not tab.floats:
            self.show_message("no floating panes in this tab (new-float opens one)")
            return
        shown = tab.floats.toggle()
        self.log.info("floats_toggled", shown=shown, floats=len(tab.floats))
        self.layout_panes()

    def _float_target(self, action: str) -> tuple[Tab, Pane]:
        pane = self.target()
        tab = self.tabs.find(pane.id) if pane is not None else None
        if tab is None or pane is None:
            raise ActionError(f"{action}: there is no pane")
        if pane.id not in tab.floats:
            raise ActionError(f"{action}: pane {pane.id} is not floating (float-pane floats it)")
        return tab, pane

    def _float_step(self, action: str, cells: int) -> tuple[Tab, Pane]:
        if cells < 1:
            raise ActionError(f"{action}: cells must be 1 or more, got {cells}")
        return self._float_target(action)

    def do_move_float(self, client: Client | None, side: str, cells: int = 2) -> None:
        """``move-float-left`` and its siblings."""
        tab, pane = self._float_step(f"move-float-{side}", cells)
        if tab.floats.move(pane.id, side, cells, *self.area):
            self.layout_panes()

    def do_resize_float(self, client: Client | None, side: str, cells: int = 2) -> None:
        """``resize-float-left`` and its siblings: move the bottom-right corner."""
        tab, pane = self._float_step(f"resize-float-{side}", cells)
        if tab.floats.resize(pane.id, side, cells, *self.area):
            self.layout_panes()

    def do_float_pane(self, client: Client | None) -> None:
        pane = self.target()
        tab = self.tabs.find(pane.id) if pane is not None else None
        if tab is None or pane is None:
            raise ActionError("float-pane: there is no pane")
        if pane.id in tab.floats:
            raise ActionError(f"float-pane: pane {pane.id} is floating already")
        try:
            width, height = self.area
            tab.float_pane(pane.id, default_box(width, height, len(tab.floats)), width, height)
        except ValueError as exc:
            raise ActionError(f"float-pane: {exc}") from None
        self.log.info("pane_floated", pane=pane.id)
        self.layout_panes()

    def do_embed_pane(self, client: Client | None) -> None:
        tab, pane = self._float_target("embed-pane")
        tab.embed(pane.id)
        self.log.info("float_embedded", pane=pane.id)
        self.layout_panes()

    # -- sizes and views --

    def layout_floats(self) -> None:
        """Every float kept in the window, its PTY the size of its box's inside."""
        width, height = self.area
        for tab in self.tabs:
            if not tab.floats:
                continue
            tab.floats.fit(width, height)
            for pane_id, box in tab.floats.boxes.items():
                pane = self.panes.get(pane_id)
                if pane is not None:
                    inner = box.inner
                    self.resize_pane(pane, inner.cols, inner.rows)

    def float_views(self, tab: Tab) -> tuple[PaneView, ...]:
        """The shown floats of ``tab``, bottom first; each view's rect is the box's inside."""
        current = tab.current
        views = []
        for pane_id, box in tab.floats.visible():
            pane = self.panes.get(pane_id)
            if pane is None:
                continue
            views.append(pane_view(pane, box.inner, pane_id == current))
        return tuple(views)

    # -- the mouse --

    def float_mouse(self, event: Mouse) -> bool:
        """A mouse event on the floating layer (or a drag begun there): True when
        taken. The title bar moves a float, an edge or corner resizes it; a
        press on a float focuses it; one below gives the focus back to the tiles."""
        tab = self.tabs.active
        if tab is None or (not tab.floats and self.float_drag is None):
            return False
        held = self.float_drag
        if held is not None:
            if not event.pressed or event.motion:
                pane_id, grip, x0, y0, box = held
                if pane_id in tab.floats:
                    moved = drag(box, grip, event.x - x0, event.y - y0)
                    if tab.floats.place(pane_id, moved, *self.area):
                        self.layout_panes()
                if not event.pressed:
                    self.float_drag = None
                return True
            self.float_drag = None  # a press without a release between: begin again
        pane_id = tab.floats.at(event.x, event.y)
        click = event.pressed and not event.motion and not event.wheel and event.button & 3 == 0
        if pane_id is None:
            if click and tab.floats.blur():
                self.dirty = True  # the tiled pane clicked takes the focus (keys room)
            return False
        box = tab.floats.boxes[pane_id]
        grip = box.edge(event.x, event.y)
        was_current = tab.current == pane_id
        if click:
            tab.focus(pane_id)
            self.dirty = True
            if grip != "inside":
                self.float_drag = (pane_id, grip, event.x, event.y, box)
                return True
        pane = self.panes.get(pane_id)
        if grip == "inside" and pane is not None:
            self._float_pane_mouse(pane, box, event, was_current)
        return True

    def _float_pane_mouse(self, pane: Pane, box: Box, event: Mouse, was_current: bool) -> None:
        """Inside a float: to its program when it asked for the mouse, else the wheel scrolls."""
        mode = pane.screen.mouse_mode
        if mode is not None:
            if not was_current:
                return
            if event.motion and mode not in (MouseMode.BUTTON_EVENT, MouseMode.ANY_EVENT):
                return
            if mode == MouseMode.X10 and not event.pressed:
                return
            sgr = pane.screen.mouse_encoding == MouseEncoding.SGR
            inner = box.inner
            self.write_pane(pane, encode_mouse(event, event.x - inner.x, event.y - inner.y, sgr))
            return
        if event.wheel:
            if pane.copy is None and event.wheel < 0:
                pane.copy = CopyMode(pane.screen)
            if pane.copy is not None:
                pane.copy.scroll(event.wheel * 3)
                if pane.copy.at_bottom and event.wheel > 0:
                    pane.copy = None
            self.dirty = True
