"""``hexe run`` from outside: exit codes, signals, orphans, errors, precedence."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from support import (
    PROBE,
    SANDBOX_PYTHON,
    clean_env,
    hexe,
    needs_cgroup_limits,
    sandbox_init,
    wait_for,
)

pytestmark = pytest.mark.kernel


# -- exit status ----------------------------------------------------------------


@pytest.mark.parametrize("profile", ["none", "default", "full"])
def test_exit_status_is_the_commands_own(profile):
    assert hexe("run", "--profile", profile, "--", "sh", "-c", "exit 7").returncode == 7
    assert hexe("run", "--profile", profile, "--", "true").returncode == 0


@pytest.mark.parametrize("profile", ["none", "default", "full"])
def test_signal_n_gives_128_plus_n(profile):
    result = hexe("run", "--profile", profile, "--", "sh", "-c", "kill -9 $$")
    assert result.returncode == 128 + 9


@pytest.mark.parametrize("profile", ["none", "full"])
def test_missing_command_gives_127_and_names_it(profile):
    result = hexe("run", "--profile", profile, "--", "hexe-no-such-command")
    assert result.returncode == 127
    assert "exec hexe-no-such-command: No such file or directory" in result.stderr


@pytest.mark.parametrize("profile", ["none", "full"])
def test_non_executable_file_gives_126(profile, tmp_path):
    path = Path("/var/tmp") / f"hexe-noexec-{uuid.uuid4().hex[:8]}"
    path.write_text("#!/bin/sh\necho hi\n")
    path.chmod(0o644)
    try:
        result = hexe("run", "--profile", profile, "--", str(path))
    finally:
        path.unlink()
    assert result.returncode == 126
    assert "Permission denied" in result.stderr


def test_no_command_is_an_error_125():
    result = hexe("run", "--profile", "none")
    assert result.returncode == 125
    assert "no command given" in result.stderr


def test_stdin_and_stdout_are_the_callers():
    result = hexe("run", "--profile", "full", "--", "tr", "a-z", "A-Z", input="hello sandbox\n")
    assert result.returncode == 0
    assert result.stdout == "HELLO SANDBOX\n"


# -- bad input: a clear message, exit 125, nothing started ------------------------


@pytest.fixture
def marker():
    path = Path("/var/tmp") / f"hexe-started-{uuid.uuid4().hex[:8]}"
    yield path
    path.unlink(missing_ok=True)


BAD_INPUTS = [
    (
        {"HEXE_VOIDBOX_PROFILE": "fulll"},
        [],
        "HEXE_VOIDBOX_PROFILE=fulll is not a profile; did you mean full?",
    ),
    (
        {"HEXE_VOIDBOX_PROFILE": "paranoid"},
        [],
        "HEXE_VOIDBOX_PROFILE=paranoid is not a profile; "
        "profiles: none, minimal, default, balanced, full, sandbox",
    ),
    ({"HEXE_CGROUP_MEM_MAX": "lots"}, [], "HEXE_CGROUP_MEM_MAX=lots is not a size; use bytes"),
    ({"HEXE_CGROUP_MEM_MAX": "-1G"}, [], "HEXE_CGROUP_MEM_MAX=-1G must be greater than zero"),
    ({"HEXE_CGROUP_MEM_MAX": "0"}, [], "HEXE_CGROUP_MEM_MAX=0 must be greater than zero"),
    (
        {"HEXE_CGROUP_CPU_MAX": "50000"},
        [],
        'HEXE_CGROUP_CPU_MAX=50000 has no period; use "quota period"',
    ),
    (
        {"HEXE_CGROUP_CPU_MAX": "0 100000"},
        [],
        "HEXE_CGROUP_CPU_MAX=0 100000 must have a quota above zero",
    ),
    ({"HEXE_CGROUP_PIDS_MAX": "0"}, [], "HEXE_CGROUP_PIDS_MAX=0 must be greater than zero"),
    (
        {"HEXE_CGROUP_PIDS_MAX": "many"},
        [],
        "HEXE_CGROUP_PIDS_MAX=many is not a number; use a positive whole number (512) or max",
    ),
    ({"HEXE_CGROUP_STRICT": "maybe"}, [], "HEXE_CGROUP_STRICT=maybe is not a yes/no value"),
    ({}, ["--pids", "abc"], "--pids=abc is not a number"),
    ({}, ["--pids", "-5"], "--pids=-5 must be greater than zero"),
    ({}, ["--memory", "12Q"], "--memory=12Q is not a size"),
    ({}, ["--cpu", "fast"], "--cpu=fast is not a CPU quota"),
    ({}, ["--cpu", "50000 5"], "--cpu=50000 5 has a period out of range"),
    ({}, ["--profile", "Full"], "--profile=Full is not a profile; did you mean full?"),
    ({}, ["--hostname=-bad"], "--hostname=-bad is not a hostname"),
    ({}, ["--hostname", "under_score"], "--hostname=under_score is not a hostname"),
    ({}, ["--tmp-size", "max"], "--tmp-size=max is not a size"),
]


@pytest.mark.parametrize(
    "env,flags,message", BAD_INPUTS, ids=[m.split(" ")[0] for _, _, m in BAD_INPUTS]
)
def test_bad_input_is_refused_with_its_name_and_nothing_starts(env, flags, message, marker):
    result = hexe("run", *flags, "--", "touch", str(marker), env=clean_env(env))
    assert result.returncode == 125, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("hexe: ")
    assert not marker.exists()


def test_every_bad_setting_is_reported_at_once(marker):
    env = clean_env(HEXE_CGROUP_MEM_MAX="lots", HEXE_CGROUP_PIDS_MAX="many")
    result = hexe("run", "--cpu", "1", "--", "touch", str(marker), env=env)
    assert result.returncode == 125
    for name in ("HEXE_CGROUP_MEM_MAX", "HEXE_CGROUP_PIDS_MAX", "--cpu"):
        assert name in result.stderr
    assert not marker.exists()


def test_unknown_flag_exits_125():
    result = hexe("run", "--memroy", "1G", "--", "true")
    assert result.returncode == 125  # docs/cli.md: every failure before the command starts
    assert "--memroy; did you mean --memory?" in result.stderr


def test_empty_variable_counts_as_unset():
    env = clean_env(HEXE_VOIDBOX_PROFILE="", HEXE_CGROUP_MEM_MAX="")
    result = hexe("run", "--", "cat", "/proc/self/status", env=env)
    assert result.returncode == 0
    assert "NoNewPrivs:\t1" in result.stdout


# -- precedence: built-in < environment < flags -----------------------------------


def probe_with(*flags: str, env: dict[str, str] | None = None) -> dict:
    result = hexe("run", *flags, "--", SANDBOX_PYTHON, "-c", PROBE, env=clean_env(env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_builtin_default_profile_is_default():
    facts = probe_with()
    assert facts["pid"] == 2  # pid namespace
    assert facts["hostname"] != "hexe"  # no uts namespace


def test_environment_overrides_the_builtin_default():
    facts = probe_with(env={"HEXE_VOIDBOX_PROFILE": "full"})
    assert facts["hostname"] == "hexe"


def test_flag_overrides_the_environment():
    facts = probe_with("--profile", "none", env={"HEXE_VOIDBOX_PROFILE": "full"})
    assert facts["pid"] != 2
    assert facts["hostname"] != "hexe"


def test_hostname_and_tmp_size_flags():
    facts = probe_with("--profile", "full", "--hostname", "box7", "--tmp-size", "16M")
    assert facts["hostname"] == "box7"
    assert "size=16384k" in facts["tmp_mount"]["options"]


# -- the process tree --------------------------------------------------------------

ORPHAN = r"""
import os, subprocess, sys, time
# A child that starts a grandchild and exits at once: the grandchild is
# re-parented to PID 1 and exits 0.1 s later. PID 1 must reap it.
out = subprocess.run(["sh", "-c", "sleep 0.1 & echo $!"], capture_output=True, text=True)
orphan = int(out.stdout)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        state = open(f"/proc/{orphan}/stat").read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        # ESRCH while the kernel is tearing the process down: gone too.
        print("reaped"); sys.exit(0)
    time.sleep(0.02)
