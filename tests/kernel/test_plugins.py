"""The plugin spine: a third-party plugin found through the ``hexe`` entry point.

The plugin below is written to a temporary directory with its own dist-info,
so ``hexe`` discovers it exactly as it would a pip-installed one. Its child
hooks record what they see into a file outside /tmp, which the tests read
back to check where, and in which order, each phase ran.
"""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from pathlib import Path

import pytest
from support import clean_env, hexe, plugin_site

pytestmark = pytest.mark.kernel

PLUGIN = textwrap.dedent(
    '''
    """A throwaway third-party hexe plugin."""
    import ctypes, json, os, socket

    from hexe import hookimpl
    from hexe.errors import SetupError

    _fd = None  # opened in the parent and kept by the child (spawn.child_fds): after the
                # security phase of full, the child is an unprivileged id under host root

    def record(phase, **facts):
        line = json.dumps({"phase": phase, "pid": os.getpid(), **facts}) + "\\n"
        if _fd is not None:
            os.write(_fd, line.encode())
            return
        with open(os.environ["THIRDPARTY_RECORD"], "a") as f:
            f.write(line)

    def nnp():
        for line in open("/proc/self/status"):
            if line.startswith("NoNewPrivs:"):
                return line.split()[1]

    @hookimpl
    def hexe_spawn_prepare(spawn):
        global _fd
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        _fd = os.open(os.environ["THIRDPARTY_RECORD"], flags, 0o600)
        spawn.child_fds.add(_fd)
        record("prepare", profile=spawn.plan.isolation.profile)

    @hookimpl
    def hexe_spawn_parent(spawn):
        record("parent", child=spawn.pid)

    @hookimpl(trylast=True)
    def hexe_child_namespaces(spawn):
        record("namespaces", user_ns=os.readlink("/proc/self/ns/user"))

    @hookimpl(trylast=True)
    def hexe_child_userns(spawn):
        record("userns", uid=os.getuid())

    @hookimpl(trylast=True)
    def hexe_child_mounts(spawn):
        procs = sorted(p for p in os.listdir("/proc") if p.isdigit())
        record("mounts", tmp=os.listdir("/tmp"), proc=procs)
        if os.environ.get("THIRDPARTY_FAIL") == "mount":
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.mount(b"tmpfs", b"/nonexistent-hexe-test", b"tmpfs", 0, None) != 0:
                err = ctypes.get_errno()
                step = "mount tmpfs on /nonexistent-hexe-test"
                raise SetupError(step, err, component="thirdparty")
        if os.environ.get("THIRDPARTY_FAIL") == "bug":
            raise ValueError("a bug in the plugin")

    @hookimpl(trylast=True)
    def hexe_child_network(spawn):
        record("network", interfaces=sorted(n for _, n in socket.if_nameindex()))

    @hookimpl(trylast=True)
    def hexe_child_hostname(spawn):
        record("hostname", hostname=socket.gethostname())

    @hookimpl(tryfirst=True, specname="hexe_child_security")
    def security_first(spawn):
        record("security-before-builtin", no_new_privs=nnp())

    @hookimpl(trylast=True)
    def hexe_child_security(spawn):
        record("security-after-builtin", no_new_privs=nnp())

    @hookimpl
    def hexe_spawn_started(spawn):
        record("started")

    @hookimpl
    def hexe_spawn_exited(spawn, status):
        record("exited", status=status)

    @hookimpl
    def hexe_doctor_checks():
        from hexe.doctor import Check
        return [Check("thirdparty", "marker", True, "the third-party check ran")]
    '''
)


