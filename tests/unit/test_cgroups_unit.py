"""The cgroups plugin's path and parse logic, against fake files in tmp_path.

A fake tree can show which directories and files the drivers would touch and
what they would write, in which order; it cannot show that the kernel
enforces anything (that is ``test_cgroups_kernel.py``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import SimpleNamespace

import hexe_cgroups
import pytest
from hexe_cgroups import detect as detect_mod
from hexe_cgroups import v1, v2
from hexe_cgroups.detect import detect
from hexe_cgroups.driver import Driver, owner_tag
from hexe_cgroups.limits import CpuQuota
from hexe_cgroups.v1 import V1Driver
from hexe_cgroups.v2 import V2Driver

from hexe.errors import SpawnRefused
from hexe.isolation import Isolation

#: the cgroup a plan named run-42 gets: its name and its owner (this process)
RUN_42 = "run-42" + owner_tag()

# -- fake machines ---------------------------------------------------------------


def mountinfo_line(n: int, mount_point: Path, fstype: str, options: str, root: str = "/") -> str:
    point = str(mount_point).replace(" ", "\\040")
    return f"{n} 1 0:{n} {root} {point} rw,relatime - {fstype} {fstype} {options}"


def write_fake(tmp_path: Path, mountinfo: list[str], cgroup: str) -> dict[str, str]:
    (tmp_path / "mountinfo").write_text("\n".join(mountinfo) + "\n")
    (tmp_path / "cgroup").write_text(cgroup)
    return {"mountinfo": str(tmp_path / "mountinfo"), "proc_cgroup": str(tmp_path / "cgroup")}


def fake_v2(
    tmp_path: Path, own: str = "/user.slice/hexe.scope", controllers: str = "cpu memory pids"
):
    root = tmp_path / "fs"
    own_dir = root / own.lstrip("/")
    own_dir.mkdir(parents=True)
    (own_dir / "cgroup.controllers").write_text(controllers + "\n")
    (own_dir / "cgroup.subtree_control").write_text("")
    files = write_fake(tmp_path, [mountinfo_line(30, root, "cgroup2", "rw")], f"0::{own}\n")
    return files, root, own_dir


def fake_hybrid(tmp_path: Path, memory_own: str = "/process_api/abc"):
    """This machine's layout: v1 controllers, cgroup2 at unified with hugetlb only."""
    base = tmp_path / "sys fs"  # a space, to exercise mountinfo's \040 escape
    lines = []
    for n, name in enumerate(("cpu,cpuacct", "memory", "pids", "name=systemd"), start=32):
        mount_point = base / name.split(",")[0].replace("name=", "")
        mount_point.mkdir(parents=True)
        options = "rw,xattr,name=systemd" if name.startswith("name=") else f"rw,{name}"
        lines.append(mountinfo_line(n, mount_point, "cgroup", options))
    unified = base / "unified"
    unified.mkdir()
    (unified / "cgroup.controllers").write_text("hugetlb\n")
    lines.append(mountinfo_line(41, unified, "cgroup2", "rw"))
    (base / "memory" / memory_own.lstrip("/")).mkdir(parents=True)
    cgroup = "9:name=systemd:/\n8:pids:/\n4:memory:" + memory_own + "\n2:cpu,cpuacct:/\n0::/\n"
    return write_fake(tmp_path, lines, cgroup), base


# -- detection ------------------------------------------------------------------


def test_v2_only_layout_is_detected_with_its_own_cgroup_and_controllers(tmp_path):
    files, root, own_dir = fake_v2(tmp_path)
    layout = detect(**files)
    assert layout.mode == "v2"
    assert layout.v2 is not None
    assert layout.v2.own_dir == str(own_dir)
    assert layout.v2.controllers == {"cpu", "memory", "pids"}
    assert dict(layout.v1) == {}
    assert layout.choose(["memory", "pids", "cpu"]) == "v2"


