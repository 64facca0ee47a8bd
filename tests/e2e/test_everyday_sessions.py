"""Everyday multiplexing end to end: sessions from inside (rename, new, switch, the chooser),
synchronized panes, bell and activity flags, the outer title, the status line's clock and
the command prompt — with tmux as the outer terminal.

Every session a test starts (by name, from inside, renamed) is ended after it: the
``sessions`` fixture SIGTERMs every server whose pid file is in the test's runtime dir.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import wait_for
from support.mux import PROMPT_RE, Mux, _alive, ok, prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

NONE_CONFIG = 'hexe.defaults { profile = "none" }\n'
SANDBOX_CONFIG = 'hexe.defaults { profile = "default" }\n'  # user + pid namespaces
HEXE = f"{sys.executable} -m hexe"


def _server_pids(run_dir: Path) -> list[int]:
    pids = []
    for path in (run_dir / "hexe").glob("*.pid"):
        try:
            pids.append(int(path.read_text()))
        except (OSError, ValueError):
            pass
    return pids


@pytest.fixture
def sessions(mux):
    """``mux`` whose every session (any name) is ended after the test."""
    made: list[Mux] = []

    def start(config: str = "", **kw) -> Mux:
        m = mux(config, **kw)
        made.append(m)
        return m

    yield start
    for m in made:
        pids = _server_pids(m.run_dir)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            wait_for(lambda p=pid: not _alive(p), timeout=15, what=f"server {pid} to end")


def names(m: Mux) -> list[str]:
    return sorted(s["name"] for s in json.loads(ok(m.hexe("ls", "--json"))))


def status(m: Mux) -> str:
    return m.screen().rstrip("\n").split("\n")[-1]


def outer_title(m: Mux) -> str:
    result = subprocess.run(
        [*m.tmux, "display-message", "-p", "-t", "0", "#{pane_title}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.rstrip("\n")


# -- rename, new, switch ------------------------------------------------------------------


def test_rename_session_moves_its_socket_ls_and_new_panes_follow(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    hexe_dir = m.run_dir / "hexe"
    pid = m.server_pid()
    ok(m.hexe("rename-session", "-s", "t", "work"))
    m.wait_for("[work]", what="the status line's new name")
    assert names(m) == ["work"]
    assert (hexe_dir / "work.sock").exists() and not (hexe_dir / "t.sock").exists()
    assert int((hexe_dir / "work.pid").read_text()) == pid
    assert not (hexe_dir / "t.pid").exists()
    # a pane started after the rename has the new name
    ok(m.hexe("split-down", "-s", "work"))
    prompt_ready(m, 2)
    m.type("echo in-$HEXE_SESSION-now")
    m.wait_for("in-work-now")
    # a pane from before the rename still says t, and its hexe commands find
    # their session (its server is their ancestor) and their own pane
    ok(m.hexe("select-pane", "-s", "work", "1"))
    m.type(f"{HEXE} send-keys 'echo old-$HEXE_SESSION-$((2+2))' Enter; echo sent-rc=$?")
    screen = m.wait_for("old-t-4")
    assert "sent-rc=0" in screen
    rows = [i for i, line in enumerate(screen.split("\n")) if line.endswith("old-t-4")]
    assert rows and rows[0] < 20, screen  # pane 1, the upper one
    # a name in use, or not a name, is refused and nothing moves
    other = Mux(m.base / "other", share=m, args=["mux", "--session", "busy"], session="busy")
    m.followers.append(other)
    other.wait_for("[busy]")
    result = m.hexe("rename-session", "-s", "work", "busy")
    assert result.returncode == 1 and "there is already a session busy" in result.stderr
    result = m.hexe("rename-session", "-s", "work", "no/slash")
    assert result.returncode == 1 and "session name 'no/slash' is not accepted" in result.stderr
    assert names(m) == ["busy", "work"]


def test_new_session_from_inside_then_switch_client_and_back(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    m.type(f"{HEXE} new-session -d -s other; echo new-rc-$?")
    m.wait_for("new-rc-0")
    assert names(m) == ["other", "t"]
    # the new session started detached, its panes with HEXE_SESSION=other
    ok(m.hexe("send-keys", "-s", "other", "echo mark-$HEXE_SESSION-$((3*5))", "Enter"))
    m.type(f"{HEXE} switch-client -t other; echo switch-rc-$?")
    m.wait_for("[other]", what="the client to show session other")
    m.wait_for("mark-other-15")
    assert "new-rc-0" not in m.screen()
    # the same client, the same terminal: t has no client now, other has one
    by_name = {s["name"]: s for s in json.loads(ok(m.hexe("ls", "--json")))}
    assert len(by_name["t"]["clients"]) == 0 and len(by_name["other"]["clients"]) == 1
    # and back, with the command prompt (prefix :), a name completed by Tab
    m.prefix(":")
    m.type("switch-client -t ", enter=False)
    m.keys("Tab")
    m.wait_for(
        lambda s: status(m).rstrip().endswith(": switch-client -t t"), what="the name completed"
    )
    m.keys("Enter")
    m.wait_for("[t]")
    m.wait_for("switch-rc-")  # the shell in t went on after the switch
    # a missing session is an error on the status line; the client stays
    m.prefix(":")
    m.type("switch-client -t nosuch")
    m.wait_for("switch-client: no session nosuch")
    by_name = {s["name"]: s for s in json.loads(ok(m.hexe("ls", "--json")))}
    assert len(by_name["t"]["clients"]) == 1 and len(by_name["other"]["clients"]) == 0


def test_new_session_outside_a_session_starts_it_detached(sessions, tmp_path):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    log = tmp_path / "bg.log"
    result = m.hexe("--log-file", str(log), "new-session", "-d", "-s", "bg")
    assert result.returncode == 0 and result.stdout.strip() == "bg", result.stderr
    assert names(m) == ["bg", "t"]
    # the command turns the cyclic collector off for its own short life; the
    # server it forked must have it on (it ran without it, and held more memory)
    lines = log.read_text().splitlines()
    started = [json.loads(line) for line in lines if "server_started" in line]
    assert [e["gc"] for e in started] == [True], started
    again = m.hexe("new-session", "-d", "-s", "bg")
    assert again.returncode == 1 and "there is already a session bg" in again.stderr
    unnamed = m.hexe("new-session", "-d")
    assert unnamed.returncode == 0 and unnamed.stdout.strip() == "0"


def test_choose_tree_lists_sessions_tabs_panes_previews_and_switches(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("new-session", "-d", "-s", "other"))
    ok(m.hexe("new-tab", "-s", "other"))
    wait_for(
        lambda: len(json.loads(ok(m.hexe("list-panes", "-s", "other", "--json")))) == 2,
        what="two panes in other",
    )
    ok(m.hexe("send-keys", "-s", "other", "-t", "1", "echo preview-$((6*7))", "Enter"))
    m.prefix("s")
    screen = m.wait_for("Enter: choose", what="the chooser")
    assert "other  2 tabs, 2 panes" in screen and "t  1 tab, 1 pane  (this session)" in screen
    # the cursor starts on this session's active pane; its preview is below the tree
    assert ">*    pane 1:" in screen
    # to the other session (Left/Right jump between sessions), then down to its pane 1
    m.keys("Left")  # to this pane's session row, then the session before it
    m.wait_for(">*t  1 tab", what="the cursor on session t")
    m.keys("Left")
    m.wait_for("> other  2 tabs", what="the cursor on session other")
    m.keys("Down", "Down")
    m.wait_for("preview-42", what="the preview of other's pane 1")
    m.keys("Enter")
    m.wait_for("[other]", what="the switch to other")
    screen = m.wait_for(lambda s: "Enter: choose" not in s and "preview-42" in s)
    assert "0:sh*" in status(m) or "0:" in status(m)
    # prefix w opens it too; Escape closes it and nothing changes
    m.prefix("w")
    m.wait_for("Enter: choose")
    m.keys("Escape")
    m.wait_for(lambda s: "Enter: choose" not in s, what="the chooser to close")
    assert "[other]" in status(m)
    # from the command line it opens on the attached client
    ok(m.hexe("choose-tree", "-s", "other"))
    m.wait_for("Enter: choose")
    m.keys("q")
    m.wait_for(lambda s: "Enter: choose" not in s, what="the chooser to close")


def test_attach_without_a_name_opens_the_chooser_when_several_run(sessions, tmp_path):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("new-session", "-d", "-s", "other"))
    m.prefix("d")
    m.wait_for("[detached (from session t)]")
    # session="-": closing this client's tmux must not end a session
    again = Mux(tmp_path / "again", share=m, args=["attach"], session="-")
    try:
        # the chooser over the last used session, whose status line shows below
        # it (the two may reach the screen in two frames)
        again.wait_for(
            lambda s: "Enter: choose" in s and "[t]" in s.rstrip("\n").split("\n")[-1],
            what="the chooser over the last used session",
        )
        again.keys("Left")
        again.wait_for(">*t  1 tab")
        again.keys("Left")
        again.wait_for("> other")
        again.keys("Enter")
        again.wait_for("[other]")
    finally:
        again.close()
    # with one session running, attach goes straight in (no chooser)
    ok(m.hexe("kill", "other"))
    single = Mux(tmp_path / "single", share=m, args=["attach"], session="-")
    try:
        screen = single.wait_for("[t]")
        assert "Enter: choose" not in screen
    finally:
        single.close()
    # and without a terminal, attach says so and attaches nothing
    result = m.hexe("attach")
    assert result.returncode == 1 and "needs a terminal" in result.stderr


# -- a sandboxed pane may do none of it ----------------------------------------------------


def test_a_sandboxed_pane_cannot_rename_switch_start_or_look_at_sessions(sessions):
    m = sessions(SANDBOX_CONFIG)
    prompt_ready(m)
    ok(m.hexe("new-session", "-d", "-s", "other"))
    ok(m.hexe("send-keys", "-s", "other", "echo secret-$((7*6))", "Enter"))
    checks = {
        "rename": f"{HEXE} rename-session evil",
        "newsess": f"{HEXE} new-session -d -s evil",
        "switch": f"{HEXE} switch-client -t other",
        "choose": f"{HEXE} choose-tree",
        "prompt": f"{HEXE} command-prompt",
        "otherpanes": f"{HEXE} list-panes -s other",
        "othercap": f"{HEXE} capture-pane -s other -t 1",
        "killall": f"{HEXE} kill-server",
    }
    for label, command in checks.items():
        m.type(f"clear; {command}; echo {label}-rc=$?")
        screen = m.wait_for(f"{label}-rc=1", what=f"{label} to fail")
        assert "is refused from inside" in screen, screen
        assert "secret-42" not in screen
    assert names(m) == ["other", "t"]
    assert "[t]" in status(m)
    refused = [
        json.loads(line)["action"]
        for line in m.log.read_text().splitlines()
        if '"command_refused"' in line
    ]
    for action in ("rename-session", "new-session", "switch-client", "choose-tree"):
        assert action in refused, refused


def test_a_chain_from_a_sandboxed_pane_is_refused_command_by_command(sessions):
    """One connection for a whole chain: the server still judges each request
    by where its connection came from, the sandbox."""
    m = sessions(SANDBOX_CONFIG)
    prompt_ready(m)
    ok(m.hexe("new-session", "-d", "-s", "other"))
    ok(m.hexe("send-keys", "-s", "other", "echo secret-$((7*6))", "Enter"))
    # an allowed request first (it opens the connection), then ones that are not
    m.type(
        f"clear; {HEXE} zoom \\; capture-pane -s other -t 1 \\; "
        f"rename-session evil; echo chain-rc=$?"
    )
    screen = m.wait_for("chain-rc=1", what="the chain to fail")
    assert "is refused from inside" in screen, screen
    assert "secret-42" not in screen
    assert names(m) == ["other", "t"]  # the rename after it never ran


def test_a_pane_with_limits_cannot_have_the_server_start_a_session(sessions):
    """The new session's panes would start outside the caller's cgroup."""
    m = sessions('hexe.defaults { profile = "none", memory = "256M" }\n')
    prompt_ready(m)
    m.type(f"{HEXE} new-session -d -s free; echo limited-rc=$?")
    m.wait_for("limited-rc=1")
    m.wait_for("new-session is refused from inside pane 1: it has limits (256M)")
    assert names(m) == ["t"]
    # from the client (the command prompt) it is the user asking: allowed
    m.prefix(":")
    m.type("new-session -d -s free")
    wait_for(lambda: names(m) == ["free", "t"], what="the session started from the prompt")


# -- synchronize-panes, bell and activity, titles -------------------------------------------


def test_synchronize_panes_types_into_every_pane_of_the_tab(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))
    prompt_ready(m, 2)
    ok(m.hexe("synchronize-panes", "-s", "t"))
    m.wait_for(lambda s: "[sync]" in s.rstrip("\n").split("\n")[-1], what="[sync] on the status")
    m.type("echo both-$((20+22))")
    m.wait_for(lambda s: s.count("both-42") == 2, what="the output in both panes")
    # a paste from the outer terminal (bracketed: hexe asks for it) goes to both too
    subprocess.run([*m.tmux, "set-buffer", "echo pasted-$((5*5))\n"], check=True)
    subprocess.run([*m.tmux, "paste-buffer", "-p", "-t", "0"], check=True)
    m.wait_for(lambda s: s.count("pasted-25") == 2, what="the paste's output in both panes")
    ok(m.hexe("new-tab", "-s", "t"))  # another tab is not synchronized
    prompt_ready(m)
    m.type("echo alone-$((1+1))")
    screen = m.wait_for("alone-2")
    assert screen.count("alone-2") == 1
    ok(m.hexe("select-tab", "-s", "t", "0"))
    ok(m.hexe("synchronize-panes", "-s", "t"))  # off again
    m.wait_for(lambda s: "[sync]" not in status(m), what="[sync] gone")
    m.type("echo one-$((3+3))")
    screen = m.wait_for("one-6")
    assert screen.count("one-6") == 1


def test_a_hidden_tab_is_not_flagged_for_output_unless_monitor_activity_is_on(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    hidden = int(ok(m.hexe("new-tab", "-s", "t", "-P")))
    prompt_ready(m)
    ok(m.hexe("select-tab", "-s", "t", "0"))
    m.wait_for(lambda s: "0:sh*" in status(m), what="tab 0 shown")
    ok(m.hexe("send-keys", "-s", "t", "-t", str(hidden), "echo busy-$((2+2))", "Enter"))
    wait_for(lambda: "busy-4" in ok(m.hexe("capture-pane", "-s", "t", "-t", str(hidden))))
    m.type("echo shown-$((1+2))")
    m.wait_for("shown-3")  # a frame drawn after the hidden tab's output
    assert "1:sh " in status(m) + " " and "#" not in status(m), status(m)


def test_bell_and_activity_in_a_hidden_tab_are_flagged_and_cleared_on_visit(sessions):
    m = sessions(NONE_CONFIG + "hexe.options { monitor_activity = true }\n")
    prompt_ready(m)
    hidden = int(ok(m.hexe("new-tab", "-s", "t", "-P")))
    prompt_ready(m)
    ok(m.hexe("select-tab", "-s", "t", "0"))
    m.wait_for(lambda s: "0:sh*" in status(m), what="tab 0 shown")
    # the outer tmux shows another window, so a bell reaching it is flagged there
    subprocess.run([*m.tmux, "new-window", "sleep 600"], check=True)
    ok(m.hexe("send-keys", "-s", "t", "-t", str(hidden), "printf 'x\\a'", "Enter"))

    def outer_bell() -> bool:
        result = subprocess.run(
            [*m.tmux, "display-message", "-p", "-t", ":0", "#{window_bell_flag}"],
            capture_output=True, text=True,
        )  # fmt: skip
        return result.stdout.strip() == "1"

    wait_for(outer_bell, what="the bell forwarded to the outer terminal")
    subprocess.run([*m.tmux, "kill-window", "-t", ":1"], check=True)
    m.wait_for(lambda s: "1:sh!" in status(m), what="the bell flag on tab 1")
    ok(m.hexe("select-tab", "-s", "t", "1"))
    wait_for(lambda: "!" not in status(m) and "1:sh*" in status(m), what="flags cleared")
    ok(m.hexe("select-tab", "-s", "t", "0"))
    ok(m.hexe("send-keys", "-s", "t", "-t", str(hidden), "echo busy", "Enter"))
    wait_for(lambda: "1:sh#" in status(m), what="the activity flag on tab 1")


def test_outer_title_follows_the_focused_pane_sanitized(sessions):
    m = sessions(NONE_CONFIG + "hexe.options { set_titles = true }\n")
    prompt_ready(m)
    m.type("printf '\\033]2;plain-title\\007'")
    wait_for(lambda: outer_title(m) == "plain-title", what="the outer title")
    # a hostile title: C1 controls (CSI, OSC as UTF-8), a BEL-less escape, 400 characters
    m.type("printf '\\033]2;evil\\302\\233 6n\\302\\2352;pwned\\033[31mred\\007'")
    wait_for(lambda: outer_title(m).startswith("evil"), what="the hostile title")
    title = outer_title(m)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in title), repr(title)
    assert "pwned" not in title or title == "evil 6n2;pwned"
    m.type("printf '\\033]2;%0400d\\007' 0")
    wait_for(lambda: set(outer_title(m)) == {"0"}, what="the long title")
    assert len(outer_title(m)) == 128


def test_without_set_titles_the_outer_title_is_left_alone(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    before = outer_title(m)
    m.type("printf '\\033]2;inner-only\\007'; echo set-$((1+2))")
    m.wait_for("set-3")
    ok(m.hexe("list-panes", "-s", "t"))  # a round trip: the frame with the title was sent
    assert outer_title(m) == before != "inner-only"


# -- the status line's clock, and idling ----------------------------------------------------

TICKING = """
local n = 0
hexe.status { left = { "session" }, right = { function() n = n + 1; return "tick" .. n end },
              interval = 0.2 }
