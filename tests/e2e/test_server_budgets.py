"""Budgets for what a peer can make the server hold, tried against the real server.

Each test plays the hostile peer with raw sockets (or signals, or a lowered
descriptor limit) while a real ``hexe mux`` client, in a private tmux server,
keeps typing into a pane: afterwards the session must still answer, and the
log must name what happened. docs/sessions.md, "Budgets", is what is tested.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import needs_cgroup_limits, wait_for
from support.mux import Mux, prompt_ready

from hexe.server import server as server_mod
from hexe.wire import protocol

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

NONE_CONFIG = 'hexe.defaults { profile = "none" }\n'


def sock_path(m: Mux) -> Path:
    return m.run_dir / "hexe" / "t.sock"


def connect(m: Mux, hello: str | None = None) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock_path(m)))
    s.settimeout(20)
    if hello is not None:
        s.sendall(
            protocol.encode_json(
                protocol.HELLO,
                {"version": protocol.PROTOCOL_VERSION, "mode": hello, "cols": 80, "rows": 24},
            )
        )
    return s


def clients(m: Mux) -> int:
    result = m.hexe("ls", "--json")
    assert result.returncode == 0, result.stderr
    (session,) = json.loads(result.stdout)
    return len(session["clients"])


def still_answers(m: Mux, tag: int) -> None:
    """The attached client's pane still runs its shell and shows what it prints."""
    m.type(f"echo alive-$(({tag}+1))")
    m.wait_for(f"alive-{tag + 1}", timeout=30)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def log_events(m: Mux) -> list[dict]:
    events = []
    for line in m.log.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events


def test_five_hundred_connections_opened_and_dropped(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    held: list[socket.socket] = []
    try:
        for _ in range(500):  # never a hello: past 64, the oldest are shed
            held.append(connect(m))
        still_answers(m, 1)
        # the server holds at most CLIENT_LIMIT connections, whatever we opened
        fds = len(os.listdir(f"/proc/{m.server_pid()}/fd"))
        assert fds < 100 + server_mod.CLIENT_LIMIT, fds
    finally:
        for s in held:
            s.close()
    wait_for(lambda: clients(m) == 1, timeout=30, what="only the attached client to remain")
    still_answers(m, 2)
    assert any(e.get("reason", "").startswith("shed") for e in log_events(m))


def test_a_silent_connection_is_closed_at_the_hello_deadline(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    s = connect(m)
    s.settimeout(server_mod.HELLO_DEADLINE + 20)
    assert s.recv(100) == b""  # closed by the server, not by our timeout
    s.close()
    wait_for(
        lambda: any(e.get("reason") == "no hello in time" for e in log_events(m)),
        what="the log to say why",
    )
    still_answers(m, 3)


def test_unfinished_frames_cannot_grow_the_server(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    pid = m.server_pid()
    assert pid is not None
    before = rss_kib(pid)
    big = protocol.MAX_FRAME - 16
    count = 24  # 96 MiB of frames that never end, against a 32 MiB budget
    held = []
    shed = 0
    try:
        for _ in range(count):
            s = connect(m, hello="command")
            s.settimeout(180)  # a loaded machine reads 4 MiB slowly; a timeout is not a shed
            held.append(s)
            try:
                s.sendall(protocol.HEADER.pack(protocol.INPUT, big) + b"x" * (big - 1))
            except OSError:  # dropped while sending: the budget at work
                shed += 1
        still_answers(m, 4)
        grown = rss_kib(pid) - before
    finally:
        for s in held:
            s.close()
    budget_kib = server_mod.DECODE_BUDGET >> 10
    assert grown < budget_kib + 48 * 1024, f"the server grew by {grown} KiB"
    events = [e for e in log_events(m) if e.get("event") == "client_shed"]
    assert events, "no client was shed"
    assert all(e["budget"] == server_mod.DECODE_BUDGET for e in events)
    still_answers(m, 5)


def test_a_frame_flood_is_slowed_not_served_at_once(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    flood = server_mod.FRAME_BURST * 3
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock_path(m)))
    s.settimeout(20)
    size = {"cols": 120, "rows": 40}  # the session's own: the resizes change nothing
    s.sendall(
        protocol.encode_json(
            protocol.HELLO, {"version": protocol.PROTOCOL_VERSION, "mode": "attach", **size}
        )
    )
    resize = protocol.encode_json(protocol.RESIZE, size)
    s.sendall(resize * flood + protocol.encode_json(protocol.COMMAND, {"action": "session-info"}))
    # meanwhile the attached client is served
    still_answers(m, 6)
    # the flood is not dropped: after its pause the command behind it is answered
    decoder = protocol.Decoder()
    frames: list[protocol.Frame] = []
    deadline = time.monotonic() + 60
    while not any(f.kind == protocol.REPLY for f in frames):
        assert time.monotonic() < deadline, "the flooding client got no reply"
        data = s.recv(1 << 16)
        assert data, "the flooding client was dropped"
        frames += decoder.feed(data)
    reply = next(f for f in frames if f.kind == protocol.REPLY).json()
    assert reply["ok"], reply
    s.close()
    paused = [e for e in log_events(m) if e.get("event") == "client_paused"]
    assert paused and paused[0]["reason"] == "frames per second"


def test_out_of_descriptors_the_server_sheds_and_goes_on(mux):
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) is not installed")
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    pid = m.server_pid()
    used = len(os.listdir(f"/proc/{pid}/fd"))
    limit = used + 8
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limit}:{limit}"], check=True)
    held = []
    try:
        for _ in range(40):  # more than the server has descriptors for
            held.append(connect(m))
        wait_for(
            lambda: any(e.get("event") == "accept_failed" for e in log_events(m)),
            timeout=30,
            what="accept to fail with EMFILE",
        )
        still_answers(m, 7)
    finally:
        for s in held:
            s.close()
    # once the peers are gone, new connections (commands) are served again
    wait_for(lambda: clients(m) == 1, timeout=30, what="the session to answer hexe ls")
    still_answers(m, 8)


