"""Host root is not root inside ``full`` and ``sandbox``.

When hexe runs as root (containers, CI, a root shell), root inside a sandbox
that drops every capability is an unprivileged host id (65534, or root's
first subordinate id): it has no power over host files beyond what a mount
makes writable, and what it writes there belongs to that id.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import hexe
from support.mux import prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="only hexe run by root maps root elsewhere"),
]

UNPRIVILEGED = 65534
DROPPING = ["full", "sandbox"]


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A directory outside /tmp (a fresh /tmp hides /tmp), removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="hexe-root-", dir="/var/tmp"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run_pane(tmp_path: Path, profile: str, mounts: str, script: str):
    config = tmp_path / "init.lua"
    config.write_text(
        "hexe.layout { hexe.tab { hexe.pane { name = 'p', "
        f"isolation = {{ profile = '{profile}', mounts = {{ {mounts} }} }} }} }} }}\n"
    )
    return hexe("--config", str(config), "run", "--pane", "p", "--", "sh", "-c", script)


@pytest.mark.parametrize("profile", DROPPING)
def test_root_inside_cannot_read_shadow_or_write_host_roots_files(profile, tmp_path, host_dir):
    owned = host_dir / "roots.txt"
    owned.write_text("root's\n")
    owned.chmod(0o644)
    host_dir.chmod(0o755)
    in_etc = Path("/etc") / f"hexe-root-test-{os.getpid()}-{profile}"
    script = (
        "id -u; cat /etc/shadow >/dev/null 2>&1 && echo read-shadow; "
        f"echo x >> {owned} 2>/dev/null && echo wrote-roots-file; "
        f"touch {host_dir}/new 2>/dev/null && echo made-a-file; "
        f"touch {in_etc} 2>/dev/null && echo wrote-etc; echo done"
    )
    try:
        result = run_pane(tmp_path, profile, f"{{ rw = '{host_dir}' }}", script)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["0", "done"], result.stdout
        assert owned.read_text() == "root's\n"
        assert not in_etc.exists()
    finally:
        in_etc.unlink(missing_ok=True)


@pytest.mark.parametrize("profile", DROPPING)
def test_files_written_through_rw_mounts_belong_to_the_unprivileged_id(profile, tmp_path, host_dir):
    shared = host_dir / "shared"
    shared.mkdir()
    os.chown(shared, UNPRIVILEGED, UNPRIVILEGED)
    host_dir.chmod(0o700)  # the source's parent is root's only: bound from a descriptor
    result = run_pane(
        tmp_path, profile, f"{{ rw = '{shared}', to = '/mnt' }}", "echo hi > /mnt/out; echo ok"
    )
    assert result.returncode == 0, result.stderr
    written = (shared / "out").stat()
    assert (written.st_uid, written.st_gid) == (UNPRIVILEGED, UNPRIVILEGED)


def test_profiles_that_keep_capabilities_still_map_the_caller(tmp_path, host_dir):
    owned = host_dir / "roots.txt"
    owned.write_text("root's\n")
    host_dir.chmod(0o755)
    result = run_pane(tmp_path, "balanced", f"{{ rw = '{host_dir}' }}", f"echo x >> {owned}")
    assert result.returncode == 0, result.stderr
    assert owned.read_text() == "root's\nx\n"  # documented: balanced as root is root


def test_a_full_panes_own_terminal_reopens_by_name(mux):
    m = mux('hexe.defaults { profile = "full" }\n')
    prompt_ready(m)
    m.type("id -u; cat /etc/shadow >/dev/null 2>&1 || echo no-shadow; echo via-$(tty) > $(tty)")
    m.wait_for("via-/dev/console")
    assert "no-shadow" in m.screen()