def test_hybrid_layout_puts_limits_on_v1_and_keeps_v2_for_placement(tmp_path):
    files, base = fake_hybrid(tmp_path)
    layout = detect(**files)
    assert layout.mode == "hybrid"
    assert layout.v2 is not None and layout.v2.controllers == {"hugetlb"}
    assert layout.v1["memory"].own_dir == str(base / "memory" / "process_api" / "abc")
    assert layout.v1["pids"].own_dir == str(base / "pids")
    assert layout.v1["cpu"] is layout.v1["cpuacct"]  # co-mounted as cpu,cpuacct
    assert layout.v1["cpu"].mount_point == str(base / "cpu")
    assert "name=systemd" not in layout.v1 and "systemd" not in layout.v1
    assert layout.choose(["memory", "pids", "cpu"]) == "v1"
    assert layout.choose([]) == "v2"


def test_v1_layout_with_a_mount_rooted_below_the_hierarchy_root(tmp_path):
    # A container's view: the memory hierarchy is mounted from /docker/x, and
    # /proc/self/cgroup names the full path /docker/x/app.
    mount_point = tmp_path / "memory"
    (mount_point / "app").mkdir(parents=True)
    files = write_fake(
        tmp_path,
        [mountinfo_line(35, mount_point, "cgroup", "rw,memory", root="/docker/x")],
        "4:memory:/docker/x/app\n",
    )
    layout = detect(**files)
    assert layout.mode == "v1"
    assert layout.v2 is None
    assert layout.v1["memory"].own_dir == str(mount_point / "app")
    assert layout.choose(["memory"]) == "v1"
    assert layout.choose(["pids"]) == "v1"  # unavailable everywhere; v1 is all there is


def test_a_cgroup_outside_the_mounted_subtree_is_unusable_and_explained(tmp_path):
    mount_point = tmp_path / "memory"
    mount_point.mkdir()
    files = write_fake(
        tmp_path,
        [mountinfo_line(35, mount_point, "cgroup", "rw,memory", root="/docker/x")],
        "4:memory:/elsewhere\n",
    )
    layout = detect(**files)
    assert "memory" not in layout.v1
    assert any("/elsewhere" in p for p in layout.problems)


def test_no_cgroup_mounts_means_mode_none_and_no_driver(tmp_path):
    files = write_fake(tmp_path, ["22 1 0:5 / /proc rw - proc proc rw"], "0::/\n")
    layout = detect(**files)
    assert layout.mode == "none"
    assert layout.choose(["memory"]) is None


def test_unreadable_proc_files_mean_mode_none(tmp_path):
    layout = detect(mountinfo=str(tmp_path / "missing"), proc_cgroup=str(tmp_path / "missing"))
    assert layout.mode == "none"
    assert layout.problems


def test_split_controllers_choose_the_version_that_offers_more(tmp_path):
    files, root, own_dir = fake_v2(tmp_path, own="/", controllers="pids")
    mem = tmp_path / "memory"
    mem.mkdir()
    lines = (tmp_path / "mountinfo").read_text().splitlines()
    lines.append(mountinfo_line(35, mem, "cgroup", "rw,memory"))
    (tmp_path / "mountinfo").write_text("\n".join(lines) + "\n")
    (tmp_path / "cgroup").write_text("4:memory:/\n0::/\n")
    layout = detect(**files)
    assert layout.mode == "hybrid"
    assert layout.choose(["pids"]) == "v2"
    assert layout.choose(["memory"]) == "v1"
    assert layout.choose(["memory", "pids", "cpu"]) == "v2"  # a tie goes to v2


# -- driver paths -------------------------------------------------------------------


def test_v1_driver_makes_one_leaf_per_hierarchy_under_own_cgroup_hexe(tmp_path):
    files, base = fake_hybrid(tmp_path)
    driver = V1Driver(detect(**files).v1)
    failed = driver.create("run-12", ["memory", "pids", "cpu"])
    assert failed == {}
    assert driver.leaf_of == {
        "memory": str(base / "memory" / "process_api" / "abc" / "hexe" / "run-12"),
        "pids": str(base / "pids" / "hexe" / "run-12"),
        "cpu": str(base / "cpu" / "hexe" / "run-12"),
    }
    assert sorted(driver.paths()) == sorted(driver.leaf_of.values())
    assert all(os.path.isdir(p) for p in driver.paths())


