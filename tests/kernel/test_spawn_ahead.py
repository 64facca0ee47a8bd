"""Sandboxes prepared ahead: made before the command is known, given it later.

What a pane server does to make a split as fast as tmux's: every phase of the
spawn protocol, seccomp included, runs before anyone asks for a pane; the
command, its environment and directory arrive later over the go socket. These
tests check that what then runs is exactly as isolated as a pane started the
usual way, that nothing runs before it is asked for, and that a sandbox that
no longer fits is never used.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import iso, needs_cgroup_limits, read_until_eof

from hexe import hookimpl
from hexe import spawn as sp
from hexe.plugin.manager import make_plugin_manager

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _what_became_of(ahead: sp.Spawn) -> str:
    """For an assertion's message: the prepared sandbox's process and status pipe."""
    pid = ahead.pid
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        facts = {k: v.strip() for k, _, v in (line.partition(":") for line in status.splitlines())}
        process = {k: facts.get(k) for k in ("Name", "State", "PPid", "NSpid", "NSpgid")}
    except OSError as exc:
        process = {"gone": str(exc)}
    ended = None
    if ahead.status_fd is not None:
        os.set_blocking(ahead.status_fd, False)
        try:
            ended = ahead.read_status()
        except BlockingIOError:
            ended = False
    return (
        f"pid {pid} (direct child {ahead.direct_pid}): {process}; ready={ahead.ready}, "
        f"status pipe at its end: {ended}, setup error: {ahead.setup_error}"
    )


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _ready(spawn: sp.Spawn, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not spawn.ready:
        assert time.monotonic() < deadline, "the prepared sandbox never said ready"
        assert not spawn.read_status(), f"it ended while preparing: {spawn.setup_error}"


def _prepare(pm, marker: Path, **settings):
    """A sandbox whose placeholder command would leave ``marker`` if it ever ran."""
    master, slave = pty.openpty()
    plan = sp.SpawnPlan(argv=("touch", str(marker)), isolation=iso(**settings), cwd="/")
    ahead = sp.start_ahead(plan, pm, terminal_fd=slave)
    os.close(slave)
    _ready(ahead)
    return ahead, master


def _cgroups(spawn: sp.Spawn) -> list[Path]:
    found = spawn.facts.get("cgroup") or []
    return [Path(p) for p in ([found] if isinstance(found, str) else found)]


@needs_cgroup_limits()
def test_the_command_given_later_runs_as_isolated_as_a_usual_pane(tmp_path):
    pm = make_plugin_manager()
    marker = Path("/var/tmp") / f"hexe-ahead-marker-{os.getpid()}"
    settings = {"profile": "full", "memory": "64M", "pids": "40"}
    ahead, master = _prepare(pm, marker, **settings)
    # waiting, with its limits already applied, and nothing of the command run
    assert _comm(ahead.pid) == "hexe-ahead"
    leaves = _cgroups(ahead)
    assert leaves and all(leaf.is_dir() for leaf in leaves)
    memory = [leaf for leaf in leaves if "/memory/" in str(leaf)]
    if memory:
        assert (memory[0] / "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
    tasks = {int(t) for leaf in leaves for t in (leaf / "box" / "tasks").read_text().split()}
    assert ahead.pid in tasks

    script = (
        "echo pid=$$; echo host=$(hostname); grep NoNewPrivs /proc/self/status; "
        "echo cwd=$(pwd); echo var=$HEXE_AHEAD_VAR; echo tty=$(tty); "
        "ls /tmp | wc -l | sed 's/^/tmp=/'; tail -n +3 /proc/net/dev | wc -l | sed 's/^/links=/'"
    )
    plan = sp.SpawnPlan(
        argv=("sh", "-c", script),
        isolation=iso(**settings),
        cwd="/etc",
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HEXE_AHEAD_VAR": "given-later"},
    )
    assert sp.adopt(ahead, plan)
    ahead.wait_started()
    lines = read_until_eof(master).decode().split()
    status = ahead.wait()
    os.close(master)
    assert sp.exit_code_of(status) == 0, lines
    out = dict(line.split("=", 1) for line in lines if "=" in line)
    assert out["pid"] == "2"  # under hexe-init in a new pid namespace
    assert out["host"] == "hexe"
    assert lines[lines.index("NoNewPrivs:") + 1] == "1"
    assert out["cwd"] == "/etc"
    assert out["var"] == "given-later"
    assert out["tty"] == "/dev/console"  # the PTY, by the name it has in the minimal /dev
    assert out["tmp"] == "0"  # a fresh /tmp
    assert out["links"] == "1"  # a new network namespace: lo only
    assert not marker.exists(), "the placeholder command ran"
    # the pane's cgroups are removed when it ends, as for any spawn
    assert not any(leaf.exists() for leaf in leaves)


@needs_cgroup_limits()
def test_a_discarded_sandbox_runs_nothing_and_leaves_nothing(tmp_path):
    pm = make_plugin_manager()
    marker = Path("/var/tmp") / f"hexe-ahead-discard-{os.getpid()}"
    ahead, master = _prepare(pm, marker, profile="default", pids="30")
    pid, leaves = ahead.pid, _cgroups(ahead)
    assert leaves and all(leaf.is_dir() for leaf in leaves)
    sp.discard(ahead)
    os.close(master)
    assert not _alive(pid)
    assert not any(leaf.exists() for leaf in leaves)
    assert not marker.exists()


def test_another_isolation_is_refused_and_the_sandbox_stays_unused(tmp_path):
    pm = make_plugin_manager()
    marker = Path("/var/tmp") / f"hexe-ahead-other-{os.getpid()}"
    ahead, master = _prepare(pm, marker, profile="full")
    for other in (iso(profile="default"), iso(profile="full", memory="64M")):
        assert not sp.adopt(ahead, sp.SpawnPlan(argv=("true",), isolation=other))
    # still waiting, still usable (it once read "python" in a loaded run, not
    # reproduced since: the message says what the process and its pipe were)
    assert _comm(ahead.pid) == "hexe-ahead", _what_became_of(ahead)
    sp.discard(ahead)
    os.close(master)
    assert not marker.exists()


def test_a_sandbox_killed_while_waiting_is_not_adopted(tmp_path):
    pm = make_plugin_manager()
    marker = Path("/var/tmp") / f"hexe-ahead-killed-{os.getpid()}"
    ahead, master = _prepare(pm, marker, profile="full", pids="30")
    os.kill(ahead.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while True:  # until end of file: it is gone (it hung once, reading, when
        # ahead.pid was the outer process: the child now says "pid" before "ready")
        left = deadline - time.monotonic()
        assert left > 0, f"the status pipe stays open: {_what_became_of(ahead)}"
        if select.select([ahead.status_fd], [], [], left)[0] and ahead.read_status():
            break
    assert not sp.adopt(ahead, sp.SpawnPlan(argv=("true",), isolation=ahead.plan.isolation))
    sp.discard(ahead)
    os.close(master)
    assert not any(leaf.exists() for leaf in _cgroups(ahead))


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="mounting on the host side (unshare -m, then mount) needs CAP_SYS_ADMIN "
    "in the host's user namespace",
)
def test_a_change_to_the_hosts_mounts_makes_it_unusable(tmp_path):
    """Its mount namespace is a copy made when it was prepared: a later mount
    on the host would be missing in it, so it is not used."""
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    script = textwrap.dedent(
        f"""
        import os, pty, subprocess, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "plugins")!r}, {str(ROOT / "tests")!r}]
        from support import iso
        from hexe import spawn as sp
        from hexe.plugin.manager import make_plugin_manager
        pm = make_plugin_manager()
        plan = sp.SpawnPlan(argv=("true",), isolation=iso(profile="full"), cwd="/")
        ahead = sp.start_ahead(plan, pm)
        while not ahead.ready:
            assert not ahead.read_status()
        subprocess.run(["mount", "-t", "tmpfs", "x", {str(mountpoint)!r}], check=True)
        print("adopted" if sp.adopt(ahead, plan) else "refused")
        sp.discard(ahead)
        """
    )
    # a private mount namespace: the mount does not reach the real host
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"


def test_only_plugins_that_say_so_may_run_before_the_command_is_known():
    pm = make_plugin_manager()
    assert sp.ahead_refused(pm) is None  # the built-ins declare HEXE_SPAWN_AHEAD

    class ReadsTheCommand:
        @hookimpl
        def hexe_child_mounts(self, spawn):
            pass

    pm.register(ReadsTheCommand(), name="reads-argv")
    refusal = sp.ahead_refused(pm)
    assert refusal is not None
    assert "reads-argv" in refusal and "hexe_child_mounts" in refusal

    class Declared:
        HEXE_SPAWN_AHEAD = True

        @hookimpl
        def hexe_child_security(self, spawn):
            pass

    pm.unregister(name="reads-argv")
    pm.register(Declared(), name="declared")
    assert sp.ahead_refused(pm) is None


class SlowOuterProcess:
    """A plugin that holds the outer process back for half a second after it
    forked the sandbox's PID 1, as a busy scheduler may: before the fix PID 1's
    "ready" reached the parent first, and ``ahead.pid`` was the outer process."""

    @hookimpl(wrapper=True)
    def hexe_child_pid1(self, spawn):
        forked = yield
        if forked:
            time.sleep(0.5)
        return forked


def test_ready_is_read_only_after_the_sandboxs_pid(tmp_path):
    pm = make_plugin_manager()
    pm.register(SlowOuterProcess(), name="slow-outer")
    marker = Path("/var/tmp") / f"hexe-ahead-order-{os.getpid()}"
    ahead, master = _prepare(pm, marker, profile="full")
    try:
        status = Path(f"/proc/{ahead.pid}/status").read_text()
        assert _comm(ahead.pid) == "hexe-ahead", _what_became_of(ahead)
        assert status.split("NSpid:")[1].split("\n")[0].split()[-1] == "1", status
    finally:
        sp.discard(ahead)
        os.close(master)
    assert not marker.exists()
