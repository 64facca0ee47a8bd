"""hexe.procwait.running and terminate: the one "is it still running" of the
CLI (hexe kill) and the tests."""

from __future__ import annotations

import signal
import subprocess
import sys

from support import wait_for

from hexe.procwait import running, terminate


def test_a_zombie_child_is_not_running_and_is_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    pid = child.pid
    # not waited for by Popen: it stays a zombie until running() reaps it
    wait_for(lambda: not running(pid), what="the child to end")
    assert not running(pid)
    child.returncode = 0  # reaped by running(); keep Popen from waiting again


def test_terminate_ends_a_process_on_sigterm() -> None:
    child = subprocess.Popen(["sleep", "60"])
    assert running(child.pid)
    assert terminate(child.pid, grace=10) is True
    assert not running(child.pid)
    child.returncode = -signal.SIGTERM


def test_terminate_kills_what_ignores_sigterm() -> None:
    code = "import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('ready', flush=True)\ntime.sleep(60)\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    assert terminate(child.pid, grace=0.3) is False
    assert child.wait(timeout=10) == -signal.SIGKILL


def test_a_pid_that_does_not_exist_is_not_running() -> None:
    assert not running(2**22 + 12345)
    assert terminate(2**22 + 12345) is True
