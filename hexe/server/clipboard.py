"""Copy mode, the mouse's selections and the clipboard (OSC 52, copy-pipe).

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md. It owns:

- copy mode's input (:meth:`copy_input`, called by the input room for a pane
  in copy mode) and entering it (:meth:`enter_copy`), with the key table of
  ``hexe.options { mode_keys }``;
- the mouse over a pane that did not ask for the mouse itself
  (:meth:`copy_mouse`, first in ``on_mouse``): a drag selects and copies on
  release, a double click a word, a triple click a line, a click in copy
  mode moves its cursor;
- OSC 52 from programs (:meth:`pane_clipboard`, after each read of a pane):
  forwarded to the attached terminals when ``set_clipboard`` is on and no
  plugin refuses it (``hexe_clipboard_allowed``: the voidbox plugin's
  ``clipboard`` setting); a read (``?``) is never answered; refusals are logged, and
  shown once per pane on the status line;
- ``copy-pipe CMD``: the selection to a shell command the server starts as
  the user, outside any sandbox (a sandboxed pane may not ask for it).

It never reads the outer clipboard and never writes to a pane what it took.
"""

from __future__ import annotations

import binascii
import fcntl
import os
import time
from typing import Any

from hexe.mux.copymode import CopyMode
from hexe.mux.input import Key, Mouse, Paste
from hexe.server.state import CLIENT_BACKLOG, PASTE_LIMIT, ActionError, Client, Pane
from hexe.wire import protocol

#: Seconds between two presses that make a double (or triple) click.
CLICK_INTERVAL = 0.4
#: F_SETPIPE_SZ: the pipe to copy-pipe's command holds the whole selection.
_F_SETPIPE_SZ = 1031


