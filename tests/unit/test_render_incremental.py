"""The compositor composes again only the rows that changed, once per view.

A frame with the same panes, rectangles, focus, notices and borders as the
one before reuses its rows and composes anew only those where a pane's row
changed; every client drawn from one view gets the same new state. What a
later frame reuses must be what it would have composed from scratch: here a
random walk of typing, output, focus, notices, echo frames, splits and zoom
is drawn both ways and compared, and the bytes sent are played into a screen
standing in for the outer terminal, which must show what a full redraw shows.
"""

from __future__ import annotations

import random

import hexe_render

from hexe.mux.layout import Layout
from hexe.mux.view import PaneView, View
from hexe.plugin.manager import make_plugin_manager
from hexe.terminal import PaneScreen

COLS, ROWS = 60, 16


def _view(layout: Layout, screens: dict[int, PaneScreen], focused: int, echo: bool,
          notices: dict[int, str], zoomed: bool, hooks) -> View:  # fmt: skip
    geometry = layout.geometry(COLS, ROWS - 1)
    if zoomed:
        from hexe.mux.layout import Geometry, Rect

        geometry = Geometry(COLS, ROWS - 1, {focused: Rect(0, 0, COLS, ROWS - 1)}, ())
    panes = []
    for pane_id, rect in geometry.panes.items():
        screen = screens[pane_id]
        if (screen.cols, screen.rows) != (rect.cols, rect.rows):
            screen.resize(rect.cols, rect.rows)
        panes.append(
            PaneView(
                id=pane_id,
                rect=rect,
                screen=screen,
                focused=pane_id == focused,
                title=f"t{pane_id}",
                isolation="",
                notice=notices.get(pane_id),
                copy=None,
            )  # fmt: skip
        )
    return View(
        cols=COLS, rows=ROWS, session="s", tabs=((1, "one", True), (2, "two", False)),
        panes=tuple(panes), borders=geometry, zoomed=zoomed, status_left=("session", "tabs"),
        status_right=("title", "isolation"), message=None, prompt=None, overlay=None,
        focused_title=f"t{focused}", focused_isolation="", mouse=False, hooks=hooks,
        known_panes=tuple(screens), echo=echo,
    )  # fmt: skip


def _full_lines(view: View) -> list[str]:
    """The panes' and borders' rows composed from scratch, for the same frame."""
    kept = hexe_render._composed["last"]
    hexe_render._composed["last"] = None
    try:
        return hexe_render._compose(view, ROWS - 1)
    finally:
        hexe_render._composed["last"] = kept


def _shown(screen: PaneScreen) -> list[str]:
    return [screen.row_text(y) for y in range(screen.rows)]


def test_rows_composed_again_are_the_rows_composed_from_scratch():
    rnd = random.Random(5)
    hooks = make_plugin_manager().hook
    hexe_render._cache.clear()
    hexe_render._composed["last"] = None
    layout = Layout.single(1)
    screens = {1: PaneScreen(COLS, ROWS - 1)}
    focused, notices, zoomed = 1, {}, False
    outer = PaneScreen(COLS, ROWS)  # the client's terminal
    states = [None, None]  # two clients, attached at different frames
    words = [b"ls -l\r\n", b"x", b"\x1b[31mred\x1b[0m ", b"\r\n", b"\x1b[2J\x1b[H"]
    words.append("wide 日本".encode())
    built = None  # the last view built; the server draws it again for a key's echo
    for step in range(400):
        event = rnd.random()
        again = False
        if event < 0.5:
            fed = rnd.choice(list(screens))
            screens[fed].feed(rnd.choice(words) * rnd.randint(1, 3))
            # only the focused pane's output since the last view: it may be drawn again
            again = fed == focused and built is not None and rnd.random() < 0.5
        elif event < 0.6:
            focused = rnd.choice(list(screens))
        elif event < 0.65 and len(screens) < 5:
            new = max(screens) + 1
            layout = layout.split(rnd.choice(list(screens)), rnd.choice(["right", "down"]), new)
            screens[new] = PaneScreen(COLS, ROWS - 1)
        elif event < 0.7:
            pane = rnd.choice(list(screens))
            notices[pane] = None if notices.get(pane) else "exited 0"
        elif event < 0.75:
            zoomed = not zoomed
        if again:
            view = built.again(echo=True, bell=False)
        else:
            view = built = _view(
                layout, screens, focused, rnd.random() < 0.3, notices, zoomed, hooks
            )
        for client in (0, 1) if step >= 3 else (0,):
            data, states[client] = hexe_render.hexe_render(view=view, previous=states[client])
            if client == 0:
                outer.feed(data)
        assert states[0].lines[: ROWS - 1] == _full_lines(view), f"step {step}"
        if step >= 4:
            assert states[1] is states[0]  # one state for every client of a view
    # what the client's terminal shows is what a full redraw shows
    hexe_render._composed["last"] = None
    fresh = PaneScreen(COLS, ROWS)
    view = _view(layout, screens, focused, False, notices, zoomed, hooks)
    data, _ = hexe_render.hexe_render(view=view, previous=None)
    fresh.feed(data)
    assert _shown(outer) == _shown(fresh)
