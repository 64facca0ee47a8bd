"""Layouts, swapping, tabs and the mouse on borders, end to end: ``hexe mux`` in a real tmux.

Each test drives the session with real keys (or ``hexe ACTION`` from outside)
and checks what the programs inside the panes see (``stty size``, SIGWINCH)
and what the terminal shows.
"""

from __future__ import annotations

import itertools
import re
import shutil
import sys

import pytest
from support import wait_for
from support.mux import Mux, columns, ok, panes, prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

NONE_CONFIG = 'hexe.defaults { profile = "none" }\n'
_tags = itertools.count()


def stty_size(m: Mux, pane: int) -> tuple[int, int]:
    """(rows, columns) as ``stty size`` prints them inside ``pane``."""
    tag = f"sz{next(_tags)}"
    ok(m.hexe("send-keys", "-s", "t", "-t", str(pane), f"echo {tag}=$(stty size)", "Enter"))

    def seen():
        text = ok(m.hexe("capture-pane", "-s", "t", "-t", str(pane), "-J"))
        found = re.search(rf"{tag}=(\d+) (\d+)", text)
        return (int(found.group(1)), int(found.group(2))) if found else None

    return wait_for(seen, timeout=15, what=f"stty size in pane {pane}")


def sizes(m: Mux) -> dict[int, tuple[int, int]]:
    """Each pane's (rows, columns) as the server has it (list-panes)."""
    return {p["id"]: (p["rows"], p["cols"]) for p in panes(m)}


def three_panes(m: Mux) -> None:
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 3)


def status(screen: str) -> str:
    return screen.rstrip("\n").split("\n")[-1]


def send_hex(m: Mux, data: bytes) -> None:
    import subprocess

    subprocess.run([*m.tmux, "send-keys", "-t", "0", "-H", *(f"{b:02x}" for b in data)], check=True)


# -- preset layouts -----------------------------------------------------------------------------


def test_select_layout_gives_every_program_its_new_size(mux):
    m = mux(NONE_CONFIG)  # 120x40: the panes have 120x39
    three_panes(m)
    ok(m.hexe("select-layout", "-s", "t", "even-vertical"))
    expected = {1: (13, 120), 2: (12, 120), 3: (12, 120)}
    assert {p: stty_size(m, p) for p in (1, 2, 3)} == expected
    assert sizes(m) == expected
    ok(m.hexe("select-layout", "-s", "t", "main-vertical"))  # pane 1: tmux's 80 columns
    expected = {1: (39, 80), 2: (19, 39), 3: (19, 39)}
    assert {p: stty_size(m, p) for p in (1, 2, 3)} == expected
    ok(m.hexe("select-layout", "-s", "t", "tiled"))
    expected = {1: (19, 59), 2: (19, 60), 3: (19, 120)}
    assert {p: stty_size(m, p) for p in (1, 2, 3)} == expected
    bad = m.hexe("select-layout", "-s", "t", "diagonal")
    assert bad.returncode == 1 and "'diagonal' is not a layout; layouts: even-horizontal" in (
        bad.stderr
    )


def test_layout_keys_send_sigwinch_to_the_panes(mux):
    m = mux(NONE_CONFIG)
    three_panes(m)
    # pane 3 (focused) waits for SIGWINCH and prints the size it then has
    watcher = (
        "import os,signal; signal.signal(signal.SIGWINCH, lambda *a: "
        "print('winch', *os.get_terminal_size(), flush=True)); print('watching', flush=True); "
        "[signal.pause() for _ in iter(int, 1)]"
    )
    m.type(f'{sys.executable} -c "{watcher}"')
    m.wait_for("watching")
    m.prefix("M-2")  # even-vertical: pane 3 is 120x12 at the bottom
    m.wait_for("winch 120 12")
    m.prefix("M-1")  # even-horizontal: 39 columns of 39 rows
    m.wait_for("winch 39 39")
    m.prefix("Space")  # next-layout after even-horizontal: even-vertical
    m.wait_for(lambda s: s.count("winch 120 12") == 2, what="a second SIGWINCH to 120x12")
    assert sizes(m)[1] == (13, 120)


def test_spread_evens_out_panes_after_a_resize(mux):
    m = mux(NONE_CONFIG)
    three_panes(m)
    before = sizes(m)
    assert len({cols for _, cols in before.values()}) > 1  # split twice: 60, 29, 29
    m.prefix("E")
    wait_for(
        lambda: {cols for _, cols in sizes(m).values()} <= {39, 40},
        what="equal widths after spread",
    )
    assert stty_size(m, 1)[1] in (39, 40)
    ok(m.hexe("resize-right", "-s", "t", "-t", "1", "20"))
    wait_for(lambda: sizes(m)[1][1] > 50, what="pane 1 wider")
    ok(m.hexe("select-layout", "-s", "t", "-t", "1", "-E"))  # tmux's spelling of spread
    wait_for(lambda: {c for _, c in sizes(m).values()} <= {39, 40}, what="spread again")


