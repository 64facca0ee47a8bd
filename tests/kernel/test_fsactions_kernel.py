"""Filesystem actions and a custom rootfs, for real: what a command inside sees.

Binds, tmpfs, masks and a read-only home are set per pane in ``init.lua``;
the rootfs is a small tree this module builds itself by copying ``sh``,
``ls`` and ``cat`` from the host with the libraries ``ldd`` names, so it
needs no download.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest
from support import SANDBOX_PYTHON, clean_env, hexe

pytestmark = pytest.mark.kernel

#: Tries to write and read each path given; prints what happened as JSON.
FS_PROBE = textwrap.dedent(
    """
    import errno, json, os, sys
    out = {}
    for path in sys.argv[1:]:
        facts = {}
        try:
            facts["list"] = sorted(os.listdir(path)) if os.path.isdir(path) else None
        except OSError as exc:
            facts["list"] = errno.errorcode[exc.errno]
        if not os.path.isdir(path):
            try:
                facts["read"] = open(path).read()
            except OSError as exc:
                facts["read"] = errno.errorcode[exc.errno]
        target = os.path.join(path, "written") if os.path.isdir(path) else path
        try:
            with open(target, "a") as f:
                f.write("inside")
            facts["write"] = "ok"
        except OSError as exc:
            facts["write"] = errno.errorcode[exc.errno]
        out[path] = facts
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        if fields[4] in out:
            out[fields[4]]["options"] = fields[-1]
            out[fields[4]]["mount_options"] = fields[5]
    print(json.dumps(out))
    """
)


@pytest.fixture
def area():
    """A directory outside /tmp (a fresh /tmp would hide it), removed afterwards."""
    base = Path("/var/tmp") / f"hexe-fs-{uuid.uuid4().hex[:8]}"
    for sub in ("data", "shared", "target", "secret", "home", "scratch"):
        (base / sub).mkdir(parents=True)
    (base / "data" / "file").write_text("host data")
    (base / "secret" / "key").write_text("s3cret")
    (base / "secret-file").write_text("s3cret")
    yield base
    shutil.rmtree(base, ignore_errors=True)


def run_in(config: str, tmp_path: Path, *argv: str, env=None, profile: str | None = None):
    path = tmp_path / "init.lua"
    path.write_text(config)
    flags = ["--profile", profile] if profile else []
    return hexe("--config", str(path), "run", *flags, "--", *argv, env=env)


def probe_paths(config: str, tmp_path: Path, *paths: str, env=None, profile=None) -> dict:
    result = run_in(
        config, tmp_path, SANDBOX_PYTHON, "-c", FS_PROBE, *paths, env=env, profile=profile
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def mounts_config(area: Path, profile: str = "balanced") -> str:
    return textwrap.dedent(
        f"""
        hexe.defaults {{ profile = "{profile}", mounts = {{
          {{ ro = "{area}/data", to = "{area}/target" }},
          {{ rw = "{area}/shared" }},
          {{ tmpfs = "{area}/scratch", size = "2M" }},
          {{ mask = "{area}/secret" }},
          {{ mask = "{area}/secret-file" }},
        }} }}
        """
    )


@pytest.fixture
def seen(area, tmp_path):
    paths = [f"{area}/{p}" for p in ("target", "shared", "scratch", "secret", "secret-file")]
    return probe_paths(mounts_config(area), tmp_path, *paths)


def test_read_only_bind_shows_the_host_files_and_refuses_a_write_with_erofs(seen, area):
    facts = seen[f"{area}/target"]
    assert facts["list"] == ["file"]
    assert facts["write"] == "EROFS"
    assert facts["mount_options"].split(",")[0] == "ro"
    assert not (area / "data" / "written").exists()


def test_read_write_bind_writes_reach_the_host(seen, area):
    assert seen[f"{area}/shared"]["write"] == "ok"
    assert (area / "shared" / "written").read_text() == "inside"


def test_tmpfs_action_is_fresh_and_sized(seen, area):
    facts = seen[f"{area}/scratch"]
    assert facts["list"] == [] and facts["write"] == "ok"
    assert "size=2048k" in facts["options"]
    assert not (area / "scratch" / "written").exists()


def test_masked_paths_are_empty(seen, area):
    assert seen[f"{area}/secret"]["list"] == []
    assert seen[f"{area}/secret"]["write"] in ("EROFS", "EACCES")
    assert seen[f"{area}/secret-file"]["read"] == ""
    assert (area / "secret" / "key").read_text() == "s3cret"


def test_masked_paths_are_unreadable_once_capabilities_are_dropped(area, tmp_path):
    paths = [f"{area}/secret", f"{area}/secret-file"]
    seen = probe_paths(mounts_config(area, "full"), tmp_path, *paths)
    assert seen[paths[0]]["list"] == "EACCES"
    assert seen[paths[1]]["read"] == "EACCES"


def test_read_only_home(area, tmp_path):
    home = area / "home"
    env = clean_env(HOME=str(home))
    config = 'hexe.defaults { profile = "balanced", mounts = { { ro = "~" } } }'
    seen = probe_paths(config, tmp_path, str(home), env=env)
    assert seen[str(home)]["write"] == "EROFS"
    check = hexe("--config", str(tmp_path / "init.lua"), "config", "check", env=env)
    assert f"ro {home}" in check.stdout


def test_a_bind_whose_source_is_missing_is_refused_naming_it(area, tmp_path):
    config = f'hexe.defaults {{ mounts = {{ {{ ro = "{area}/nope", to = "/srv" }} }} }}'
    result = run_in(config, tmp_path, "true")
    assert result.returncode == 125
    assert f"defaults.mounts[1]: ro {area}/nope does not exist" in result.stderr


def test_a_missing_target_names_the_action_and_the_step(area, tmp_path):
    config = f'hexe.defaults {{ mounts = {{ {{ tmpfs = "{area}/nope" }} }} }}'
    result = run_in(config, tmp_path, "true")
    assert result.returncode == 125
    assert (
        f"defaults.mounts[1] (tmpfs {area}/nope 64M): mount tmpfs on {area}/nope: "
        "No such file or directory"
    ) in result.stderr


def test_a_bad_mount_spec_is_a_config_error(tmp_path):
    result = run_in('hexe.defaults { mounts = { { bind = "/srv" } } }', tmp_path, "true")
    assert result.returncode == 125
    assert 'defaults.mounts[1]={ bind = "/srv" } names no action; use a list of tables' in (
        result.stderr
    )
    result = run_in('hexe.defaults { mounts = { { ro = "srv" } } }', tmp_path, "true")
    assert 'defaults.mounts[1].ro="srv" is not a path; use an absolute path' in result.stderr


def test_mounts_need_a_mount_namespace(area, tmp_path):
    config = f'hexe.defaults {{ mounts = {{ {{ rw = "{area}/shared" }} }} }}'
    result = run_in(config, tmp_path, "true", profile="minimal")
    assert result.returncode == 125
    assert "needs a mount namespace, which profile minimal does not have" in result.stderr


# -- rootfs -------------------------------------------------------------------


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    """sh, ls and cat with their libraries, and the directories hexe mounts on."""
    root = tmp_path_factory.mktemp("rootfs")
    root.chmod(0o755)  # under host root, root inside full is an unprivileged id
    for name in ("proc", "dev", "tmp", "bin"):
        (root / name).mkdir()
    for tool in ("sh", "ls", "cat"):
        binary = shutil.which(tool)
        assert binary, f"{tool} not on the host"
        shutil.copy(binary, root / "bin" / tool)
        ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        for lib in (w for w in ldd.split() if w.startswith("/")):
            dest = root / lib.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                shutil.copy(lib, dest)
    (root / "only-in-the-rootfs").write_text("mine\n")
    return root


def test_a_custom_rootfs_shows_only_its_own_files(rootfs, tmp_path):
    config = f'hexe.defaults {{ profile = "full", rootfs = "{rootfs}" }}'
    script = "ls /; echo --; ls /proc; echo --; ls /dev; echo --; ls -A /tmp; echo --; "
    script += "cat /only-in-the-rootfs; cat /etc/hostname 2>/dev/null || echo no-etc"
    result = run_in(config, tmp_path, "/bin/sh", "-c", script)
    assert result.returncode == 0, result.stderr
    top, pids, dev, tmp, rest = result.stdout.split("--\n")
    expected = sorted(p.name for p in rootfs.iterdir())
    assert top.split() == expected
    pids = sorted(int(p) for p in pids.split() if p.isdigit())
    assert pids[:2] == [1, 2] and max(pids) < 10  # hexe-init, sh, ls: nothing of the host
    assert set(dev.split()) == {
        "fd",
        "full",
        "mqueue",
        "null",
        "ptmx",
        "pts",
        "random",
        "shm",
        "stderr",
        "stdin",
        "stdout",
        "tty",
        "urandom",
        "zero",
    }
    assert tmp == ""
    assert rest == "mine\nno-etc\n"
    assert not (rootfs / "tmp").exists() or list((rootfs / "tmp").iterdir()) == []


def test_mounts_apply_inside_the_rootfs(rootfs, area, tmp_path):
    config = (
        f'hexe.defaults {{ profile = "sandbox", rootfs = "{rootfs}", '
        f'mounts = {{ {{ ro = "{area}/data", to = "/tmp" }} }} }}'
    )
    result = run_in(config, tmp_path, "/bin/sh", "-c", "cat /tmp/file; echo x > /tmp/new")
    assert result.stdout == "host data"
    assert "Read-only file system" in result.stderr


def test_a_rootfs_that_does_not_exist_is_refused(tmp_path):
    result = run_in(
        'hexe.defaults { profile = "full", rootfs = "/nonexistent/root" }', tmp_path, "true"
    )
    assert result.returncode == 125
    assert "rootfs=/nonexistent/root (from init.lua" in result.stderr
    assert "does not exist; use a directory holding a root file system" in result.stderr
