"""Titles a program sets (OSC 2) with wide, combining and joined characters, drawn by
hexe itself on a narrow terminal: the status line (tab names, the title), a
message, the prompt, the help overlay and a pane's tag.

The frame is played into a hexe pane screen of the client's size, standing in
for the outer terminal, and read back: at every width, nothing hexe draws
itself is wider than the screen, no wide character is cut in half, nothing
wraps onto another row, and no zero-width joiner or emoji selector is sent
(terminals disagree on how wide they make a sequence, as for a pane's rows).
The end-to-end case with tmux as the outer terminal is in
``tests/e2e/test_wide_titles.py``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import hexe_render
import pytest

from hexe.mux.layout import Rect
from hexe.mux.view import PaneView, View
from hexe.terminal import PaneScreen
from hexe.terminal.lines import text_width

ROWS = 6
#: what programs put in their titles: CJK, emoji, a combining accent, a
#: family joined by ZWJ, a heart with the emoji selector, a flag
TITLES = [
    "日本語のタイトル",
    "😀 emoji 🎉",
    "cafe\u0301 re\u0301sume\u0301",
    "👨\u200d👩\u200d👧 family",
    "I \u2764\ufe0f hexe",
    "🇫🇷 vim 編集",
]


class _Hooks:
    def __init__(self) -> None:
        self.hexe_status_segment = hexe_render.hexe_status_segment


def _titled(title: bytes, cols: int) -> PaneScreen:
    """A pane whose program set its title with OSC 2."""
    screen = PaneScreen(cols, ROWS - 1)
    screen.feed(b"\x1b]2;" + title + b"\x07")
    return screen


def _view(cols: int, title: str, **changes) -> View:
    screen = _titled(title.encode(), cols)
    pane = PaneView(
        id=950, rect=Rect(0, 0, cols, ROWS - 1), screen=screen, focused=True, title=screen.title,
        isolation="", notice=None, copy=None,
    )  # fmt: skip
    view = View(
        cols=cols, rows=ROWS, session="s", tabs=((1, screen.title, True), (2, "編集", False)),
        panes=(pane,), borders=None, zoomed=False, status_left=("session", "tabs"),
        status_right=("title",), message=None, prompt=None, overlay=None,
        focused_title=screen.title, focused_isolation="", mouse=False, hooks=_Hooks(),
        known_panes=(950,),
    )  # fmt: skip
    return replace(view, **changes)


def _drawn(view: View) -> tuple[PaneScreen, str]:
    hexe_render._cache.clear()
    terminal = PaneScreen(view.cols, view.rows)
    data, _ = hexe_render.hexe_render(view=view, previous=None)
    text = data.decode()
    terminal.feed(data)
    return terminal, text


def _whole(terminal: PaneScreen, y: int) -> None:
    """Row ``y`` fits, and no wide character on it was cut (a half left alone
    shows as a blank in the cells: the text would be narrower than drawn)."""
    row = terminal._vt.buffer.get(y) or {}
    for x, cell in row.items():
        if cell.data and text_width(cell.data[:1]) == 2:
            assert x + 1 < terminal.cols and row.get(x + 1) is not None
            assert row[x + 1].data == "", (y, x)
    assert text_width(terminal.row_text(y)) <= terminal.cols
    assert not terminal.row_wrapped(y)


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("cols", [1, 2, 3, 5, 8, 11, 16, 23, 40])
def test_a_program_title_on_the_status_line_fits_a_narrow_terminal(title, cols):
    view = _view(cols, title)
    assert view.focused_title == title  # OSC 2 kept it whole
    terminal, frame = _drawn(view)
    _whole(terminal, ROWS - 1)
    for y in range(ROWS - 1):
        assert terminal.row_text(y) == ""  # nothing spilled over the pane
        assert not terminal.row_wrapped(y)
    assert "\u200d" not in frame and "\ufe0f" not in frame
    assert terminal.row_text(ROWS - 1).startswith("[s]"[:cols])


@pytest.mark.parametrize("title", TITLES)
def test_a_wide_title_is_shown_whole_when_it_fits(title):
    view = _view(80, title)
    terminal, _ = _drawn(view)
    status = terminal.row_text(ROWS - 1)
    # as drawn (no ZWJ, no selector), as the terminal keeps it (composed)
    shown = unicodedata.normalize("NFC", title.replace("\u200d", "").replace("\ufe0f", ""))
    assert status.endswith(f'"{shown}"')
    assert status.startswith(f"[s] 1:{shown}* 2:編集")


@pytest.mark.parametrize("cols", [4, 7, 10, 13])
def test_the_rename_prompt_with_wide_text_keeps_its_cursor_on_the_screen(cols):
    view = _view(cols, "t", prompt=("rename-tab", "日本語😀e\u0301\u2764\ufe0f"))
    terminal, frame = _drawn(view)
    _whole(terminal, ROWS - 1)
    text = terminal.row_text(ROWS - 1)
    assert text_width(text) <= cols - 1  # a cell left for the cursor
    x, y = terminal.cursor
    assert y == ROWS - 1 and x == text_width(text) < cols
    assert "\ufe0f" not in frame


@pytest.mark.parametrize("cols", [6, 9, 12, 20])
def test_the_help_overlay_with_wide_lines_stays_inside_a_narrow_terminal(cols):
    body = ("keys 日本語のヘルプ", "😀 q quit", "cafe\u0301 ok", "👨\u200d👩\u200d👧 x")
    terminal, frame = _drawn(_view(cols, "t", overlay=body))
    for y in range(ROWS):
        _whole(terminal, y)
    box = [terminal.row_text(y).strip() for y in range(ROWS - 1) if terminal.row_text(y).strip()]
    assert len({text_width(row) for row in box}) == 1  # a rectangle, whatever it holds
    assert "\u200d" not in frame


@pytest.mark.parametrize("cols", [3, 8, 15])
def test_a_message_and_a_pane_tag_with_wide_text_fit(cols):
    terminal, _ = _drawn(_view(cols, "t", message="エラー: 日本語 😀 trop long"))
    _whole(terminal, ROWS - 1)
    view = _view(cols, "t")
    view = replace(view, panes=(replace(view.panes[0], notice="終了 😀"),))
    terminal, _ = _drawn(view)
    for y in range(ROWS):
        _whole(terminal, y)