"""


def test_a_time_based_segment_is_redrawn_on_its_interval_while_idle(sessions):
    m = sessions(NONE_CONFIG + TICKING)
    prompt_ready(m)
    first = wait_for(lambda: _tick(m), what="a tick")
    wait_for(lambda: (_tick(m) or 0) >= first + 5, timeout=10, what="the segment to advance")


def _tick(m: Mux) -> int | None:
    line = status(m)
    at = line.rfind("tick")
    digits = line[at + 4 :].strip() if at >= 0 else ""
    return int(digits) if digits.isdigit() else None


def _wakeups(pid: int) -> int:
    """How often the server slept and woke (voluntary context switches)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


IDLE_STATUS = 'hexe.status { left = { "session", "tabs" }, right = { "title" } }\n'


def prompt_ready_after(screen: str, marker: str) -> bool:
    """A shell prompt on a line after the one where ``marker`` is."""
    lines = screen.rstrip("\n").split("\n")[:-1]  # not the status line
    at = max(i for i, line in enumerate(lines) if marker in line)
    return any(PROMPT_RE.search(line) for line in lines[at + 1 :])


def test_without_time_based_segments_an_idle_server_does_not_wake(sessions):
    m = sessions(NONE_CONFIG + IDLE_STATUS)
    prompt_ready(m)
    pid = m.server_pid()
    # the output, not the typed line ("settled" would match the command's own
    # echo, and the output and next prompt would land in the window), then
    # the prompt after it
    m.type("echo sett''led-$((6*7))")
    m.wait_for(lambda s: "settled-42" in s and prompt_ready_after(s, "settled-42"))
    before = _wakeups(pid)
    time.sleep(3)  # a measurement window, not a wait for a condition
    woke = _wakeups(pid) - before
    assert woke <= 2, f"the idle server woke {woke} times in 3 s"
    # the built-in clock shows minutes: it is drawn when the minute turns
    # (tests/unit/test_status_timer.py), not on every interval
    ok(m.hexe("detach", "-s", "t"))
    config = NONE_CONFIG + 'hexe.status { right = { "clock" }, interval = 0.25 }\n'
    clock = Mux(m.base / "clock", config, session="c")
    try:
        clock.wait_for("[c]")
        pid = clock.server_pid()
        before = _wakeups(pid)
        time.sleep(2)  # the same window (a minute may turn in it: one wake more)
        assert _wakeups(pid) - before <= 3
    finally:
        clock.close()


