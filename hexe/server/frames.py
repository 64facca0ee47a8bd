"""Frames: the view of the session and drawing it for each client.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

import time
from typing import Any

from hexe.mux.tabs import Tab
from hexe.mux.view import PaneView, View
from hexe.server.state import CLIENT_BACKLOG, FRAME_INTERVAL, Client, Pane, pane_view
from hexe.wire import protocol

#: Seconds at least between a key's echo frame, sent to the client that
#: typed, and the frame that brings it to the other clients attached.
ECHO_HEADSTART = 0.002


def _rang(panes: Any, floats: Any) -> bool:
    """Whether a shown pane rang since the last frame (its bell is taken)."""
    return any(p.screen.take_bell() for p in (*panes, *floats))


def _focused_title(panes: list[PaneView], focused: Pane | None) -> str:
    """The focused pane's title: from its view when it is drawn (asked once a frame)."""
    if focused is None:
        return ""
    for view in panes:
        if view.id == focused.id:
            return view.title
    return focused.title


class FramesRoom:
    """Frames: the view of the session and drawing it for each client."""

    def view(self, echo: bool = False, take_bell: bool = False) -> View:
        """The session as its clients see it; ``echo``: a key's echo frame;
        ``take_bell``: a shown pane's bell is taken into it (once a frame)."""
        tab = self.tabs.active
        panes = []
        geometry = self._geometry(tab)
        for pane_id, rect in geometry.panes.items() if geometry else ():
            pane = self.panes.get(pane_id)
            if pane is None:
                continue
            panes.append(pane_view(pane, rect, pane_id == tab.current))
        message = self.message if self.message and time.monotonic() < self.message_until else None
        focused = self.focused()
        floats = self.float_views(tab) if tab is not None and tab.floats else ()
        # a bell is taken once a frame, for every client (not by the first one drawn)
        bell = take_bell and _rang(panes, floats)
        return View(
            cols=self.cols,
            rows=self.rows,
            session=self.session,
            tabs=tuple(
                (self.tabs.number(t), (t.name or self._tab_title(t)) + self.tab_marks(t), t is tab)
                for t in self.tabs
            ),
            panes=tuple(panes),
            borders=geometry,
            zoomed=bool(tab and tab.zoomed is not None),
            status_left=self.config.status.left,
            status_right=self.config.status.right,
            message=message,
            prompt=(self.prompt["label"], self.prompt["text"]) if self.prompt else None,
            overlay=tuple(self.overlay_page()) if self.overlay else None,
            focused_title=_focused_title(panes, focused),
            focused_isolation=focused.isolation if focused else "",
            mouse=self.config.options.mouse,
            runtime=self.config.runtime,
            hooks=self.pm.hook,
            known_panes=tuple(self.panes),
            floats=floats,
            echo=echo,
            bell=bell,
        )

    def _echo_view(self, others_wait: bool) -> View | None:
        """The last frame's view again, for a key's echo frame when nothing but
        the echoing pane's output came since that frame (``echo_clean``, set
        by the panes room): its screens are live objects, so the echo is in
        it, and the server is spared building it anew. None when the view
        may differ: another config, tab or focus, a message, prompt or help."""
        drawn = self.view_drawn
        if drawn is None:
            return None
        view, config, tab, focused = drawn
        if (
            config is not self.config
            or tab is not self.tabs.active
            or focused is not self.focused()
            or (view.cols, view.rows) != (self.cols, self.rows)
            or self.message is not None
            or self.prompt is not None
            or self.overlay is not None
            or view.message is not None
            or view.prompt is not None
            or view.overlay is not None
        ):
            return None
        bell = not others_wait and _rang(view.panes, view.floats)
        return view.again(echo=True, bell=bell)

    def _retitled(self, view: View) -> bool:
        """Whether the focused pane's title changed from the one ``view`` shows
        (its output set one): the frame that follows, at the usual pace, shows it."""
        focused = self.focused()
        return focused is not None and focused.title != view.focused_title

    def _geometry(self, tab: Tab | None) -> Any:
        """The active tab's geometry: the last frame's again while its layout,
        zoom and the area are the same (asked on every frame, a key's echo too)."""
        if tab is None:
            return None
        area = self.area
        memo = self.__dict__.get("_geometry_memo")
        if (
            memo is not None
            and memo[0] is tab
            and memo[1] is tab.layout
            and memo[2] == tab.zoomed
            and memo[3] == area
        ):
            return memo[4]
        geometry = tab.geometry(*area)
        self.__dict__["_geometry_memo"] = (tab, tab.layout, tab.zoomed, area, geometry)
        return geometry

    def _tab_title(self, tab: Tab) -> str:
        pane = self.panes.get(tab.focused) if tab.focused is not None else None
        return pane.title if pane is not None else ""

    def render(self) -> None:
        echo = self.echo
        self.echo = False
        # An echo frame draws the focused pane only (the compositor shows the
        # others as they were): the frame that follows at the usual pace,
        # whose slot it does not take, draws the rest.
        self.dirty = False
        if not echo:
            self.last_frame = time.monotonic()
        if not any(c.attached for c in self.clients):
            return
        # Clients that were sent the same frames hold the same state: the
        # frame is drawn once for all of them (20 clients cost one render,
        # and what a render consumes, a pane's bell, reaches every one), and
        # the render plugin gives every client of a view the same new state,
        # so clients attached at different times share it from then on.
        # The previous state is kept in the key's value so its id is not reused.
        drawn: dict[int, tuple[object, bytes | None, object]] = {}
        clients = [c for c in self.clients if c.attached]
        others_wait = echo and len(clients) > 1
        clean, self.echo_clean = self.echo_clean, False
        # a bell is taken by a frame every client gets (not by an echo frame sent to one)
        view = self._echo_view(others_wait) if echo and clean else None
        again = view is not None
        if view is None:
            view = self.view(echo=echo, take_bell=not others_wait)
            self.view_drawn = (view, self.config, self.tabs.active, self.focused())
        if others_wait:
            # Only the client that typed gets the echo frame: the others get
            # it with the frame that follows, at the usual pace but not
            # before ECHO_HEADSTART, so the processes of other clients (a
            # CPU each) are not woken while the echo is on its way.
            clients = [max(clients, key=lambda c: c.active_at)]
            self.last_frame = max(
                self.last_frame, time.monotonic() - FRAME_INTERVAL + ECHO_HEADSTART
            )
        for client in clients:
            if not client.attached or client.closing:
                continue
            if len(client.out) > CLIENT_BACKLOG:
                # a slow terminal: skip frames; it gets a whole one once it drains
                client.render_state = None
                continue
            previous = client.render_state
            full = previous is None
            if id(previous) in drawn:
                _, framed, state = drawn[id(previous)]
            else:
                result = self.pm.hook.hexe_render(view=view, previous=previous)
                framed, state = None, None
                if result is not None:
                    data, state = result
                    framed = protocol.encode(protocol.OUTPUT, data) if data else b""
                drawn[id(previous)] = (previous, framed, state)
            if framed is None:
                continue
            client.render_state = state
            if framed:
                client.out += framed  # the frame encoded once for every client sharing it
            if full:
                outside = self.outside(client)
                if outside:
                    client.send(protocol.OUTPUT, outside)
        if echo:
            self.dirty = (
                others_wait
                or any(p.screen.has_dirty_rows for p in view.panes + view.floats)
                or (again and self._retitled(view))
            )
        for client in list(self.clients):
            self.flush_client(client)

    def outside(self, client: Client) -> bytes:
        """For a terminal larger than the session: dots where the session does not reach."""
        if client.cols <= self.cols and client.rows <= self.rows:
            return b""
        out = ["\x1b7\x1b[0;2m"]
        if client.cols > self.cols:
            dots = "\u00b7" * (client.cols - self.cols)
            out += (
                f"\x1b[{y + 1};{self.cols + 1}H{dots}" for y in range(min(self.rows, client.rows))
            )
        dots = "\u00b7" * client.cols
        out += (f"\x1b[{y + 1};1H{dots}" for y in range(self.rows, client.rows))
        out.append("\x1b[0m\x1b8")
        return "".join(out).encode()