def test_co_mounted_controllers_share_one_v1_leaf(tmp_path):
    files, base = fake_hybrid(tmp_path)
    driver = V1Driver(detect(**files).v1)
    driver.create("run-1", ["cpu", "cpuacct"])
    assert driver.paths() == [str(base / "cpu" / "hexe" / "run-1")]


def test_v2_driver_leaf_is_own_cgroup_hexe_name(tmp_path):
    files, root, own_dir = fake_v2(tmp_path)
    driver = V2Driver(detect(**files).v2)
    assert driver.leaf_path("run-7") == str(own_dir / "hexe" / "run-7")
    assert driver.leaf_path("../escape") == str(own_dir / "hexe" / "_escape")


def test_an_existing_leaf_is_never_taken_over(tmp_path):
    files, base = fake_hybrid(tmp_path)
    pids_hexe = base / "pids" / "hexe"
    (pids_hexe / "run-3").mkdir(parents=True)  # empty: maybe a spawn whose child has not joined
    driver = V1Driver(detect(**files).v1)
    driver.create("run-3", ["pids"])
    other = V1Driver(detect(**files).v1)
    other.create("run-3", ["pids"])
    assert driver.paths() == [str(pids_hexe / "run-3-1")]
    assert other.paths() == [str(pids_hexe / "run-3-2")]


# -- v2 subtree_control --------------------------------------------------------------


def test_v2_enables_each_controller_in_own_cgroup_then_in_hexe(tmp_path):
    files, root, own_dir = fake_v2(tmp_path)
    (own_dir / "cgroup.subtree_control").write_text("memory\n")  # already enabled
    (own_dir / "hexe").mkdir()
    (own_dir / "hexe" / "cgroup.subtree_control").write_text("")
    driver = V2Driver(detect(**files).v2)
    failed = driver.create("run-5", ["memory", "pids", "cpu"])
    assert failed == {}
    own_control = str(own_dir / "cgroup.subtree_control")
    hexe_control = str(own_dir / "hexe" / "cgroup.subtree_control")
    # The fake file keeps only the last write (the kernel would merge them).
    assert driver.writes == [
        (own_control, "+pids"),
        (own_control, "+cpu"),
        (hexe_control, "+memory"),
        (hexe_control, "+pids"),
        (hexe_control, "+cpu"),
    ]
    assert driver.paths() == [str(own_dir / "hexe" / "run-5")]


def test_v2_controller_not_offered_is_reported_without_writes(tmp_path):
    files, root, own_dir = fake_v2(tmp_path, controllers="pids")
    (own_dir / "hexe").mkdir()
    (own_dir / "hexe" / "cgroup.subtree_control").write_text("")
    driver = V2Driver(detect(**files).v2)
    failed = driver.create("run-6", ["memory", "pids"])
    assert set(failed) == {"memory"}
    assert "not offered" in failed["memory"] and "cgroup.controllers" in failed["memory"]
    assert all("+memory" not in value for _, value in driver.writes)
    assert driver.controllers == {"pids"}


def test_v2_ebusy_in_own_cgroup_explains_the_no_internal_processes_rule(tmp_path, monkeypatch):
    files, root, own_dir = fake_v2(tmp_path)

    def busy(self, path, value):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)

    monkeypatch.setattr(Driver, "write", busy)
    driver = V2Driver(detect(**files).v2)
    failed = driver.create("run-8", ["memory"])
    why = failed["memory"]
    assert why.startswith(f"cannot enable memory in {own_dir}/cgroup.subtree_control")
    assert "Device or resource busy" in why
    assert "processes live in" in why
    assert "systemd-run --user --scope -p Delegate=yes" in why