# -- panes changing places ---------------------------------------------------------------


def test_swap_pane_and_rotate_move_the_panes_with_their_output(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    m.type("echo mark-$((6*7))")
    m.wait_for("mark-42")
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 2)
    assert columns(m.screen(), "mark-42")[-1] == 0
    m.prefix("Left")  # focus pane 1, then swap it with the next pane
    m.prefix("}")
    m.wait_for(lambda s: columns(s, "mark-42") and columns(s, "mark-42")[-1] > 55, what="moved")
    assert stty_size(m, 1) == (39, 59) and stty_size(m, 2) == (39, 60)
    # the focus went with pane 1: what is typed now shows on the right
    m.type("echo still-$((5*5))")
    m.wait_for(lambda s: columns(s, "still-25") and columns(s, "still-25")[-1] > 55)
    m.prefix("{")
    m.wait_for(lambda s: columns(s, "mark-42")[-1] == 0, what="back on the left")
    m.prefix("C-o")  # rotate: pane 1 goes to the last place, pane 2 comes first
    m.wait_for(lambda s: columns(s, "mark-42")[-1] > 55, what="rotated")
    assert stty_size(m, 2) == (39, 60)
    result = m.hexe("swap-pane", "-s", "t", "-t", "1", "7")
    assert result.returncode == 1 and "no pane 7" in result.stderr
    ok(m.hexe("swap-pane", "-s", "t", "-t", "1", "-U"))
    m.wait_for(lambda s: columns(s, "mark-42")[-1] == 0, what="swapped from the command line")


def test_break_pane_and_join_pane_move_a_pane_between_tabs(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 2)
    m.prefix("!")  # pane 2 to a tab of its own
    m.wait_for(lambda s: re.search(r"0:\S+ 1:\S+\*", status(s)), what="tab 1 active")
    assert {p["id"]: p["tab"] for p in panes(m)} == {1: 0, 2: 1}
    assert stty_size(m, 2) == (39, 120) and stty_size(m, 1) == (39, 120)
    ok(m.hexe("join-pane", "-s", "t", "-t", "2", "0", "right"))
    m.wait_for(  # (" 1:": the clock, 21:05, has "1:" too)
        lambda s: " 1:" not in status(s) and "│" in s, what="one tab of two panes"
    )
    assert {p["id"]: p["tab"] for p in panes(m)} == {1: 0, 2: 0}
    assert stty_size(m, 2)[1] == 59
    alone = m.hexe("break-pane", "-s", "t", "-t", "1")
    ok(alone)
    again = m.hexe("break-pane", "-s", "t", "-t", "1")
    assert again.returncode == 1 and "the only pane of tab 1" in again.stderr
    ok(m.hexe("swap-pane", "-s", "t", "-t", "1", "2"))  # across tabs: each takes the other's
    listed = {p["id"]: p for p in panes(m)}
    assert (listed[1]["tab"], listed[2]["tab"]) == (0, 1)
    assert listed[1]["focused"] and listed[2]["focused"]