print("zombie" if state == "Z" else "still running " + state)
sys.exit(1)
"""


@pytest.mark.parametrize("profile", ["default", "full"])
def test_orphans_inside_are_reaped_by_pid_1(profile):
    result = hexe("run", "--profile", profile, "--", SANDBOX_PYTHON, "-c", ORPHAN)
    assert result.stdout.strip() == "reaped", result.stdout + result.stderr


def test_processes_left_in_the_pid_namespace_end_with_the_command():
    token = uuid.uuid4().hex
    result = hexe(
        "run", "--profile", "full", "--", "sh", "-c", f"sleep 300 {token} >/dev/null 2>&1 & exit 0"
    )
    assert result.returncode == 0

    def leftover():
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if token in Path(f"/proc/{pid}/cmdline").read_text():
                    return pid
            except OSError:
                pass
        return None

    wait_for(lambda: leftover() is None, what="the background sleep to be killed")


def test_sigterm_to_hexe_run_is_forwarded_to_the_command():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hexe",
            "run",
            "--profile",
            "full",
            "--",
            "sh",
            "-c",
            "echo ready; exec sleep 300",
        ],
        stdout=subprocess.PIPE,
        env=clean_env(),
        cwd="/",
        text=True,
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        proc.kill()


@pytest.mark.parametrize("profile", ["none", "full"])
def test_ctrl_c_on_the_terminal_reaches_the_command(profile):
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir("/")
        # as from an interactive shell: ^C ends the command. A test run started
        # in the background of a script inherits SIGINT ignored, and every
        # process below would keep ignoring it.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execve(
            sys.executable,
            [
                sys.executable,
                "-m",
                "hexe",
                "run",
                "--profile",
                profile,
                "--",
                "sh",
                "-c",
                "echo ready; exec sleep 300",
            ],
            clean_env(),
        )
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"ready" not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 1024)
        assert b"ready" in seen, seen
        os.write(fd, b"\x03")
        _, status = wait_for(
            lambda: (done := os.waitpid(pid, os.WNOHANG))[0] == pid and done,
            timeout=30,
            what="hexe run to end after ^C",
        )
        assert os.waitstatus_to_exitcode(status) == 128 + signal.SIGINT
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


# -- mounts ---------------------------------------------------------------------------


def test_mounts_made_inside_do_not_appear_outside():
    before = Path("/proc/self/mountinfo").read_text()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hexe",
            "run",
            "--profile",
            "balanced",
            "--",
            "sh",
            "-c",
            "echo ready; read x",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=clean_env(),
        cwd="/",
        text=True,
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        during = Path("/proc/self/mountinfo").read_text()
        proc.stdin.write("go\n")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert during == before


def test_cwd_hidden_by_fresh_tmp_falls_back_to_home_with_a_warning(tmp_path):
    workdir = Path("/tmp") / f"hexe-cwd-{uuid.uuid4().hex[:8]}"
    workdir.mkdir()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hexe", "run", "--profile", "balanced", "--", "pwd"],
            capture_output=True,
            text=True,
            env=clean_env(HOME="/"),
            cwd=workdir,
            timeout=60,
        )
    finally:
        workdir.rmdir()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/"
    assert (
        f"hexe: warning: {workdir} does not exist inside the sandbox; starting in /"
        in result.stderr
    )


# -- failures before exec reach the user with their step ---------------------------------


def test_kernel_refusing_user_namespaces_is_reported_with_the_step_and_a_hint():
    # user.max_user_namespaces is per user namespace: set it to 0 in a throwaway
    # one, and hexe inside it cannot make its own.
    script = (
        "echo 0 > /proc/sys/user/max_user_namespaces && "
        f"exec {sys.executable} -m hexe run --profile default -- true"
    )
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd="/",
        timeout=60,
    )
    assert result.returncode == 125
    assert (
        "hexe: voidbox isolation failed: unshare(user, pid): No space left on device"
        in result.stderr
    )
    assert "hexe: hint: " in result.stderr and "max_user_namespaces" in result.stderr


def test_unprivileged_user_becomes_root_inside_and_stays_itself_outside(nobody):
    owned = Path("/var/tmp") / f"hexe-nobody-{uuid.uuid4().hex[:8]}"
    owned.mkdir(mode=0o777)
    owned.chmod(0o777)
    try:
        result = nobody(
            "run", "--profile", "full", "--", "sh", "-c", f"id -u; hostname; touch {owned}/f"
        )
        assert result.returncode == 0, result.stderr
        uid, hostname = result.stdout.splitlines()
        assert uid == "0"
        assert hostname == "hexe"
        assert (owned / "f").stat().st_uid == 65534
    finally:
        (owned / "f").unlink(missing_ok=True)
        owned.rmdir()


# -- logging -------------------------------------------------------------------------------


def test_one_spawn_event_with_profile_namespaces_limits_and_time(tmp_path):
    log = tmp_path / "hexe.log"
    result = hexe("--log-file", str(log), "run", "--profile", "full", "--pids", "64", "--", "true")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    started = [e for e in events if e["event"] == "spawn_started"]
    assert len(started) == 1
    event = started[0]
    assert event["profile"] == "full"
    assert event["namespaces"] == ["user", "pid", "mount", "net", "uts", "ipc", "cgroup"]
    assert event["limits"] == {"pids": "64"}
    assert event["setup_ms"] > 0
    assert any(e["event"] == "spawn_exited" and e["exit_code"] == 0 for e in events)


def test_setup_failure_is_logged_with_step_and_errno(tmp_path):
    log = tmp_path / "hexe.log"
    script = (
        "echo 0 > /proc/sys/user/max_user_namespaces && "
        f"exec {sys.executable} -m hexe --log-file {log} run --profile full -- true"
    )
    subprocess.run(["unshare", "-Ur", "sh", "-c", script], env=clean_env(), cwd="/", timeout=60)
    failed = [json.loads(line) for line in log.read_text().splitlines()]
    failed = [e for e in failed if e["event"] == "spawn_failed"]
    assert failed and failed[0]["step"].startswith("unshare(") and failed[0]["errno"] == 28


# -- the caller's environment, as it comes --------------------------------------------------


def test_under_nohup_the_command_keeps_sighup_ignored_and_survives_it():
    script = (
        "nohup {exe} -m hexe run --profile default -- "
        "sh -c 'sleep 1; grep SigIgn /proc/self/status' > {out} 2>&1 & "
        "pid=$!; sleep 0.3; kill -HUP $pid; wait $pid; echo rc=$?"
    )
    out = Path("/var/tmp") / f"hexe-nohup-{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(
            ["sh", "-c", script.format(exe=sys.executable, out=out)],
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd="/",
            timeout=60,
        )
        assert result.stdout.strip() == "rc=0"
        sig_ign = int(out.read_text().split("SigIgn:")[1].split()[0], 16)
        assert sig_ign & (1 << (signal.SIGHUP - 1))
    finally:
        out.unlink(missing_ok=True)


def test_a_closed_stdout_does_not_crash_hexe():
    result = subprocess.run(
        [sys.executable, "-m", "hexe", "run", "--", "sh", "-c", "exit 4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=clean_env(),
        cwd="/",
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 4, result.stderr


def test_an_inherited_ignored_sigchld_does_not_lose_the_exit_status():
    code = (
        "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
        "os.execv(sys.executable, "
        "[sys.executable, '-m', 'hexe', 'run', '--', 'sh', '-c', 'exit 3'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd="/",
        timeout=60,
    )
    assert result.returncode == 3, result.stderr


@needs_cgroup_limits("memory")
def test_a_memory_limit_too_small_for_the_init_is_a_setup_error_not_the_commands_exit():
    result = hexe("run", "--memory", "1M", "--", "true")
    assert result.returncode == 125
    assert "the sandbox's PID 1 was killed before the command started" in result.stderr
    assert "raise --memory" in result.stderr


def test_a_pids_limit_of_one_explains_the_init():
    result = hexe("run", "--pids", "1", "--", "true")
    assert result.returncode == 125
    assert "hexe's init (PID 1) counts as one process; use at least 2" in result.stderr


def test_an_unwritable_log_does_not_stop_hexe():
    result = hexe("--log-file", "/dev/full", "run", "--memory", "64M", "--", "echo", "ran")
    assert result.returncode == 0 and result.stdout == "ran\n"


def test_settings_a_profile_has_no_namespace_for_are_said_not_dropped_silently():
    result = hexe(
        "run", "--profile", "minimal", "--hostname", "box", "--tmp-size", "1G", "--", "true"
    )
    assert result.returncode == 0
    assert (
        "hostname from flags (--hostname) has no effect: profile minimal has no uts namespace"
    ) in result.stderr
    assert "tmp_size from flags (--tmp-size) has no effect" in result.stderr


def test_disabling_a_plugin_that_does_not_exist_is_said():
    result = hexe("--disable-plugin", "nosuch", "run", "--profile", "none", "--", "true")
    assert result.returncode == 0
    assert "hexe: warning: no plugin named nosuch to disable" in result.stderr


def test_a_bad_log_level_variable_is_said():
    result = hexe("run", "--profile", "none", "--", "true", env=clean_env(HEXE_LOG_LEVEL="loud"))
    assert "HEXE_LOG_LEVEL=loud is not a level" in result.stderr


# -- a stopped PID 1, a limit too small to start (issue 13) -------------------------


@pytest.mark.parametrize("profile", ["default", "full"])
def test_hexe_run_never_hangs_on_a_stopped_sandbox_init(profile):
    """``kill -STOP`` of the sandbox's PID 1 (or a debugger that left it
    stopped) must not leave ``hexe run`` waiting for ever: it is continued."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hexe", "run", "--profile", profile, "--",
         "sh", "-c", "read line; exit 3"],
        env=clean_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        init = sandbox_init(proc.pid)
        os.kill(init, signal.SIGSTOP)
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")  # the command ends while its PID 1 is (or was) stopped
        proc.stdin.close()
        assert proc.wait(timeout=30) == 3
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("profile", ["none", "minimal", "default"])
def test_a_memory_limit_too_small_to_start_anything_is_refused_with_why(profile):
    result = hexe("run", "--profile", profile, "--memory", "1", "--", "true")
    assert result.returncode == 125, result
    assert "--memory=1 is below 1M, the smallest memory limit" in result.stderr
    env = clean_env(HEXE_CGROUP_MEM_MAX="512K")
    result = hexe("run", "--profile", profile, "--", "true", env=env)
    assert result.returncode == 125 and "HEXE_CGROUP_MEM_MAX=512K is below 1M" in result.stderr


