"""The status line and everyday typing: synchronized panes, bell and activity flags,
the outer terminal's title, the status line's clock, and the command prompt.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md. It comes before
the panes and frames rooms in ``Server``'s bases: its ``on_pty`` and
``render`` add to theirs (flags after a pane's output, the title after a
frame) and call them first.

Titles and tab names come from panes, which may be hostile: what reaches the
outer terminal's title has every control character removed and is cut to
:data:`TITLE_LIMIT` characters.
"""

from __future__ import annotations

import re
import shlex
import time
from typing import Any

from hexe.commands.registry import ACTIONS, ALIASES, canonical, check_action, coerce_args
from hexe.mux.arrange import LAYOUTS
from hexe.mux.tabs import Tab
from hexe.server.state import ActionError, Client, Pane
from hexe.wire import protocol

#: The most characters of a pane's title sent to the outer terminal.
TITLE_LIMIT = 128
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Segments that change only when something happens (a key, output, a rename):
#: any other (the clock, a Lua function, a plugin's) is redrawn every
#: ``status.interval`` while a client is attached.
EVENT_SEGMENTS = frozenset({"session", "tabs", "title", "isolation", "host"})
BELL_MARK, ACTIVITY_MARK, SYNC_MARK = "!", "#", "[sync]"


def until_next_minute(wall: float) -> float:
    """Seconds from ``wall`` (``time.time()``) to just after the next minute begins."""
    return 60.0 - wall % 60.0 + 0.05


def outer_title(title: str) -> str:
    """A pane's title as the outer terminal may get it: no controls, capped."""
    return _CONTROLS.sub("", title)[:TITLE_LIMIT]


#: Panes remembered by :func:`tab_of` before the memo is started afresh.
TAB_MEMO_LIMIT = 4096


def tab_of(tabs: Any, memo: dict[int, Tab], pane: int) -> Tab | None:
    """``tabs.find(pane)``, remembered: the tab ``pane`` was last found in,
    while it still holds it and is still open (a check of one tab, where
    ``find`` looks through every tab's layout on each read of a pane)."""
    tab = memo.get(pane)
    if tab is not None and (pane in tab.layout or pane in tab.floats):
        for open_tab in tabs:
            if open_tab is tab:
                return tab
    tab = tabs.find(pane)
    if len(memo) >= TAB_MEMO_LIMIT:
        memo.clear()
    if tab is None:
        memo.pop(pane, None)
    else:
        memo[pane] = tab
    return tab


