"""cgroup limits, for real: run something inside and check that the kernel holds it.

This machine is hybrid (memory, pids and cpu on cgroup v1; cgroup2 at
/sys/fs/cgroup/unified with no limit controllers), so the enforcement tests
exercise the v1 driver; the v2 driver is checked for creation, placement and
removal in the unified hierarchy. Every test needs root (to write the host's
cgroup tree), except the unprivileged one, which is the point.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hexe_cgroups.detect import detect
from hexe_cgroups.driver import owner_tag
from hexe_cgroups.v2 import V2Driver
from support import SANDBOX_PYTHON, hexe, wait_for

from hexe.isolation import Layer, resolve
from hexe.plugin.manager import make_plugin_manager
from hexe.spawn import SpawnPlan, exit_code_of, run

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="writing the host's cgroup tree needs root"),
]

LAYOUT = detect()


def needs_v1_controllers(*controllers: str):
    missing = [c for c in controllers if c not in LAYOUT.v1]
    return pytest.mark.skipif(
        bool(missing), reason=f"no cgroup v1 hierarchy for {', '.join(missing)} here"
    )


def own_path(controller: str) -> str:
    return LAYOUT.v1[controller].own_path


def processes_with(token: str) -> list[int]:
    """Live processes whose command line contains ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def plan(*argv: str, name: str, **settings: object) -> SpawnPlan:
    layer = Layer("test", {k: (v, k) for k, v in settings.items()})
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return SpawnPlan(argv=argv, isolation=resolve([layer]), env=env, cwd="/", name=name)


# -- memory -------------------------------------------------------------------------


@needs_v1_controllers("memory")
def test_memory_hog_is_killed_at_the_limit():
    hog = "b = b'x' * (256 << 20); print('survived')"  # 4x the limit, every page touched
    result = hexe("run", "--memory", "64M", "--", sys.executable, "-c", hog)
    assert result.returncode == 137, result.stderr
    assert "survived" not in result.stdout
    assert "warning" not in result.stderr


@needs_v1_controllers("memory")
def test_memory_limit_also_bounds_swap():
    read_own = (
        "import re\n"
        "path = re.search(r'^\\d+:memory:(.*)$', open('/proc/self/cgroup').read(), re.M)[1]\n"
        "import os\n"
        "d = os.path.dirname('/sys/fs/cgroup/memory' + path)  # the limits are above the box\n"
        "memsw = d + '/memory.memsw.limit_in_bytes'\n"
        "print(open(d + '/memory.limit_in_bytes').read().strip(),"
        " open(memsw).read().strip() if os.path.exists(memsw) else 'none')\n"
    )
    result = hexe(
        "run", "--profile", "none", "--memory", "64M", "--", sys.executable, "-c", read_own
    )
    assert result.returncode == 0, result.stderr
    limit, memsw = result.stdout.split()
    assert limit == str(64 << 20)
    if memsw == "none":
        pytest.skip("no swap accounting (memory.memsw.*) on this kernel")
    assert memsw == limit


# -- pids -----------------------------------------------------------------------------

FORK_BOMB = """
import os, signal, sys
made = 0
try:
    while made < 200:  # bounded: a broken limit must not take the host down
        if os.fork() == 0:
            signal.pause()
            os._exit(0)
        made += 1
except OSError as exc:
    print(made, exc.errno)
else:
    print(made, 0)
"""


@needs_v1_controllers("pids")
def test_fork_bomb_is_stopped_at_the_pids_limit_and_nothing_is_left():
    token = f"hexe-bomb-{uuid.uuid4().hex[:8]}"
    result = hexe(
        "run", "--profile", "none", "--pids", "50", "--", sys.executable, "-c", FORK_BOMB, token
    )
    assert result.returncode == 0, result.stderr
    made, err = map(int, result.stdout.split())
    assert err == errno.EAGAIN
    assert 30 <= made < 50  # the bomb itself counts against the 50
    # The children were orphaned while paused; the cgroup cleanup killed them.
    wait_for(lambda: not processes_with(token), timeout=5, what="the bomb's children to be gone")
    assert subprocess.run(["true"]).returncode == 0  # the host still forks


