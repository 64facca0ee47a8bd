"""The first screen is whole: a session's panes start at the size of the
terminal that starts it, so a command started with the session draws its
first output at the right size (not at 80x23, resized a moment later).

``hexe mux`` runs in a private tmux (the outer terminal) of an unusual size;
the pane's PTY must have that size when its command is spawned (hexe's log
says), and the command sees it and draws a line exactly as wide as it.
"""

from __future__ import annotations

import json
import sys

import pytest
from support.mux import prompt_ready

COLS, ROWS = 97, 31  # neither 80 nor 24: a default would show

# stty reads the size from its stdin, the pane's TTY (tput would ask the pipe of $(…))
PROBE = (
    'stty size; printf "%s|\\n" "$(printf "%0.s=" $(seq 2 $(stty size | cut -d" " -f2)))";'
    " exec sleep 600"
)


@pytest.mark.kernel
def test_a_layout_pane_starts_at_the_first_client_size(mux):
    lua_probe = PROBE.replace("\\", "\\\\").replace('"', '\\"')
    config = f"""
hexe.layout {{
  hexe.tab {{ name = "first",
    hexe.pane {{ isolation = {{ profile = "none" }},
                 command = {{ "/bin/sh", "-c", "{lua_probe}" }} }},
  }},
}}
"""
    m = mux(config, cols=COLS, rows=ROWS)
    screen = m.wait_for("|", what="the probe's line")
    events = [json.loads(line) for line in m.log.read_text().splitlines() if line.startswith("{")]
    spawned = [e for e in events if e.get("event") == "pane_spawning"]
    # the PTY's size when the command was started (it may read it at once)
    assert [(e["cols"], e["rows"]) for e in spawned] == [(COLS, ROWS - 1)], m.log_tail()
    lines = screen.split("\n")
    assert lines[0] == f"{ROWS - 1} {COLS}", screen  # the status line takes one row
    assert lines[1] == "=" * (COLS - 1) + "|", screen  # one row, not wrapped at 80


ASK_CHECKSUM = r"""
import os, select, sys, termios, tty
old = termios.tcgetattr(0)
tty.setraw(0)
try:
    os.write(1, b"AB\x1b[1;1;1;1;1;2*y")
    got = b""
    while select.select([0], [], [], 2)[0]:
        got += os.read(0, 100)
        if got.endswith(b"\x1b\\"):
            break
finally:
    termios.tcsetattr(0, termios.TCSADRAIN, old)
print()
print("answer:", got.hex() or "none")
"""


@pytest.mark.parametrize("enabled", [False, True])
def test_decrqcra_is_answered_only_when_the_option_is_on(mux, tmp_path, enabled):
    probe = tmp_path / "ask.py"
    probe.write_text(ASK_CHECKSUM)
    option = "true" if enabled else "false"
    m = mux(
        f'hexe.defaults {{ profile = "none" }}\nhexe.options {{ answer_checksums = {option} }}\n'
    )
    prompt_ready(m)
    m.type(f"{sys.executable} {probe}")
    screen = m.wait_for("answer:", timeout=20)
    answer = screen.split("answer:", 1)[1].split()[0]
    if not enabled:
        assert answer == "none"
    else:  # DCS 1 ! ~ <4 hex digits> ST: the checksum of this pane's "AB"
        data = bytes.fromhex(answer)
        assert data.startswith(b"\x1bP1!~") and data.endswith(b"\x1b\\") and len(data) == 11
