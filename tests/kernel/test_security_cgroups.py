"""Attacks on the cgroup limits, from inside: each test tries one way out and must be stopped.

- a nested user + mount (+ cgroup) namespace mounts the cgroup v1 hierarchies
  and raises every limit file it can see (no cgroup namespace can be made
  inside, the one hexe gives belongs to a user namespace the command has
  left, and the sandbox's processes sit in a ``box`` below the limited
  cgroup anyway);
- the same, where no limit put the sandbox in a box (refused);
- ``hexe split-right`` typed in a limited pane asks the server for a pane
  with fresh limits (refused);
- a SIGKILLed ``hexe run`` or server leaves its cgroup and a process in it
  (the next ``hexe run`` or server sweeps both).

This machine is hybrid (memory, pids and cpu on cgroup v1), so the attacks
run against the v1 driver; the v2 driver's placement is checked on a fake
tree in ``test_cgroups_unit.py``.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hexe_cgroups.detect import detect
from hexe_cgroups.driver import start_time
from support import clean_env, hexe, wait_for

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="writing the host's cgroup tree needs root"),
]

LAYOUT = detect()
NEEDS_V1 = pytest.mark.skipif(
    not all(c in LAYOUT.v1 for c in ("memory", "pids")),
    reason="no cgroup v1 memory and pids hierarchies here",
)

#: Run inside the sandbox: every way to a cgroup mount of its own (a nested user,
#: mount and cgroup namespace; a nested user and mount namespace only), each then
#: mounting the memory and pids hierarchies and raising every limit file it can
#: see; then, once the test has looked at the host's files, allocate 4x the limit.
RAISE_LIMITS = r"""
attack='
  mount -t tmpfs attack /tmp || exit 3
  mkdir /tmp/memory /tmp/pids
  mount -t cgroup -o memory none /tmp/memory && echo "mounted memory"
  mount -t cgroup -o pids none /tmp/pids && echo "mounted pids"
  for f in $(find /tmp/memory -name memory.memsw.limit_in_bytes); do
    echo -1 > "$f" 2>/dev/null && echo "raised $f"
  done
  for f in $(find /tmp/memory -name memory.limit_in_bytes); do
    echo -1 > "$f" 2>/dev/null && echo "raised $f"
  done
  for f in $(find /tmp/pids -name pids.max); do
    echo max > "$f" 2>/dev/null && echo "raised $f"
  done
  true
'
unshare -UrmC sh -c "$attack" && echo "own cgroup namespace"
unshare -Urm sh -c "$attack"
echo "attack-done"
read go
exec "$PYTHON" -c "b = b'x' * (256 << 20); print('survived')"
"""

#: Does the sandbox get a cgroup namespace, or a cgroup mount, of its own?
TRY_MOUNT = r"""
unshare -UrmC true && echo "made a cgroup namespace"
unshare -Urm sh -c 'mount -t cgroup -o pids none /tmp && echo "mounted pids"; ls /tmp'
true
"""


def owned_by(pid: int, controller: str) -> list[str]:
    """The spawn cgroups of hexe process ``pid`` in ``controller``'s hierarchy."""
    pattern = os.path.join(LAYOUT.v1[controller].own_dir, "hexe", f"*@*.{pid}.*")
    return glob.glob(pattern)


