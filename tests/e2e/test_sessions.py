"""Sessions end to end: detach and reattach, two clients, ls/kill, scripting, robustness.

Clients are real ``hexe mux``/``hexe attach`` processes in private tmux
servers; commands are real ``hexe`` processes; the server is the real one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from support import NOBODY, needs_cgroup_limits, wait_for
from support import hexe as support_hexe
from support.mux import Mux, _alive, ok, panes, prompt_ready

from hexe.wire import protocol

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

NONE_CONFIG = 'hexe.defaults { profile = "none" }\n'


def info(m: Mux) -> dict:
    (session,) = json.loads(ok(m.hexe("ls", "--json")))
    return session


def second_client(m: Mux, tmp_path: Path, name: str, *args: str, **kw) -> Mux:
    c = Mux(tmp_path / name, share=m, args=list(args) or ["attach", "t"], **kw)
    c.wait_for("[t]", what=f"the {name} client's status line")
    return c


def sock_path(m: Mux) -> Path:
    return m.run_dir / "hexe" / "t.sock"


def raw_client(m: Mux) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock_path(m)))
    s.settimeout(10)
    return s


# -- detach, reattach, what survives -------------------------------------------------


def test_output_made_while_detached_is_there_on_reattach(mux, tmp_path):
    m = mux()
    prompt_ready(m)
    m.type("seq 1 300")
    m.wait_for(lambda s: "\n300\n" in s, what="seq to finish")

    def at_prompt():
        x, y = m.cursor()
        return (x, y) if x == 2 and m.lines()[y].rstrip() in ("#", "$") else None

    x0, y0 = wait_for(at_prompt, what="the cursor after the next prompt")
    m.prefix("d")
    m.wait_for("[detached (from session t)]")
    assert info(m)["clients"] == []
    # while nobody is attached: type into the pane from outside, and let it print
    ok(m.hexe("send-keys", "-s", "t", "echo made-$((6*7))-while-away", "Enter"))
    c = second_client(m, tmp_path, "again")
    screen = c.wait_for("made-42-while-away")
    # the screen it left is still there, scrolled up by what came since, the
    # cursor where the shell left it (after the prompt below the output)
    assert "\n300\n" in screen
    # ... and the cursor after the new prompt: two lines further (command, output)
    x, y = c.cursor()
    assert (x, y) == (2, min(y0 + 2, 38)), (x, y, x0, y0, screen)  # 38: the last pane row
    # and the scrollback: copy mode goes back to the first line of seq
    c.prefix("[")
    c.keys("g")
    c.wait_for(lambda s: re.search(r"^1\s*$", s, re.MULTILINE), what="line 1 of the history")


def test_a_sigkilled_client_leaves_the_session_running(mux, tmp_path):
    m = mux()
    prompt_ready(m)
    m.type("echo before-$((20+1))")
    m.wait_for("before-21")
    (client,) = info(m)["clients"]
    os.kill(client["pid"], signal.SIGKILL)
    wait_for(lambda: info(m)["clients"] == [], what="the server to notice the client died")
    assert panes(m)[0]["state"] == "running"
    ok(m.hexe("send-keys", "-s", "t", "echo after-$((20+2))", "Enter"))
    c = second_client(m, tmp_path, "again")
    screen = c.wait_for("after-22")
    assert "before-21" in screen


def test_closing_the_terminal_detaches_and_the_shell_lives_on(mux):
    m = mux()
    prompt_ready(m)
    m.type("echo alive-$((1+1))")
    m.wait_for("alive-2")
    shell = panes(m)[0]["pid"]
    # the terminal goes away: the tmux server holding the client is killed (SIGHUP)
    subprocess.run([*m.tmux, "kill-server"], check=True)
    wait_for(lambda: info(m)["clients"] == [], what="the client to go")
    assert os.path.exists(f"/proc/{shell}")


def test_detach_command_detaches_the_last_active_client(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("detach", "-s", "t"))
    m.wait_for("[detached (from session t)]")
    assert m.server_pid() is not None
    result = m.hexe("detach", "-s", "t")
    assert result.returncode == 1 and "no client is attached" in result.stderr


# -- two clients --------------------------------------------------------------------


def test_two_clients_share_the_session_at_the_smallest_size(mux, tmp_path):
    m = mux(cols=120, rows=40)
    prompt_ready(m)
    small = second_client(m, tmp_path, "small", "attach", "t", cols=80, rows=20)
    assert len(info(m)["clients"]) == 2
    small.type("stty size")
    small.wait_for("19 80")  # the session took the smaller terminal's size
    big = m.wait_for("19 80")  # both see the same pane
    # the big terminal shows the session in its top-left corner, dots beyond
    lines = big.split("\n")
    assert lines[0][80:].strip("·") == "" and "·" in lines[0][80:]
    assert set(lines[30].strip()) == {"·"}
    # typing in one shows in the other
    m.type("echo from-big-$((5+5))")
    small.wait_for("from-big-10")
    # the small one leaves: the session grows back
    small.prefix("d")
    small.wait_for("[detached (from session t)]")
    m.type("stty size")
    m.wait_for("39 120")


def test_attach_d_detaches_the_other_clients(mux, tmp_path):
    m = mux()
    prompt_ready(m)
    second_client(m, tmp_path, "taker", "attach", "-d", "t")
    m.wait_for("[detached by another client (attach -d)]")
    assert len(info(m)["clients"]) == 1


# -- ls and kill ----------------------------------------------------------------------


def test_ls_lists_name_tabs_panes_clients_created(mux):
    m = mux()
    prompt_ready(m)
    ok(m.hexe("new-tab", "-s", "t"))
    ok(m.hexe("split-right", "-s", "t"))
    table = ok(m.hexe("ls"))
    header, row = table.strip().split("\n")
    assert header.split()[:5] == ["NAME", "TABS", "PANES", "CLIENTS", "CREATED"]
    assert row.split()[:4] == ["t", "2", "3", "1"]
    session = info(m)
    assert session["tabs"] == 2 and session["panes"] == 3 and len(session["clients"]) == 1
    assert abs(session["created"] - time.time()) < 600


def test_ls_without_sessions_says_so(tmp_path):
    from support import clean_env, hexe

    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    result = hexe("ls", env=clean_env(XDG_RUNTIME_DIR=str(run)))
    assert result.returncode == 1 and "no sessions" in result.stderr


def test_kill_server_ends_every_session_as_in_tmux(tmp_path):
    from support import clean_env, hexe

    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = clean_env(XDG_RUNTIME_DIR=str(run), HEXE_VOIDBOX_PROFILE="none")
    for name in ("one", "two"):
        assert hexe("new-session", "-d", "-s", name, env=env).returncode == 0
    listed = hexe("ls", "--json", env=env)
    servers = [s["pid"] for s in json.loads(listed.stdout)]
    assert len(servers) == 2, listed.stdout
    result = hexe("kill-server", env=env)
    assert result.returncode == 0, result.stderr
    assert not any(_alive(pid) for pid in servers)  # it returns once they are gone
    assert hexe("ls", env=env).returncode == 1
    again = hexe("kill-server", env=env)
    assert again.returncode == 1 and "no sessions" in again.stderr


@needs_cgroup_limits()
def test_kill_ends_every_pane_tree_cgroup_and_socket(mux):
    m = mux('hexe.defaults { profile = "full", memory = "64M", pids = 50 }\n')
    prompt_ready(m)
    m.type("sleep 777 & echo started-$((2*3))")
    m.wait_for("started-6")
    ok(m.hexe("split-down", "-s", "t"))
    wait_for(lambda: all(p["state"] == "running" for p in panes(m)) and len(panes(m)) == 2)
    listed = panes(m)
    cgroups = [Path(c) for p in listed for c in p["isolation"]["cgroups"]]
    assert len(cgroups) >= 2 and all(c.is_dir() for c in cgroups), cgroups
    host_pids = [p["init_pid"] for p in listed] + [p["pid"] for p in listed]
    server = m.server_pid()
    ok(m.hexe("kill", "t"))
    # `hexe kill` returns once the server is gone, its panes with it
    assert not _alive(server)
    for pid in host_pids:
        assert not _alive(pid), f"pid {pid} survived hexe kill"
    assert not _cmdline_has(b"sleep\x00777")
    for cgroup in cgroups:
        assert not cgroup.exists(), f"{cgroup} survived hexe kill"
    assert not sock_path(m).exists()
    m.wait_for("[session t ended]")
    result = m.hexe("kill", "t")
    assert result.returncode == 1 and "no session t" in result.stderr


@needs_cgroup_limits()
def test_sigterm_to_the_server_ends_everything_too(mux):
    m = mux('hexe.defaults { profile = "default", pids = 50 }\n')
    prompt_ready(m)
    (pane,) = panes(m)
    (cgroup,) = map(Path, pane["isolation"]["cgroups"])
    assert cgroup.is_dir()
    server = m.server_pid()
    os.kill(server, signal.SIGTERM)
    wait_for(lambda: not _alive(server), what="the server to exit")
    assert not _alive(pane["pid"]) and not cgroup.exists() and not sock_path(m).exists()


# -- scripting ----------------------------------------------------------------------


def test_scripting_split_send_keys_select_resize_kill(mux):
    m = mux()
    prompt_ready(m)
    new = int(ok(m.hexe("split-right", "-s", "t", "-P")))
    prompt_ready(m, 2)
    ok(m.hexe("send-keys", "-s", "t", "-t", str(new), "echo right-$((7*6))", "Enter"))
    screen = m.wait_for("right-42")
    assert [line.find("right-42") for line in screen.split("\n") if "right-42" in line][-1] > 55
    # send-text is literal: a key name is text there
    ok(m.hexe("send-text", "-s", "t", "-t", str(new), "echo Enter-$((1+2))\n"))
    m.wait_for("Enter-3")
    listed = {p["id"]: p for p in panes(m)}
    assert listed[new]["focused"] and not listed[1]["focused"]
    ok(m.hexe("select-pane", "-s", "t", "1"))
    listed = {p["id"]: p for p in panes(m)}
    assert listed[1]["focused"]
    width = listed[1]["cols"]
    ok(m.hexe("resize-right", "-s", "t", "-t", "1", "10"))
    assert {p["id"]: p for p in panes(m)}[1]["cols"] == width + 10
    ok(m.hexe("kill-pane", "-s", "t", "-t", str(new)))
    wait_for(lambda: [p["id"] for p in panes(m)] == [1], what="the pane to close")
    tab = int(ok(m.hexe("new-tab", "-s", "t", "-P")))
    m.wait_for(lambda s: " 1:" in s.split("\n")[-2], what="tab 1 in the status line")
    ok(m.hexe("select-tab", "-s", "t", "0"))
    assert [p["active"] for p in panes(m)] == [True, False] and tab in [p["id"] for p in panes(m)]


def test_list_panes_reports_pid_cwd_command_and_isolation(mux):
    m = mux('hexe.defaults { profile = "full", memory = "128M" }\n')
    prompt_ready(m)
    m.type("cd /usr/share && sleep 600")

    def sleeping():
        (p,) = panes(m)
        return p if p["current_command"] == "sleep" else None

    pane = wait_for(sleeping, what="sleep in the foreground")
    assert pane["cwd"] == "/usr/share"
    assert pane["command"] == ["/bin/sh"]
    iso = pane["isolation"]
    assert iso["profile"] == "full" and iso["memory_max"] == 128 << 20
    assert set(iso["namespaces"]) >= {"user", "pid", "mount", "net"}
    # the pid is the shell's on the host, below the sandbox's PID 1
    assert _comm(pane["pid"]) == "sh" and _comm(pane["init_pid"]) == "hexe-init"
    assert os.readlink(f"/proc/{pane['pid']}/ns/pid") != os.readlink("/proc/self/ns/pid")
    table = ok(m.hexe("list-panes", "-s", "t"))
    assert "full 128M" in table and "/usr/share" in table and "sleep" in table


def test_commands_inside_a_pane_target_their_own_session_and_pane(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    # typed in pane 2 (focused), with no -s or -t: HEXE_SESSION and HEXE_PANE decide
    m.type(f"{sys.executable} -m hexe send-keys 'echo self-$((9*9))' Enter")
    screen = m.wait_for("self-81")
    (at,) = [
        i for i, line in enumerate(screen.split("\n")) if "self-81" in line and "echo" not in line
    ]
    assert at > 20  # the lower pane
    m.type(f"{sys.executable} -m hexe send-keys -t 1 'echo other-$((9*8))' Enter")
    screen = m.wait_for("other-72")
    (at,) = [
        i for i, line in enumerate(screen.split("\n")) if "other-72" in line and "echo" not in line
    ]
    assert at < 20  # the upper pane: an unisolated pane may drive the session


def test_a_sandboxed_pane_may_only_act_on_itself(mux):
    m = mux('hexe.defaults { profile = "default" }\n')  # user + pid namespaces
    prompt_ready(m)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    hexe = f"{sys.executable} -m hexe"
    m.type(f"{hexe} send-keys -t 1 'echo escaped' Enter; echo rc-$?")
    m.wait_for("rc-1")
    m.wait_for("a sandboxed pane may only act on itself")
    m.type(f"{hexe} new-tab; echo tab-rc-$?")
    m.wait_for("tab-rc-1")
    m.type(f"{hexe} kill; echo kill-rc-$?")
    m.wait_for("kill-rc-1")
    m.type(f"HEXE_SESSION= {hexe} attach t; echo attach-rc-$?")
    m.wait_for("attach-rc-1")
    m.wait_for("attaching from inside pane 2 is refused")
    assert "escaped" not in "\n".join(m.lines()[:18])
    assert len(info(m)["clients"]) == 1 and info(m)["tabs"] == 1
    # on itself it may: a split (which inherits its isolation) and typing
    m.type(f"{hexe} split-right; {hexe} send-keys 'echo own-$((4*4))' Enter")
    m.wait_for("own-16")
    listed = panes(m)
    assert len(listed) == 3 and {p["isolation"]["profile"] for p in listed} == {"default"}
    # and it may detach you (a nuisance at worst)
    m.type(f"{hexe} detach")
    m.wait_for("[detached (from session t)]")


def test_unknown_action_pane_and_session_are_clear_errors(mux):
    m = mux()
    prompt_ready(m)
    result = m.hexe("select-pane", "-s", "t", "99")
    assert result.returncode == 1 and "no pane 99 in session t; panes: 1" in result.stderr
    result = m.hexe("send-keys", "-s", "t", "-t", "42", "x")
    assert result.returncode == 1 and "no pane 42" in result.stderr
    result = m.hexe("select-tab", "-s", "t", "7")
    assert result.returncode == 1 and "no tab 7" in result.stderr
    result = m.hexe("split-right", "-s", "nosuch")
    assert result.returncode == 1 and "no session nosuch" in result.stderr
    result = m.hexe("splt-right")
    assert result.returncode == 2 and "split-right" in result.stderr


def test_reload_config_adds_new_tabs_keeps_panes_and_refuses_a_bad_one(mux):
    m = mux()
    prompt_ready(m)
    m.type("echo keep-$((3+3))")
    m.wait_for("keep-6")
    shell = panes(m)[0]["pid"]
    good = m.config.read_text()
    m.config.write_text(good + "hexe.defaults { profile = = }\n")
    result = m.hexe("reload-config", "-s", "t")
    assert result.returncode == 1 and "config not reloaded" in result.stderr
    assert "init.lua:" in result.stderr  # where the error is
    m.wait_for("config not reloaded")
    m.config.write_text(
        good
        + 'hexe.key("prefix g", "send-keys", "echo bound-$((5*5))", "Enter")\n'
        + 'hexe.layout { hexe.tab { name = "main", hexe.pane {} },'
        + ' hexe.tab { name = "logs", hexe.pane { command = { "sh" } } } }\n'
    )
    ok(m.hexe("reload-config", "-s", "t"))
    # the running tab has no name: both named tabs of the new layout are new (asked
    # of the server: the status line shows "config not reloaded" for a few seconds)
    wait_for(
        lambda: {(p["tab"], p["tab_name"]) for p in panes(m)} >= {(1, "main"), (2, "logs")},
        what="the new tabs",
    )
    assert panes(m)[0]["pid"] == shell and os.path.exists(f"/proc/{shell}")
    m.prefix("g")  # the new binding works at once
    m.wait_for("bound-25")


# -- robustness ---------------------------------------------------------------------


def test_garbage_and_truncated_frames_drop_only_that_client(mux):
    m = mux()
    prompt_ready(m)
    for junk in (b"\xff" * 64, protocol.HEADER.pack(protocol.HELLO, 5) + b"{", b"\x01\x00"):
        s = raw_client(m)
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        try:
            s.recv(1 << 16)
        except OSError:
            pass
        s.close()
    s = raw_client(m)
    s.sendall(protocol.encode(protocol.HELLO, b"not json"))
    assert s.recv(1 << 16) == b""  # dropped
    s.close()
    m.type("echo still-$((8+8))")
    m.wait_for("still-16")
    assert len(info(m)["clients"]) == 1
    assert "client_protocol_error" in m.log.read_text()


def test_a_version_mismatch_is_explained(mux):
    m = mux()
    prompt_ready(m)
    s = raw_client(m)
    s.sendall(protocol.encode_json(protocol.HELLO, {"version": 999, "cols": 80, "rows": 24}))
    frames = protocol.Decoder().feed(s.recv(1 << 16))
    assert frames[0].kind == protocol.BYE
    assert "protocol 2" in frames[0].json()["message"] and "999" in frames[0].json()["message"]


def test_a_client_that_stops_reading_is_dropped_and_the_session_goes_on(mux):
    m = mux(NONE_CONFIG + "hexe.options { client_timeout = 2 }\n")
    prompt_ready(m)
    s = raw_client(m)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(protocol.encode_json(protocol.HELLO, {"version": 2, "cols": 120, "rows": 40}))
    # never read again; make the pane draw for a few seconds: more frames than
    # the socket's kernel buffer holds
    # (full-width lines: every frame redraws every row, several KiB each)
    m.type(
        "end=$(($(date +%s)+4)); while [ $(date +%s) -lt $end ]; do seq -f %0110g 1 2000; done; "
        "echo flood-$((1+1))-done"
    )
    # meanwhile the attached client is served: its screen keeps changing
    m.wait_for("flood-2-done", timeout=30)
    m.type("echo alive-$((10+1))")
    m.wait_for("alive-11")
    wait_for(
        lambda: len(info(m)["clients"]) == 1,
        timeout=30,
        what="the non-reading client to be dropped",
    )
    assert "client_stalled" in m.log.read_text()
    s.close()


def test_a_foreign_uid_is_refused_and_logged(nobody):
    # a session in a directory the unprivileged user can reach, with the
    # socket's own permissions loosened: the server's check (SO_PEERCRED) is
    # what must refuse
    base = Path(tempfile.mkdtemp(prefix="hexe-peer-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    m = Mux(base / "m", "")
    try:
        m.wait_for("[t]")
        for path in (base / "m", m.run_dir, m.run_dir / "hexe"):
            os.chmod(path, 0o755)
        os.chmod(sock_path(m), 0o777)
        code = (
            "import socket\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({str(sock_path(m))!r})\n"
            "try:\n"
            "    s.sendall(bytes([1, 0, 0, 0, 2]) + b'{}')\n"
            "    print('closed' if s.recv(100) == b'' else 'answered')\n"
            "except (BrokenPipeError, ConnectionResetError):\n"
            "    print('closed')\n"
        )
        result = subprocess.run(
            [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                nobody.python,
                "-c",
                code,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            cwd="/",
        )
        assert result.stdout.strip() == "closed", result.stdout + result.stderr
        log = m.log.read_text()
        assert "client_refused" in log and f'"uid": {NOBODY}' in log
        for path in (m.run_dir, m.run_dir / "hexe"):
            os.chmod(path, 0o700)  # hexe itself refuses a loose socket directory
        assert len(info(m)["clients"]) == 1
    finally:
        m.close()
        shutil.rmtree(base, ignore_errors=True)


def test_a_stale_socket_is_replaced(tmp_path):
    first = Mux(tmp_path / "s", NONE_CONFIG)
    pids = []
    try:
        first.wait_for("[t]")
        server = first.server_pid()
        pids = [p["pid"] for p in panes(first)]
        os.kill(server, signal.SIGKILL)  # dies without removing its socket
        wait_for(lambda: not _alive(server), what="the server to die")
        assert sock_path(first).exists()
        again = Mux(tmp_path / "again", share=first)
        try:
            again.wait_for("[t]", what="a new server on the stale socket")
            assert again.server_pid() != server
        finally:
            again.close()
    finally:
        first.close()
        for pid in pids:  # a SIGKILLed server cannot end its panes
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_two_muxes_started_at_once_end_up_in_one_server(tmp_path):
    first = Mux(tmp_path / "a", "")
    second = Mux(tmp_path / "b", share=first, args=["mux", "--session", "t"])
    try:
        first.wait_for("[t]")
        second.wait_for("[t]")
        sessions = json.loads(ok(first.hexe("ls", "--json")))
        assert len(sessions) == 1 and len(sessions[0]["clients"]) == 2

        # one server process (daemonized: a Python process without a terminal), not two;
        # a moment's fork of it (the config's preflight, a sandbox prepared ahead
        # before its exec) looks the same while it lasts: a second server stays
        def servers() -> list[str]:
            return [
                p
                for p in os.listdir("/proc")
                if p.isdigit()
                and f"\0{first.log}\0" in _cmdline_of(p)
                and _stat(p)[0].startswith("python")
                and _stat(p)[5] == "0"
            ]

        wait_for(lambda: servers() == [str(first.server_pid())], what=f"one server: {servers()}")
    finally:
        second.close()
        first.close()


@pytest.mark.slow
def test_fifty_panes_and_one_that_exits_at_once(mux):
    # fifty tabs of a pane each, spawned together at the session's start (a
    # script opening them one hexe new-tab at a time is bench/scale.py's)
    m = mux(
        NONE_CONFIG
        + "hexe.options { remain_on_exit = false }\n"
        + "local tabs = {}\nfor i = 1, 50 do tabs[i] = hexe.tab { hexe.pane {} } end\n"
        + "hexe.layout(tabs)\n"
    )
    prompt_ready(m)
    ok(m.hexe("select-tab", "-s", "t", "49"))
    wait_for(
        lambda: [p["state"] for p in panes(m)].count("running") == 50,
        timeout=60,
        what="50 running panes",
    )
    ok(m.hexe("send-keys", "-s", "t", "exit", "Enter"))  # the focused pane (tab 49) ends
    wait_for(lambda: len(panes(m)) == 49, what="the exited pane to go")
    ok(m.hexe("select-tab", "-s", "t", "0"))
    m.type("echo fine-$((25*2))")
    m.wait_for("fine-50")


def test_the_server_does_not_load_openssl(mux):
    """A session's server holds scrollback for hours: nothing it does needs
    OpenSSL, whose libcrypto took ~3 MB of its resident memory (pyte's wcwidth
    from 0.3 on, and the stdlib's secrets, load it)."""
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("split-right", "-s", "t"))  # a pane spawned by the running server too
    prompt_ready(m, 2)
    with open(f"/proc/{m.server_pid()}/maps") as f:
        maps = f.read()
    assert "libpython" in maps or "python" in maps  # the right process
    assert "libcrypto" not in maps and "libssl" not in maps


