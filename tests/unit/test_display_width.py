"""Display width in what hexe draws itself: status line, tab names, titles, help, prompt.

Everything is measured in terminal cells (wcwidth): a wide character takes
two, a combining mark none. The frame is played into a hexe pane screen of
the client's size, standing in for the outer terminal, and read back.
"""

from __future__ import annotations

from dataclasses import replace

import hexe_render
import pytest

from hexe.mux.layout import Rect
from hexe.mux.view import PaneView, View
from hexe.terminal import PaneScreen
from hexe.terminal.lines import clip, clip_start, fit, text_width

COLS, ROWS = 30, 6


class _Hooks:
    def __init__(self) -> None:
        self.hexe_status_segment = hexe_render.hexe_status_segment


def _view(**changes) -> View:
    pane = PaneView(
        id=900, rect=Rect(0, 0, COLS, ROWS - 1), screen=PaneScreen(COLS, ROWS - 1), focused=True,
        title="", isolation="", notice=None, copy=None,
    )  # fmt: skip
    view = View(
        cols=COLS, rows=ROWS, session="s", tabs=((1, "t", True),), panes=(pane,), borders=None,
        zoomed=False, status_left=("session", "tabs"), status_right=("title",), message=None,
        prompt=None, overlay=None, focused_title="", focused_isolation="", mouse=False,
        hooks=_Hooks(), known_panes=(900,),
    )  # fmt: skip
    return replace(view, **changes)


def _terminal(view: View) -> PaneScreen:
    """The client's terminal after the frame."""
    terminal = PaneScreen(view.cols, view.rows)
    data, _ = hexe_render.hexe_render(view=view, previous=None)
    terminal.feed(data)
    return terminal


def _status(view: View) -> tuple[str, bool]:
    terminal = _terminal(view)
    return terminal.row_text(view.rows - 1), terminal.row_wrapped(view.rows - 2)


@pytest.mark.parametrize(
    "text, width, clipped",
    [
        ("abc", 2, "ab"),
        ("日本語", 5, "日本"),
        ("日本語", 4, "日本"),
        ("a日", 2, "a"),
        ("e\u0301x", 1, "e\u0301"),
        ("😀😀", 3, "😀"),
    ],
)
def test_clip_never_cuts_a_wide_character(text, width, clipped):
    assert clip(text, width) == clipped
    assert text_width(fit(text, width)) == width


def test_clip_start_keeps_the_end_whole():
    assert clip_start("ab日本", 3) == "本"
    assert clip_start("ab日本", 5) == "b日本"
    assert clip_start("abc", 0) == ""


def test_a_wide_title_does_not_push_the_status_line_past_the_screen():
    view = _view(focused_title="日本語のタイトル" * 5, tabs=((1, "編集", True), (2, "😀", False)))
    status, wrapped = _status(view)
    assert text_width(status) <= COLS
    assert status.startswith("[s] 1:編集* 2:😀")
    assert not wrapped
    terminal = _terminal(view)
    assert terminal.row_text(0) == ""  # nothing spilled over the panes


def test_the_status_line_is_exactly_the_screen_wide_with_wide_tab_names():
    view = _view(tabs=((1, "日本", True),), focused_title="題")
    status, _ = _status(view)
    assert status.startswith("[s] 1:日本*")
    assert status.endswith('"題"')
    assert text_width(status) == COLS


def test_a_title_with_controls_cannot_move_the_cursor():
    view = _view(focused_title="a\x1b[2J\x1b[1;1Hb\rc")
    status, _ = _status(view)
    assert '"a[2J[1;1Hbc"' in status


def test_the_help_overlay_is_as_wide_as_its_widest_line_in_cells():
    view = _view(overlay=("keys 日本語", "q quit"))
    terminal = _terminal(view)
    rows = [terminal.row_text(y) for y in range(ROWS - 1)]
    box = [row.strip() for row in rows if row.strip()]
    assert box[0] == "+" + "-" * (text_width("keys 日本語") + 2) + "+"
    assert {text_width(row) for row in box} == {len(box[0])}
    assert "| keys 日本語 |" in box


def test_the_prompt_cursor_stands_after_wide_text():
    view = _view(prompt=("rename", "日本"))
    terminal = _terminal(view)
    assert terminal.row_text(ROWS - 1) == "rename: 日本"
    assert terminal.cursor == (text_width("rename: 日本"), ROWS - 1)


def test_a_long_wide_prompt_shows_its_end_within_the_screen():
    view = _view(prompt=("rename", "語" * 40))
    terminal = _terminal(view)
    text = terminal.row_text(ROWS - 1)
    assert text_width(text) <= COLS - 1 and text.endswith("語")
    assert not terminal.row_wrapped(ROWS - 2)
