"""Capabilities and seccomp, for real: run something inside ``hexe run`` and look.

Each test checks one fact from inside the sandbox, and where the kernel alone
could give the same answer, runs a control that shows the fact is hexe's:
``keyctl`` works in ``balanced`` and answers EPERM in ``full``; a mount
works in ``full`` when ``sys_admin`` is kept and fails when it is not.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import termios
import textwrap

import pytest
from hexe_voidbox.policy import CAPABILITIES, ORDINARY_CAPS
from support import SANDBOX_PYTHON, clean_env, hexe

pytestmark = pytest.mark.kernel

#: Prints, as JSON, the capability sets and what each probed syscall answered.
SYSCALL_PROBE = textwrap.dedent(
    """
    import ctypes, errno, json, os
    libc = ctypes.CDLL(None, use_errno=True)
    def call(*args):
        r = libc.syscall(*args)
        return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
    status = dict(l.split(":\\t", 1) for l in open("/proc/self/status") if ":\\t" in l)
    out = {k: int(status[k], 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb")}
    out["seccomp"] = status["Seccomp"].strip()
    out["keyctl"] = call(250, 0, -3, 0)              # KEYCTL_GET_KEYRING_ID, session
    out["unshare_user"] = call(272, 0x10000000)      # unshare(CLONE_NEWUSER)
    out["io_uring_setup"] = call(425, 1, ctypes.create_string_buffer(120))
    out["mount"] = "ok" if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0 else (
        errno.errorcode[ctypes.get_errno()])
    print(json.dumps(out))
    """
)


def run_probe(*args: str, config: str | None = None, tmp_path=None) -> dict:
    pre = []
    if config is not None:
        path = tmp_path / "init.lua"
        path.write_text(config)
        pre = ["--config", str(path)]
    result = hexe(*pre, "run", *args, "--", SANDBOX_PYTHON, "-c", SYSCALL_PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def seen() -> dict[str, dict]:
    if os.uname().machine != "x86_64":
        pytest.skip("the probe uses x86_64 syscall numbers")
    return {
        p: run_probe("--profile", p) for p in ("minimal", "default", "balanced", "full", "sandbox")
    }


def mask(names) -> int:
    return sum(1 << CAPABILITIES.index(n) for n in names)


# -- capabilities -------------------------------------------------------------


@pytest.mark.parametrize("profile", ["full", "sandbox"])
def test_full_and_sandbox_drop_every_capability(seen, profile):
    facts = seen[profile]
    assert (facts["CapEff"], facts["CapPrm"], facts["CapBnd"]) == (0, 0, 0)
    assert (facts["CapInh"], facts["CapAmb"]) == (0, 0)


@pytest.mark.parametrize("profile", ["minimal", "default", "balanced"])
def test_lighter_profiles_keep_only_the_ordinary_set(seen, profile):
    facts = seen[profile]
    assert facts["CapBnd"] == facts["CapEff"] == facts["CapPrm"] == mask(ORDINARY_CAPS)
    assert not facts["CapEff"] & mask(["sys_admin", "net_admin", "sys_ptrace", "sys_module"])


def test_mount_is_refused_after_the_drop_and_works_when_sys_admin_is_kept(seen, tmp_path):
    assert seen["full"]["mount"] == "EPERM"
    kept = run_probe(
        config='hexe.defaults { profile = "full", caps = { keep = { "CAP_SYS_ADMIN", '
        '"net_bind_service" } } }',
        tmp_path=tmp_path,
    )
    assert kept["CapEff"] == kept["CapBnd"] == mask(["sys_admin", "net_bind_service"])
    assert kept["mount"] == "ok"  # the control: the refusal above is the drop's


def test_sethostname_is_refused_after_the_drop_and_works_when_sys_admin_is_kept(tmp_path):
    # user + uts only: no nested namespace, so only the drop stands in the way
    config = tmp_path / "init.lua"
    config.write_text(
        'hexe.profile("uts", { namespaces = { "user", "uts" }, caps = { keep = {} } })\n'
        'hexe.profile("uts-admin", { namespaces = { "user", "uts" }, '
        'caps = { keep = { "sys_admin" } } })\n'
    )
    script = "hostname other && hostname"
    dropped = hexe("--config", str(config), "run", "--profile", "uts", "--", "sh", "-c", script)
    assert dropped.returncode != 0 and dropped.stdout == "", dropped.stdout
    kept = hexe("--config", str(config), "run", "--profile", "uts-admin", "--", "sh", "-c", script)
    assert kept.returncode == 0 and kept.stdout == "other\n", kept.stderr
    assert socket.gethostname() != "other"


def test_unknown_capability_is_refused_with_did_you_mean(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text('hexe.defaults { caps = { keep = { "sys_admn" } } }')
    result = hexe("--config", str(config), "run", "--", "true")
    assert result.returncode == 125
    assert "defaults.caps.keep[1]=sys_admn is not a capability; did you mean sys_admin?" in (
        result.stderr
    )


# -- seccomp ------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["full", "sandbox"])
def test_default_filter_answers_eperm_where_balanced_is_allowed(seen, profile):
    assert seen[profile]["seccomp"] == "2"
    assert seen[profile]["keyctl"] == "EPERM"
    assert seen[profile]["unshare_user"] == "EPERM"
    assert seen[profile]["io_uring_setup"] == "EPERM"
    # the control: without the default filter (balanced has only the TIOCSTI
    # rule) the same calls go through
    assert seen["balanced"]["keyctl"] == "ok"
    assert seen["balanced"]["unshare_user"] == "ok"


def test_allow_lifts_one_rule_of_the_default_filter(seen, tmp_path):
    facts = run_probe(
        config='hexe.defaults { profile = "full", seccomp = { allow = { "userns" } } }',
        tmp_path=tmp_path,
    )
    assert facts["unshare_user"] == "ok"
    assert facts["keyctl"] == "EPERM"


def test_seccomp_false_turns_the_default_filter_off(tmp_path):
    facts = run_probe(
        config='hexe.defaults { profile = "full", seccomp = false }', tmp_path=tmp_path
    )
    assert facts["keyctl"] == "ok"
    assert facts["seccomp"] == "2"  # the TIOCSTI rule stays


def test_only_allow_tiocsti_removes_the_last_rule(tmp_path):
    facts = run_probe(
        config='hexe.defaults { profile = "full", seccomp = { defaults = false, '
        'allow = { "tiocsti" } } }',
        tmp_path=tmp_path,
    )
    assert facts["seccomp"] == "0" and facts["keyctl"] == "ok"


def uname_under(tmp_path, rule: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "init.lua"
    config.write_text(f'hexe.defaults {{ profile = "balanced", seccomp = {rule} }}')
    code = "import os; print(os.uname().sysname)"
    return hexe("--config", str(config), "run", "--", SANDBOX_PYTHON, "-c", code)


def test_a_pane_deny_rule_answers_eperm(tmp_path):
    result = uname_under(tmp_path, '{ deny = { "uname" } }')
    assert result.returncode == 1
    assert "PermissionError: [Errno 1] Operation not permitted" in result.stderr


def test_a_kill_rule_ends_the_process_with_sigsys_and_the_host_goes_on(tmp_path):
    host = os.uname()
    result = uname_under(tmp_path, '{ deny = { "uname" }, action = "kill" }')
    assert result.returncode == 128 + signal.SIGSYS, result.stderr
    assert os.uname() == host
    assert hexe("run", "--profile", "balanced", "--", "true").returncode == 0


def test_a_log_rule_lets_the_call_through(tmp_path):
    result = uname_under(tmp_path, '{ deny = { "uname" }, action = "log" }')
    assert result.returncode == 0 and result.stdout == "Linux\n", result.stderr


def test_unknown_syscall_and_action_are_refused_naming_the_setting(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text(
        'hexe.defaults { seccomp = { deny = { "bfp" } } }\n'
        "hexe.layout { hexe.tab { hexe.pane { isolation = "
        '{ seccomp = { action = "kil" } } } } }\n'
    )
    result = hexe("--config", str(config), "config", "check")
    assert result.returncode == 1
    assert "defaults.seccomp.deny[1]=bfp is not a syscall; did you mean bpf?" in result.stderr
    assert (
        "tabs[0].panes[0].isolation.seccomp.action=kil is not an action; did you mean kill?"
        in result.stderr
    )


def test_without_libseccomp_a_filter_is_refused_not_skipped(tmp_path):
    fake = tmp_path / "site"
    fake.mkdir()
    (fake / "pyseccomp.py").write_text('raise RuntimeError("Unable to find libseccomp")\n')
    env = clean_env(PYTHONPATH=os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")]))
    # hexe opens libseccomp by its soname before trying pyseccomp: hide the
    # library itself too (/dev/null bound over it, in a mount namespace)
    preexec = _without_libseccomp()
    result = hexe("run", "--profile", "full", "--", "true", env=env, preexec=preexec)
    assert result.returncode == 125
    assert "seccomp filter requested but cannot be built: Unable to find libseccomp" in (
        result.stderr
    )
    # every isolating profile has the TIOCSTI rule: refused too, never run without it
    minimal = hexe("run", "--profile", "minimal", "--", "true", env=env, preexec=preexec)
    assert minimal.returncode == 125
    assert hexe("run", "--profile", "none", "--", "true", env=env, preexec=preexec).returncode == 0
    config = tmp_path / "init.lua"
    config.write_text(
        'hexe.defaults { profile = "balanced", seccomp = { allow = { "tiocsti" } } }\n'
    )
    balanced = hexe("--config", str(config), "run", "--", "true", env=env, preexec=preexec)
    assert balanced.returncode == 0, balanced.stderr


def _without_libseccomp() -> list[str]:
    """A prefix that runs a command with libseccomp's file unloadable (a mount namespace)."""
    from hexe_voidbox import libseccomp

    libseccomp.load()
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libseccomp.so" in line}
    assert len(paths) == 1, paths
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-Urm"]
    script = 'mount --bind /dev/null "$0" && exec "$@"'
    return [*unshare, "--propagation", "private", "sh", "-c", script, paths.pop()]


def test_config_check_shows_caps_and_seccomp_with_their_source(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text(
        'hexe.defaults { profile = "full" }\n'
        'hexe.layout { hexe.tab { hexe.pane { isolation = { caps = { keep = { "kill" } } } } } }\n'
    )
    result = hexe("--config", str(config), "config", "check")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line.split(None, 1)[1]
        for line in result.stdout.splitlines()
        if line.startswith("    ")
    }
    assert rows["caps"].startswith("keep kill") and "pane (" in rows["caps"]
    assert rows["seccomp"].startswith("default filter (24 rules, errno)")
    assert rows["seccomp"].endswith("from the profile (full)")


# -- TIOCSTI ------------------------------------------------------------------

TIOCSTI_PROBE = textwrap.dedent(
    """
    import errno, fcntl, termios
    try:
        fcntl.ioctl(0, termios.TIOCSTI, b"#")
        print("injected")
    except OSError as exc:
        print(errno.errorcode[exc.errno])
    """
)


def run_on_a_terminal(profile: str) -> str:
    """``hexe run`` with a PTY as its controlling terminal; what TIOCSTI answered inside."""
    master, slave = os.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "hexe",
                "run",
                "--profile",
                profile,
                "--",
                SANDBOX_PYTHON,
                "-c",
                TIOCSTI_PROBE,
            ],
            stdin=slave,
            capture_output=True,
            env=clean_env(),
            cwd="/",
            preexec_fn=controlling_terminal,
            timeout=60,
            text=True,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_tiocsti_into_the_terminal_is_refused_in_full():
    assert run_on_a_terminal("full") == "EPERM"


def test_tiocsti_control_without_the_filter():
    try:
        with open("/proc/sys/dev/tty/legacy_tiocsti") as f:
            legacy = f.read().strip() == "1"
    except OSError:
        legacy = True
    if not legacy:
        pytest.skip("dev.tty.legacy_tiocsti=0: this kernel refuses TIOCSTI by itself")
    assert run_on_a_terminal("none") == "injected"  # every other profile refuses it


def test_a_program_generated_once_is_shared_and_still_denies():
    """The BPF program is generated once per policy in the parent; every child that
    loads the shared copy is filtered, and a different policy gets its own program."""
    import ctypes
    import errno

    from hexe_voidbox import seccomp
    from hexe_voidbox.policy import resolve_seccomp

    policy = resolve_seccomp(None, True, True)
    program = seccomp.compile(policy)
    assert seccomp.compile(resolve_seccomp(None, True, True)) is program
    assert seccomp.compile(resolve_seccomp(None, True, False)) is not program
    for _ in range(2):  # the same program, loaded by two children in turn
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                seccomp.load(program)
                answers = []
                for args in ((250, 0, -3, 0), (272, 0x10000000), (39,)):  # keyctl, unshare, getpid
                    answers.append(libc.syscall(*args) >= 0 or ctypes.get_errno())
                os.write(write, json.dumps(answers).encode())
            finally:
                os._exit(0)
        os.close(write)
        answer = json.loads(os.read(read, 1024) or b"null")
        os.close(read)
        os.waitpid(pid, 0)
        assert answer == [errno.EPERM, errno.EPERM, True]