@pytest.fixture
def plugin_env(tmp_path):
    """An environment whose PYTHONPATH holds the plugin and its entry point."""
    site = plugin_site(tmp_path, "hexe_thirdparty", PLUGIN, "thirdparty", "hexe-thirdparty")
    record = Path("/var/tmp") / f"hexe-thirdparty-{uuid.uuid4().hex[:8]}.jsonl"
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    env = clean_env(PYTHONPATH=path, THIRDPARTY_RECORD=str(record))
    yield env, record
    record.unlink(missing_ok=True)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_third_party_child_hooks_run_inside_the_sandbox_in_phase_order(plugin_env):
    env, record = plugin_env
    result = hexe("run", "--profile", "full", "--", "true", env=env)
    assert result.returncode == 0, result.stderr
    seen = records(record)
    assert [r["phase"] for r in seen] == [
        "prepare",
        "parent",
        "namespaces",
        "userns",
        "mounts",
        "network",
        "hostname",
        "security-before-builtin",
        "security-after-builtin",
        "started",
        "exited",
    ]
    by_phase = {r["phase"]: r for r in seen}
    # trylast hooks run after the built-in voidbox ones of the same phase:
    assert by_phase["namespaces"]["user_ns"] != Path("/proc/self/ns/user").resolve().name
    assert by_phase["userns"]["uid"] == 0
    assert by_phase["mounts"]["pid"] == 1  # after the pid-namespace fork
    assert by_phase["mounts"]["tmp"] == []
    assert by_phase["mounts"]["proc"] == ["1"]
    assert by_phase["network"]["interfaces"] == ["lo"]
    assert by_phase["hostname"]["hostname"] == "hexe"
    assert by_phase["security-before-builtin"]["no_new_privs"] == "0"
    assert by_phase["security-after-builtin"]["no_new_privs"] == "1"
    assert (
        by_phase["parent"]["child"] > 0 and by_phase["parent"]["pid"] != by_phase["parent"]["child"]
    )


def test_hexe_plugins_lists_builtin_and_third_party_with_their_hooks(plugin_env):
    env, _ = plugin_env
    result = hexe("plugins", env=env)
    assert result.returncode == 0
    out = result.stdout
    assert "voidbox  (hexe_voidbox; hexe " in out and "built-in)" in out
    assert "cgroups  (hexe_cgroups; hexe " in out
    assert "thirdparty  (hexe_thirdparty; hexe-thirdparty 1.0; third-party)" in out
    block = out.split("thirdparty  (")[1]
    assert "    hexe_child_mounts" in block and "    hexe_spawn_exited" in block


def test_disabled_plugin_is_not_loaded(plugin_env):
    env, record = plugin_env
    env = {**env, "HEXE_DISABLE_PLUGINS": "thirdparty"}
    assert "thirdparty" not in hexe("plugins", env=env).stdout
    assert hexe("run", "--profile", "full", "--", "true", env=env).returncode == 0
    assert not record.exists()


def test_disabling_voidbox_refuses_isolating_profiles_instead_of_weakening_them():
    result = hexe("--disable-plugin", "voidbox", "run", "--profile", "full", "--", "true")
    assert result.returncode == 125
    # the profile is the plugin's: unknown without it, and the error says whose it is
    assert (
        "--profile=full is a profile of the voidbox plugin, which is disabled; enable the "
        "voidbox plugin" in result.stderr
    )
    unset = hexe("--disable-plugin", "voidbox", "run", "--", "true")  # the default profile
    assert unset.returncode == 125
    assert "is a profile of the voidbox plugin, which is disabled" in unset.stderr
    hostname = hexe(
        "--disable-plugin", "voidbox", "run", "--profile", "none", "--hostname", "x", "--", "true"
    )
    assert hostname.returncode == 125
    assert "--hostname=x is a setting of the voidbox plugin, which is disabled" in hostname.stderr
    assert (
        hexe("--disable-plugin", "voidbox", "run", "--profile", "none", "--", "true").returncode
        == 0
    )


def test_plugin_setup_error_reaches_the_user_with_its_step(plugin_env):
    env, _ = plugin_env
    env = {**env, "THIRDPARTY_FAIL": "mount"}
    result = hexe("run", "--profile", "balanced", "--", "true", env=env)
    assert result.returncode == 125
    assert (
        "hexe: thirdparty failed: mount tmpfs on /nonexistent-hexe-test: No such file or directory"
        in result.stderr
    )


def test_plugin_bug_in_a_child_phase_is_reported_not_hidden(plugin_env):
    env, _ = plugin_env
    env = {**env, "THIRDPARTY_FAIL": "bug"}
    result = hexe("run", "--profile", "balanced", "--", "true", env=env)
    assert result.returncode == 125
    assert "hexe: mounts phase: ValueError: a bug in the plugin" in result.stderr


def test_doctor_includes_third_party_checks(plugin_env):
    env, _ = plugin_env
    result = hexe("doctor", "--json", env=env)
    report = json.loads(result.stdout)
    assert {
        "group": "thirdparty",
        "name": "marker",
        "ok": True,
        "detail": "the third-party check ran",
        "hint": "",
    } in report["checks"]