@needs_v1_controllers("pids")
def test_background_processes_are_killed_when_the_command_ends():
    token = f"hexe-bg-{uuid.uuid4().hex[:8]}"
    script = f"import os, signal; os.fork() or signal.pause()  # {token}"
    result = hexe(
        "run", "--profile", "none", "--pids", "10", "--", sys.executable, "-c", script, token
    )
    assert result.returncode == 0, result.stderr
    wait_for(lambda: not processes_with(token), timeout=5, what="the background child to end")


# -- cpu ----------------------------------------------------------------------------------

# Busy inside the pane while reading the kernel's own account of the pane's cgroup
# (the directory above ``box``, where the quota is): CPU time used and how often the
# group was throttled. Comparing with an unlimited run instead fails on a loaded
# machine, where the unlimited loop is starved as well. Busy for at least a second
# and until the group has been throttled a few times (or 20 s, when it never is).
CPU_QUOTA_PROBE = """
import json, os, sys, time
version, own_path, own_dir = sys.argv[1:4]
for line in open('/proc/self/cgroup'):
    hid, ctrls, path = line.rstrip('\\n').split(':', 2)
    if (hid == '0') if version == '2' else ('cpu' in ctrls.split(',')):
        break
group = os.path.dirname(own_dir + path[len(own_path.rstrip('/')):])

def stat():
    s = dict(l.split() for l in open(group + '/cpu.stat'))
    s = {k: int(v) for k, v in s.items()}
    if version == '2':  # microseconds
        return s['nr_periods'], s['nr_throttled'], s['throttled_usec'] / 1e6, s['usage_usec'] / 1e6
    try:  # cpuacct co-mounted with cpu: the group's usage, in ns
        usage = int(open(group + '/cpuacct.usage').read()) / 1e9
    except OSError:
        usage = None
    return s['nr_periods'], s['nr_throttled'], s['throttled_time'] / 1e9, usage

before, wall0, cpu0 = stat(), time.monotonic(), time.process_time()
while True:
    deadline = time.monotonic() + 0.01
    while time.monotonic() < deadline:
        pass
    now, wall = stat(), time.monotonic() - wall0
    if (wall >= 1.0 and now[1] - before[1] >= 3) or wall >= 20:
        break
cpu = time.process_time() - cpu0
usage = cpu if now[3] is None else now[3] - before[3]
print(json.dumps({
    'group': group, 'wall': wall, 'usage': usage, 'own_cpu': cpu,
    'periods': now[0] - before[0], 'throttled': now[1] - before[1],
    'throttled_s': now[2] - before[2],
}))
"""


