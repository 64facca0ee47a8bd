"""Input: keys through the bindings or to the pane, mouse, prompts, copy mode.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hexe.commands.registry import check_action
from hexe.config.loader import Problems, Table, plain
from hexe.errors import HexeError
from hexe.mux.input import Key, Mouse, Paste, encode_mouse
from hexe.server.state import (
    Client,
)
from hexe.terminal import MouseEncoding, MouseMode
from hexe.wire import protocol


class KeysRoom:
    """Input: keys through the bindings or to the pane, mouse, prompts, copy mode."""

    def on_input(self, client: Client, data: bytes) -> None:
        passthrough = bytearray()
        pane = self.focused()

        def flush() -> None:
            if passthrough and pane is not None:
                pane.typed_at = time.monotonic()
                self.write_typed(pane, bytes(passthrough))  # to the tab's panes when synchronized
            passthrough.clear()

        for event in client.parser.feed(data):
            if self.prompt is not None or self.overlay is not None or (pane and pane.copy):
                flush()
                self.modal_input(client, event)
                pane = self.focused()
                continue
            if isinstance(event, Mouse):
                flush()
                self.on_mouse(event)
                pane = self.focused()
            elif isinstance(event, Paste):
                flush()
                if pane is not None:  # bracketed for each pane that asked (status.py)
                    self.write_typed(pane, event.text, paste=True)
            elif client.prefix_pending:
                client.prefix_pending = False
                binding = self.config.keys.get(("prefix", event.name))
                if binding is not None:
                    flush()
                    self.run_binding(client, binding)
                    pane = self.focused()
                elif event.name == self.config.options.prefix:
                    passthrough += event.raw  # prefix twice sends it
            elif event.name == self.config.options.prefix:
                client.prefix_pending = True
            elif (event.name,) in self.config.keys:
                flush()
                self.run_binding(client, self.config.keys[(event.name,)])
                pane = self.focused()
            else:
                passthrough += event.raw
        flush()

    def run_binding(self, client: Client, binding: Any) -> None:
        if binding.is_lua:
            pane = self.focused()
            ctx = self.config.runtime.table(
                {
                    "session": self.session,
                    "pane": {"id": pane.id, "title": pane.title} if pane else None,
                }
            )
            try:
                result, asked = self.config.runtime.call_collecting_actions(
                    binding.action, ctx, check=check_action
                )
            except HexeError as exc:
                self.show_message(f"key {' '.join(binding.keys)} ({binding.where}): {exc.message}")
                return
            for name, args in asked:  # hexe.action(...), in order, after Lua returned
                self.act(client, name, args)
            if isinstance(result, str):
                self.act(client, result, [])
            elif isinstance(result, tuple) and result and isinstance(result[0], str):
                self.act(client, result[0], list(result[1:]))  # return "send-keys", "ls", "Enter"
            elif result is not None and not isinstance(result, (str, tuple)):
                table = plain(result, "result", binding.where, Problems(), self.config.runtime)
                items = list(table.items) if isinstance(table, Table) else []
                if items and isinstance(items[0], str):
                    self.act(client, items[0], items[1:])  # return {"select-tab", 2}
            return
        self.act(client, binding.action, list(binding.args))

    def on_mouse(self, event: Mouse) -> None:
        if self.float_mouse(event):  # floats lie over everything: hexe/server/floats.py
            return
        if self.mouse_on_layout(event):  # a border dragged, a tab clicked: hexe/server/arrange.py
            return
        if self.copy_mouse(event):
            return  # selections: drag, double and triple click (hexe/server/clipboard.py)
        tab = self.tabs.active
        if tab is None:
            return
        geometry = tab.geometry(*self.area).panes
        for pane_id, rect in geometry.items():
            if rect.contains(event.x, event.y):
                pane = self.panes.get(pane_id)
                if pane is None:
                    return
                mode = pane.screen.mouse_mode
                if mode is not None and pane_id == tab.focused:
                    wants_motion = mode in (MouseMode.BUTTON_EVENT, MouseMode.ANY_EVENT)
                    if event.motion and not wants_motion:
                        return
                    if mode == MouseMode.X10 and not event.pressed:
                        return  # X10 reports presses only
                    sgr = pane.screen.mouse_encoding == MouseEncoding.SGR
                    data = encode_mouse(event, event.x - rect.x, event.y - rect.y, sgr)
                    self.write_pane(pane, data)
                    return
                if event.wheel:
                    if pane.copy is None and event.wheel < 0:
                        self.enter_copy(pane)
                    if pane.copy is not None:
                        pane.copy.scroll(event.wheel * 3)
                        if pane.copy.at_bottom and event.wheel > 0:
                            pane.copy = None
                    self.dirty = True
                elif event.pressed and not event.motion and event.button & 3 == 0:
                    tab.focus(pane_id)
                    self.dirty = True
                return

    def modal_input(self, client: Client, event: Key | Mouse | Paste) -> None:
        if self.chooser is not None:  # choose-tree (hexe/server/switching.py)
            self.chooser_input(client, event)
            return
        if self.overlay is not None:
            if isinstance(event, Key) and not self.overlay_scroll(event.name):
                self.overlay = None
            self.dirty = True
            return
        if self.prompt is not None:
            if isinstance(event, Paste):
                self.prompt["text"] += event.text.decode(errors="replace")
            elif isinstance(event, Key):
                self.prompt_key(event)
            self.dirty = True
            return
        pane = self.focused()
        if pane is None or pane.copy is None:
            return
        self.copy_input(client, pane, event)

    def copy_to_clipboard(self, text: str) -> None:
        import base64

        osc = b"\x1b]52;c;" + base64.b64encode(text.encode()) + b"\x07"
        for client in self.clients:
            if client.attached:
                client.send(protocol.OUTPUT, osc)
        self.show_message(f"copied {len(text)} characters")

    def start_prompt(self, label: str, done: Callable[[str], None], text: str = "") -> None:
        self.prompt = {"label": label, "text": text, "done": done}
        self.dirty = True

    def prompt_key(self, event: Key) -> None:
        assert self.prompt is not None
        if self.prompt.get("one_key"):  # a y/n question: the first key answers it
            prompt, self.prompt = self.prompt, None
            prompt["done"](event.name)
            return
        if event.name == "Enter":
            prompt, self.prompt = self.prompt, None
            prompt["done"](prompt["text"])
        elif event.name in ("Escape", "C-c", "C-g"):
            self.prompt = None
        elif event.name == "BSpace":
            self.prompt["text"] = self.prompt["text"][:-1]
        elif event.name == "Tab" and "complete" in self.prompt:  # the command prompt
            self.prompt["text"] = self.prompt["complete"](self.prompt["text"])
        elif event.name == "Space":
            self.prompt["text"] += " "
        elif len(event.name) == 1:
            self.prompt["text"] += event.name

    def show_message(self, text: str, seconds: float = 4.0) -> None:
        self.message = text
        self.message_until = time.monotonic() + seconds
        self.dirty = True
        self.log.info("message", text=text)
