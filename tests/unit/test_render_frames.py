"""The compositor's echo frames: the focused pane drawn at once, the others as they were."""

from __future__ import annotations

import time
from dataclasses import replace

import hexe_render

from hexe.mux.layout import Rect
from hexe.mux.view import PaneView, View
from hexe.terminal import PaneScreen


def _view(screens: dict[int, PaneScreen], focused: int) -> View:
    panes = tuple(
        PaneView(
            id=pane_id,
            rect=Rect(pane_id * 11, 0, 10, 3),
            screen=screen,
            focused=pane_id == focused,
            title="",
            isolation="",
            notice=None,
            copy=None,
        )
        for pane_id, screen in screens.items()
    )
    return View(
        cols=21, rows=4, session="s", tabs=((1, "t", True),), panes=panes, borders=None,
        zoomed=False, status_left=(), status_right=(), message=None, prompt=None,
        overlay=None, focused_title="", focused_isolation="", mouse=False,
        known_panes=tuple(screens),
    )  # fmt: skip


def test_an_echo_frame_draws_the_focused_pane_and_leaves_the_others_for_the_next():
    screens = {0: PaneScreen(10, 3), 1: PaneScreen(10, 3)}
    _, state = hexe_render.hexe_render(view=_view(screens, 0), previous=None)
    screens[0].feed(b"typed")
    screens[1].feed(b"flood")
    data, state = hexe_render.hexe_render(
        view=replace(_view(screens, 0), echo=True), previous=state
    )
    assert b"typed" in data and b"flood" not in data
    assert screens[1].has_dirty_rows and not screens[0].has_dirty_rows
    data, state = hexe_render.hexe_render(view=_view(screens, 0), previous=state)
    assert b"flood" in data
    assert not screens[1].has_dirty_rows


def test_border_rows_kept_between_frames_are_the_ones_worked_out_afresh():
    """A layout's border lines are worked out once per layout, size and focus:
    what a later frame reuses must be what it would have drawn itself."""
    from hexe.mux.layout import Layout

    layout = Layout.single(1)
    for new, (at, side) in enumerate([(1, "right"), (2, "down"), (1, "down"), (3, "right")], 2):
        layout = layout.split(at, side, new)
    for size in ((80, 23), (41, 11)):
        geometry = layout.geometry(*size)
        for focused in (*geometry.panes, None):
            hexe_render._borders_drawn.clear()
            fresh = hexe_render._border_rows(geometry, focused)
            again = hexe_render._border_rows(layout.geometry(*size), focused)
            assert again == fresh and fresh
            cells = geometry.border_cells()
            assert sum(text.count("\x1b[") - text.count("\x1b[0m") for text in fresh.values()) \
                >= len(cells)  # every border cell is positioned  # fmt: skip
    # the focused pane's border is highlighted, and changes with the focus
    a = hexe_render._border_rows(layout.geometry(80, 23), 1)
    b = hexe_render._border_rows(layout.geometry(80, 23), 4)
    assert a != b and any(hexe_render.FOCUS_BORDER_STYLE in t for t in a.values())


class _JustAfterTheMinute:
    """``time`` as glibc gives it a moment after a second begins: ``time.time()``
    (``CLOCK_REALTIME``) is in the new second, ``time(NULL)`` — what
    ``time.strftime`` and ``time.localtime`` use when given no time — still in
    the old one for up to a kernel tick (~4 ms here)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def localtime(self, secs: float | None = None) -> time.struct_time:
        return time.localtime(int(self.now) - 1 if secs is None else secs)

    def strftime(self, fmt: str, t: time.struct_time | None = None) -> str:
        return time.strftime(fmt, self.localtime() if t is None else t)

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


def test_a_frame_drawn_just_after_the_minute_turns_shows_the_new_minute(monkeypatch):
    """The status line's clock is kept for its minute: a frame drawn in the few
    milliseconds the coarse clock lags must not keep the old minute for the
    whole new one (it did: the minute was read precisely, the text coarsely)."""
    from hexe.plugin.manager import make_plugin_manager

    hooks = make_plugin_manager([]).hook
    turn = 1_700_000_040.0  # a whole minute
    clock = _JustAfterTheMinute(turn + 0.002)
    monkeypatch.setattr(hexe_render, "time", clock)
    screens = {0: PaneScreen(10, 3)}
    base = replace(_view(screens, 0), cols=30, status_right=("clock",), hooks=hooks)
    shown = time.strftime("%H:%M", time.localtime(turn))
    _, state = hexe_render.hexe_render(view=base, previous=None)
    assert state.lines[-1].count(shown) == 1, state.lines[-1]
    clock.now = turn + 30  # later in the same minute: an echo frame and a whole one
    for echo in (True, False):
        _, state = hexe_render.hexe_render(view=replace(base, echo=echo), previous=state)
        assert state.lines[-1].count(shown) == 1, (echo, state.lines[-1])