# -- the working directory's name ------------------------------------------------------


@pytest.mark.parametrize("profile", ["none", "default"])  # Python's start, hexe-init's
def test_pwd_names_the_commands_directory_as_the_callers_shell_spelt_it(tmp_path, profile):
    """PWD is the directory the command starts in (tmux sets it too; without
    it the shells ask getcwd, a heap page of every idle shell): kept when it
    names that directory through a symlink, replaced when it is stale or
    missing. printenv reads it as the command got it (a shell mends it)."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    link = str(tmp_path / "link")
    for pwd, seen in ((link, link), (str(tmp_path), str(real)), (None, str(real))):
        env = clean_env()
        env.pop("PWD", None)
        if pwd is not None:
            env["PWD"] = pwd
        done = hexe("run", "--profile", profile, "--", "printenv", "PWD", env=env, cwd=link)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{seen}\n", (pwd, done.stdout)


def test_pwd_names_the_directory_started_in_when_the_callers_is_not_in_the_sandbox(tmp_path):
    """A fresh /tmp hides the caller's directory: the command starts in $HOME
    (here /), and PWD says so; the hidden directory's name does not reach
    the sandbox through PWD."""
    env = clean_env(HOME="/", PWD=str(tmp_path))
    done = hexe("run", "--profile", "full", "--", "printenv", "PWD", env=env, cwd=str(tmp_path))
    assert done.returncode == 0 and done.stdout == "/\n", (done.stdout, done.stderr)
    assert "does not exist inside the sandbox; starting in /" in done.stderr