# -- small helpers ------------------------------------------------------------------


def _comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def _cmdline_of(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""


def _cmdline_has(needle: bytes) -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
    return False


def _stat(pid: str) -> list[str]:
    """comm, state, ppid, pgrp, session, tty_nr, ... of /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            head, rest = f.read().rsplit(")", 1)
    except OSError:
        return ["", "", "", "", ""]
    return [head.split("(", 1)[1], *rest.split()]


def test_a_flooding_pane_and_an_instantly_exiting_one_do_not_stall_the_others(mux):
    m = mux(
        NONE_CONFIG
        + "hexe.layout { hexe.tab { hexe.split { direction = 'right',"
        + " hexe.pane { name = 'shell' },"
        + " hexe.split { direction = 'down',"
        + "   hexe.pane { name = 'flood', command = { 'sh', '-c', 'yes flood-flood-flood' } },"
        + "   hexe.pane { name = 'gone', command = { 'true' } } } } } }\n"
    )
    wait_for(lambda: len(panes(m)) == 2, what="the pane running true to go")
    shell = next(p for p in panes(m) if p["name"] == "shell")
    # the flood runs flat out; the shell beside it still answers at once
    for n in range(3):
        ok(
            m.hexe(
                "send-keys", "-s", "t", "-t", str(shell["id"]), f"echo answer-$((100+{n}))", "Enter"
            )
        )
        m.wait_for(f"answer-10{n}", timeout=20)
    flood = next(p for p in panes(m) if p["name"] == "flood")
    assert flood["state"] == "running"


def test_an_unfocused_flood_is_read_to_its_end_while_the_focused_shell_answers(mux):
    # the unfocused flood is left unread for a while after each batch (its time
    # share); it still reaches the end of its output and shows it
    m = mux(
        NONE_CONFIG
        + "hexe.layout { hexe.tab { hexe.split { direction = 'right',"
        + " hexe.pane { name = 'shell' },"
        + " hexe.pane { name = 'flood', command = { 'sh', '-c',"
        + "   'seq 1 150000; echo flood-$((2+3))-done; exec sleep 600' } } } } }\n"
    )
    listed = {p["name"]: p for p in panes(m)}
    assert listed["shell"]["focused"] and not listed["flood"]["focused"]
    for n in range(3):
        m.type(f"echo typed-$((200+{n}))")
        m.wait_for(f"typed-20{n}", timeout=20)
    m.wait_for("flood-5-done", timeout=60)
    assert "150000" in m.screen()


def test_attach_without_a_name_takes_the_last_used_session(mux, tmp_path):
    m = mux()
    prompt_ready(m)
    other = Mux(tmp_path / "u", share=m, args=["mux", "--session", "u"], session="u")
    try:
        other.wait_for("[u]")
        # two sessions, neither called main: a command must say which
        result = m.hexe("list-panes")
        assert result.returncode == 1 and "several sessions are running (t, u)" in result.stderr
        assert ok(m.hexe("list-panes", "-s", "u"))
        m.prefix("d")
        m.wait_for("[detached (from session t)]")
        other.type("echo used-last")  # typing (and detaching) makes u the last used
        other.wait_for("used-last")
        other.prefix("d")
        other.wait_for("[detached (from session u)]")
        again = Mux(tmp_path / "again", share=m, args=["attach"], session="u")
        try:
            again.wait_for("[u]", what="attach to the last used session, u")
        finally:
            again.close()
    finally:
        other.close()


@pytest.mark.parametrize("profile", ["none", "full"])
def test_a_pane_whose_command_cannot_start_stays_with_the_error(mux, profile):
    """A layout pane running a missing command: its pane shows the sandbox's message
    and exit status (like tmux's remain-on-exit), and ``list-panes`` says failed."""
    m = mux(
        "hexe.layout { hexe.tab { hexe.split { direction = 'right',"
        f" hexe.pane {{ isolation = {{ profile = '{profile}' }} }},"
        f" hexe.pane {{ command = {{ 'hexe-no-such-command' }},"
        f" isolation = {{ profile = '{profile}' }} }} }} }} }}\n",
    )
    # the message wraps in a narrow pane: its start, then the rest from list-panes
    screen = m.wait_for("exec hexe-no-such-command: No suc")
    assert "127" in screen, screen
    (failed,) = [p for p in panes(m) if p["command"] == ["hexe-no-such-command"]]
    assert failed["state"] == "failed" and failed["exit_code"] == 127
    assert "No such file or directory" in failed["message"]
    table = ok(m.hexe("list-panes", "-s", "t"))
    assert "failed 127" in table and "exec hexe-no-such-command" in table


# -- capture-pane -----------------------------------------------------------------


def test_capture_pane_prints_the_screen_scrollback_and_colours(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    m.type("seq -f 'line-%g' 1 120; printf '\\033[31mred-word\\033[0m\\n'")
    m.wait_for("red-word")
    screen = ok(m.hexe("capture-pane", "-s", "t", "-p"))
    assert "red-word" in screen.splitlines() and "line-120" in screen
    assert "line-1\n" not in screen  # scrolled off: in the scrollback, not the screen
    everything = ok(m.hexe("capture-pane", "-s", "t", "-S", "-", "-E", "-"))
    assert "line-1\n" in everything and "line-120\n" in everything
    back = ok(m.hexe("capture-pane", "-s", "t", "-S", "-200", "-E", "-1"))
    assert "line-1\n" in back and "red-word" not in back.splitlines()
    coloured = ok(m.hexe("capture-pane", "-s", "t", "-e"))
    assert "\x1b[" in coloured and "31" in coloured.split("red-word")[0].rsplit("\x1b[", 1)[-1]
    bad = m.hexe("capture-pane", "-s", "t", "-S", "top")
    assert bad.returncode != 0 and "'top' is not a line number" in bad.stderr


def test_capture_pane_from_a_sandboxed_pane_sees_only_itself(mux):
    m = mux('hexe.defaults { profile = "default" }\n')  # user + pid namespaces
    prompt_ready(m)
    m.type("echo secret-$((20+22))")
    m.wait_for("secret-42")
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    hexe = f"{sys.executable} -m hexe"
    # from inside pane 2: pane 1's screen is refused, its own is given
    m.type(f"{hexe} capture-pane -t 1 | grep -c secret; echo cap-rc-$?")
    m.wait_for("cap-rc-1")
    m.wait_for("a sandboxed pane may only act on itself")
    m.type(f"echo own-$((5*5)); {hexe} capture-pane | grep -c own-25")
    m.wait_for(lambda s: any(line.strip() == "2" for line in s.split("\n")), what="own capture")


# -- the paste buffer -----------------------------------------------------------------


def test_set_show_save_buffer_and_paste(mux, tmp_path):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    ok(m.hexe("set-buffer", "-s", "t", "echo pasted-$((3*3))"))
    assert ok(m.hexe("show-buffer", "-s", "t")) == "echo pasted-$((3*3))"
    saved = tmp_path / "buffer.txt"
    ok(m.hexe("save-buffer", "-s", "t", str(saved)))
    assert saved.read_text() == "echo pasted-$((3*3))"
    m.prefix("]")
    m.keys("Enter")
    m.wait_for("pasted-9")


def test_a_sandboxed_pane_can_neither_read_nor_plant_the_paste_buffer(mux):
    m = mux('hexe.defaults { profile = "default" }\n')
    prompt_ready(m)
    ok(m.hexe("set-buffer", "-s", "t", "copied-secret"))
    hexe = f"{sys.executable} -m hexe"
    m.type(f"{hexe} show-buffer; echo show-rc-$?")
    m.wait_for("show-rc-1")
    m.type(f"{hexe} paste; echo paste-rc-$?")
    m.wait_for("paste-rc-1")
    m.type(f"{hexe} set-buffer 'rm -rf ~'; echo set-rc-$?")
    m.wait_for("set-rc-1")
    assert "copied-secret" not in m.screen()
    assert ok(m.hexe("show-buffer", "-s", "t")) == "copied-secret"


def test_a_session_named_with_dots_keeps_its_files_beside_its_socket(headless):
    """``.``, ``..`` and ``a.b`` are session names: the server's pid file and
    the start lock are the socket's name less ``.sock`` (``..pid``), as the
    client and ``hexe ls`` read them, also after a rename; a kill leaves
    nothing behind."""
    run = Path(headless["XDG_RUNTIME_DIR"]) / "hexe"
    assert support_hexe("new-session", "-d", "-s", ".", env=headless).returncode == 0
    listed = json.loads(support_hexe("ls", "--json", env=headless).stdout)
    assert [s["name"] for s in listed] == ["."] and listed[0]["pid"], listed
    assert {p.name for p in run.iterdir()} >= {"..sock", "..pid"}
    assert int((run / "..pid").read_text()) == listed[0]["pid"]
    done = support_hexe("rename-session", "-s", ".", "a.b", env=headless)
    assert done.returncode == 0, done.stderr
    files = {p.name for p in run.iterdir()}
    assert {"a.b.sock", "a.b.pid"} <= files and not files & {"..sock", "..pid", "..lock"}, files
    assert support_hexe("kill", "a.b", env=headless).returncode == 0
    assert not {p.name for p in run.iterdir()} & {"a.b.sock", "a.b.pid"}