def busy_until_hexe_moves(monkeypatch, own_dir: Path):
    """Writes go to the fake files, but enabling a controller in ``own_dir`` fails
    with EBUSY until some process was moved into ``hexe/.self``."""

    def write(self, path, value):
        moved = any(p.endswith("/hexe/.self/cgroup.procs") for p, _ in self.writes)
        if path == str(own_dir / "cgroup.subtree_control") and not moved:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)
        self.writes.append((path, value))
        Path(path).write_text(value)

    monkeypatch.setattr(Driver, "write", write)


def test_v2_hexe_alone_in_its_cgroup_moves_itself_into_hexe_self(tmp_path, monkeypatch):
    files, root, own_dir = fake_v2(tmp_path)
    (own_dir / "cgroup.procs").write_text(f"{os.getpid()}\n")
    (own_dir / "hexe").mkdir()
    (own_dir / "hexe" / "cgroup.subtree_control").write_text("")
    busy_until_hexe_moves(monkeypatch, own_dir)
    driver = V2Driver(detect(**files).v2)
    assert driver.create("run-14", ["memory"]) == {}
    assert driver.moved_self == str(own_dir / "hexe" / ".self")
    assert driver.writes == [
        (str(own_dir / "hexe" / ".self" / "cgroup.procs"), str(os.getpid())),
        (str(own_dir / "cgroup.subtree_control"), "+memory"),
        (str(own_dir / "hexe" / "cgroup.subtree_control"), "+memory"),
    ]
    assert driver.paths() == [str(own_dir / "hexe" / "run-14")]


def test_v2_with_other_processes_in_own_cgroup_nothing_is_moved(tmp_path, monkeypatch):
    files, root, own_dir = fake_v2(tmp_path)
    (own_dir / "cgroup.procs").write_text(f"1234\n{os.getpid()}\n")
    busy_until_hexe_moves(monkeypatch, own_dir)
    driver = V2Driver(detect(**files).v2)
    failed = driver.create("run-15", ["memory"])
    assert driver.moved_self is None
    assert not any(p.endswith("cgroup.procs") for p, _ in driver.writes)
    assert "other processes live in" in failed["memory"]
    assert "Delegate=yes" in failed["memory"]


def test_a_hexe_that_moved_itself_counts_the_cgroup_it_left_as_its_own(tmp_path):
    files, root, own_dir = fake_v2(tmp_path, own="/app.scope")
    (own_dir / "hexe" / ".self").mkdir(parents=True)
    (own_dir / "hexe" / ".self" / "cgroup.controllers").write_text("memory\n")
    (tmp_path / "cgroup").write_text("0::/app.scope/hexe/.self\n")
    layout = detect(**files)
    assert layout.v2.own_path == "/app.scope"
    assert layout.v2.own_dir == str(own_dir)
    assert layout.v2.controllers == {"cpu", "memory", "pids"}
    assert V2Driver(layout.v2).leaf_path("run-16") == str(own_dir / "hexe" / "run-16")


# -- the files and values of each limit form -----------------------------------------


@pytest.mark.parametrize(
    ("limit", "value", "expected"),
    [
        ("memory", 64 << 20, [("memory.max", "67108864"), ("memory.swap.max", "0")]),
        ("memory", None, [("memory.max", "max")]),
        ("pids", 50, [("pids.max", "50")]),
        ("pids", None, [("pids.max", "max")]),
        ("cpu", CpuQuota(20_000, 100_000), [("cpu.max", "20000 100000")]),
        ("cpu", CpuQuota(None, 100_000), [("cpu.max", "max 100000")]),
        ("cpu", CpuQuota(None, 50_000), [("cpu.max", "max 50000")]),
    ],
)
def test_v2_limit_files_and_values(limit, value, expected):
    assert v2.limit_writes(limit, value) == expected


def test_v2_memory_without_swap_accounting_writes_only_memory_max():
    writes = v2.limit_writes("memory", 1 << 30, present=lambda f: f != "memory.swap.max")
    assert writes == [("memory.max", "1073741824")]