@NEEDS_V1
@pytest.mark.parametrize("profile", ["default", "balanced"])
def test_nested_cgroup_mount_cannot_raise_the_limits(profile):
    argv = [sys.executable, "-m", "hexe", "run", "--profile", profile]
    argv += ["--memory", "64M", "--pids", "20", "--", "sh", "-c", RAISE_LIMITS]
    env = clean_env(PYTHON=sys.executable)
    run = subprocess.Popen(
        argv,
        env=env,
        cwd="/",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while "attack-done" not in lines:
            line = run.stdout.readline()
            assert line, f"the sandbox ended early: {run.wait()} {run.stderr.read()}"
            lines.append(line.strip())
        print("\n".join(lines))  # what the attack reached, shown when the test fails
        (memory,) = owned_by(run.pid, "memory")
        (pids,) = owned_by(run.pid, "pids")
        assert Path(memory, "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
        assert Path(pids, "pids.max").read_text().strip() == "20"
        out, err = run.communicate("go\n", timeout=60)
    finally:
        if run.poll() is None:
            run.terminate()  # hexe run ends the sandbox and removes its cgroups
            run.wait()
    assert "survived" not in out
    assert run.returncode == 137, err


@NEEDS_V1
@pytest.mark.parametrize("profile", ["minimal", "default", "balanced"])
def test_no_cgroup_namespace_or_cgroup_mount_of_its_own(profile):
    """Where no limit puts the sandbox in a box (here: pids), a cgroup mount would
    show hexe's own cgroup, or the host's root, and other sandboxes' limits."""
    result = hexe("run", "--profile", profile, "--memory", "64M", "--", "sh", "-c", TRY_MOUNT)
    assert result.returncode == 0, result.stderr
    assert "made a cgroup namespace" not in result.stdout
    assert "mounted pids" not in result.stdout
    assert "cgroup.procs" not in result.stdout
    assert "No space left on device" in result.stderr  # user.max_cgroup_namespaces = 0
    assert "warning" not in result.stderr


def test_a_read_only_proc_sys_is_said_out_loud():
    """Some containers mount /proc/sys read-only: the rule cannot be set, and hexe says so."""
    inner = f"{sys.executable} -m hexe run --profile minimal -- true"
    script = "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && " + inner
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "hexe: warning: cgroup namespaces not refused inside: cannot write 0 to "
        "/proc/sys/user/max_cgroup_namespaces: Read-only file system"
    ) in result.stderr


def test_split_from_inside_a_limited_pane_is_refused(mux):
    from support.mux import panes, prompt_ready

    m = mux('hexe.defaults { profile = "default", memory = "64M" }\n')
    prompt_ready(m)
    m.type(f"{sys.executable} -m hexe split-right; echo split-rc-$?")
    m.wait_for("split-rc-1")
    m.wait_for("split-right is refused from inside pane 1")
    assert len(panes(m)) == 1


def test_split_from_inside_an_unlimited_sandboxed_pane_still_works(mux):
    from support.mux import panes, prompt_ready

    m = mux('hexe.defaults { profile = "default" }\n')
    prompt_ready(m)
    m.type(f"{sys.executable} -m hexe split-right; echo split-rc-$?")
    m.wait_for("split-rc-0")
    wait_for(lambda: len(panes(m)) == 2, what="the second pane")


def processes_running(argv: list[str]) -> list[int]:
    """Live processes whose command line is ``argv``."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/cmdline").read_bytes() == wanted:
                    found.append(int(entry))
            except OSError:
                pass
    return found


@NEEDS_V1
def test_cgroups_of_a_sigkilled_hexe_run_are_swept_by_the_next_one():
    token = f"hexe-orphan-{uuid.uuid4().hex[:8]}"
    # profile none: nothing ties the command to hexe run, so it outlives it
    sleeper = [sys.executable, "-c", "import time; time.sleep(1000)", token]
    run = subprocess.Popen(
        [sys.executable, "-m", "hexe", "run", "--profile", "none", "--memory", "64M"]
        + ["--", *sleeper],
        env=clean_env(),
        cwd="/",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: processes_running(sleeper), what="the sleep")
        (left,) = owned_by(run.pid, "memory")
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    # what is left: the cgroup and the sleep in it. Any hexe sweeps them from
    # here on: this test's next one, or one a test in another worker runs
    # first (then they may be gone already; the end state is the same)
    try:
        result = hexe("run", "--profile", "none", "--", "true")
        assert result.returncode == 0, result.stderr
        assert not os.path.exists(left)
        wait_for(lambda: not processes_running(sleeper), what="the sleep's end")
    finally:
        for pid in processes_running(sleeper):
            os.kill(pid, signal.SIGKILL)


@NEEDS_V1
def test_a_cgroup_whose_owner_pid_was_reused_is_swept_too(tmp_path):
    """The owner's pid may be alive again as another process: the start time tells."""
    owner = subprocess.Popen(["true"])
    started = start_time(owner.pid)
    owner.wait()
    ns = os.stat("/proc/self/ns/pid").st_ino
    base = Path(LAYOUT.v1["pids"].own_dir, "hexe", f"stale-{uuid.uuid4().hex[:8]}")
    stale = Path(f"{base}@{ns}.{os.getpid()}.{started}")  # our live pid, another start time
    alive = Path(f"{base}-alive@{ns}.{os.getpid()}.{start_time('self')}")
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        (stale / "box").mkdir(parents=True)
        alive.mkdir()
        (stale / "box" / "cgroup.procs").write_text(str(sleeper.pid))
        result = hexe("run", "--profile", "none", "--", "true")
        assert result.returncode == 0, result.stderr
        assert sleeper.wait(timeout=10) == -signal.SIGKILL
        assert not stale.exists()
        assert alive.exists()  # its owner (this test) lives
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
        for path in (stale / "box", stale, alive):
            if path.exists():
                path.rmdir()


@NEEDS_V1
def test_a_starting_server_sweeps_the_cgroups_of_a_dead_one(mux):
    """As a SIGKILLed server leaves them: a tagged cgroup, its owner gone, a process in it."""
    gone = subprocess.Popen(["true"])
    started = start_time(gone.pid)
    gone.wait()
    ns = os.stat("/proc/self/ns/pid").st_ino
    name = f"t-ahead-{gone.pid}-{uuid.uuid4().hex[:6]}@{ns}.{gone.pid}.{started}"
    stale = Path(LAYOUT.v1["memory"].own_dir, "hexe", name)
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        (stale / "box").mkdir(parents=True)
        (stale / "box" / "cgroup.procs").write_text(str(sleeper.pid))
        mux()  # the server's first spawn (its first pane) sweeps
        wait_for(lambda: sleeper.poll() is not None, what="the leftover process's end")
        assert sleeper.returncode == -signal.SIGKILL
        wait_for(lambda: not stale.exists(), what="the leftover cgroup's removal")
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
        for path in (stale / "box", stale):
            if path.exists():
                path.rmdir()
