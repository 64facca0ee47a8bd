"""The multiplexer keeps the next split's sandbox prepared (``options.spawn_ahead``).

Seen from outside, in a real session: a waiting ``hexe-ahead`` process below
the server, taken by the next split (the new pane's PID 1 is that process),
as isolated as any pane; made again after a reload with the new settings;
never used for a pane whose isolation differs, and made again for the
isolation of the focused pane; gone with the session.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from support import needs_cgroup_limits, wait_for
from support.mux import _alive, ok, one_prepared, panes, prepared, prompt_ready

from hexe.server.server import AHEAD_DELAY

pytestmark = __import__("test_sessions").pytestmark


def v1_memory_limit(pid: int) -> int | None:
    """The memory limit of ``pid``'s cgroup on a v1 memory hierarchy, if it has one."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            cgroup = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            if cgroup.name == "box":  # hexe's processes live below the cgroup with the limits
                cgroup = cgroup.parent
            limit = cgroup / "memory.limit_in_bytes"
            if limit.exists():
                return int(limit.read_text())
    return None


def cgroup_dirs(pid: int) -> list[Path]:
    """The cgroup directories ``pid`` is in below a ``hexe`` directory (v1 and v2)."""
    found = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "/hexe/" not in path:
            continue
        if controllers:  # v1: one hierarchy per controller (or named hierarchy)
            found.append(Path("/sys/fs/cgroup") / controllers.split(",")[0] / path.lstrip("/"))
        else:  # v2: the unified hierarchy, alone or beside v1
            for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                found.append(Path(root) / path.lstrip("/"))
    return [d for d in found if d.is_dir()]


@needs_cgroup_limits()
def test_a_split_takes_the_prepared_sandbox_and_is_isolated_like_any_pane(mux):
    m = mux('hexe.defaults { profile = "full", memory = "64M", pids = 50 }\n')
    prompt_ready(m)
    ahead = one_prepared(m)
    assert v1_memory_limit(ahead) in (None, 64 << 20)  # None: no v1 memory controller
    new_id = ok(m.hexe("split-down", "-s", "t", "-P")).strip()
    pane = wait_for(
        lambda: next((p for p in panes(m) if str(p["id"]) == new_id.lstrip("%")), None),
        what="the new pane",
    )
    assert pane["init_pid"] == ahead, "the split did not take the prepared sandbox"
    prompt_ready(m, 2)
    m.type("echo pid=$$ host=$(hostname) nnp=$(grep -c 'NoNewPrivs:.1' /proc/self/status)-ok")
    m.wait_for("pid=2 host=hexe nnp=1-ok")
    pane = next(p for p in panes(m) if p["init_pid"] == ahead)
    # the terminal was made before the pane's size was known: it is set on adoption
    m.type("echo size=$(stty size | tr ' ' x)-ok")
    m.wait_for(f"size={pane['rows']}x{pane['cols']}-ok")
    assert pane["isolation"]["profile"] == "full"
    assert pane["isolation"]["memory_max"] == 64 << 20
    assert pane["isolation"]["cgroups"]
    assert all(Path(c).is_dir() for c in pane["isolation"]["cgroups"])
    assert pane["command"] == ["/bin/sh"]
    # and the one after it is prepared again
    one_prepared(m, other_than=ahead)


def test_spawn_ahead_false_prepares_nothing(mux):
    m = mux('hexe.options { spawn_ahead = false }\nhexe.defaults { profile = "full" }\n')
    prompt_ready(m)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    # a session with it on has one well before this (AHEAD_DELAY after a split)
    m.type(f"sleep {AHEAD_DELAY * 5}; echo waited-$((6*7))")
    m.wait_for("waited-42")
    assert prepared(m) == []
    assert '"spawn": "t-ahead-' not in m.log.read_text()