@pytest.mark.parametrize(
    ("limit", "value", "expected"),
    [
        # memsw must stay >= the limit: lower the limit first, raise memsw first.
        (
            "memory",
            64 << 20,
            [("memory.limit_in_bytes", "67108864"), ("memory.memsw.limit_in_bytes", "67108864")],
        ),
        ("memory", None, [("memory.memsw.limit_in_bytes", "-1"), ("memory.limit_in_bytes", "-1")]),
        ("pids", 50, [("pids.max", "50")]),
        ("pids", None, [("pids.max", "max")]),
        (
            "cpu",
            CpuQuota(20_000, 100_000),
            [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "20000")],
        ),
        (
            "cpu",
            CpuQuota(None, 100_000),
            [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "-1")],
        ),
    ],
)
def test_v1_limit_files_and_values(limit, value, expected):
    assert v1.limit_writes(limit, value) == expected


def test_v1_memory_without_memsw_writes_only_the_limit():
    writes = v1.limit_writes("memory", 1 << 30, present=lambda f: False)
    assert writes == [("memory.limit_in_bytes", "1073741824")]


def touch_control_files(leaf: str, names: list[str]) -> None:
    for name in names:
        Path(leaf, name).write_text("")


def test_v1_set_limits_writes_each_leaf_in_order(tmp_path):
    files, base = fake_hybrid(tmp_path)
    driver = V1Driver(detect(**files).v1)
    driver.create("run-9", ["memory", "pids", "cpu"])
    touch_control_files(driver.leaf_of["memory"], ["memory.limit_in_bytes", v1.MEMSW])
    touch_control_files(driver.leaf_of["pids"], ["pids.max"])
    touch_control_files(driver.leaf_of["cpu"], ["cpu.cfs_period_us", "cpu.cfs_quota_us"])
    limits = {"memory": 64 << 20, "pids": 50, "cpu": CpuQuota(20_000, 100_000)}
    assert driver.set_limits(limits) == {}
    written = [(os.path.relpath(p, base), v) for p, v in driver.writes]
    assert written == [
        ("memory/process_api/abc/hexe/run-9/memory.limit_in_bytes", "67108864"),
        ("memory/process_api/abc/hexe/run-9/memory.memsw.limit_in_bytes", "67108864"),
        ("pids/hexe/run-9/pids.max", "50"),
        ("cpu/hexe/run-9/cpu.cfs_period_us", "100000"),
        ("cpu/hexe/run-9/cpu.cfs_quota_us", "20000"),
    ]
    assert Path(driver.leaf_of["cpu"], "cpu.cfs_quota_us").read_text() == "20000"


def test_v2_set_limits_writes_the_leaf_files(tmp_path):
    files, root, own_dir = fake_v2(tmp_path)
    (own_dir / "hexe").mkdir()
    (own_dir / "hexe" / "cgroup.subtree_control").write_text("")
    driver = V2Driver(detect(**files).v2)
    driver.create("run-10", ["memory", "pids", "cpu"])
    leaf = driver.paths()[0]
    touch_control_files(leaf, ["memory.max", "pids.max", "cpu.max"])  # no memory.swap.max
    driver.writes.clear()
    failed = driver.set_limits({"memory": 1 << 30, "pids": 50, "cpu": CpuQuota(None, 100_000)})
    assert failed == {}
    assert [(os.path.basename(p), v) for p, v in driver.writes] == [
        ("memory.max", "1073741824"),
        ("pids.max", "50"),
        ("cpu.max", "max 100000"),
    ]


def test_a_limit_file_that_cannot_be_written_is_named(tmp_path):
    files, base = fake_hybrid(tmp_path)
    driver = V1Driver(detect(**files).v1)
    driver.create("run-11", ["pids"])
    failed = driver.set_limits({"pids": 50})  # the fake leaf has no pids.max
    assert failed == {
        "pids": f"cannot write 50 to {driver.leaf_of['pids']}/pids.max: No such file or directory"
    }


# -- cleanup ----------------------------------------------------------------------------


def test_cleanup_tolerates_leaves_that_are_already_gone(tmp_path):
    for driver in (V1Driver({}), V2Driver(detect_mod.Hierarchy(2, "/x", "/", "/x", frozenset()))):
        driver.leaves = [str(tmp_path / "gone" / "run-1")]
        assert driver.kill(timeout=0.1) == []
        assert driver.remove(timeout=0.1) == []
        assert driver.paths() == []


