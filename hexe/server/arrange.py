"""Rearranging panes and tabs: preset layouts, swap, rotate, break and join, tab order, mouse.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md. The geometry is
computed by :mod:`hexe.mux.arrange` (pure); this room picks the tab and the
panes, applies the result and lets :meth:`layout_panes` resize (SIGWINCH)
the panes whose rectangle changed. It starts and ends no process except
through ``kill_pane`` (``close-tab``), and none of its actions may be run
from a sandboxed pane (the registry's ``sandbox="never"``).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from hexe.mux import arrange
from hexe.mux.input import Mouse
from hexe.mux.layout import Path
from hexe.mux.tabs import Tab
from hexe.server.state import ActionError, Client, Pane

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # as the renderer drops them

UP = ("-U", "up")
DOWN = ("-D", "down")


@dataclass
class ArrangeState:
    """What this room remembers between events."""

    #: the border being dragged with the mouse: its tab and the path of its split
    drag: tuple[Tab, Path] | None = None
    #: the preset each tab had last (for next-layout and a bare select-layout)
    presets: weakref.WeakKeyDictionary[Tab, str] = field(default_factory=weakref.WeakKeyDictionary)


class ArrangeRoom:
    """Preset layouts, swap, rotate, break and join, tab order, the mouse on borders and tabs."""

    # -- helpers -----------------------------------------------------------------

    def _rearranged(self, *tabs: Tab) -> None:
        for tab in tabs:
            tab.zoomed = None
        self.layout_panes()

    def _active_tab(self) -> Tab:
        tab = self.tabs.active
        if tab is None:
            raise ActionError("there is no tab")
        return tab

    def _target_tab(self) -> Tab:
        """The tab of the command's pane (``-t``, ``$HEXE_PANE``), else the active one."""
        tab, _ = self.target_tab()
        if tab is None:
            raise ActionError("there is no tab")
        return tab

    def _pane_and_tab(self, what: str) -> tuple[Tab, Pane]:
        tab, pane = self.target_tab()
        if tab is None or pane is None:
            raise ActionError(f"there is no pane to {what}")
        return tab, pane

    def _tab_numbered(self, n: int) -> Tab:
        i = n - self.tabs.base
        if not 0 <= i < len(self.tabs):
            last = self.tabs.base + len(self.tabs) - 1
            raise ActionError(f"no tab {n}; tabs are {self.tabs.base}..{last}")
        return self.tabs.tabs[i]

    # -- preset layouts ------------------------------------------------------------

    def do_select_layout(self, client: Client | None, layout: str | None = None) -> None:
        tab = self._target_tab()
        if layout == "-E":
            self.do_spread(client)
            return
        if layout in ("-n", "-p"):
            self._step_layout(1 if layout == "-n" else -1)
            return
        if layout is None:
            layout = self.arranging.presets.get(tab)
            if layout is None:
                raise ActionError(
                    "select-layout: no layout chosen for this tab yet; layouts: "
                    + ", ".join(arrange.LAYOUTS)
                )
        if layout not in arrange.LAYOUTS:
            raise ActionError(
                f"select-layout: {layout!r} is not a layout; layouts: "
                f"{', '.join(arrange.LAYOUTS)} (or -E to spread, -n/-p for next/previous)"
            )
        tab.layout = arrange.preset(layout, tab.panes(), *self.area)
        self.arranging.presets[tab] = layout
        self.log.info("layout_selected", layout=layout, panes=len(tab.layout))
        self._rearranged(tab)

    def _step_layout(self, step: int) -> None:
        tab = self._target_tab()
        last = self.arranging.presets.get(tab)
        if last is None:
            index = 0 if step > 0 else len(arrange.LAYOUTS) - 1
        else:
            index = (arrange.LAYOUTS.index(last) + step) % len(arrange.LAYOUTS)
        self.do_select_layout(None, arrange.LAYOUTS[index])  # self._target stays set

    def do_next_layout(self, client: Client | None) -> None:
        self._step_layout(1)

    def do_previous_layout(self, client: Client | None) -> None:
        self._step_layout(-1)

    def do_spread(self, client: Client | None) -> None:
        tab, pane = self._pane_and_tab("spread")
        layout = arrange.spread(tab.layout, pane.id, *self.area)
        if layout is not tab.layout:
            tab.layout = layout
            self._rearranged(tab)

    # -- panes changing places ---------------------------------------------------------

    def do_swap_pane(self, client: Client | None, other: str | None = None) -> None:
        tab, pane = self._pane_and_tab("swap")
        if other is None:
            raise ActionError("swap-pane needs -U (the previous pane), -D (the next) or a pane id")
        word = str(other)
        if word in UP + DOWN:
            if len(tab.layout) < 2:
                return
            step = -1 if word in UP else 1
            partner = self.panes[arrange.neighbour_in_order(tab.layout, pane.id, step)]
        else:
            partner = self.find_pane(word.removeprefix("%"))
        if partner.id == pane.id:
            return
        other_tab = self.tabs.find(partner.id)
        if other_tab is None:
            raise ActionError(f"pane {partner.id} is in no tab")
        if other_tab is tab:
            tab.layout = arrange.swap(tab.layout, pane.id, partner.id)
        else:  # across tabs: each takes the other's place (and its place in focus)
            tab.layout = arrange.replace_pane(tab.layout, pane.id, partner.id)
            other_tab.layout = arrange.replace_pane(other_tab.layout, partner.id, pane.id)
            _renamed(tab, pane.id, partner.id)
            _renamed(other_tab, partner.id, pane.id)
        self.log.info("panes_swapped", pane=pane.id, other=partner.id)
        self._rearranged(tab, other_tab)

    def do_rotate(self, client: Client | None, direction: str | None = None) -> None:
        tab = self._target_tab()
        if direction is not None and direction not in UP + DOWN:
            raise ActionError(f"rotate: {direction!r} is not a direction; use -U (up) or -D (down)")
        before = tab.panes()
        if len(before) < 2:
            return
        tab.layout = arrange.rotate(tab.layout, down=direction in DOWN)
        if tab.focused is not None:  # the focus stays on the same place
            tab.focus(tab.panes()[before.index(tab.focused)])
        self._rearranged(tab)

    def do_break_pane(self, client: Client | None, name: str | None = None) -> None:
        tab, pane = self._pane_and_tab("break")
        if len(tab.layout) < 2:
            raise ActionError(
                f"pane {pane.id} is the only pane of tab {self.tabs.number(tab)}: "
                "there is nothing to break it from"
            )
        tab.remove(pane.id)
        self.tabs.new(Tab.single(pane.id, name or None))
        self.log.info("pane_broken_out", pane=pane.id, tab=self.tabs.number(self.tabs.active))
        self._rearranged(tab)

    def do_join_pane(self, client: Client | None, n: int, direction: str | None = None) -> None:
        tab, pane = self._pane_and_tab("join")
        dest = self._tab_numbered(n)
        if dest is tab:
            raise ActionError(f"pane {pane.id} is already in tab {n}")
        where = direction or "down"
        if where not in ("right", "down"):
            raise ActionError(f"join-pane: {where!r} is not a direction; use right or down")
        if dest.focused is None:
            raise ActionError(f"tab {n} has no pane to join")
        if tab.remove(pane.id):
            self.tabs.close(tab)
        dest.split(where, pane.id, pane=dest.focused)  # type: ignore[arg-type]
        self.tabs.select(self.tabs.number(dest))
        self.log.info("pane_joined", pane=pane.id, tab=self.tabs.number(dest))
        self._rearranged(dest)

    # -- focus history ------------------------------------------------------------------

    def do_last_pane(self, client: Client | None) -> None:
        tab = self._active_tab()
        if not tab.focus_last():
            raise ActionError("no last pane")
        self.layout_panes()

    def do_last_tab(self, client: Client | None) -> None:
        previous = self.tabs.previous
        if previous is None or previous is self.tabs.active or previous not in self.tabs.tabs:
            raise ActionError("no last tab")
        self.tabs.select(self.tabs.number(previous))
        self.layout_panes()

    # -- tabs ----------------------------------------------------------------------------

    def _reorder(self, order: list[int]) -> None:
        active = self.tabs.active
        self.tabs.tabs = [self.tabs.tabs[i] for i in order]
        if active is not None:
            self.tabs.index = self.tabs.tabs.index(active)

    def _tab_position(self, word: Any, what: str) -> int:
        try:
            return arrange.parse_tab_move(
                str(word), self.tabs.index, len(self.tabs), self.tabs.base
            )
        except ValueError as exc:
            raise ActionError(f"{what}: {exc}") from None

    def do_move_tab(self, client: Client | None, to: str | None = None) -> None:
        tab = self._active_tab()
        if to is None:
            if client is None or not client.attached:
                raise ActionError("move-tab needs TO from the command line (N, +N or -N)")
            self.start_prompt(
                f"move tab {self.tabs.number(tab)} to",
                lambda text: self.act(client, "move-tab", [text]) if text.strip() else None,
            )
            return
        position = self._tab_position(to, "move-tab")
        self._reorder(arrange.moved(len(self.tabs), self.tabs.index, position))

    def do_swap_tab(self, client: Client | None, to: str) -> None:
        self._active_tab()
        position = self._tab_position(to, "swap-tab")
        self._reorder(arrange.swapped(len(self.tabs), self.tabs.index, position))

    def do_close_tab(self, client: Client | None, n: int | None = None) -> None:
        tab = self._active_tab() if n is None else self._tab_numbered(n)
        if client is not None and client.attached:  # from a key: ask first, as tmux's &
            number = self.tabs.number(tab)
            self.start_prompt(
                f"close tab {number} ({len(tab.layout)} pane(s))? (y/n)",
                lambda answer: self._close_tab(tab) if answer in ("y", "Y") else None,
            )
            self.prompt["one_key"] = True  # y answers at once; any other key cancels
            return
        self._close_tab(tab)

    def _close_tab(self, tab: Tab) -> None:
        if tab not in self.tabs.tabs:
            return  # gone meanwhile
        self.log.info("tab_closed", tab=self.tabs.number(tab), panes=tab.panes())
        for pane_id in tab.panes():
            pane = self.panes.get(pane_id)
            if pane is None:
                continue
            if pane.alive:
                self.kill_pane(pane)  # its exit removes it, and the empty tab
            else:
                self.remove_pane(pane)

    # -- the mouse: borders and the status line -----------------------------------------------

    def mouse_on_layout(self, event: Mouse) -> bool:
        """A drag of a border, or a click on a tab in the status line; True when it was one."""
        if not self.config.options.mouse:
            return False
        state = self.arranging
        if state.drag is not None:
            tab, path = state.drag
            if event.motion or not event.pressed:
                if tab is self.tabs.active:
                    layout = arrange.drag_border(tab.layout, path, *self.area, event.x, event.y)
                    if layout is not tab.layout:
                        tab.layout = layout
                        self.layout_panes()
                if not event.pressed:
                    state.drag = None
                return True
            state.drag = None  # a new press: the old drag lost its release
        plain_left = event.button & ~(4 | 8 | 16) == 0
        if not (event.pressed and not event.motion and plain_left):
            return False
        if event.y == self.rows - 1:
            return self._click_status(event.x)
        tab = self.tabs.active
        if tab is None or tab.zoomed is not None:
            return False
        path = arrange.border_at(tab.layout, *self.area, event.x, event.y)
        if path is None:
            return False
        state.drag = (tab, path)
        return True

    def _click_status(self, x: int) -> bool:
        if self.prompt is not None or self.message is not None:
            return False  # the status line shows something else
        view = self.view()

        def shown(names: tuple[Any, ...]) -> list[tuple[str, bool]]:
            out = []
            for name in names:
                if isinstance(name, str):
                    text = self.pm.hook.hexe_status_segment(name=name, view=view)
                else:
                    try:
                        text = self.config.runtime.call(name)
                    except Exception:  # noqa: BLE001 - as the renderer: a bad segment shows
                        text = "<error>"
                text = "" if text is None else _CONTROLS.sub("", str(text))
                if text:
                    out.append((text, name == "tabs"))
            return out

        labels = [
            _CONTROLS.sub("", f"{n}:{title}{'*' if active else ''}")
            for n, title, active in view.tabs
        ]
        left, right = shown(view.status_left), shown(view.status_right)
        index = arrange.status_tab_at(left, right, self.cols, labels, x)
        if index is None:
            return False
        if self.tabs.select(index + self.tabs.base):
            self.layout_panes()
        return True


def _renamed(tab: Tab, old: int, new: int) -> None:
    """In ``tab``'s focus and history, pane ``new`` takes the place of ``old``."""
    if tab.focused == old:
        tab.focused = new
    tab.history = [new if p == old else p for p in tab.history]
