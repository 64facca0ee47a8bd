"""The box holds: /dev, /sys and the terminal, attacked from inside a sandbox.

Every test runs a real command inside ``hexe run`` (or a ``hexe mux`` pane)
and asserts what it observes, with a control that shows the same check fails
where hexe does not protect (``none``, ``default`` or the host itself).
Probes inside use /bin/sh, coreutils and perl, never ``sys.executable``:
a venv or /root may not be reachable inside.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import termios
import tty

import pytest
from support import clean_env, hexe

pytestmark = [pytest.mark.kernel]

PERL = shutil.which("perl") or "/usr/bin/perl"
MOUNT_PROFILES = ("balanced", "full", "sandbox")
ISOLATING = ("minimal", "default", "balanced", "full", "sandbox")
#: /dev inside a profile with a mount namespace holds these names and no other.
MINIMAL_DEV = {
    "null", "zero", "full", "random", "urandom", "tty", "console", "ptmx", "pts", "shm",
    "mqueue", "fd", "stdin", "stdout", "stderr",
}  # fmt: skip


def legacy_tiocsti() -> bool:
    try:
        with open("/proc/sys/dev/tty/legacy_tiocsti") as f:
            return f.read().strip() == "1"
    except OSError:
        return True  # older kernels: TIOCSTI always allowed


def pending_input(fd: int) -> int:
    """Bytes waiting to be read on a terminal (FIONREAD; raw mode, so not held for a line)."""
    buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int.from_bytes(buf, sys.byteorder)


def run_on_a_pty(profile: str, *command: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """``hexe run --profile P -- COMMAND`` with a fresh PTY as controlling terminal and stdin.

    Returns the result and the bytes left unread on the PTY afterwards (input
    a command typed into it would be there).
    """
    master, slave = os.openpty()
    tty.setraw(slave)

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hexe", "run", "--profile", profile, "--", *command],
            stdin=slave,
            capture_output=True,
            env=clean_env(),
            cwd="/",
            preexec_fn=controlling_terminal,
            timeout=60,
            text=True,
        )
        left = pending_input(slave)
    finally:
        os.close(slave)
        os.close(master)
    return proc, left


TIOCSTI_PERL = 'my $c = "x"; ioctl(STDIN, 0x5412, $c) ? print "injected" : print "refused: $!"'
TIOCLINUX_PERL = 'my $c = "\\x06"; ioctl(STDIN, 0x541C, $c) ? print "ok" : print "refused: $!"'


@pytest.mark.parametrize("profile", ISOLATING)
def test_tiocsti_into_the_callers_terminal_is_refused(profile):
    proc, left = run_on_a_pty(profile, PERL, "-e", TIOCSTI_PERL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused: Operation not permitted"
    assert left == 0, "the injected byte reached the terminal's input"


def test_tiocsti_control_none_is_unrestricted():
    if not legacy_tiocsti():
        pytest.skip("dev.tty.legacy_tiocsti=0: this kernel refuses TIOCSTI by itself")
    proc, left = run_on_a_pty("none", PERL, "-e", TIOCSTI_PERL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "injected"
    assert left == 1  # what the sandboxed profiles must prevent shows up here


@pytest.mark.parametrize("profile", ("minimal", "balanced"))
def test_tioclinux_is_refused_by_the_filter(profile):
    # On a PTY the kernel answers TIOCLINUX with ENOTTY (EINVAL); the filter answers first.
    proc, _ = run_on_a_pty(profile, PERL, "-e", TIOCLINUX_PERL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused: Operation not permitted"
    control, _ = run_on_a_pty("none", PERL, "-e", TIOCLINUX_PERL)
    assert control.stdout.strip() != "refused: Operation not permitted"


def test_tiocsti_with_a_high_bit_request_is_refused():
    """The request is compared on its low 32 bits: 0x1_00005412 is still TIOCSTI."""
    script = (
        'my $c = "x"; my $r = syscall(16, 0, 0x100005412, $c);'
        ' print $r == -1 ? "refused: $!" : "injected"'
    )
    proc, left = run_on_a_pty("minimal", PERL, "-e", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused: Operation not permitted"
    assert left == 0


@pytest.fixture
def host_pts():
    """A PTY the test opens on the host: (path of its slave, master fd)."""
    master, slave = os.openpty()
    try:
        yield os.ttyname(slave), master
    finally:
        os.close(slave)
        os.close(master)


def shell_on_pty(profile: str, script: str) -> subprocess.CompletedProcess[str]:
    proc, _ = run_on_a_pty(profile, "/bin/sh", "-c", script)
    return proc


@pytest.mark.parametrize("profile", MOUNT_PROFILES)
def test_writing_to_another_host_pts_by_path_fails(profile, host_pts):
    path, master = host_pts
    script = f"ls /dev/pts; if echo pwned > {path}; then echo wrote; else echo refused; fi"
    proc = shell_on_pty(profile, script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ptmx", "refused"], proc.stdout  # no /dev/pts/N of the host
    os.set_blocking(master, False)
    with pytest.raises(BlockingIOError):
        os.read(master, 100)  # nothing reached the host's terminal


def test_host_pts_control_default_shares_the_hosts_dev(host_pts):
    path, master = host_pts
    proc = shell_on_pty("default", f"echo reached > {path} && echo wrote")
    assert proc.stdout.strip() == "wrote", proc.stderr
    assert b"reached" in os.read(master, 100)


@pytest.mark.parametrize("profile", MOUNT_PROFILES)
def test_host_devices_are_absent(profile):
    proc = shell_on_pty(
        profile,
        "ls -A /dev; for d in /dev/kvm /dev/loop0 /dev/loop-control /dev/userfaultfd /dev/sda"
        " /dev/vda /dev/nvme0n1 /dev/mem /dev/kmsg; do test -e $d && echo FOUND:$d; done; true",
    )
    assert proc.returncode == 0, proc.stderr
    names = set(proc.stdout.split())
    assert not [n for n in names if n.startswith("FOUND:")], proc.stdout
    assert names <= MINIMAL_DEV, names - MINIMAL_DEV
    assert {"null", "zero", "urandom", "tty", "ptmx", "pts", "shm", "console"} <= names
    host = set(os.listdir("/dev"))
    assert host - MINIMAL_DEV, "control: the host's /dev has more than the minimal one"


@pytest.mark.parametrize("profile", MOUNT_PROFILES)
def test_tty_names_the_terminal_inside_a_real_pty(profile):
    proc = shell_on_pty(
        profile, f"tty; {PERL} -MPOSIX -e 'print POSIX::ttyname(0), qq(\\n)'; echo ok > /dev/tty"
    )
    assert proc.returncode == 0, proc.stderr
    name, posix = proc.stdout.split()
    assert name == posix == "/dev/console"


def test_the_ptys_inside_are_a_private_devpts_that_works():
    """A program inside can still open a new PTY (script, tmux, ssh do): /dev/ptmx."""
    script = (
        f"{PERL} -e 'open(my $m, \"+<\", \"/dev/ptmx\") or die \"ptmx: $!\"; print \"opened\\n\"';"
        " ls /dev/pts"
    )
    proc = shell_on_pty("full", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "opened"


def test_dev_without_a_terminal_has_no_console():
    result = hexe("run", "--profile", "balanced", "--", "/bin/sh", "-c", "ls /dev; tty; true")
    assert result.returncode == 0, result.stderr
    assert "console" not in result.stdout.split()
    assert "not a tty" in result.stdout


# -- /sys -----------------------------------------------------------------------


def test_sys_class_net_in_full_shows_only_lo():
    script = (
        "ls /sys/class/net; mkdir /sys/fs/x 2>&1; mount -o remount,rw /sys 2>/dev/null;"
        " mkdir /sys/fs/y 2>&1; true"
    )
    result = hexe("run", "--profile", "full", "--", "/bin/sh", "-c", script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "lo"
    assert len(lines) == 3, lines
    assert all("Read-only file system" in line for line in lines[1:]), lines


def test_sys_class_net_control_sandbox_keeps_the_hosts_network():
    host = sorted(os.listdir("/sys/class/net"))
    result = hexe("run", "--profile", "sandbox", "--", "/bin/ls", "/sys/class/net")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == host
    if host == ["lo"]:
        pytest.skip("the host has only lo: the control cannot tell the two apart")


# -- a mux pane ---------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tiocsti_from_a_balanced_pane_is_refused_and_its_tty_has_a_name(mux):
    probe = f"{PERL} -e '{TIOCSTI_PERL}'; echo tty=$(tty); stty size | sed s/^/size=/; exec sh"
    m = mux(
        'hexe.defaults { profile = "balanced" }\n'
        f"hexe.layout {{ hexe.tab {{ hexe.pane {{ command = [[{probe}]] }} }} }}"
    )
    screen = m.wait_for(lambda s: "size=" in s, what="the probe's output")
    assert "refused: Operation not permitted" in screen
    assert re.search(r"tty=/dev/console\b", screen), screen
    assert re.search(r"size=\d+ \d+", screen), screen


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_prepared_balanced_pane_keeps_its_terminal_working(mux):
    """The split takes the sandbox prepared ahead (its PTY known then): the PTY is its
    /dev/console, TIOCSTI is refused, Ctrl-C and Ctrl-Z reach the foreground job."""
    from support.mux import ok, one_prepared, panes, prompt_ready

    m = mux('hexe.defaults { profile = "balanced" }\n')
    prompt_ready(m)
    ahead = one_prepared(m)
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 2)
    assert any(p["init_pid"] == ahead for p in panes(m)), "the split did not take it"
    m.type(f"{PERL} -e '{TIOCSTI_PERL}'; echo tty=$(tty)-ok")
    screen = m.wait_for("tty=/dev/console-ok")
    assert "refused: Operation not permitted" in screen
    from support import wait_for

    def sleep_in_front():  # the key must reach the job, not the shell before it forked
        m.type("sleep 1000")
        wait_for(
            lambda: any(p.get("current_command") == "sleep" for p in panes(m)),
            what="sleep in the foreground of the pane",
        )

    sleep_in_front()
    m.keys("C-c")
    m.type("echo after-int-$((40+2))")
    m.wait_for("after-int-42")
    sleep_in_front()
    m.keys("C-z")
    m.wait_for(lambda s: "Stopped" in s, what="the job stopped by Ctrl-Z")
    m.type("kill %1; echo after-stop-$((40+3))")
    m.wait_for("after-stop-43")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_panes_shell_holds_only_its_terminal(mux):
    """The server's descriptors — its listening socket, the pipe it told its
    client it listens on, its log, other panes' terminals — reach no pane:
    the shell of a first pane and of a split (a sandbox prepared ahead), boxed
    or not, holds its terminal and nothing else."""
    from support.mux import ok, one_prepared, prompt_ready

    # one process, no pipeline: a pipe of the shell's own would show while it forks
    listing = "find /proc/$$/fd -type l -printf 'fd-%f=%l\\n'"
    m = mux(
        'hexe.layout { hexe.tab { hexe.split { direction = "right",'
        ' hexe.pane { isolation = { profile = "none" } },'
        ' hexe.pane { isolation = { profile = "balanced" } } } } }\n'
    )
    prompt_ready(m, 2)
    one_prepared(m)  # for the balanced pane's split below
    ok(m.hexe("split-down", "-s", "t"))
    prompt_ready(m, 3)
    for turn in range(3):  # the split (focused), then the first two panes in turn
        m.type(f"{listing}; echo listed-$((0+{turn}))")
        screen = m.wait_for(f"listed-{turn}", what="the pane's listing")
        fds = re.findall(r"fd-(\d+)=(\S+)", screen)
        assert {fd for fd, _ in fds} >= {"0", "1", "2"}, screen
        for fd, target in fds:
            assert re.fullmatch(r"/dev/(pts/\d+|tty|console)", target), (fd, target, screen)
        m.prefix("o")