def test_cleanup_removes_empty_leaves_and_keeps_the_hexe_parent(tmp_path):
    files, base = fake_hybrid(tmp_path)
    driver = V1Driver(detect(**files).v1)
    driver.create("run-13", ["pids", "cpu"])
    assert driver.kill(timeout=0.1) == []
    assert driver.remove() == []
    assert not (base / "pids" / "hexe" / "run-13").exists()
    assert (base / "pids" / "hexe").is_dir()


# -- the hooks, on a fake tree -----------------------------------------------------------


class FakeSpawn(SimpleNamespace):
    def warn(self, message, **context):
        self.warnings.append(message)


def fake_spawn(files: dict[str, str], *, namespaces=(), strict=False, **limits) -> FakeSpawn:
    import structlog

    iso = Isolation(
        profile="test",
        values={
            "namespaces": frozenset(namespaces),
            "no_new_privs": False,
            **{name: limits.get(name) for name in ("memory", "pids", "cpu")},
            "strict": strict,
        },
    )
    plan = SimpleNamespace(isolation=iso, name="run-42", extra={"cgroups": files})
    return FakeSpawn(
        plan=plan, pid=None, state={}, facts={}, warnings=[], log=structlog.get_logger()
    )


@pytest.fixture
def recording_writes(monkeypatch):
    """Let writes create the file, as if the kernel had made the control files."""

    def write(self, path, value):
        self.writes.append((path, value))
        Path(path).write_text(value)

    monkeypatch.setattr(Driver, "write", write)


def test_features_claim_the_three_limits():
    assert hexe_cgroups.hexe_spawn_features() == ["memory", "pids", "cpu"]


def test_nothing_is_made_without_limits_or_a_cgroup_namespace(tmp_path):
    files, base = fake_hybrid(tmp_path)
    spawn = fake_spawn(files, namespaces=("user", "pid"))
    hexe_cgroups.hexe_spawn_prepare(spawn)
    assert spawn.state == {} and spawn.facts == {} and spawn.warnings == []
    assert not (base / "pids" / "hexe").exists()


def test_a_limit_whose_cgroup_cannot_be_made_is_warned_per_limit(tmp_path, recording_writes):
    files, base = fake_hybrid(tmp_path, memory_own="/blocked")
    (base / "memory" / "blocked").rmdir()
    (base / "memory" / "blocked").write_text("")  # mkdir below a file: ENOTDIR
    spawn = fake_spawn(files, memory=64 << 20, pids=50)
    hexe_cgroups.hexe_spawn_prepare(spawn)
    leaf = base / "memory" / "blocked" / "hexe" / RUN_42
    assert spawn.warnings == [f"memory limit not applied: cannot create {leaf}: Not a directory"]
    assert spawn.facts["cgroup"] == str(base / "pids" / "hexe" / RUN_42)
    assert spawn.facts["cgroup_driver"] == "v1"
    assert spawn.facts["cgroup_unapplied"] == ["memory"]
    assert (base / "pids" / "hexe" / RUN_42 / "pids.max").read_text() == "50"
    (base / "pids" / "hexe" / RUN_42 / "pids.max").unlink()  # cgroupfs lets rmdir do this
    hexe_cgroups.hexe_spawn_exited(spawn, 0)
    assert len(spawn.warnings) == 1
    assert not (base / "pids" / "hexe" / RUN_42).exists()


def test_strict_limits_refuse_with_the_same_sentence_and_a_hint(tmp_path):
    files = write_fake(tmp_path, [], "0::/\n")
    spawn = fake_spawn(files, strict=True, pids=50)
    with pytest.raises(SpawnRefused) as info:
        hexe_cgroups.hexe_spawn_prepare(spawn)
    assert str(info.value) == "pids limit not applied: no cgroup hierarchy is mounted here"
    assert "root" in info.value.hint and "Delegate=yes" in info.value.hint
    hexe_cgroups.hexe_spawn_failed(spawn, info.value)  # copes with no driver


