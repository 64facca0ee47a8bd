"""Floating panes end to end: tmux as the terminal, real keys and mouse, the screen read back.

The window is 120 x 40, so the panes' area is 120 x 39 and a new float's box
is 72 x 23 at column 24, row 8: a 70 x 21 pane inside its border.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys

import pytest
from support import wait_for
from support.mux import Mux, columns, ok, panes, prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def send_hex(m: Mux, data: bytes) -> None:
    subprocess.run([*m.tmux, "send-keys", "-t", "0", "-H", *(f"{b:02x}" for b in data)], check=True)


def box_at(screen: str) -> tuple[int, int]:
    """(column, row) of the top-left corner of the (only) float's box."""
    for y, line in enumerate(screen.split("\n")):
        if "┌" in line:
            return line.index("┌"), y
    raise AssertionError(f"no float on the screen\n{screen}")


def has_box(screen: str) -> bool:
    return "┌" in screen and "┘" in screen


def float_ids(m: Mux) -> list[int]:
    return [p["id"] for p in panes(m) if p.get("float")]


def test_a_float_is_drawn_over_the_panes_at_its_size_and_gets_the_typing(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("W")
    screen = m.wait_for(has_box, what="a float's box")
    assert box_at(screen) == (24, 8)
    prompt_ready(m, 2)
    m.type("stty size; echo in-$((6*7))")
    screen = m.wait_for("in-42")
    assert "21 70" in screen
    assert columns(screen, "in-42")[-1] == 25  # inside the box, not in the pane below
    listed = panes(m)
    (tiled,) = [p for p in listed if not p["float"]]
    (floating,) = [p for p in listed if p["float"]]
    assert (floating["cols"], floating["rows"]) == (70, 21)
    assert (tiled["cols"], tiled["rows"]) == (120, 39)  # under it, its size unchanged
    assert floating["focused"] and not tiled["focused"]
    table = {row.split()[0]: row for row in ok(m.hexe("list-panes", "-s", "t")).splitlines()[1:]}
    assert " float " in table[str(floating["id"])] and " float " not in table[str(tiled["id"])]
    # the box's sides are drawn over the pane below, row by row
    lines = screen.split("\n")
    assert all(line[24] == "│" and line[24 + 71] == "│" for line in lines[9:30])


def test_toggling_hides_the_float_and_gives_the_typing_back_to_the_tiles(mux):
    m = mux()
    prompt_ready(m)
    pane = int(ok(m.hexe("new-float", "-s", "t", "-P")).strip())
    m.wait_for(has_box, what="a float's box")
    prompt_ready(m, 2)
    m.type("echo float-$((2+2))")
    m.wait_for("float-4")
    m.prefix("F")
    m.wait_for(lambda s: not has_box(s), what="the float hidden")
    m.type("echo tiled-$((3+3))")
    screen = m.wait_for("tiled-6")
    assert columns(screen, "tiled-6")[-1] == 0 and "float-4" not in screen
    assert pane in float_ids(m)  # hidden, still running
    m.prefix("F")
    screen = m.wait_for(lambda s: has_box(s) and "float-4" in s, what="the float back")
    m.type("echo again-$((4+4))")
    screen = m.wait_for("again-8")
    assert columns(screen, "again-8")[-1] == 25


def test_a_float_from_init_lua_runs_with_its_own_profile(mux):
    m = mux(
        """
hexe.defaults { profile = "none" }
hexe.layout {
  hexe.tab { name = "main", hexe.pane { },
    floats = {
      hexe.float { name = "scratch", isolation = { profile = "full" },
                   width = 60, height = 12, shown = false },
    },
  },
}
"""
    )
    prompt_ready(m)
    assert not has_box(m.screen())
    m.type("grep NoNewPrivs /proc/self/status; hostname")
    screen = m.wait_for(socket.gethostname())
    assert re.search(r"NoNewPrivs:\s+0", screen)
    m.prefix("F")
    screen = m.wait_for(has_box, what="the scratch float")
    prompt_ready(m, 2)
    m.type("clear; grep NoNewPrivs /proc/self/status; hostname; stty size")
    screen = m.wait_for("10 58")
    x, y = box_at(screen)
    inside = [line[x + 1 : x + 59] for line in screen.split("\n")[y + 1 : y + 11]]
    text = "\n".join(inside)
    assert re.search(r"NoNewPrivs:\s+1", text) and re.search(r"^hexe\s*$", text, re.M), text
    (scratch,) = [p for p in panes(m) if p["float"]]
    assert scratch["name"] == "scratch"
    assert scratch["isolation"]["profile"] == "full"


def test_new_float_takes_a_profile_and_a_command(mux):
    m = mux('hexe.defaults { profile = "none" }')
    prompt_ready(m)
    out = ok(
        m.hexe(
            "new-float", "-s", "t", "-P", "--isolation", "full", "--",
            "sh", "-c", "echo box-$(hostname); sleep 600",
        )
    )  # fmt: skip
    pane = int(out.strip())
    m.wait_for("box-hexe")
    (info,) = [p for p in panes(m) if p["id"] == pane]
    assert info["float"] and info["isolation"]["profile"] == "full"
    bad = m.hexe("new-float", "-s", "t", "--isolation", "fulll")
    assert bad.returncode == 1 and '"fulll" is not a profile' in bad.stderr


def test_the_mouse_moves_a_float_by_its_title_and_resizes_it_by_its_corner(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("new-float", "-s", "t"))
    screen = m.wait_for(has_box, what="a float's box")
    assert box_at(screen) == (24, 8)
    # drag the title bar (row 8, 1-based 9) from column 40 to column 30, row 4
    send_hex(m, b"\x1b[<0;41;9M\x1b[<32;31;5M\x1b[<0;31;5m")
    screen = m.wait_for(lambda s: has_box(s) and box_at(s) == (14, 4), what="the float moved")
    (info,) = [p for p in panes(m) if p["float"]]
    assert (info["cols"], info["rows"]) == (70, 21)
    # the bottom-right corner is at column 14+71, row 4+22: drag it 10 left, 5 up
    send_hex(m, b"\x1b[<0;86;27M\x1b[<32;76;22M\x1b[<0;76;22m")
    wait_for(
        lambda: [(p["cols"], p["rows"]) for p in panes(m) if p["float"]] == [(60, 16)],
        what="the float resized to 60x16",
    )
    prompt_ready(m, 2)
    m.type("stty size")
    m.wait_for("16 60")
    assert box_at(m.screen()) == (14, 4)


def test_keys_move_and_resize_the_focused_float(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("new-float", "-s", "t"))
    m.wait_for(has_box, what="a float's box")
    ok(m.hexe("move-float-left", "-s", "t", "10"))
    m.wait_for(lambda s: has_box(s) and box_at(s) == (14, 8), what="moved left")
    ok(m.hexe("resize-float-down", "-s", "t", "3"))
    wait_for(
        lambda: [(p["cols"], p["rows"]) for p in panes(m) if p["float"]] == [(70, 24)],
        what="the float 3 rows taller",
    )
    m.prefix("S-Up")
    m.wait_for(lambda s: has_box(s) and box_at(s) == (14, 6), what="moved up by the key")
    ok(m.hexe("move-float-right", "-s", "t", "500"))  # kept in the window
    m.wait_for(lambda s: has_box(s) and box_at(s) == (120 - 72, 6), what="at the right edge")


def test_a_pane_floats_and_embeds_back(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("%")
    prompt_ready(m, 2)
    m.type("echo mine-$((5*5))")
    m.wait_for("mine-25")
    right = [p["id"] for p in panes(m) if p["focused"]][0]
    ok(m.hexe("float-pane", "-s", "t", "-t", str(right)))
    screen = m.wait_for(has_box, what="the pane floating")
    assert float_ids(m) == [right]
    tiled = [p for p in panes(m) if not p["float"]]
    assert [(p["cols"], p["rows"]) for p in tiled] == [(120, 39)]
    assert columns(screen, "mine-25")[-1] == 25  # its screen came along
    m.prefix("M-e")  # embed-pane
    screen = m.wait_for(lambda s: not has_box(s) and "│" in s, what="embedded again")
    assert float_ids(m) == []
    assert sorted((p["cols"], p["rows"]) for p in panes(m)) == [(59, 39), (60, 39)]
    m.type("echo back-$((6*6))")
    screen = m.wait_for("back-36")
    assert columns(screen, "back-36")[-1] > 55


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ('hexe.defaults { profile = "default" }', "a sandboxed pane may only act on itself"),
        ('hexe.defaults { profile = "none", memory = "512M" }', "it has limits"),
    ],
)
def test_a_sandboxed_or_limited_pane_cannot_open_a_float(mux, config, why):
    m = mux(config)
    prompt_ready(m)
    hexe = f"{sys.executable} -m hexe"
    m.type(f"{hexe} new-float; echo float-rc-$?")
    screen = m.wait_for("float-rc-1")
    assert "new-float is refused" in screen and why in screen
    m.type(f"{hexe} toggle-floats; echo toggle-rc-$?")
    m.wait_for("toggle-rc-")
    assert float_ids(m) == []
    assert not has_box(m.screen())


