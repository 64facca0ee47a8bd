"""Sandboxes prepared ahead: :func:`start_ahead` makes one before its command
is known, :func:`adopt` gives it a command, :func:`discard` ends an unused
one. See the package's docstring for when a prepared sandbox may be used."""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import replace

import pluggy

from hexe import log as hexe_log
from hexe.spawn.child import encode_command
from hexe.spawn.parent import Spawn, mounts_changed, start
from hexe.spawn.plan import SpawnPlan, check, same_sandbox

#: Hooks that run before a spawn prepared ahead learns its command: each
#: plugin implementing one must declare ``HEXE_SPAWN_AHEAD = True``.
EARLY_HOOKS = (
    "hexe_spawn_prepare",
    "hexe_spawn_parent",
    "hexe_child_join",
    "hexe_child_namespaces",
    "hexe_child_userns",
    "hexe_child_pid1",
    "hexe_child_mounts",
    "hexe_child_network",
    "hexe_child_hostname",
    "hexe_child_security",
    "hexe_child_seccomp",
    "hexe_child_handover",
)


def ahead_refused(pm: pluggy.PluginManager) -> str | None:
    """Why sandboxes may not be prepared ahead with these plugins (None: they may).

    A hook that runs before the command is known sees a placeholder command,
    environment and directory; only plugins that say they do not look at them
    (``HEXE_SPAWN_AHEAD = True`` in the plugin's module) may run early.
    """
    for name in EARLY_HOOKS:
        for impl in getattr(pm.hook, name).get_hookimpls():
            if not getattr(impl.plugin, "HEXE_SPAWN_AHEAD", False):
                return f"plugin {impl.plugin_name} implements {name} without HEXE_SPAWN_AHEAD"
    return None


def start_ahead(
    plan: SpawnPlan, pm: pluggy.PluginManager, *, terminal_fd: int | None = None
) -> Spawn:
    """Prepare a sandbox for ``plan``'s isolation before its command is known.

    The child goes through every phase, seccomp included, on ``terminal_fd``
    (a PTY slave, as for :func:`start`), and reports ``ready`` on the status
    pipe (``Spawn.ready``, once read); :func:`adopt` gives it a command.
    Closing the go socket (:meth:`Spawn.close_go`) or killing it ends it
    without running anything. Raises like :func:`start`.
    """
    return start(plan, pm, terminal_fd=terminal_fd, ahead=True)


def adopt(
    spawn: Spawn, plan: SpawnPlan, *, on_warning: Callable[[str], None] | None = None
) -> bool:
    """Give a ready sandbox prepared ahead the command of ``plan`` (it runs on
    the terminal the sandbox was made with).

    False when it cannot take it — another isolation, the host's mounts
    changed, the plan is refused now, or the child is gone; the caller then
    discards it and starts ``plan`` the usual way, which reports any problem.
    On True the spawn goes on like one from :func:`start`: watch its status.
    """
    if not spawn.ready or spawn.go_socket is None or not same_sandbox(spawn.plan, plan):
        return False
    if mounts_changed(spawn.mounts_fd):
        spawn.log.info("spawn_ahead_stale", reason="the host's mounts changed")
        return False
    problems, _warnings = check(plan, spawn.pm)  # its warnings were given when it was made
    if problems:
        return False
    message = encode_command(
        plan.argv, plan.env, plan.cwd or spawn._caller_cwd, plan.cwd is not None
    )
    sock = spawn.go_socket
    try:
        sock.settimeout(2)
        sock.sendall(message)
    except OSError as exc:
        spawn.log.info("spawn_ahead_gone", error=str(exc))
        return False
    spawn.close_go()
    spawn.plan = replace(plan, name=spawn.plan.name)  # its cgroup has the prepared name
    spawn.log = hexe_log.get_logger(spawn=spawn.plan.name)
    spawn._on_warning = on_warning
    spawn._t0 = time.perf_counter()
    for text in spawn.warnings:  # what the preparation said
        if on_warning is not None:
            on_warning(text)
    spawn.log.info("spawn_adopted", **spawn._context())
    return True


def discard(spawn: Spawn, timeout: float = 2.0) -> None:
    """End a sandbox prepared ahead that will not be used, and clean up after it.

    Closing the go socket makes a waiting child exit without running
    anything; one still setting up is killed after ``timeout`` seconds.
    Blocks until it is reaped and the plugins' exit hooks (cgroup removal)
    have run.
    """
    spawn.close_go()
    if spawn.status_fd is not None:
        os.set_blocking(spawn.status_fd, True)
        for last in (False, True):
            if _read_to_end(spawn, timeout):
                break
            if not last:  # still setting up, or stuck: end it
                for pid in (spawn.direct_pid, spawn.pid):
                    if pid is not None:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
        if spawn.status_fd is not None:
            os.close(spawn.status_fd)
            spawn.status_fd = None
    status = spawn._reap()
    spawn.finish(status)


def _read_to_end(spawn: Spawn, timeout: float) -> bool:
    """Read the status pipe until its end, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    try:
        while spawn.status_fd is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([spawn.status_fd], [], [], left)[0]:
                return False
            if spawn.read_status():
                return True
    except OSError:
        pass
    return True