def test_strict_refusal_after_a_partial_create_is_undone_by_the_failed_hook(
    tmp_path, recording_writes
):
    files, base = fake_hybrid(tmp_path, memory_own="/blocked")
    (base / "memory" / "blocked").rmdir()
    (base / "memory" / "blocked").write_text("")
    spawn = fake_spawn(files, strict=True, memory=64 << 20, pids=50)
    with pytest.raises(SpawnRefused, match="^memory limit not applied: cannot create "):
        hexe_cgroups.hexe_spawn_prepare(spawn)
    leaf = base / "pids" / "hexe" / RUN_42
    (leaf / "pids.max").unlink()  # cgroupfs lets rmdir do this
    hexe_cgroups.hexe_spawn_failed(spawn, RuntimeError("refused"))
    assert not leaf.exists()
    assert spawn.warnings == []


def test_no_hierarchy_warns_for_every_requested_limit(tmp_path):
    files = write_fake(tmp_path, [], "0::/\n")
    spawn = fake_spawn(files, memory=1 << 30, cpu=CpuQuota(50_000, 100_000))
    hexe_cgroups.hexe_spawn_prepare(spawn)
    assert spawn.warnings == [
        "memory limit not applied: no cgroup hierarchy is mounted here",
        "cpu limit not applied: no cgroup hierarchy is mounted here",
    ]


def test_a_cgroup_namespace_alone_makes_no_cgroup(tmp_path):
    files, root, own_dir = fake_v2(tmp_path)
    spawn = fake_spawn(files, namespaces=("cgroup",), strict=True)
    hexe_cgroups.hexe_spawn_prepare(spawn)
    assert spawn.state == {} and spawn.warnings == [] and "cgroup" not in spawn.facts
    assert not (own_dir / "hexe").exists()


def test_v1_child_joins_by_writing_0_to_tasks_and_the_parent_does_nothing(
    tmp_path, recording_writes
):
    files, base = fake_hybrid(tmp_path)
    spawn = fake_spawn(files, memory=64 << 20, pids=50)
    hexe_cgroups.hexe_spawn_prepare(spawn)
    driver = spawn.state["cgroups"]["driver"]
    spawn.pid = 4242
    before = len(driver.writes)
    hexe_cgroups.hexe_spawn_parent(spawn)
    assert len(driver.writes) == before
    hexe_cgroups.hexe_child_join(spawn)
    joined = driver.writes[before:]
    assert joined == [
        (str(base / "memory" / "process_api" / "abc" / "hexe" / RUN_42 / "box" / "tasks"), "0"),
        (str(base / "pids" / "hexe" / RUN_42 / "box" / "tasks"), "0"),
    ]
    assert spawn.warnings == []


def test_v1_join_failure_warns_or_refuses_under_strict(tmp_path, recording_writes):
    from hexe.errors import SetupError

    files, base = fake_hybrid(tmp_path)
    for strict in (False, True):
        spawn = fake_spawn(files, strict=strict, pids=50)
        hexe_cgroups.hexe_spawn_prepare(spawn)
        driver = spawn.state["cgroups"]["driver"]

        def refuse(path, value, driver=driver):
            raise PermissionError(errno.EACCES, "Permission denied")

        driver.write = refuse
        tasks = base / "pids" / "hexe" / RUN_42 / "box" / "tasks"
        why = f"cannot move this process into {tasks}: Permission denied"
        if strict:
            with pytest.raises(SetupError) as info:
                hexe_cgroups.hexe_child_join(spawn)
            assert str(info.value) == f"cgroups failed: pids limit not applied: {why}"
        else:
            hexe_cgroups.hexe_child_join(spawn)
            assert spawn.warnings == [f"pids limit not applied: {why}"]
        for leaf in list(driver.leaves):
            for f in Path(leaf).iterdir():
                if f.is_file():
                    f.unlink()
        hexe_cgroups.hexe_spawn_exited(spawn, 0)