def test_log_values_are_cut_and_a_peer_cannot_flood_the_log(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    for _ in range(20):
        s = connect(m)
        s.sendall(
            protocol.encode_json(
                protocol.HELLO,
                {"version": protocol.PROTOCOL_VERSION, "mode": "z" * 60000},
            )
        )
        assert s.recv(1 << 16) is not None
        s.close()
    still_answers(m, 9)
    errors = [e for e in log_events(m) if e.get("event") == "client_protocol_error"]
    assert len(errors) >= 20
    longest = max(len(line) for line in m.log.read_text().splitlines())
    assert longest < 4096, f"a log line of {longest} characters"
    assert "characters]" in errors[0]["error"]


def _server_gone_and_clean(m: Mux, pid: int, pane_pids: list[int], cgroups: list[Path]) -> None:
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=30, what="the server to exit")
    for p in pane_pids:
        wait_for(lambda p=p: not Path(f"/proc/{p}").exists(), timeout=10, what=f"pane pid {p}")
    for c in cgroups:
        assert not c.exists(), f"{c} outlived the server"
    assert not sock_path(m).exists(), "the socket outlived the server"
    assert not (m.run_dir / "hexe" / "t.pid").exists(), "the pid file outlived the server"


def _pane_facts(m: Mux) -> tuple[list[int], list[Path]]:
    result = m.hexe("list-panes", "-s", "t", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    pids = [p["pid"] for p in listed if p.get("pid")] + [
        p["init_pid"] for p in listed if p.get("init_pid")
    ]
    cgroups = [Path(c) for p in listed for c in p["isolation"]["cgroups"]]
    return pids, cgroups


@needs_cgroup_limits("pids")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("moment", ["flooding", "reloading a blocking config", "splitting"])
def test_a_signal_at_any_moment_ends_the_server_cleanly(mux, sig, moment):
    m = mux('hexe.defaults { profile = "default", pids = 64 }\n')
    prompt_ready(m)
    pids, cgroups = _pane_facts(m)
    assert cgroups and all(c.is_dir() for c in cgroups)
    pid = m.server_pid()
    assert pid is not None
    if moment == "flooding":
        m.type("yes hexe-flood-line")
        m.wait_for("hexe-flood-line")
    elif moment == "reloading a blocking config":
        m.config.write_text(m.config.read_text() + "while true do end\n")
        assert m.hexe("reload-config", "-s", "t").returncode is not None
        wait_for(
            lambda: "config_preflight_started" in m.log.read_text(), what="the reload to start"
        )
    else:
        # the signal lands while the server splits (sets up a new pane's sandbox)
        s = connect(m, hello="command")
        s.sendall(protocol.encode_json(protocol.COMMAND, {"action": "split-right", "args": []}))
    os.kill(pid, sig)
    _server_gone_and_clean(m, pid, pids, cgroups)
    m.wait_for("ended]", timeout=30)


def _hexe_argv() -> list[str]:
    return [sys.executable, "-m", "hexe"]


def test_mux_without_a_terminal_leaves_no_session(tmp_path):
    from support import clean_env

    env = clean_env(XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path), HOME=str(tmp_path))
    result = subprocess.run(
        [*_hexe_argv(), "mux", "-s", "nott"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "needs a terminal" in result.stderr
    listed = subprocess.run(
        [*_hexe_argv(), "ls"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "nott" not in listed.stdout, listed.stdout
    assert not (tmp_path / "hexe" / "nott.sock").exists()
    assert not (tmp_path / "hexe" / "nott.pid").exists()


BUGGY_PLUGIN = """
import os
import pluggy

hookimpl = pluggy.HookimplMarker("hexe")


@hookimpl
def hexe_spawn_parent(spawn):
    if os.path.exists(os.environ.get("BOOM_MARKER", "/nonexistent")):
        raise RuntimeError("a bug in a third-party plugin")
"""


def test_a_fault_in_one_command_fails_that_command_only(mux, tmp_path, monkeypatch):
    """A plugin's bug while splitting: the split fails with the error (as a
    command's reply, and on the status line from a key); the session goes on."""
    from support import plugin_site

    site = plugin_site(tmp_path, "hexe_buggy", BUGGY_PLUGIN, "buggy", "hexe-buggy")
    marker = tmp_path / "boom"
    path = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    monkeypatch.setenv("BOOM_MARKER", str(marker))
    m = mux(NONE_CONFIG + "hexe.options { spawn_ahead = false }\n")
    prompt_ready(m)
    marker.touch()
    # the new pane stays, with the error, as a pane whose command cannot start
    result = m.hexe("split-right", "-s", "t", "-P")
    assert result.returncode == 0, result.stderr
    failed = int(result.stdout)
    m.wait_for("RuntimeError: a bug in a third-party", timeout=15)
    listed = json.loads(m.hexe("list-panes", "-s", "t", "--json").stdout)
    (pane,) = [p for p in listed if p["id"] == failed]
    assert pane["state"] == "failed" and "a bug in a third-party plugin" in pane["message"]
    # the log has the traceback, without local variables (they hold environments)
    fault = next(e for e in log_events(m) if e.get("event") == "pane_spawn_fault")
    assert "locals" not in json.dumps(fault)
    marker.unlink()
    m.hexe("select-pane", "-s", "t", "1")
    still_answers(m, 10)
    assert m.hexe("split-down", "-s", "t").returncode == 0
    assert clients(m) == 1
    assert Path(f"/proc/{m.server_pid()}").exists()


def test_a_hello_and_a_large_frame_sent_together_are_both_taken(mux):
    """The 64 KiB pre-hello limit is for frames before the hello only: a client
    that sends its hello and a 200 KiB command in one write is served."""
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock_path(m)))
    s.settimeout(20)
    hello = {"version": protocol.PROTOCOL_VERSION, "mode": "command"}
    big = {"action": "session-info", "pad": "x" * (200 << 10)}
    s.sendall(
        protocol.encode_json(protocol.HELLO, hello) + protocol.encode_json(protocol.COMMAND, big)
    )
    decoder, frames = protocol.Decoder(), []
    while not any(f.kind == protocol.REPLY for f in frames):
        data = s.recv(1 << 16)
        assert data, f"dropped\n{m.log_tail()}"
        frames += decoder.feed(data)
    assert next(f for f in frames if f.kind == protocol.REPLY).json()["ok"]
    s.close()