def test_a_key_of_init_lua_opens_a_float_with_a_profile_and_a_command(mux):
    m = mux(
        'hexe.defaults { profile = "none" }\n'
        'hexe.key("prefix S", "new-float", "full", "echo key-$(hostname); exec sh")\n'
        'hexe.key("prefix H", function()\n'
        '  return "new-float", "", "echo lua-$((7*7)); exec sh"\n'
        "end)\n"
    )
    prompt_ready(m)
    m.prefix("S")
    m.wait_for("key-hexe")
    m.prefix("H")
    screen = m.wait_for("lua-49")
    assert columns(screen, "lua-49")[-1] == 27  # the second float, cascaded 2 cells
    profiles = sorted(p["isolation"]["profile"] for p in panes(m) if p["float"])
    assert profiles == ["full", "full"]  # "": the focused pane's, here the first float's


def test_clicks_move_the_focus_between_a_float_and_the_tiles(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("new-float", "-s", "t"))
    m.wait_for(has_box, what="a float's box")
    prompt_ready(m, 2)
    send_hex(m, b"\x1b[<0;5;3M\x1b[<0;5;3m")  # a click on the tiled pane, left of the box
    m.type("echo tile-$((8*8))")
    screen = m.wait_for("tile-64")
    assert columns(screen, "tile-64")[-1] == 0
    assert has_box(screen)  # the float stays shown
    send_hex(m, b"\x1b[<0;50;20M\x1b[<0;50;20m")  # a click inside the float
    m.type("echo box-$((9*9))")
    screen = m.wait_for("box-81")
    assert columns(screen, "box-81")[-1] == 25
    m.prefix("Left")  # by direction: back to the tiled pane below first
    m.type("echo left-$((7*9))")
    screen = m.wait_for("left-63")
    assert columns(screen, "left-63")[-1] == 0


