"""The actions of hexe/commands/registry.py: ``do_<name>`` for each entry.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

from hexe.commands.registry import ACTIONS, canonical
from hexe.mux.input import encode_key
from hexe.mux.tabs import Tab
from hexe.server.state import (
    PASTE_LIMIT,
    ActionError,
    Client,
    Pane,
)


class ActionsRoom:
    """The actions of hexe/commands/registry.py: ``do_<name>`` for each entry."""

    def do_split_right(self, client: Client | None) -> int:
        return self.split("right")

    def do_split_down(self, client: Client | None) -> int:
        return self.split("down")

    def split(self, direction: str) -> int:
        """Split the target pane; the new pane's id."""
        tab, pane = self.target_tab()
        if tab is None or pane is None:
            raise ActionError("there is no pane to split")
        new_id = self.new_pane_id()
        tab.split(direction, new_id, pane=pane.id)
        rect = tab.geometry(*self.area).panes.get(new_id)
        cols, rows = (rect.cols, rect.rows) if rect else self.area
        try:
            self.start_pane(new_id, self.default_spec(pane), cols, rows)
        except BaseException:
            if new_id not in self.panes:  # the layout never holds a pane that is not there
                tab.remove(new_id)
                tab.focus(pane.id)
            raise
        self.layout_panes()
        return new_id

    def _focus(self, side: str) -> None:
        tab, pane = self.target_tab()
        if tab is None or pane is None:
            return
        tab.focus(pane.id)
        rect = tab.geometry(*self.area).panes.get(pane.id)
        cursor = None
        if rect is not None:
            cx, cy = pane.screen.cursor
            cursor = (rect.x + cx, rect.y + cy)
        if tab.focus_toward(side, *self.area, cursor=cursor):
            self.layout_panes()

    def do_focus_left(self, client: Client | None) -> None:
        self._focus("left")

    def do_focus_right(self, client: Client | None) -> None:
        self._focus("right")

    def do_focus_up(self, client: Client | None) -> None:
        self._focus("up")

    def do_focus_down(self, client: Client | None) -> None:
        self._focus("down")

    def do_focus_next(self, client: Client | None) -> None:
        tab = self.tabs.active
        if tab is not None and tab.focus_next():
            self.layout_panes()

    def do_focus_prev(self, client: Client | None) -> None:
        tab = self.tabs.active
        if tab is not None and tab.focus_prev():
            self.layout_panes()

    def do_resize(self, client: Client | None, direction: str, cells: int | None = None) -> None:
        """``resize-left`` and its siblings: move the pane's edge (5 cells across, 2 down)."""
        if cells is None:
            cells = 5 if direction in ("left", "right") else 2
        if cells < 1:
            raise ActionError(f"resize-{direction}: cells must be 1 or more, got {cells}")
        tab, pane = self.target_tab()
        if (
            tab is not None
            and pane is not None
            and tab.resize(direction, cells, *self.area, pane=pane.id)
        ):
            self.layout_panes()

    def do_select_pane(self, client: Client | None, pane_id: int) -> None:
        pane = self.find_pane(pane_id)
        tab = self.tabs.find(pane.id)
        if tab is not None:
            self.tabs.select(self.tabs.number(tab))
            tab.focus(pane.id)
            self.layout_panes()

    def do_zoom(self, client: Client | None) -> None:
        tab, pane = self.target_tab()
        if tab is not None and pane is not None:
            if tab.zoomed is None:
                tab.focus(pane.id)
            tab.toggle_zoom()
            self.layout_panes()

    def do_close_pane(self, client: Client | None) -> None:
        pane = self.target()
        if pane is None:
            return
        if pane.alive:
            self.kill_pane(pane)  # its exit removes it
        else:
            self.remove_pane(pane)

    def do_new_tab(self, client: Client | None) -> int:
        spec = self.default_spec(self.focused(), tab=True)  # before the new tab has the focus
        pane_id = self.new_pane_id()
        self.tabs.new(Tab.single(pane_id))
        self.start_pane(pane_id, spec, *self.area)
        self.layout_panes()
        return pane_id

    def do_next_tab(self, client: Client | None) -> None:
        self.tabs.next()
        self.layout_panes()

    def do_prev_tab(self, client: Client | None) -> None:
        self.tabs.prev()
        self.layout_panes()

    def do_select_tab(self, client: Client | None, n: int) -> None:
        if not self.tabs.base <= n < self.tabs.base + len(self.tabs):
            last = self.tabs.base + len(self.tabs) - 1
            raise ActionError(f"no tab {n}; tabs are {self.tabs.base}..{last}")
        if self.tabs.select(n):
            self.layout_panes()

    def do_rename_tab(self, client: Client | None, name: str | None = None) -> None:
        tab = self.tabs.active
        if client is not None and not client.attached and name is None:
            raise ActionError("rename-tab needs a NAME from the command line")
        if tab is None:
            return
        if name is not None:
            self.tabs.rename(name, tab)
            return
        self.start_prompt(
            "rename tab", lambda text, t=tab: self.tabs.rename(text or t.name, t), tab.name or ""
        )

    def do_send_keys(self, client: Client | None, *keys: str) -> None:
        """tmux's send-keys: a word that names a key is that key, any other is text."""
        from hexe.commands.registry import parse_key

        pane = self.target()
        if pane is None:
            raise ActionError("there is no pane to send keys to")
        data = bytearray()
        for word in keys:
            try:
                name = parse_key(word)
            except ValueError:
                data += word.encode()
                continue
            data += encode_key(name, pane.screen.application_cursor)
        self.send_to(pane, bytes(data))

    def do_send_text(self, client: Client | None, text: str) -> None:
        pane = self.target()
        if pane is None:
            raise ActionError("there is no pane to send text to")
        self.send_to(pane, text.encode())

    def send_to(self, pane: Pane, data: bytes) -> None:
        if not pane.alive:
            raise ActionError(f"pane {pane.id} is not running ({pane.notice or pane.state})")
        self.write_pane(pane, data)

    def do_kill_session(self, client: Client | None) -> None:
        self.log.info("session_killed", client_pid=client.pid if client else None)
        self.running = False

    def do_copy_mode(self, client: Client | None) -> None:
        pane = self.target()
        if pane is not None:
            self.enter_copy(pane)

    def do_paste(self, client: Client | None) -> None:
        pane = self.target()
        if pane is not None and self.paste_buffer:
            text = self.paste_buffer
            if pane.screen.bracketed_paste:
                text = b"\x1b[200~" + text + b"\x1b[201~"
            self.write_pane(pane, text)

    def do_set_buffer(self, client: Client | None, text: str) -> None:
        data = str(text).encode()
        if len(data) > PASTE_LIMIT:
            raise ActionError(
                f"set-buffer: {len(data)} bytes is more than the buffer holds "
                f"({PASTE_LIMIT >> 20} MiB)"
            )
        self.paste_buffer = data

    def do_detach(self, client: Client | None) -> None:
        if client is not None and client.attached:
            self.detach_client(client, f"detached (from session {self.session})")

    def do_help(self, client: Client | None) -> None:
        lines = ["key bindings (any key closes this)", ""]
        for keys, binding in sorted(self.config.keys.items(), key=lambda kv: " ".join(kv[0])):
            shown = " ".join(keys).replace("prefix", self.config.options.prefix)
            what = (
                "<lua function>"
                if binding.is_lua
                else " ".join(str(x) for x in (binding.action, *binding.args))
            )
            entry = None if binding.is_lua else ACTIONS.get(str(canonical(binding.action)))
            help_text = f" {entry.description}" if entry is not None else ""
            lines.append(f"{shown:<14} {what:<16}{help_text}".rstrip())
        # the actions no key runs: by name, from the command prompt or the command line
        bound = {str(canonical(b.action)) for b in self.config.keys.values() if not b.is_lua}
        unbound = [a for name, a in ACTIONS.items() if name not in bound]
        if unbound:
            prompt = self.config.options.prefix + " :"
            lines += ["", f"without a key ({prompt} then the name, or hexe NAME):"]
            lines += [f"{a.usage():<30} {a.description}".rstrip() for a in unbound]
        self.overlay, self.overlay_top = lines, 0

    # the help scrolls like a pager when the terminal is too small for it
    OVERLAY_FOOTER = "Up/Down PgUp/PgDn: scroll; q: close"
    OVERLAY_STEPS = {"Down": 1, "j": 1, "C-n": 1, "Up": -1, "k": -1, "C-p": -1}
    OVERLAY_PAGES = {"PageDown": 1, "Space": 1, "C-f": 1, "PageUp": -1, "b": -1}

    def overlay_room(self) -> int:
        """Rows for the help's text: the panes' area less the box's two borders."""
        return max(self.rows - 3, 1)

    def overlay_page(self) -> list[str]:
        """The help as shown: all of it, or a title, a page and how to scroll."""
        lines = self.overlay or []
        room = self.overlay_room()
        if len(lines) <= room:
            return lines
        body = lines[2:]  # without the title and its blank line
        page = max(room - 2, 1)
        self.overlay_top = max(0, min(self.overlay_top, len(body) - page))
        top = self.overlay_top
        shown = body[top : top + page]
        title = f"key bindings {top + 1}-{top + len(shown)} of {len(body)}"
        return [title, *shown, self.OVERLAY_FOOTER] if room >= 3 else shown

    def overlay_scroll(self, key: str) -> bool:
        """Scroll the help for a paging key; False for any other key (it closes)."""
        if self.overlay is None or len(self.overlay) <= self.overlay_room():
            return False
        page = max(self.overlay_room() - 2, 1)
        if key in self.OVERLAY_STEPS:
            self.overlay_top += self.OVERLAY_STEPS[key]
        elif key in self.OVERLAY_PAGES:
            self.overlay_top += self.OVERLAY_PAGES[key] * page
        elif key in ("Home", "g"):
            self.overlay_top = 0
        elif key in ("End", "G"):
            self.overlay_top = len(self.overlay)
        else:
            return False
        self.overlay_top = max(0, min(self.overlay_top, len(self.overlay) - 2 - page))
        return True

    def do_reload_config(self, client: Client | None) -> None:
        self.reload_config()

    def do_send_prefix(self, client: Client | None) -> None:
        pane = self.target()
        if pane is not None:
            from hexe.commands.registry import parse_key

            key = parse_key(self.config.options.prefix)
            if key.startswith("C-") and len(key) == 3:
                self.write_pane(pane, bytes([ord(key[2]) & 0x1F]))