# -- the command prompt ---------------------------------------------------------------------


def test_command_prompt_completes_names_runs_actions_and_shows_errors(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    m.prefix(":")
    m.type("rename-t", enter=False)
    m.keys("Tab")
    m.wait_for(lambda s: status(m).rstrip().endswith(": rename-tab"), what="the name completed")
    m.type("logs")
    m.wait_for(lambda s: "0:logs" in status(m), what="the tab renamed")
    m.prefix(":")
    m.type("split-", enter=False)
    m.keys("Tab")
    m.wait_for(": split-", what="the common part of split-right and split-down")
    m.keys("Escape")
    # the prompt closed before the next prefix: an Escape and a C-b read
    # together are one key, M-C-b (as in any terminal)
    m.wait_for(lambda s: ": split-" not in s, what="the prompt to close")
    m.prefix(":")
    m.type("nosuch-action 3")
    m.wait_for('"nosuch-action" is not an action')
    m.prefix(":")
    m.type("select-tab 7")
    m.wait_for("no tab 7; tabs are 0..0")
    m.prefix(":")
    m.type("rename-session renamed")
    m.wait_for("[renamed]")


def test_a_chain_from_inside_a_pane_goes_to_the_session_its_new_session_started(sessions):
    m = sessions(NONE_CONFIG)
    prompt_ready(m)
    m.type(f"{HEXE} new-session -d -s chained \\; split-right -P; echo chain-rc-$?")
    m.wait_for("chain-rc-0")
    assert names(m) == ["chained", "t"]
    # the split went to the new session (started by this session's server), not to t
    wait_for(lambda: len(json.loads(ok(m.hexe("list-panes", "-s", "chained", "--json")))) == 2)
    assert len(json.loads(ok(m.hexe("list-panes", "-s", "t", "--json")))) == 1