def test_select_layout_typed_in_a_pane_arranges_that_panes_tab(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    ok(m.hexe("new-tab", "-s", "t"))  # tab 1 is shown; tab 0 is in the background
    m.wait_for(lambda s: re.search(r"1:\S+\*", status(s)), what="tab 1")
    command = f"{sys.executable} -m hexe select-layout even-horizontal; echo sel-rc-$?"
    ok(m.hexe("send-keys", "-s", "t", "-t", "1", command, "Enter"))
    wait_for(lambda: sizes(m)[1] == (39, 60), what="tab 0 side by side")
    assert stty_size(m, 2) == (39, 59) and sizes(m)[3] == (39, 120)


# -- focus history ------------------------------------------------------------------------------


def test_last_pane_and_last_tab_go_back(mux):
    m = mux(NONE_CONFIG)
    three_panes(m)  # pane 3 focused, pane 2 before it
    m.prefix("Left")
    m.prefix("Left")  # pane 1
    m.keys("C-b")
    send_hex(m, b";")  # prefix ; (tmux's send-keys reads a lone ; as its command separator)
    wait_for(lambda: [p["id"] for p in panes(m) if p["active"]] == [2], what="pane 2 active")
    m.prefix("c")  # tab 1
    m.wait_for(lambda s: re.search(r"1:\S+\*", status(s)), what="tab 1")
    m.prefix("l")
    m.wait_for(lambda s: re.search(r"0:\S+\*", status(s)), what="back on tab 0")
    m.prefix("l")
    m.wait_for(lambda s: re.search(r"1:\S+\*", status(s)), what="tab 1 again")


# -- tabs --------------------------------------------------------------------------------------


def test_move_swap_and_close_tabs(mux):
    m = mux(
        NONE_CONFIG + 'hexe.layout { hexe.tab { name = "a", hexe.pane {} }, '
        'hexe.tab { name = "b", hexe.pane {} }, hexe.tab { name = "c", hexe.pane {} } }'
    )
    m.wait_for(lambda s: "0:a* 1:b 2:c" in status(s), what="three tabs")
    ok(m.hexe("move-tab", "-s", "t", "2"))
    m.wait_for(lambda s: "0:b 1:c 2:a*" in status(s), what="a moved to the end")
    ok(m.hexe("swap-tab", "-s", "t", "-1"))
    m.wait_for(lambda s: "0:b 1:a* 2:c" in status(s), what="a swapped with c")
    m.prefix(".")  # the prompt, as tmux's move-window
    m.wait_for("move tab 1 to")
    m.type("0")
    m.wait_for(lambda s: "0:a* 1:b 2:c" in status(s), what="a moved back")
    bad = m.hexe("move-tab", "-s", "t", "7")
    assert bad.returncode == 1 and "no tab 7; tabs are 0..2" in bad.stderr
    m.prefix("&")
    m.wait_for("close tab 0 (1 pane(s))? (y/n)")
    m.keys("n")  # any key but y keeps it
    m.wait_for(lambda s: "0:a* 1:b 2:c" in status(s), what="still three tabs")
    m.prefix("&")
    m.wait_for("close tab 0")
    m.keys("y")
    m.wait_for(lambda s: "0:b* 1:c" in status(s), what="a closed")
    assert len(panes(m)) == 2
    ok(m.hexe("close-tab", "-s", "t", "1"))  # from the command line: no question
    m.wait_for(lambda s: "0:b*" in status(s) and "1:c" not in status(s), what="c closed")


# -- the mouse ---------------------------------------------------------------------------------


def test_dragging_a_border_resizes_the_panes(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 2)
    assert sizes(m) == {1: (39, 60), 2: (39, 59)}
    # press on the border (column 60, 1-based 61), drag to column 30, release
    send_hex(m, b"\x1b[<0;61;10M\x1b[<32;45;10M\x1b[<32;31;10M\x1b[<0;31;10m")
    wait_for(lambda: sizes(m) == {1: (39, 30), 2: (39, 89)}, what="the border at column 30")
    assert stty_size(m, 1) == (39, 30) and stty_size(m, 2) == (39, 89)
    # a drag that starts inside a pane moves no border
    send_hex(m, b"\x1b[<0;10;10M\x1b[<32;20;10M\x1b[<0;20;10m")
    m.type("echo after-$((2*2))")
    m.wait_for("after-4")
    assert sizes(m) == {1: (39, 30), 2: (39, 89)}


def test_clicking_a_tab_in_the_status_line_selects_it(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    m.prefix("c")
    screen = m.wait_for(lambda s: re.search(r"0:\S+ 1:\S+\*", status(s)), what="tab 1 active")
    x = status(screen).index("0:") + 1  # a cell of the label "0:sh", 0-based
    send_hex(m, f"\x1b[<0;{x + 1};40M\x1b[<0;{x + 1};40m".encode())
    m.wait_for(lambda s: re.search(r"0:\S+\* 1:\S+", status(s)), what="tab 0 active")


def test_with_the_mouse_off_borders_and_tabs_do_not_move(mux):
    m = mux(NONE_CONFIG + "hexe.options { mouse = false }\n")
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 2)
    send_hex(m, b"\x1b[<0;61;10M\x1b[<32;31;10M\x1b[<0;31;10m")
    m.type("echo still-$((3*3))")
    m.wait_for("still-9")
    assert sizes(m) == {1: (39, 60), 2: (39, 59)}


# -- a sandboxed pane may not rearrange the others -----------------------------------------


def test_a_sandboxed_pane_may_not_swap_break_or_rearrange_panes(mux):
    m = mux('hexe.defaults { profile = "default" }\n')  # user + pid namespaces
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 2)
    hexe = f"{sys.executable} -m hexe"
    m.type(f"{hexe} swap-pane -U; echo swap-rc-$?")
    m.wait_for("swap-rc-1")
    m.wait_for("swap-pane is refused from inside pane 2")
    m.type(f"clear; {hexe} break-pane; echo break-rc-$?")
    m.wait_for("break-rc-1")
    m.wait_for("break-pane is refused from inside pane 2")
    m.type(f"clear; {hexe} select-layout even-vertical; echo layout-rc-$?")
    m.wait_for("layout-rc-1")
    m.type(f"clear; {hexe} join-pane -t 1 0; echo join-rc-$?")
    m.wait_for("join-rc-1")
    # nothing moved: two panes side by side in one tab, as split
    assert sizes(m) == {1: (39, 60), 2: (39, 59)}
    assert {p["tab"] for p in panes(m)} == {0}