class ClipboardRoom:
    """Copy mode, the mouse's selections and the clipboard (OSC 52, copy-pipe)."""

    # -- copy mode -------------------------------------------------------------

    def enter_copy(self, pane: Pane) -> CopyMode:
        if pane.copy is None:
            pane.copy = CopyMode(pane.screen, self.config.options.mode_keys)
        return pane.copy

    def copy_input(self, client: Client, pane: Pane, event: Key | Mouse | Paste) -> None:
        """An event for a pane in copy mode."""
        copy = pane.copy
        assert copy is not None
        self.dirty = True
        if isinstance(event, Mouse):
            if event.wheel:
                copy.scroll(event.wheel * 3)
                if copy.at_bottom and event.wheel > 0 and copy.anchor is None:
                    pane.copy = None  # down past the bottom leaves
            elif not self.copy_mouse(event):
                self.on_mouse(event)  # a click on another pane focuses it
            return
        if not isinstance(event, Key):
            return
        result = copy.key(event.name)
        message = copy.take_message()
        if message:
            self.show_message(message)
        if result is None:
            return
        kind, value = result
        if kind == "copy":
            self.copy_text(value)
            pane.copy = None
        elif kind == "exit":
            pane.copy = None
        elif kind == "search":
            self.start_prompt(
                "search" if value == "forward" else "search back",
                lambda text, p=pane, d=value: self.search(p, text, d),
            )
        elif kind == "unbound":
            binding = self.config.keys.get((event.name,))
            if binding is not None:
                self.run_binding(client, binding)  # a root binding (copy-pipe, say)

    def search(self, pane: Pane, text: str, direction: str) -> None:
        copy = pane.copy
        if copy is None or not text:
            return
        found = copy.search(text, direction == "backward")
        message = copy.take_message()
        if message:
            self.show_message(message)
        elif not found:
            self.show_message(f"not found: {text}")

    def copy_text(self, text: str) -> None:
        """Put ``text`` in hexe's buffer and, through OSC 52, the outer clipboard."""
        self.paste_buffer = text.encode()[:PASTE_LIMIT]
        self.copy_to_clipboard(text)

    # -- copy-pipe -----------------------------------------------------------------

    def do_copy_pipe(self, client: Client | None, command: str) -> None:
        pane = self.target()
        copy = pane.copy if pane is not None else None
        text = copy.selected_text() if copy is not None else ""
        if pane is None or copy is None or copy.anchor is None:
            raise ActionError(
                "copy-pipe: no selection (enter copy mode with prefix [ and select first)"
            )
        data = text.encode()[:PASTE_LIMIT]
        self.paste_buffer = data
        pane.copy = None
        read_end, write_end = os.pipe()
        try:
            try:
                fcntl.fcntl(write_end, _F_SETPIPE_SZ, min(max(len(data), 4096), 1 << 20))
            except OSError:
                pass  # the default size: a long selection may be cut (said below)
            os.set_blocking(write_end, False)
            null = os.open(os.devnull, os.O_RDWR)
            try:
                pid = os.posix_spawn(
                    "/bin/sh",
                    ["/bin/sh", "-c", command],
                    dict(self.environ),
                    file_actions=[
                        (os.POSIX_SPAWN_DUP2, read_end, 0),
                        (os.POSIX_SPAWN_DUP2, null, 1),
                        (os.POSIX_SPAWN_DUP2, null, 2),
                    ],
                    setsid=True,
                )
            finally:
                os.close(null)
            os.close(read_end)
            read_end = -1
            try:
                written = os.write(write_end, data) if data else 0
            except (BlockingIOError, BrokenPipeError):
                written = 0
        finally:
            if read_end >= 0:
                os.close(read_end)
            os.close(write_end)
        self.log.info("copy_pipe", pid=pid, command=command, size=len(data), written=written)
        if written < len(data):
            self.show_message(f"copy-pipe: the command took {written} of {len(data)} bytes")
        else:
            self.show_message(f"piped {len(text)} characters to {command}")

    # -- the mouse -----------------------------------------------------------------

    def _mouse_state(self) -> dict[str, Any]:
        state = self.__dict__.get("_copy_mouse")
        if state is None:
            state = self.__dict__["_copy_mouse"] = {"drag": None, "clicks": (0.0, None, 0)}
        return state

    def copy_mouse(self, event: Mouse) -> bool:
        """Selections with the left button over a pane that did not ask for
        the mouse (or is in copy mode); True when the event was used here.
        Nothing changes before it says False."""
        if event.wheel or event.button & 3 != 0:
            return False
        tab = self.tabs.active
        if tab is None:
            return False
        state = self._mouse_state()
        drag = state["drag"]
        if drag is not None and (event.motion or not event.pressed):
            self._drag(drag, event)
            return True
        if not event.pressed or event.motion:
            return False
        hit = next(
            (
                (pid, r)
                for pid, r in tab.geometry(*self.area).panes.items()
                if r.contains(event.x, event.y)
            ),
            None,
        )
        if hit is None:
            return False
        pane_id, rect = hit
        pane = self.panes.get(pane_id)
        if pane is None or pane_id != tab.focused:
            return False  # a click on another pane focuses it (on_mouse)
        if pane.screen.mouse_mode is not None and pane.copy is None:
            return False  # the program asked for the mouse: the events are its own
        now = time.monotonic()
        last, where, count = state["clicks"]
        near = now - last < CLICK_INTERVAL and where == (event.x, event.y)
        count = count + 1 if near else 1
        state["clicks"] = (now, (event.x, event.y), count)
        x, y = event.x - rect.x, event.y - rect.y
        self.dirty = True
        if count >= 2:  # a word, then a line: copied at once
            state["drag"] = None
            entered = pane.copy is None
            copy = self.enter_copy(pane)
            copy.move_to(x, copy.top + y)
            if count == 2:
                copy.select_word()
            else:
                copy.anchor, copy.kind = (0, copy.cy), "line"
            self.copy_text(copy.selected_text())
            if entered:
                pane.copy = None
            else:
                copy.anchor = None
            return True
        if pane.copy is not None:  # a click in copy mode moves its cursor
            pane.copy.move_to(x, pane.copy.top + y)
            pane.copy.anchor = None
        state["drag"] = {"pane": pane_id, "rect": rect, "at": (x, y), "entered": False}
        return True

    def _drag(self, drag: dict[str, Any], event: Mouse) -> None:
        """Motion with the button down selects; the release copies."""
        state = self._mouse_state()
        pane = self.panes.get(drag["pane"])
        if pane is None:
            state["drag"] = None
            return
        rect = drag["rect"]
        x = max(0, min(event.x - rect.x, rect.cols - 1))
        y = max(0, min(event.y - rect.y, rect.rows - 1))
        self.dirty = True
        if event.motion:
            copy = pane.copy
            if copy is None:  # the first motion enters copy mode
                copy = self.enter_copy(pane)
                drag["entered"] = True
            if copy.anchor is None:
                ax, ay = drag["at"]
                copy.move_to(ax, copy.top + ay)
                copy.anchor, copy.kind = (copy.cx, copy.cy), "char"
            copy.move_to(x, copy.top + y)
            return
        state["drag"] = None  # released
        copy = pane.copy
        if copy is None or copy.anchor is None:
            return  # a click
        self.copy_text(copy.selected_text())
        if drag["entered"]:
            pane.copy = None
        else:
            copy.anchor = None

    # -- OSC 52 from programs --------------------------------------------------------

    def clipboard_allowed(self, pane: Pane) -> bool:
        """May the pane's programs set the clipboard? The plugins say, from the
        pane's isolation (``hexe_clipboard_allowed``: voidbox's ``clipboard``
        setting); one ``False`` refuses. A pane without a plan: refused."""
        iso = pane.plan.isolation if pane.plan is not None else None
        if iso is None:
            return False
        return False not in self.pm.hook.hexe_clipboard_allowed(isolation=iso)

    def pane_clipboard(self, pane: Pane) -> None:
        """Act on the OSC 52 requests the pane's programs made."""
        requests = pane.screen.take_clipboard()
        writes = [i for i, (kind, _) in enumerate(requests) if kind == "write"]
        for i, (kind, data) in enumerate(requests):
            if kind == "write" and i != writes[-1]:
                continue  # the last write of a batch wins: the others would be overwritten
            if kind == "read":
                self.clipboard_refused(pane, "read", "a program asked to read the clipboard")
            elif kind == "too-long":
                self.clipboard_refused(pane, "too-long", "a clipboard write over 1 MiB")
            elif not self.config.options.set_clipboard:
                self.log.info("clipboard_ignored", pane=pane.id, reason="set_clipboard off")
            elif not self.clipboard_allowed(pane):
                self.clipboard_refused(pane, "deny", 'a clipboard write (clipboard = "deny")')
            else:
                self.log.info("clipboard_set", pane=pane.id, size=len(data))
                if pane.plan is not None and pane.plan.isolation.profile == "none":
                    self.paste_buffer = data[:PASTE_LIMIT]  # as tmux's own buffer
                self.send_clipboard(data)

    def clipboard_refused(self, pane: Pane, reason: str, what: str) -> None:
        self.log.warning("clipboard_refused", pane=pane.id, reason=reason)
        shown = self.__dict__.setdefault("_clipboard_shown", set())
        if (pane.id, reason) not in shown:
            shown.add((pane.id, reason))
            self.show_message(f"pane {pane.id}: {what} was refused")

    def send_clipboard(self, data: bytes) -> None:
        """OSC 52 to every attached terminal: sets their clipboard to ``data``."""
        osc = b"\x1b]52;c;" + binascii.b2a_base64(data, newline=False) + b"\x07"
        for client in self.clients:
            if not client.attached:
                continue
            if len(client.out) > CLIENT_BACKLOG:
                # a pane writing the clipboard in a loop must not get a slow
                # client dropped for not reading (CLIENT_BUFFER_LIMIT)
                self.log.warning(
                    "clipboard_skipped", client_pid=client.pid, backlog=len(client.out)
                )
                continue
            client.send(protocol.OUTPUT, osc)
