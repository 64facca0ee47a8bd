"""``hexe mux`` end to end: a real terminal (tmux), real keys, real panes, the screen read back."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys

import pytest
from support import wait_for
from support.mux import PROMPT_RE, Mux, columns, prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
HOST = socket.gethostname()
# dash's prompt is "# " or "$ " (it ignores PS1 from the environment for root)


def test_status_line_shows_session_tab_title_and_isolation(mux):
    m = mux('hexe.defaults { profile = "full", memory = "512M", pids = 100 }')
    prompt_ready(m)
    # (a message may hold the status line for a moment: the test's cwd, under
    # /tmp, does not exist in full's fresh /tmp)
    screen = m.wait_for(
        lambda s: s.rstrip("\n").split("\n")[-1].startswith("[t] 0:"), what="the status line"
    )
    status = screen.rstrip("\n").split("\n")[-1]
    assert "full 512M/100p" in status


def test_two_splits_show_each_commands_output_side_by_side(mux):
    m = mux()
    prompt_ready(m)
    m.type("echo left-$((40+2))")
    m.wait_for("left-42")
    m.prefix("%")
    prompt_ready(m, 2)
    m.type("echo right-$((40+3))")
    screen = m.wait_for("right-43")
    (left,) = [c for c in columns(screen, "left-42")]
    (right,) = [c for c in columns(screen, "right-43")]
    assert left == 0 and right > 55  # 120 columns: 60 + border + 59
    assert "│" in screen


def test_focus_moves_with_the_keys(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("%")
    prompt_ready(m, 2)
    m.prefix("Left")
    m.type("echo typed-$((1+1))-left")
    screen = m.wait_for("typed-2-left")
    assert columns(screen, "typed-2-left") == [0] * len(columns(screen, "typed-2-left"))
    m.prefix("o")
    m.type("echo typed-$((2+1))-right")
    screen = m.wait_for("typed-3-right")
    assert all(c > 55 for c in columns(screen, "typed-3-right"))


def test_a_zoomed_pane_fills_the_window_and_comes_back(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("%")
    prompt_ready(m, 2)
    m.prefix("z")
    screen = m.wait_for("(zoomed)")
    assert "│" not in screen
    m.type("echo " + "w" * 100)
    # the typed command shows first (echoes are drawn at once): wait for its output too
    screen = m.wait_for(lambda s: s.count("w" * 100) >= 2, what="the output of echo")
    assert columns(screen, "w" * 100)[-1] == 0
    m.prefix("z")
    m.wait_for(lambda s: "(zoomed)" not in s and "│" in s, what="unzoomed")


def test_a_closed_panes_processes_are_gone(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("%")
    prompt_ready(m, 2)
    m.type("sleep 1000 & echo bg=$!")
    screen = m.wait_for(lambda s: re.search(r"bg=\d+", s), what="the background pid")
    pid = int(re.search(r"bg=(\d+)", screen).group(1))

    # the pane is in a pid namespace: find the sleep on the host by its cmdline
    # (the shell prints $! when it has forked, maybe before the child execs sleep)
    def sleeping() -> list[str]:
        return [
            p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == "sleep\x001000\x00"
        ]

    wait_for(sleeping, what=f"sleep 1000 on the host (pid {pid} inside)")
    host_pids = sleeping()
    m.prefix("x")
    m.wait_for(lambda s: "│" not in s, what="the pane to close")
    for p in host_pids:
        assert _gone(p), f"process {p} survived its pane"


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""


def _gone(pid: str, timeout: float = 10) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}") or _state(pid) == "Z":
            return True
        time.sleep(0.05)
    return False


def _state(pid: str) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def test_a_new_tab_appears_in_the_status_line(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("c")
    m.wait_for(lambda s: re.search(r"0:\S+ 1:\S+\*", s), what="tab 1 active")
    m.prefix("0")
    m.wait_for(lambda s: re.search(r"0:\S+\* 1:\S+", s), what="tab 0 active")


def test_tabs_are_counted_from_0_on_screen_by_keys_commands_list_panes_and_config_check(mux):
    m = mux(
        'hexe.layout { hexe.tab { name = "a", hexe.pane {} }, hexe.tab { name = "b", '
        'hexe.split { hexe.pane {}, hexe.pane { name = "second" } } } }'
    )
    m.wait_for(lambda s: re.search(r"0:a\* 1:b\b", s), what="tabs 0 and 1 on the status line")
    m.prefix("1")
    m.wait_for(lambda s: re.search(r"0:a 1:b\*", s), what="prefix 1 to show tab 1")
    assert m.hexe("select-tab", "0").returncode == 0
    m.wait_for(lambda s: re.search(r"0:a\* 1:b\b", s), what="select-tab 0 to show tab 0")
    refused = m.hexe("select-tab", "2")
    assert refused.returncode == 1 and "no tab 2; tabs are 0..1" in refused.stderr
    listed = json.loads(m.hexe("list-panes", "--json").stdout)
    assert sorted((p["tab"], p["tab_name"]) for p in listed) == [(0, "a"), (1, "b"), (1, "b")]
    assert re.search(r"^\d+ +1:b ", m.hexe("list-panes").stdout, re.MULTILINE)
    check = m.hexe("config", "check", str(m.config)).stdout
    assert re.search(r'^tab 0 "a"', check, re.MULTILINE)
    assert re.search(r'^tab 1 "b"', check, re.MULTILINE)
    assert 'tabs[1].panes[1] "second"' in check


def test_full_pane_is_isolated_while_the_none_pane_beside_it_is_not(mux):
    m = mux(
        """
        local probe = "echo host=$(hostname) procs=$(ls /proc | grep -c '^[0-9]'); exec sh"
        hexe.layout { hexe.tab { hexe.split {
          hexe.pane { name = "open", isolation = { profile = "none" }, command = probe },
          hexe.pane { name = "boxed", isolation = { profile = "full" }, command = probe },
        } } }
        """
    )
    screen = m.wait_for(lambda s: s.count("procs=") == 2, what="both panes' output")
    found = dict(re.findall(r"host=(\S+) procs=(\d+)", screen))
    assert set(found) == {HOST, "hexe"}
    assert int(found["hexe"]) <= 5  # init, the shell, its $(...) subshell, ls, grep
    assert int(found[HOST]) > 20
    left = columns(screen, f"host={HOST}")
    right = columns(screen, "host=hexe")
    assert left == [0] and right[0] > 55


def test_a_pane_whose_isolation_fails_shows_the_reason(mux):
    # user.max_user_namespaces is per user namespace: 0 in a throwaway one
    wrap = "unshare -Ur sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec {}'"
    m = mux(
        """
        hexe.layout { hexe.tab { hexe.split {
          hexe.pane { name = "works", isolation = { profile = "none" } },
          hexe.pane { name = "fails", isolation = { profile = "default" } },
        } } }
        """,
        wrap=wrap,
    )
    screen = m.wait_for("isolation failed", what="the failure")
    right = "".join(line.partition("│")[2].rstrip() for line in screen.split("\n"))
    assert "voidbox isolation failed: unshare(user, pid): No space left on device" in right
    assert PROMPT_RE.search(screen)  # the other pane runs


def test_a_full_pane_has_no_capabilities_and_a_refused_rootfs_pane_shows_why(mux):
    m = mux(
        """
        local probe = "grep -E 'CapEff|Seccomp:' /proc/self/status; exec sh"
        hexe.layout { hexe.tab { hexe.split {
          hexe.pane { name = "boxed", isolation = { profile = "full" }, command = probe },
          hexe.pane { name = "bad", isolation = { profile = "full", rootfs = "/nonexistent/r" } },
        } } }
        """
    )
    screen = m.wait_for("does not exist", what="the refusal")
    # Seccomp is the later line of /proc/self/status: both are drawn once it is
    screen = m.wait_for("Seccomp", what="the boxed pane's capabilities and filter")
    left = "".join(line.partition("│")[0] for line in screen.split("\n"))
    right = "".join(line.partition("│")[2].rstrip() for line in screen.split("\n"))
    assert re.search(r"CapEff:\s+0{16}", left), left
    assert re.search(r"Seccomp:\s+2", left), left
    squeezed = "".join(right.split())  # wrapped lines may break at a space
    assert "rootfs=/nonexistent/r" in squeezed and "doesnotexist" in squeezed


def test_help_overlay_lists_the_bindings(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("?")
    # (the overlay may reach tmux in more than one write: wait for all of it)
    m.wait_for(
        lambda s: "key bindings" in s and "split-right" in s and ("detach" in s or "q: close" in s),
        what="the help overlay with its bindings",
    )
    m.keys("q")
    m.wait_for(lambda s: "key bindings" not in s, what="the overlay to close")


def test_help_overlay_pages_through_every_binding_on_a_40x12_terminal(mux):
    from hexe.commands.registry import ACTIONS, DEFAULT_BINDINGS

    wanted = {  # as much of each as the 40-column box shows (36 columns inside)
        f"{' '.join(keys).replace('prefix', 'C-b'):<14} {' '.join(map(str, (a, *args)))}"[:36]
        for keys, (a, args) in DEFAULT_BINDINGS.items()
    }
    # then every action no key runs, by name (the command prompt or hexe NAME)
    bound = {a for a, _ in DEFAULT_BINDINGS.values()}
    unbound = [a for name, a in ACTIONS.items() if name not in bound]
    assert unbound, "every action has a key: the test below checks nothing more"
    wanted |= {f"{a.usage():<30} {a.description}"[:36] for a in unbound}
    total = len(DEFAULT_BINDINGS) + 2 + len(unbound)  # a blank line and a heading between
    m = mux(cols=40, rows=12)
    prompt_ready(m)
    m.prefix("?")
    screen = m.wait_for(f"key bindings 1-7 of {total}", settled=True)
    assert "q: close" in screen
    seen = screen
    m.keys("Down")  # one line
    seen += m.wait_for(f"key bindings 2-8 of {total}", settled=True)
    for top in range(9, total - 6 + 1, 7):  # then a page at a time
        m.keys("PageDown")
        seen += m.wait_for(f"key bindings {top}-{top + 6} of {total}", settled=True)
    m.keys("End")
    seen += m.wait_for(f"key bindings {total - 6}-{total} of {total}", settled=True)
    m.keys("Down")  # at the end already: it stays
    m.keys("PageUp")
    seen += m.wait_for(f"key bindings {total - 13}-{total - 7} of {total}", settled=True)
    missing = [line for line in wanted if line not in seen]
    assert not missing, f"never shown: {missing}"
    m.keys("q")
    m.wait_for(lambda s: "key bindings" not in s, what="the overlay to close")


def test_copy_mode_scrolls_back_through_history(mux):
    m = mux()
    prompt_ready(m)
    m.type("for i in $(seq 1 200); do echo line-$i; done")
    m.wait_for("line-200")
    m.prefix("[")
    m.wait_for(lambda s: re.search(r"\[0/\d+\]", s), what="copy mode at the bottom")
    m.keys("PageUp", "PageUp", "PageUp")

    # three pages of 39 rows up: 117 lines above the bottom. The indicator is on
    # the pane's first row, so a capture can catch it while the client's frame
    # is still on its way down the screen: wait for the whole view.
    def three_pages_up(s: str) -> bool:
        shown = sorted(int(n) for n in re.findall(r"line-(\d+)", s))
        return bool(re.search(r"\[117/\d+\]", s)) and bool(shown) and shown[-1] < 100

    m.wait_for(three_pages_up, what="three pages up, line-99 and below shown")
    m.keys("q")
    m.wait_for(lambda s: "line-200" in s and not re.search(r"\[\d+/\d+\]", s), what="the end")


def test_exiting_the_last_pane_ends_the_session(mux):
    m = mux()
    prompt_ready(m)
    m.type("exit")
    m.wait_for(lambda s: "[session t ended]" in s or "[t]" not in s, what="the client to exit")


def test_detach_leaves_the_server_running(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("d")
    m.wait_for("[detached (from session t)]")
    pid = m.server_pid()
    assert pid is not None and os.path.exists(f"/proc/{pid}")


def test_resizing_the_terminal_reaches_the_pane(mux):
    m = mux()
    prompt_ready(m)
    m.type("stty size")
    m.wait_for("39 120")
    import subprocess

    subprocess.run([*m.tmux, "resize-window", "-t", "0", "-x", "100", "-y", "30"], check=True)
    # the server has the new size once its status line ends at column 100 (the
    # clock, drawn at the right edge, shows): the pane's PTY was resized with
    # it. Keys typed before that could overtake the client's SIGWINCH.
    m.wait_for(
        lambda s: re.search(r"\d\d:\d\d$", s.rstrip("\n").split("\n")[-1].rstrip()),
        what="the status line drawn 100 columns wide",
    )
    m.type("stty size")
    m.wait_for("29 100")


def test_bad_config_refuses_to_start_and_says_why(tmp_path):
    import subprocess

    from support import clean_env

    config = tmp_path / "init.lua"
    config.write_text('hexe.defaults { profile = "fulll" }\n')
    env = clean_env(HEXE_CONFIG=str(config), XDG_RUNTIME_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "hexe", "mux", "--session", "bad"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=60,
    )
    assert result.returncode == 1
    assert "defaults.profile=fulll is not a profile; did you mean full?" in result.stderr


def capture_escapes(m: Mux) -> str:
    import subprocess

    return subprocess.run(
        [*m.tmux, "capture-pane", "-p", "-e", "-t", "0"],
        capture_output=True,
        text=True,
    ).stdout


def test_colours_and_wide_characters_reach_the_terminal(mux):
    m = mux()
    prompt_ready(m)
    m.type(r"printf '\033[31mRED\033[0m \033[38;2;10;200;30mRGB\033[0m 日本語 '; echo end-$((2*2))")
    screen = m.wait_for("end-4")
    assert "RED RGB 日本語 end-4" in screen
    escaped = capture_escapes(m)
    assert re.search(r"\x1b\[[0-9;]*31m[^\x1b]*RED", escaped), escaped
    assert re.search(r"\x1b\[[0-9;]*38;2;10;200;30m[^\x1b]*RGB", escaped), escaped


def send_hex(m: Mux, data: bytes) -> None:
    import subprocess

    subprocess.run(
        [*m.tmux, "send-keys", "-t", "0", "-H", *(f"{b:02x}" for b in data)],
        check=True,
    )


def test_a_click_focuses_the_pane_under_it(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("%")
    prompt_ready(m, 2)
    send_hex(m, b"\x1b[<0;10;5M\x1b[<0;10;5m")  # a click in the left pane
    m.type("echo clicked-$((3*3))")
    screen = m.wait_for("clicked-9")
    assert columns(screen, "clicked-9") == [0]


def test_an_app_that_asks_for_the_mouse_gets_it_in_its_own_coordinates(mux):
    m = mux()
    prompt_ready(m)
    m.prefix("%")
    prompt_ready(m, 2)
    # "on" is printed after the mode is asked for: once it shows, hexe has
    # seen the request (the typed line alone shows before the shell runs it)
    m.type(r"printf '\033[?1000h\033[?1006h'; echo mouse-o''n; cat -v")
    m.wait_for(lambda s: re.search(r"│mouse-on\s*$", s, re.M), what="the mode asked for")
    send_hex(m, b"\x1b[<0;70;5M")  # column 70 of the terminal: column 9 of the right pane
    screen = m.wait_for("^[[<0;")
    assert "^[[<0;9;5M" in screen


def test_rename_tab_through_the_prompt(mux):
    m = mux()
    prompt_ready(m)
    m.prefix(",")
    m.wait_for("rename tab:")
    m.keys("C-u")  # not an editing key: ignored
    for _ in range(5):
        m.keys("BSpace")
    m.type("logs", enter=True)
    m.wait_for(lambda s: re.search(r"0:logs\*", s), what="the renamed tab")


def test_a_pane_that_exits_stays_with_remain_on_exit(mux):
    m = mux(
        """
        hexe.layout { hexe.tab { hexe.split {
          hexe.pane { name = "stay", command = "echo bye-bye; exit 3", remain_on_exit = true },
          hexe.pane { name = "shell" },
        } } }
        """
    )
    screen = m.wait_for("[exited 3]")
    assert "bye-bye" in screen


def test_a_split_inherits_the_isolation_of_the_pane_it_splits(mux):
    m = mux('hexe.layout { hexe.tab { hexe.pane { isolation = { profile = "full" } } } }')
    prompt_ready(m)
    m.prefix('"')
    prompt_ready(m, 2)
    m.type("echo host-$(hostname)-$((1+1))")
    screen = m.wait_for(lambda s: re.search(r"host-(\S+)-2", s), what="the hostname")
    assert re.search(r"host-(\S+)-2", screen).group(1) == "hexe"


def test_a_split_starts_in_the_current_directory_of_the_pane_it_splits(mux, tmp_path):
    """As tmux's ``split-window -c '#{pane_current_path}'``; a directory the
    server does not see at the same path (a sandbox's fresh /tmp) gives the
    pane's start directory instead."""
    work = tmp_path / "work dir"
    work.mkdir()
    m = mux(
        'hexe.layout { hexe.tab { hexe.split { hexe.pane { name = "open", isolation = '
        '{ profile = "none" } }, hexe.pane { name = "boxed", isolation = { profile = "balanced" } }'
        " } } }"
    )
    prompt_ready(m, 2)

    def panes() -> dict[int, dict]:
        return {p["id"]: p for p in json.loads(m.hexe("list-panes", "--json").stdout)}

    ids = {p["name"]: i for i, p in panes().items()}
    start = panes()[ids["boxed"]]["cwd"]
    m.hexe("send-keys", "-t", str(ids["open"]), f"cd '{work}'", "Enter")
    m.hexe("send-keys", "-t", str(ids["boxed"]), "mkdir -p /tmp/inbox && cd /tmp/inbox", "Enter")
    wait_for(lambda: panes()[ids["open"]]["cwd"] == str(work), what="cd in the open pane")
    wait_for(lambda: panes()[ids["boxed"]]["cwd"] == "/tmp/inbox", what="cd in the boxed pane")
    split_open = int(m.hexe("split-down", "-t", str(ids["open"]), "-P").stdout)
    split_boxed = int(m.hexe("split-down", "-t", str(ids["boxed"]), "-P").stdout)

    def started() -> bool:
        now = panes()
        return all(now.get(i, {}).get("state") == "running" for i in (split_open, split_boxed))

    wait_for(lambda: started() and panes()[split_boxed]["cwd"], what="both splits running")
    now = panes()
    assert now[split_open]["cwd"] == str(work)
    assert now[split_boxed]["cwd"] == start and start != "/tmp/inbox"


def test_the_alternate_screen_comes_and_goes_with_the_main_screen_kept(mux):
    m = mux()
    prompt_ready(m)
    m.type("echo main-$((6*7))")
    m.wait_for("main-42")
    m.type(
        r"printf '\033[?1049h\033[2J\033[Halt-%d' 99; sleep 1; "
        r"printf '\033[?1049l'; echo back-$((1+2))"
    )
    screen = m.wait_for("alt-99")
    assert "main-42" not in screen
    screen = m.wait_for("back-3")
    assert "main-42" in screen


def test_copy_then_paste_with_the_prefix(mux):
    m = mux()
    prompt_ready(m)
    m.type("echo copy-$((5+5))-me")
    m.wait_for("copy-10-me")
    m.prefix("[")
    m.wait_for(lambda s: re.search(r"\[0/\d+\]", s), what="copy mode")
    m.keys("?")
    m.wait_for("search back:")
    m.type("copy-10", enter=True)
    m.keys("Space")
    for _ in range(len("copy-10-me") - 1):
        m.keys("l")
    m.keys("Enter")
    m.wait_for("copied 10 characters")
    m.type("echo ", enter=False)
    m.prefix("]")
    m.keys("Enter")
    screen = m.wait_for(lambda s: s.count("copy-10-me") >= 3, what="the pasted text echoed")
    assert screen.count("copy-10-me") >= 3


def test_bracketed_paste_reaches_a_program_that_asked_for_it(mux):
    m = mux()
    prompt_ready(m)
    # ready-42 comes after the mode switch in the pane's output: hexe has seen it
    # (waiting only for the typed line raced the shell on a loaded machine)
    m.type(r"printf '\033[?2004h'; echo ready-$((6*7)); cat -v")
    m.wait_for("ready-42")
    send_hex(m, b"\x1b[200~pasted\x1b[201~\r")
    m.wait_for("^[[200~pasted^[[201~")


def test_the_wheel_scrolls_back(mux):
    m = mux()
    prompt_ready(m)
    m.type("for i in $(seq 1 100); do echo wheel-$i; done")
    m.wait_for("wheel-100")
    for _ in range(10):
        send_hex(m, b"\x1b[<64;10;10M")
    # the indicator is drawn on the first row, before the rows below it: wait for both
    m.wait_for(
        lambda s: re.search(r"\[30/\d+\]", s) and "wheel-100" not in s and "wheel-70" in s,
        what="scrolled 30 lines",
    )


def test_a_new_tab_follows_only_a_pane_with_the_defaults_isolation(mux, tmp_path):
    """A new tab gets the defaults' isolation: it starts in the focused pane's
    current directory only when that pane has the same isolation; a sandboxed
    pane must not choose where a less isolated shell starts. follow_cwd =
    false keeps splits in their start directory."""
    work = tmp_path / "tabs here"
    work.mkdir()
    layout = (
        'hexe.defaults { profile = "none" }\n'
        'hexe.layout { hexe.tab { hexe.split { hexe.pane { name = "plain" }, '
        'hexe.pane { name = "boxed", isolation = { profile = "balanced" } } } } }\n'
    )
    m = mux(layout)
    prompt_ready(m, 2)

    def panes(of: Mux = m) -> dict[int, dict]:
        return {p["id"]: p for p in json.loads(of.hexe("list-panes", "--json").stdout)}

    def cwd_of(pane: int, of: Mux = m) -> str:
        return wait_for(lambda: panes(of).get(pane, {}).get("cwd"), what=f"pane {pane}'s cwd")

    ids = {p["name"]: i for i, p in panes().items()}
    m.hexe("send-keys", "-t", str(ids["plain"]), f"cd '{work}'", "Enter")
    m.hexe("send-keys", "-t", str(ids["boxed"]), "cd /usr", "Enter")
    wait_for(lambda: panes()[ids["plain"]]["cwd"] == str(work), what="cd in the plain pane")
    wait_for(lambda: panes()[ids["boxed"]]["cwd"] == "/usr", what="cd in the boxed pane")
    m.hexe("select-pane", str(ids["plain"]))
    followed = int(m.hexe("new-tab", "-P").stdout)
    assert cwd_of(followed) == str(work)
    m.hexe("select-pane", str(ids["boxed"]))
    kept = int(m.hexe("new-tab", "-P").stdout)
    assert cwd_of(kept) not in ("/usr", "")

    off = mux(layout + "hexe.options { follow_cwd = false }\n")
    prompt_ready(off, 2)
    ids = {p["name"]: i for i, p in panes(off).items()}
    start = cwd_of(ids["plain"], off)
    off.hexe("send-keys", "-t", str(ids["plain"]), f"cd '{work}'", "Enter")
    wait_for(lambda: panes(off)[ids["plain"]]["cwd"] == str(work), what="cd with follow_cwd off")
    split = int(off.hexe("split-down", "-t", str(ids["plain"]), "-P").stdout)
    assert cwd_of(split, off) == start != str(work)