def test_a_float_whose_shell_exits_goes_and_the_focus_returns_to_the_tiles(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("new-float", "-s", "t"))
    m.wait_for(has_box, what="a float's box")
    prompt_ready(m, 2)
    m.type("exit")
    m.wait_for(lambda s: not has_box(s), what="the float gone")
    assert float_ids(m) == []
    m.type("echo after-$((5+6))")
    screen = m.wait_for("after-11")
    assert columns(screen, "after-11")[-1] == 0


def test_a_float_stays_inside_a_window_that_shrinks(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("new-float", "-s", "t"))
    m.wait_for(has_box, what="a float's box")
    ok(m.hexe("move-float-right", "-s", "t", "100"))
    m.wait_for(lambda s: has_box(s) and box_at(s) == (48, 8), what="at the right edge")
    subprocess.run([*m.tmux, "resize-window", "-t", "0", "-x", "60", "-y", "20"], check=True)
    # the box (72 x 23) is cut to the 60 x 19 area and moved into it
    wait_for(
        lambda: [(p["cols"], p["rows"]) for p in panes(m) if p["float"]] == [(58, 17)],
        what="the float fitted to the window",
    )
    screen = m.wait_for(lambda s: has_box(s) and box_at(s) == (0, 0), what="the box moved in")
    assert all(len(line.rstrip()) <= 60 for line in screen.split("\n"))