@needs_cgroup_limits()
def test_reload_replaces_the_prepared_sandbox_with_the_new_settings(mux):
    m = mux('hexe.defaults { profile = "default", memory = "64M" }\n')
    prompt_ready(m)
    old = one_prepared(m)
    m.config.write_text(m.config.read_text().replace('memory = "64M"', 'memory = "96M"'))
    ok(m.hexe("reload-config", "-s", "t"))
    new = one_prepared(m, other_than=old)
    wait_for(lambda: not _alive(old), what="the old prepared sandbox to end")
    assert v1_memory_limit(new) in (None, 96 << 20)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    limits = sorted(p["isolation"]["memory_max"] for p in panes(m))
    assert limits == [64 << 20, 96 << 20]  # the running pane keeps its limit


def test_a_pane_of_another_isolation_is_started_the_usual_way(mux):
    m = mux(
        'hexe.layout { hexe.tab { hexe.split { direction = "right",'
        ' hexe.pane { isolation = { profile = "full" } },'
        ' hexe.pane { isolation = { profile = "none" } } } } }\n'
    )
    prompt_ready(m, 2)
    first, second = sorted(panes(m), key=lambda p: p["id"])
    assert first["focused"], "the first pane is expected to have the focus"
    ahead = one_prepared(m)
    ok(m.hexe("split-down", "-s", "t", "-t", str(second["id"])))
    prompt_ready(m, 3)
    new = max(panes(m), key=lambda p: p["id"])
    assert new["isolation"]["profile"] == "none"
    assert new["init_pid"] is None and new["pid"] != ahead
    # the focus is on the new pane now: the prepared sandbox follows it
    assert new["focused"]
    for_none = one_prepared(m, other_than=ahead)
    wait_for(lambda: not _alive(ahead), what="the sandbox prepared for `full` to end")
    # focusing a pane moves it too, without a split
    ok(m.hexe("select-pane", "-s", "t", str(first["id"])))
    again = one_prepared(m, other_than=for_none)
    wait_for(lambda: not _alive(for_none), what="the sandbox prepared for `none` to end")
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 4)
    assert max(panes(m), key=lambda p: p["id"])["init_pid"] == again


def test_the_prepared_sandbox_ends_with_the_session(mux):
    m = mux('hexe.defaults { profile = "full", pids = 50 }\n')
    prompt_ready(m)
    ahead = one_prepared(m)
    dirs = cgroup_dirs(ahead)
    ok(m.hexe("kill", "t"))
    assert not _alive(ahead)
    assert not any(d.exists() for d in dirs), dirs


def test_pane_spawn_callbacks_run_only_for_real_panes(mux):
    """A callback is the user's code: it is not run for a sandbox prepared
    ahead (a pane that may never exist). When it changes the isolation, the
    split does not fit the prepared sandbox and is started the usual way."""
    m = mux(
        'hexe.defaults { profile = "full" }\n'
        "spawned = 0\n"
        'hexe.on("pane_spawn", function(pane)\n'
        "  spawned = spawned + 1\n"
        '  pane.isolation.hostname = "cb" .. spawned\n'
        "end)\n"
    )
    prompt_ready(m)
    ahead = one_prepared(m)
    m.type("echo first=$(hostname)")
    m.wait_for("first=cb1")
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    m.type("echo second=$(hostname)")
    m.wait_for("second=cb2")  # cb3 if the prepared sandbox had run the callback
    new = max(panes(m), key=lambda p: p["id"])
    assert new["init_pid"] != ahead


@needs_cgroup_limits()
def test_a_prepared_sandbox_killed_while_waiting_is_cleaned_up_and_replaced(mux):
    m = mux('hexe.defaults { profile = "full", pids = 50 }\n')
    prompt_ready(m)
    ahead = one_prepared(m)
    dirs = cgroup_dirs(ahead)
    assert dirs
    os.kill(ahead, signal.SIGKILL)
    wait_for(lambda: not any(d.exists() for d in dirs), what="its cgroup to be removed")
    again = one_prepared(m, other_than=ahead)
    assert not _alive(ahead)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    assert max(panes(m), key=lambda p: p["id"])["init_pid"] == again