def test_failed_hook_copes_with_missing_and_partial_state(tmp_path):
    files, base = fake_hybrid(tmp_path)
    hexe_cgroups.hexe_spawn_failed(fake_spawn(files), RuntimeError("x"))
    spawn = fake_spawn(files, pids=5)
    spawn.state["cgroups"] = {}
    hexe_cgroups.hexe_spawn_failed(spawn, RuntimeError("x"))
    driver = V1Driver(detect(**files).v1)
    driver.create("run-42", ["pids"])
    driver.leaves.append(str(base / "pids" / "hexe" / "never-made"))
    spawn.state["cgroups"] = {"driver": driver}
    hexe_cgroups.hexe_spawn_failed(spawn, RuntimeError("x"))
    assert spawn.warnings == []
    assert not (base / "pids" / "hexe" / "run-42").exists()


# -- the box below the limits, and the sweep's choice ------------------------------------


def test_v2_places_the_process_in_the_box_below_the_limited_cgroup(tmp_path):
    files, root, own_dir = fake_v2(tmp_path)
    (own_dir / "hexe").mkdir()
    (own_dir / "hexe" / "cgroup.subtree_control").write_text("")
    driver = V2Driver(detect(**files).v2)
    assert driver.create("run-11", ["memory", "pids"]) == {}
    leaf = own_dir / "hexe" / "run-11"
    touch_control_files(str(leaf), ["memory.max", "pids.max"])
    driver.writes.clear()
    driver.set_limits({"memory": 64 << 20, "pids": 20})
    (leaf / "box" / "cgroup.procs").write_text("")
    assert driver.add_pid(4242) == {}
    assert driver.writes == [
        (str(leaf / "memory.max"), str(64 << 20)),
        (str(leaf / "pids.max"), "20"),
        (str(leaf / "box" / "cgroup.procs"), "4242"),
    ]
    # nothing enables a controller for the box: it gets no limit files of its own
    assert not (leaf / "cgroup.subtree_control").exists()


def test_v1_memory_leaf_is_made_hierarchical_before_its_box(tmp_path, monkeypatch):
    files, base = fake_hybrid(tmp_path)
    made = []
    real_make_box = V1Driver.make_box

    def make_box(self, leaf):
        in_memory = leaf.startswith(str(base / "memory"))
        made.append(Path(leaf, "memory.use_hierarchy").read_text() if in_memory else "-")
        return real_make_box(self, leaf)

    real_make_leaf = Driver.make_leaf

    def make_leaf(self, parent, name):
        leaf = real_make_leaf(self, parent, name)
        if parent.startswith(str(base / "memory")):
            Path(leaf, "memory.use_hierarchy").write_text("0")
        return leaf

    monkeypatch.setattr(V1Driver, "make_box", make_box)
    monkeypatch.setattr(Driver, "make_leaf", make_leaf)
    driver = V1Driver(detect(**files).v1)
    assert driver.create("run-13", ["memory", "pids"]) == {}
    assert made == ["1", "-"]


def test_the_sweep_picks_only_tagged_cgroups_of_dead_owners_in_our_pid_namespace(tmp_path):
    import subprocess

    from hexe_cgroups.driver import owner_is_dead, stale, start_time

    ns = os.stat("/proc/self/ns/pid").st_ino
    gone = subprocess.Popen(["true"])
    gone_started = start_time(gone.pid)
    gone.wait()
    names = {
        "live": f"a@{ns}.{os.getpid()}.{start_time('self')}",
        "dead": f"b@{ns}.{gone.pid}.{gone_started}",
        "reused": f"c@{ns}.{os.getpid()}.{start_time('self') - 1}",
        "elsewhere": f"d@{ns + 1}.{gone.pid}.{gone_started}",
        "untagged": "run-1234-abcdef",
        "self": ".self",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    assert stale(str(tmp_path)) == [str(tmp_path / names["dead"]), str(tmp_path / names["reused"])]
    assert owner_is_dead(names["dead"]) and not owner_is_dead(names["live"])
    assert stale(str(tmp_path / "missing")) == []
    assert owner_tag() == f"@{ns}.{os.getpid()}.{start_time('self')}"