@pytest.mark.slow
def test_cpu_quota_of_20_percent_gives_about_a_fifth_of_a_core():
    where = LAYOUT.where("cpu")
    if where is None:
        pytest.skip("no cgroup hierarchy with the cpu controller here")
    args = (str(where.version), where.own_path, where.own_dir)
    result = hexe(
        "run", "--profile", "none", "--cpu", "20000 100000", "--",
        SANDBOX_PYTHON, "-c", CPU_QUOTA_PROBE, *args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    # the kernel held the pane back: the quota ran out in some periods ...
    assert seen["throttled"] >= 1 and seen["throttled_s"] > 0, seen
    # ... and over the whole window it got no more than 20 ms of every 100 ms
    # (a window may start with up to one quota unspent: 0.02 s of slack a second)
    assert seen["usage"] / seen["wall"] <= 0.20 + 0.05, seen


# -- where the cgroups go, and that they go away -----------------------------------------


@needs_v1_controllers("memory", "pids", "cpu")
def test_cgroup_directories_exist_while_running_and_are_gone_afterwards():
    name = f"test-{uuid.uuid4().hex[:8]}"
    check = f'grep -q "^[0-9]*:pids:/.*hexe/{name}@[0-9.]*/box$" /proc/self/cgroup'
    spawn = run(
        plan(
            *("sh", "-c", check),
            name=name,
            profile="none",  # no cgroup namespace: the path shows in /proc/self/cgroup
            memory="64M",
            pids=20,
            cpu="50000 100000",
        ),
        make_plugin_manager(),
    )
    paths = spawn.facts["cgroup"]
    assert spawn.facts["cgroup_driver"] == "v1"
    assert sorted(paths) == sorted(
        {
            os.path.join(LAYOUT.v1[c].own_dir, "hexe", name + owner_tag())
            for c in ("memory", "pids", "cpu")
        }
    )
    assert all(os.path.isdir(p) for p in paths)
    assert exit_code_of(spawn.wait()) == 0  # the child saw itself in hexe/<name>@<owner>/box
    assert not any(os.path.exists(p) for p in paths)
    assert all(os.path.isdir(os.path.dirname(p)) for p in paths)  # hexe/ stays
    assert spawn.warnings == []


@needs_v1_controllers("memory")
def test_full_profile_cgroup_namespace_is_rooted_at_the_pane_box():
    script = (
        "grep ':memory:' /proc/self/cgroup; "
        "grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo | tail -1 | cut -d' ' -f4"
    )
    result = hexe("run", "--profile", "full", "--memory", "64M", "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    inside, mount_root = result.stdout.split()
    assert inside.endswith(":memory:/")
    # The host's memory hierarchy root, seen from the namespace, is as many
    # levels up as the pane's box <own>/hexe/run-N@<owner>/box is deep.
    depth = len([p for p in own_path("memory").split("/") if p]) + 3
    assert mount_root == "/.." * depth


def test_v2_driver_creates_places_into_and_removes_a_cgroup_in_the_unified_hierarchy():
    if LAYOUT.v2 is None:
        pytest.skip("no cgroup2 hierarchy is mounted here")
    probe = Path(LAYOUT.v2.own_dir, "hexe", f"probe-{uuid.uuid4().hex[:8]}")
    try:
        probe.mkdir(parents=True)
        probe.rmdir()
    except OSError as exc:
        reason = f"cannot mkdir in {LAYOUT.v2.own_dir}: {exc.strerror}"
        print(reason)
        pytest.skip(reason)
    name = f"test-{uuid.uuid4().hex[:8]}"
    driver = V2Driver(LAYOUT.v2)
    assert driver.create(name, []) == {}
    leaf = driver.paths()[0]
    assert leaf == os.path.join(LAYOUT.v2.own_dir, "hexe", name)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        assert driver.add_pid(child.pid) == {}
        expected = "0::" + os.path.join(LAYOUT.v2.own_path, "hexe", name, "box")
        assert expected in Path(f"/proc/{child.pid}/cgroup").read_text().splitlines()
        assert driver.kill() == []
        assert child.wait(timeout=5) == -signal.SIGKILL
        assert driver.remove() == []
        assert not os.path.exists(leaf)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


LEAVE_BASE = """
import json, os, sys
sys.stdin.readline()  # the test moves us into a cgroup of our own first
from hexe_cgroups.detect import detect
from hexe_cgroups.driver import owner_tag
from hexe_cgroups.v2 import V2Driver
driver = V2Driver(detect().v2)
moved = driver._leave_base()
line = [l for l in open("/proc/self/cgroup").read().splitlines() if l.startswith("0::")][0]
print(json.dumps({"moved": moved, "line": line, "own_after": detect().v2.own_path}))
"""


def test_v2_hexe_alone_in_its_cgroup_steps_into_hexe_self_and_still_knows_its_base():
    if LAYOUT.v2 is None:
        pytest.skip("no cgroup2 hierarchy is mounted here")
    base = Path(LAYOUT.v2.own_dir, f"hexe-test-{uuid.uuid4().hex[:8]}")
    try:
        base.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot mkdir in {LAYOUT.v2.own_dir}: {exc.strerror}")
    child = subprocess.Popen(
        [sys.executable, "-c", LEAVE_BASE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        (base / "cgroup.procs").write_text(str(child.pid))
        out, _ = child.communicate("go\n", timeout=30)
        facts = json.loads(out)
        base_path = os.path.join(LAYOUT.v2.own_path, base.name)
        assert facts["moved"] is True
        assert facts["line"] == f"0::{base_path}/hexe/.self"
        assert facts["own_after"] == base_path
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for directory in (base / "hexe" / ".self", base / "hexe", base):
            wait_for(lambda d=directory: _rmdir(d), timeout=5, what=f"rmdir {directory}")


def _rmdir(directory: Path) -> bool:
    try:
        directory.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
        return False
    return True


def test_cgroup_namespace_without_limits_makes_no_cgroup(tmp_path):
    log = tmp_path / "hexe.log"
    script = "cat /proc/self/cgroup"
    result = hexe("--log-file", str(log), "run", "--profile", "full", "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    # rooted at hexe's own cgroup: every hierarchy reads "/" inside
    assert all(line.endswith(":/") for line in result.stdout.splitlines())
    started = [json.loads(line) for line in log.read_text().splitlines()]
    started = [e for e in started if e["event"] == "spawn_started"]
    assert len(started) == 1 and "cgroup" not in started[0]


def test_v1_child_joins_its_cgroups_itself_before_the_namespaces(tmp_path):
    if LAYOUT.choose(["memory", "pids"]) != "v1":
        pytest.skip("the v1 driver is not the one chosen on this host")
    log = tmp_path / "hexe.log"
    result = hexe(
        "--log-file",
        str(log),
        "run",
        "--profile",
        "full",
        "--memory",
        "64M",
        "--pids",
        "20",
        "--",
        "cat",
        "/proc/self/cgroup",
    )
    assert result.returncode == 0, result.stderr
    event = next(
        json.loads(line) for line in log.read_text().splitlines() if "spawn_started" in line
    )
    assert event["cgroup_driver"] == "v1"
    lines = result.stdout.splitlines()
    assert any(":memory:/" in line for line in lines)
    assert all(line.endswith(":/") for line in lines if ":memory:" in line or ":pids:" in line)


# -- without permission -------------------------------------------------------------------


def test_unprivileged_user_gets_a_warning_and_the_command_runs(nobody):
    result = nobody("run", "--memory", "64M", "--", "true")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(lines) == 1, result.stderr
    assert "memory limit not applied: cannot create " in lines[0]
    assert "/hexe/run-" in lines[0] and "Permission denied" in lines[0]


def test_unprivileged_user_with_strict_limits_is_refused_with_exit_125(nobody):
    result = nobody("run", "--strict-limits", "--memory", "64M", "--", "true")
    assert result.returncode == 125, result.stderr
    assert "memory limit not applied: cannot create " in result.stderr
    assert "Permission denied" in result.stderr
    assert "hint:" in result.stderr


def test_doctor_reports_the_cgroup_mode_and_a_working_probe():
    result = hexe("doctor", "--json")
    checks = [c for c in json.loads(result.stdout)["checks"] if c["group"] == "cgroups"]
    by_name = {c["name"]: c for c in checks}
    assert by_name["mode"]["detail"].startswith(LAYOUT.mode)
    assert by_name["writable subtree"]["ok"] is True, by_name["writable subtree"]
    leftovers = [p for h in LAYOUT.v1.values() for p in Path(h.own_dir, "hexe").glob("doctor-*")]
    assert leftovers == []


@pytest.mark.parametrize("profile", ["none", "full"])
def test_a_command_killed_by_its_memory_limit_is_told_so(profile):
    from support import SANDBOX_PYTHON

    result = hexe(
        "run", "--profile", profile, "--memory", "64M", "--",
        SANDBOX_PYTHON, "-c", "b'x' * (256 << 20)",
    )
    if "memory limit not applied" in result.stderr:
        pytest.skip("no memory controller here: " + result.stderr.strip())
    assert result.returncode == 137, result.stderr
    assert "killed by its memory limit of 64M" in result.stderr
    # a SIGKILL that is not the limit's says nothing of the kind
    other = hexe("run", "--profile", profile, "--memory", "64M", "--", "sh", "-c", "kill -9 $$")
    assert other.returncode == 137 and "memory limit" not in other.stderr