class StatusRoom:
    """Synchronized panes, tab flags, titles, the status line's refresh, the command prompt."""

    # -- synchronize-panes ------------------------------------------------------------

    def tab_state(self) -> dict[int, dict[str, Any]]:
        """Per tab (by identity): ``sync``, ``bell``, ``activity``; closed tabs pruned."""
        state = self.__dict__.setdefault("_tab_state", {})
        live = {id(t) for t in self.tabs}
        for gone in set(state) - live:
            del state[gone]
        return state

    def do_synchronize_panes(self, client: Client | None) -> None:
        tab = self.tabs.active
        if tab is None:
            return
        flags = self.tab_state().setdefault(id(tab), {})
        flags["sync"] = not flags.get("sync")
        self.show_message(
            "typing goes to every pane of this tab" if flags["sync"] else "panes unsynchronized"
        )
        self.log.info("panes_synchronized", tab=self.tabs.number(tab), on=flags["sync"])

    def write_typed(self, pane: Pane, data: bytes, paste: bool = False) -> None:
        """What a client typed (or pasted: bracketed for a pane that asked), for
        ``pane``: to every pane of its tab when that tab is synchronized."""
        targets = [pane]
        if self.__dict__.get("_tab_state"):  # some tab has flags: is this one synchronized?
            tab = tab_of(self.tabs, self.__dict__.setdefault("_tab_of", {}), pane.id)
            if tab is not None and self.tab_state().get(id(tab), {}).get("sync"):
                targets = [p for i in tab.panes() if (p := self.panes.get(i)) and p.alive]
        for target in targets:
            if target is not pane:
                target.typed_at = time.monotonic()
            if paste and target.screen.bracketed_paste:
                self.write_pane(target, b"\x1b[200~" + data + b"\x1b[201~")
            else:
                self.write_pane(target, data)

    # -- bell and activity ----------------------------------------------------------------

    def on_pty(self, pane: Pane) -> None:
        super().on_pty(pane)  # type: ignore[misc]
        tab = tab_of(self.tabs, self.__dict__.setdefault("_tab_of", {}), pane.id)
        if tab is None or tab is self.tabs.active:
            return
        # a tab not shown: its bell and activity are flagged, the bell rung outside
        flags = self.tab_state().setdefault(id(tab), {})
        if pane.screen.take_bell():
            flags["bell"] = True
            for client in self.clients:
                if client.attached and not client.closing:
                    client.send(protocol.OUTPUT, b"\x07")
            self.dirty = True
        if self.config.options.monitor_activity and not flags.get("activity"):
            flags["activity"] = True
            self.dirty = True

    def tab_marks(self, tab: Tab) -> str:
        """The flags after a tab's name on the status line (cleared on visiting it)."""
        flags = self.tab_state().get(id(tab))
        if not flags:
            return ""
        if tab is self.tabs.active:
            flags.pop("bell", None)
            flags.pop("activity", None)
        marks = BELL_MARK if flags.get("bell") else ACTIVITY_MARK if flags.get("activity") else ""
        return marks + (SYNC_MARK if flags.get("sync") else "")

    # -- the outer terminal's title and the status line's refresh ------------------------------

    def render(self) -> None:
        super().render()  # type: ignore[misc]
        if not self.config.options.set_titles:
            return
        focused = self.focused()
        title = outer_title(focused.title) if focused is not None else ""
        for client in self.clients:
            if not client.attached or client.closing:
                continue
            if getattr(client, "title_sent", None) != title:
                client.title_sent = title  # type: ignore[attr-defined]
                client.send(protocol.OUTPUT, b"\x1b]2;" + title.encode() + b"\x07")
                self.flush_client(client)

    def status_tick(self, now: float) -> float | None:
        """When the status line must be drawn again for its time-based segments,
        marking it due when that time has come; None when nothing on it changes
        with time or nobody is attached (the loop then sleeps until an event)."""
        status = self.config.status
        kept = self.__dict__.get("_timed_segments")
        if kept is None or kept[0] is not status:  # asked before every wait: kept per config
            names = (*status.left, *status.right)
            kept = (status, [s for s in names if not isinstance(s, str) or s not in EVENT_SEGMENTS])
            self.__dict__["_timed_segments"] = kept
        timed = kept[1]
        if not timed or not any(c.attached for c in self.clients):
            self.__dict__["_status_due"] = None
            return None
        due = self.__dict__.get("_status_due")
        if due is None or now >= due:
            if due is not None:
                self.dirty = True
                self.log.debug("status_due", late_ms=round((now - due) * 1000, 1))
            # the built-in clock shows minutes: only the turn of the minute changes it
            clock_only = all(s == "clock" for s in timed)
            due = now + (until_next_minute(time.time()) if clock_only else status.interval)
            self.__dict__["_status_due"] = due
        return due

    # -- the command prompt ----------------------------------------------------------------

    def do_command_prompt(self, client: Client | None) -> None:
        client = self.attached_client(client)
        self.start_prompt("", lambda text, c=client: self.run_prompt_line(c, text))
        assert self.prompt is not None
        self.prompt["complete"] = self.complete_prompt

    def run_prompt_line(self, client: Client, text: str) -> None:
        """Run ``ACTION ARGS...`` typed at the prompt (tmux's words: ``-t`` a pane
        or a session, ``-s`` a session name, ``-d`` taken as read)."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            self.show_message(f"{text}: {exc}")
            return
        if not words:
            return
        name = str(canonical(words[0]))
        entry = ACTIONS.get(name)
        target = None
        args: list[str] = []
        rest = iter(words[1:])
        for word in rest:
            if word in ("-t", "-s") and entry is not None:
                value = next(rest, None)
                if value is None:
                    self.show_message(f"{name}: {word} needs a value")
                    return
                if word == "-t" and entry.targets_pane:
                    try:
                        target = self.find_pane(value)
                    except ActionError as exc:
                        self.show_message(str(exc))
                        return
                else:
                    args.append(value)
            elif word == "-d" and name == "new-session":
                continue
            else:
                args.append(word)
        values = coerce_args(name, args) if entry is not None else list(args)
        problem = check_action(name, values)
        if problem is not None:
            self.show_message(problem, 8)
            return
        try:
            result = self.run_action(client, name, values, target)
        except ActionError as exc:
            self.show_message(str(exc), 8)
            return
        if name == "new-session" and result:
            self.show_message(f"session {result} started (prefix s to switch to it)")

    def complete_prompt(self, text: str) -> str:
        """Tab: the action's name, or its argument (sessions, panes, tabs)."""
        words = text.split(" ")
        if len(words) == 1:
            choices = sorted({*ACTIONS, *ALIASES})
        else:
            name = str(canonical(words[0]))
            if name in ("switch-client", "rename-session"):
                choices = [n for n in self.session_names() if n != self.session]
            elif name == "select-pane" or words[-2:-1] == ["-t"]:
                choices = [str(p) for p in self.panes]
            elif name == "select-tab":
                choices = [str(self.tabs.number(t)) for t in self.tabs]
            elif name == "select-layout":
                choices = [*LAYOUTS, *ACTIONS[name].flags]
            elif name in ACTIONS:
                choices = list(ACTIONS[name].flags)  # swap-pane -U / -D, rotate -D
            else:
                choices = []
        typed = words[-1]
        matches = [c for c in choices if c.startswith(typed)]
        if not matches:
            return text
        if len(matches) == 1:
            words[-1] = matches[0] + " "
        else:
            common = matches[0]
            for other in matches[1:]:
                while not other.startswith(common):
                    common = common[:-1]
            words[-1] = common
        return " ".join(words)
