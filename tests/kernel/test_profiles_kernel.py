"""Each profile, for real: run a probe inside ``hexe run`` and check what it sees.

Like bubblewrap's tests: one observable fact per test, read from inside the
sandbox, compared with the host.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest
from hexe_voidbox.syscalls import NAMESPACE_FILES
from support import hexe, host_ns, iso, probe

from hexe.plugin.settings import default_settings

pytestmark = pytest.mark.kernel

PROFILES = list(default_settings().profiles)
WITH = {name: iso(profile=name).get("namespaces") for name in PROFILES}
NS_FILE = NAMESPACE_FILES


def profiles_with(ns: str, present: bool = True) -> list[str]:
    return [p for p in PROFILES if (ns in WITH[p]) == present]


@pytest.fixture(scope="module")
def seen() -> dict[str, dict]:
    """The probe's facts for every profile, and the marker each wrote to /tmp."""
    out = {}
    for profile in PROFILES:
        marker = f"hexe-probe-{profile}-{uuid.uuid4().hex[:8]}"
        facts = probe("--profile", profile, marker=marker)
        facts["marker"] = marker
        out[profile] = facts
    yield out
    for facts in out.values():
        Path("/tmp", facts["marker"]).unlink(missing_ok=True)
        Path("/var/tmp", facts["marker"] + ".owner").unlink(missing_ok=True)


# -- pid ----------------------------------------------------------------------


@pytest.mark.parametrize("profile", profiles_with("pid"))
def test_pid_namespace_runs_command_as_pid_2_under_hexe_init(seen, profile):
    facts = seen[profile]
    assert facts["pid"] == 2
    assert facts["ppid"] == 1
    assert facts["pid1_comm"] == "hexe-init"


@pytest.mark.parametrize("profile", profiles_with("pid"))
def test_proc_shows_only_the_sandbox_processes(seen, profile):
    assert seen[profile]["proc_pids"] == [1, 2]
    assert seen[profile]["proc_mount"]["fstype"] == "proc"


@pytest.mark.parametrize("profile", profiles_with("pid", present=False))
def test_without_pid_namespace_the_host_processes_are_visible(seen, profile):
    assert os.getpid() in seen[profile]["proc_pids"]
    assert seen[profile]["pid"] > 2


# -- user ---------------------------------------------------------------------


@pytest.mark.parametrize("profile", profiles_with("user"))
def test_user_namespace_maps_the_caller_to_root(seen, profile):
    facts = seen[profile]
    assert facts["uid"] == 0 and facts["gid"] == 0
    owner = Path("/var/tmp", facts["marker"] + ".owner").stat()
    # under host root, root inside full and sandbox is an unprivileged host id
    unprivileged = os.geteuid() == 0 and profile in ("full", "sandbox")
    expected = (65534, 65534) if unprivileged else (os.geteuid(), os.getegid())
    assert (owner.st_uid, owner.st_gid) == expected
    assert facts["setgroups"] == "deny"
    if unprivileged:  # nested namespace: root is 65534 of the outer one
        assert facts["uid_map"] == ["0", "65534", "1"]
    elif "pid" in WITH[profile]:  # a mount namespace: nested, locking the mounts
        assert facts["uid_map"] == ["0", "0", "1"]
    else:
        assert facts["uid_map"] == ["0", str(os.geteuid()), "1"]
        assert facts["gid_map"] == ["0", str(os.getegid()), "1"]


@pytest.mark.parametrize("profile", profiles_with("pid"))
def test_the_sandbox_cannot_unlock_read_only_proc_sys_and_sys(profile):
    script = (
        "umount /proc/sys 2>/dev/null && echo unmounted-proc-sys; "
        "mount -o remount,rw,bind /sys 2>/dev/null && echo sys-rw; "
        "umount -l /sys 2>/dev/null && echo unmounted-sys; "
        "(echo x > /proc/sys/kernel/core_pattern) 2>/dev/null && echo wrote-core-pattern; "
        "(echo 1 > /sys/fs/cgroup/pids/pids.max) 2>/dev/null && echo wrote-cgroup; "
        "echo done"
    )
    result = hexe("run", "--profile", profile, "--", "sh", "-c", script)
    assert result.stdout == "done\n", result.stdout


# -- mount ----------------------------------------------------------------------


@pytest.mark.parametrize("profile", profiles_with("mount"))
def test_fresh_tmp_is_an_empty_128m_tmpfs(seen, profile):
    facts = seen[profile]
    assert facts["tmp_before"] == []
    assert facts["tmp_mount"]["fstype"] == "tmpfs"
    assert "size=131072k" in facts["tmp_mount"]["options"]


@pytest.mark.parametrize("profile", profiles_with("mount"))
def test_file_written_in_fresh_tmp_is_absent_outside(seen, profile):
    assert not Path("/tmp", seen[profile]["marker"]).exists()


@pytest.mark.parametrize("profile", profiles_with("mount", present=False))
def test_without_mount_namespace_tmp_is_the_hosts(seen, profile):
    assert Path("/tmp", seen[profile]["marker"]).read_text() == "inside"


# -- net ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", profiles_with("net"))
def test_net_namespace_has_only_loopback_and_it_is_up(seen, profile):
    facts = seen[profile]
    assert facts["interfaces"] == ["lo"]
    assert facts["lo_up"] is True
    assert facts["routes"] == []


@pytest.mark.parametrize("profile", PROFILES)
def test_loopback_connection_works(seen, profile):
    assert seen[profile]["loopback"] is True


@pytest.mark.parametrize("profile", profiles_with("net", present=False))
def test_without_net_namespace_host_interfaces_are_visible(seen, profile):
    host = sorted(name for _, name in socket.if_nameindex())
    assert seen[profile]["interfaces"] == host


# -- uts --------------------------------------------------------------------------


HOST_BEFORE = socket.gethostname()


@pytest.mark.parametrize("profile", profiles_with("uts"))
def test_uts_namespace_hostname_is_hexe_and_host_unchanged(seen, profile):
    assert seen[profile]["hostname"] == "hexe"
    assert socket.gethostname() == HOST_BEFORE != "hexe"


@pytest.mark.parametrize("profile", profiles_with("uts", present=False))
def test_without_uts_namespace_hostname_is_the_hosts(seen, profile):
    assert seen[profile]["hostname"] == socket.gethostname()


# -- namespace ids -----------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_namespace_ids_differ_exactly_for_the_profile_namespaces(seen, profile):
    facts = seen[profile]
    for ns, file in NS_FILE.items():
        expected_new = ns in WITH[profile]
        if ns == "mount" and "pid" in WITH[profile]:
            expected_new = True  # a pid namespace brings a mount namespace for its /proc
        if ns == "cgroup" and {"user", "pid"} <= set(WITH[profile]):
            expected_new = True  # with locked mounts, rooted at the pane's box: docs/cgroups.md
        differs = facts["ns"][file] != host_ns(file)
        assert differs == expected_new, f"{profile}: {file} namespace new={differs}"


# -- security -----------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_no_new_privs_is_set_for_every_profile_but_none(seen, profile):
    assert seen[profile]["no_new_privs"] == ("0" if profile == "none" else "1")


# -- cwd ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_command_starts_in_the_callers_directory(seen, profile):
    assert seen[profile]["cwd"] == "/"
