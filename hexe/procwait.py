"""Waiting for processes: a sandbox's PID 1, which is never left stopped;
whether a process still runs; ending one with a grace period.

Something outside (``kill -STOP``, a debugger that attached and went) can
stop a sandbox's PID 1; then it no longer reaps the command nor ends with
it, and whoever waits for it (``hexe run``, the server) would wait for
ever. A stop is answered with SIGCONT.
"""

from __future__ import annotations

import _signal  # the C module: signal's enums cost a command ~1 ms to build
import os
import time

from hexe import log as hexe_log

#: How often a start that says nothing checks whether its process was stopped.
STOPPED_CHECK = 0.5


def continue_if_stopped(pid: int) -> bool:
    """SIGCONT to our child ``pid`` if it is stopped (its stop is consumed); True if it was."""
    try:
        info = os.waitid(os.P_PID, pid, os.WSTOPPED | os.WNOHANG)
    except ChildProcessError:
        return False
    if info is None or info.si_code != os.CLD_STOPPED:
        return False
    try:
        os.kill(pid, _signal.SIGCONT)
    except ProcessLookupError:
        return False
    hexe_log.get_logger().warning("sandbox_init_continued", init_pid=pid, stopped_by=info.si_status)
    return True


def waitpid_resuming(pid: int, options: int = 0) -> tuple[int, int]:
    """``os.waitpid`` that answers a stop with SIGCONT; with ``os.WNOHANG``,
    ``(0, 0)`` means it still runs."""
    while True:
        got, status = os.waitpid(pid, options | os.WUNTRACED)
        if not got or not os.WIFSTOPPED(status):
            return got, status
        try:
            os.kill(got, _signal.SIGCONT)
        except ProcessLookupError:
            pass
        hexe_log.get_logger().warning(
            "sandbox_init_continued", init_pid=got, stopped_by=os.WSTOPSIG(status)
        )


def running(pid: int) -> bool:
    """``pid`` runs and is not a zombie. A zombie that is our own child is
    reaped (a daemonized server is re-parented to a child subreaper)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def terminate(pid: int, grace: float = 5.0, poll: float = 0.02) -> bool:
    """SIGTERM, up to ``grace`` seconds for ``pid`` to end, then SIGKILL; True if it
    ended on SIGTERM (or was gone already)."""
    try:
        os.kill(pid, _signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(poll)
    try:
        os.kill(pid, _signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False
