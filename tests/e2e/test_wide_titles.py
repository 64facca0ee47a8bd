"""A title set by a program (OSC 2) with wide and combining characters, drawn by
hexe on a narrow real terminal (tmux as the outer terminal) and read back.

tmux lays out what hexe sends with its own idea of character widths: if hexe
sent a status line one cell too wide, or cut a wide character in half, tmux
would wrap it onto a new row and scroll the whole screen up by one.
"""

from __future__ import annotations

import shutil

import pytest
from support.mux import prompt_ready
from wcwidth import wcswidth

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

COLS, ROWS = 23, 8
TITLE = "日本語のタイトル😀cafe\u0301"


def _octal(text: str) -> str:
    """``text`` as printf octal escapes: the typed command stays ASCII."""
    return "".join(f"\\{byte:03o}" for byte in text.encode())


@pytest.mark.parametrize("cols", [COLS, 24])  # the status line ends on a wide char or not
def test_a_wide_title_on_a_narrow_terminal_stays_on_the_status_line(mux, cols):
    m = mux(cols=cols, rows=ROWS)
    prompt_ready(m)
    m.type("echo top-line")
    m.wait_for("top-line")
    m.type(f"printf '\\033]2;{_octal(TITLE)}\\007'; clear; echo $((6*7))-titled")

    def titled(screen: str) -> bool:
        lines = screen.rstrip("\n").split("\n")
        return lines[0].startswith("42-titled") and "日本" in lines[-1]

    screen = m.wait_for(titled, what="the title on the status line")
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) == ROWS, screen
    status = lines[-1]
    assert status.startswith("[t] 0:日本"), screen
    assert wcswidth(status) <= cols, screen  # whole characters, within the screen
    # nothing wrapped or scrolled: the pane's rows are where the shell put them
    assert lines[0] == "42-titled", screen
    assert all("タイトル" not in line for line in lines[:-1]), screen
    for line in lines:
        assert wcswidth(line) <= cols, screen
