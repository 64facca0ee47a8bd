"""The spawn protocol: plan -> fork -> parent phases -> release -> child phases -> exec.

Every pane and every ``hexe run`` starts here. Each step is a hook (see
:mod:`hexe.plugin.hookspecs`), so the built-in plugins have no privilege a
third-party plugin lacks. This module knows the order of the steps, the two
pipes between parent and child, and nothing about namespaces or cgroups.

The pipes:

- **release** (parent -> child): the child blocks on it right after fork,
  before entering any namespace, until every ``hexe_spawn_parent`` hook has
  returned — so the child's cgroup and limits hold before it does anything.
- **status** (child -> parent, close-on-exec): newline-separated JSON messages:
  ``{"pid": N}`` when a pid-namespace fork replaced the direct child,
  ``{"spawned": N}`` from that PID 1 once the command runs,
  ``{"warning": "..."}``, and ``{"error": {...}}`` for a failed step. End of
  file with no error means the command was executed — after a pid-namespace
  fork, only together with ``spawned`` (else PID 1 was killed first).

The process that forks must be single-threaded: a child forked from a
threaded process inherits locks held by threads that do not exist in it.

**Spawning ahead** (:func:`start_ahead`, :func:`adopt`): a pane server may
prepare the sandbox of its next pane, on a PTY of its own, before anyone asks
for it. Every phase runs as usual, the seccomp filter included; then, instead
of resolving and executing the command, the child reports ``{"ready": true}``
and reads its command (argv, environment, working directory) from a third
channel, the **go** socket. Only the directory change and the exec run after
that, with the final plan. A prepared sandbox is only used for a plan with
the same isolation, when the host's mount table has not changed since it was
made (its mount namespace is a copy of the host's at that time), and only
when every plugin that implements a hook that runs before the command is
known says its hooks do not read the command, environment or directory
(``HEXE_SPAWN_AHEAD = True`` in the plugin's module): see :func:`ahead_refused`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys
import termios
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, NoReturn

import pluggy

from hexe import log as hexe_log
from hexe.errors import (
    EXIT_NOT_EXECUTABLE,
    EXIT_NOT_FOUND,
    EXIT_SETUP_FAILED,
    HexeError,
    SetupError,
    SpawnRefused,
)
from hexe.isolation import Isolation
from hexe.plugin.manager import features as plugin_features
from hexe.procwait import STOPPED_CHECK, continue_if_stopped, waitpid_resuming

PR_SET_CHILD_SUBREAPER = 36
PR_SET_NAME = 15

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
#: The name a sandbox prepared ahead shows in ``ps`` while it waits.
AHEAD_PROCESS_NAME = b"hexe-ahead"

#: Child phases in order, as (phase name, hook name). ``pid1`` and ``exec`` are
#: handled apart because they change which process goes on.
CHILD_PHASES_BEFORE_PID1 = (
    ("join", "hexe_child_join"),
    ("namespaces", "hexe_child_namespaces"),
    ("userns", "hexe_child_userns"),
)
CHILD_PHASES_AFTER_PID1 = (
    ("mounts", "hexe_child_mounts"),
    ("network", "hexe_child_network"),
    ("hostname", "hexe_child_hostname"),
)


@dataclass(frozen=True)
class SpawnPlan:
    """Everything decided about one process tree before it exists. Immutable.

    ``cwd`` None means "where the caller is", and falls back to ``$HOME`` then
    ``/`` when that directory does not exist inside the sandbox (a fresh
    ``/tmp`` hides it); an explicit ``cwd`` that is missing is an error.
    ``extra`` carries settings for third-party plugins, by plugin name.
    """

    argv: tuple[str, ...]
    isolation: Isolation
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(os.environ)))
    cwd: str | None = None
    name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.argv:
            raise SpawnRefused("no command to run")
        if not self.name:
            object.__setattr__(self, "name", f"spawn-{os.getpid()}-{next(_counter)}")


def _count() -> Any:
    n = 0
    while True:
        n += 1
        yield n


_counter = _count()


class Spawn:
    """One spawn in progress: the plan, the process, and what plugins recorded.

    ``pid`` is the process hexe waits on (after a pid-namespace fork, the PID 1
    of the sandbox). ``state`` is scratch space for plugins, keyed by plugin
    name; ``facts`` are logged with the spawn events (``cgroup``,
    ``cgroup_driver``).
    """

    def __init__(
        self,
        plan: SpawnPlan,
        pm: pluggy.PluginManager,
        *,
        terminal_fd: int | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.plan = plan
        self.pm = pm
        self.terminal_fd = terminal_fd
        self.pid: int | None = None
        self.state: dict[str, Any] = {}
        self.facts: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.status_fd: int | None = None
        self._status_buf = b""
        self._status_error: SetupError | None = None
        self._handed_over = False  # a pid-namespace fork replaced the direct child
        self._spawned = False  # that PID 1 reported the command running
        self.setup_ms: float | None = None
        self.exit_status: int | None = None
        self._direct_pid: int | None = None
        self._t0 = time.perf_counter()
        self._on_warning = on_warning
        self._caller_cwd = _safe_getcwd()
        self._failed_called = False
        #: the status pipe, set in the child between fork and exec
        self.child_status_fd: int | None = None
        #: spawned ahead: the go socket (parent end; in the child, its end)
        self.go_socket: socket.socket | None = None
        #: spawned ahead: the child waits for its command (``{"ready"}`` came)
        self.ready = False
        #: spawned ahead: /proc/self/mountinfo, open since the fork (see :func:`adopt`)
        self.mounts_fd: int | None = None
        #: descriptors the child keeps across its close-all (plugins add theirs
        #: in ``hexe_spawn_prepare``, e.g. the init program to execute)
        self.child_fds: set[int] = set()
        #: the lifeline (parent: write end, held until the spawn is finished;
        #: child: read end). Only the parent ever holds the write end, so its
        #: end of file tells the sandbox that its owner is gone, killed included.
        self.lifeline_fd: int | None = None
        self.log = hexe_log.get_logger(spawn=plan.name)

    # -- used by plugins in the parent -------------------------------------

    def warn(self, message: str, **context: Any) -> None:
        """Tell the user about a degradation (printed by the caller, and logged).

        In a child phase the warning is sent to the parent over the status pipe.
        """
        if self.child_status_fd is not None:
            _send(self.child_status_fd, {"warning": message})
            return
        self.warnings.append(message)
        self.log.warning("spawn_warning", message=message, **context)
        if self._on_warning is not None:
            self._on_warning(message)

    # -- lifecycle (parent) ---------------------------------------------------

    def wait_started(self) -> None:
        """Block until the command was executed, or raise the child's :class:`SetupError`."""
        assert self.status_fd is not None, "start() first"
        fd = self.status_fd
        while not (select.select([fd], [], [], STOPPED_CHECK)[0] and self.read_status()):
            for pid in filter(None, (self._direct_pid, self.pid)):
                continue_if_stopped(pid)
        self.finish_start()

    def read_status(self) -> bool:
        """Read once from the status pipe; True when it reached end of file.

        For event loops: call when ``status_fd`` is readable (one read, which
        then does not block), and :meth:`finish_start` once this returns True.
        """
        assert self.status_fd is not None, "start() first"
        chunk = os.read(self.status_fd, 4096)
        if not chunk:
            os.close(self.status_fd)
            self.status_fd = None
            if self._status_buf:
                self._status_error = self._status_error or SetupError(
                    "setup", 0, "child sent a truncated status message"
                )
            return True
        self._status_buf += chunk
        *lines, self._status_buf = self._status_buf.split(b"\n")
        for line in lines:
            self._status_error = self._on_status(line) or self._status_error
        return False

    @property
    def setup_error(self) -> SetupError | None:
        """The error a child phase reported so far, if any."""
        return self._status_error

    @property
    def starting(self) -> bool:
        """True until the status pipe reached end of file."""
        return self.status_fd is not None

    def finish_start(self) -> None:
        """After end of file on the status pipe: log and raise the setup error, if any."""
        error = self._status_error
        pid_namespace = "pid" in self.plan.isolation.namespaces
        if error is None and pid_namespace and not (self._handed_over and self._spawned):
            # end of file, but PID 1 never said the command runs: it was killed
            error = SetupError(
                "start the command",
                0,
                "the sandbox's PID 1 was killed before the command started",
                hint="a memory limit that small leaves no room for hexe's init (about 10 MiB); "
                "raise --memory / HEXE_CGROUP_MEM_MAX",
                component="voidbox isolation",
            )
        if error is not None:
            status = self._reap()
            self.exit_status = status
            self.log.error(
                "spawn_failed",
                **self._context(),
                step=error.step,
                errno=error.errno,
                detail=error.detail,
                exit_code=error.exit_code,
            )
            self._call_failed(error)
            raise error
        self.setup_ms = round((time.perf_counter() - self._t0) * 1000, 3)
        self.pm.hook.hexe_spawn_started(spawn=self)
        self.log.info("spawn_started", **self._context(), setup_ms=self.setup_ms)

    @property
    def direct_pid(self) -> int | None:
        """The first child, while it has not been reaped (it exits after a pid-namespace fork)."""
        return self._direct_pid

    def wait(self) -> int:
        """Wait for the process tree to end; returns the wait status."""
        assert self.pid is not None
        _, status = waitpid_resuming(self.pid)
        self.finish(status)
        return status

    def finish(self, status: int) -> None:
        """Record that the waited-on process ended with ``status`` and clean up."""
        self.exit_status = status
        self.close_lifeline()
        try:
            self.pm.hook.hexe_spawn_exited(spawn=self, status=status)
        finally:
            self.log.info("spawn_exited", child_pid=self.pid, exit_code=exit_code_of(status))

    def close_go(self) -> None:
        """Close the go socket: a child still waiting on it exits without running anything."""
        if self.go_socket is not None:
            self.go_socket.close()
            self.go_socket = None
        if self.mounts_fd is not None:
            os.close(self.mounts_fd)
            self.mounts_fd = None

    def command_fd(self) -> int:
        """Child side: a descriptor to read the command from, to its end
        (:func:`encode_command`): the go socket of a sandbox prepared ahead,
        else an in-memory file holding the plan's command."""
        if self.go_socket is not None:
            return self.go_socket.fileno()
        plan = self.plan
        data = encode_command(plan.argv, plan.env, plan.cwd or self._caller_cwd, plan.cwd is not None)
        fd = os.memfd_create("hexe-command", os.MFD_CLOEXEC)
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def close_lifeline(self) -> None:
        """Let go of the sandbox: its PID 1 ends it when the last write end closes."""
        if self.lifeline_fd is not None:
            os.close(self.lifeline_fd)
            self.lifeline_fd = None

    def send_signal(self, sig: int) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    # -- internals -------------------------------------------------------------

    def _context(self) -> dict[str, Any]:
        iso = self.plan.isolation
        return {
            "argv": list(self.plan.argv),
            "profile": iso.profile,
            "namespaces": iso.ordered_namespaces(),
            "limits": {k: str(v) for k, v in iso.limits.requested().items()},
            "child_pid": self.pid,
            **self.facts,
        }

    def _on_status(self, line: bytes) -> SetupError | None:
        try:
            msg = json.loads(line)
        except ValueError:
            return SetupError("setup", 0, f"child sent a malformed status message: {line[:80]!r}")
        if "pid" in msg:
            # The direct child forked the sandbox's PID 1 and exits now; once it
            # is reaped, that PID 1 is our child (we are its subreaper).
            try:
                os.waitpid(self._direct_pid, 0)  # type: ignore[arg-type]
            except ChildProcessError:
                pass  # an event loop's reaper was faster
            self._direct_pid = None
            self.pid = int(msg["pid"])
            self._handed_over = True
            return None
        if "spawned" in msg:
            self._spawned = True
            return None
        if "ready" in msg:
            self.ready = True
            return None
        if "warning" in msg:
            self.warn(str(msg["warning"]))
            return None
        if "error" in msg:
            return SetupError.from_dict(msg["error"])
        return None

    def _reap(self) -> int:
        status = 0
        for pid in (self._direct_pid, self.pid):
            if pid is None:
                continue
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self._direct_pid = None
        return status

    def _call_failed(self, error: Exception) -> None:
        self.close_lifeline()
        if not self._failed_called:
            self._failed_called = True
            self.pm.hook.hexe_spawn_failed(spawn=self, error=error)


def _safe_getcwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"


def exit_code_of(status: int) -> int:
    """The shell's view of a wait status: the exit code, or 128+N for signal N."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return EXIT_SETUP_FAILED


# --------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------


def check(plan: SpawnPlan, pm: pluggy.PluginManager) -> tuple[list[str], list[str]]:
    """Problems that refuse ``plan``, and warnings about limits nobody can apply."""
    iso = plan.isolation
    provided = plugin_features(pm)
    problems: list[str] = []
    for ns in iso.ordered_namespaces():
        if ns not in provided:
            problems.append(
                f"profile {iso.profile} needs the {ns} namespace, which no loaded plugin "
                "implements (is the voidbox plugin disabled?)"
            )
    if iso.no_new_privs and "no_new_privs" not in provided:
        problems.append(
            f"profile {iso.profile} needs no_new_privs, which no loaded plugin implements"
        )
    asked = {
        "caps": iso.caps.keep is not None,
        "seccomp": bool(iso.seccomp),
        "mounts": bool(iso.mounts),
        "rootfs": iso.rootfs is not None,
    }
    for feature, wanted in asked.items():
        if wanted and feature not in provided:
            problems.append(
                f"{feature} (from {iso.sources.get(feature, 'profile ' + iso.profile)}) "
                "is asked for, but no loaded plugin implements it (is the voidbox plugin "
                "disabled?)"
            )
    warnings: list[str] = []
    for limit in iso.limits.requested():
        if limit not in provided:
            text = (
                f"{limit} limit not applied: no loaded plugin implements it "
                "(is the cgroups plugin disabled?)"
            )
            (problems if iso.strict_limits else warnings).append(text)
    for result in pm.hook.hexe_spawn_check(plan=plan):
        problems.extend(result or ())
    return problems, warnings


_subreaper_set = False


def _ensure_subreaper() -> None:
    """Become the subreaper, so a sandbox's PID 1 is re-parented to us."""
    global _subreaper_set
    if _subreaper_set:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise SpawnRefused(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}")
    _subreaper_set = True


def start(
    plan: SpawnPlan,
    pm: pluggy.PluginManager,
    *,
    terminal_fd: int | None = None,
    on_warning: Callable[[str], None] | None = None,
    ahead: bool = False,
) -> Spawn:
    """Start ``plan``: check, prepare, fork, run parent phases, release the child.

    Returns once the child is released; call :meth:`Spawn.wait_started` to
    learn whether setup and exec succeeded (``status_fd`` can be watched by an
    event loop instead). ``terminal_fd`` is a PTY slave that becomes the
    child's controlling terminal and stdio; without it stdio is inherited.
    Raises :class:`SpawnRefused` when the plan is refused before fork.

    ``ahead``: the child stops after the seccomp phase and waits for
    :func:`adopt` to give it its command (``plan``'s argv, env and cwd are
    then placeholders); see :func:`start_ahead`.
    """
    spawn = Spawn(plan, pm, terminal_fd=terminal_fd, on_warning=on_warning)
    problems, warnings = check(plan, pm)
    if problems:
        error = SpawnRefused("; ".join(problems))
        spawn.log.error("spawn_refused", **spawn._context(), problems=problems)
        raise error
    for text in warnings:
        spawn.warn(text)
    try:
        pm.hook.hexe_spawn_prepare(spawn=spawn)
    except BaseException as exc:
        spawn.log.error("spawn_refused", **spawn._context(), problem=str(exc))
        spawn._call_failed(exc)
        raise

    life_r = None
    if "pid" in plan.isolation.namespaces:
        _ensure_subreaper()
        life_r, spawn.lifeline_fd = os.pipe2(os.O_CLOEXEC)
        spawn.child_fds.add(life_r)
    release_r, release_w = os.pipe2(os.O_CLOEXEC)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    go_child = None
    if ahead:
        spawn.go_socket, go_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        spawn.mounts_fd = _open_mountinfo()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None when the fd was closed at start
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in (release_r, release_w, status_r, status_w):
            os.close(fd)
        if life_r is not None:
            os.close(life_r)
        spawn.close_go()
        if go_child is not None:
            go_child.close()
        error = SpawnRefused(f"fork: {exc.strerror}", hint="is a pids limit around hexe full?")
        spawn.log.error("spawn_refused", **spawn._context(), problem=str(error))
        spawn._call_failed(error)
        raise error from exc
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        if go_child is not None:
            spawn.close_go()
            spawn.go_socket = go_child
        if spawn.lifeline_fd is not None:
            os.close(spawn.lifeline_fd)  # only the owner holds the write end
            spawn.lifeline_fd = life_r
        _child_main(spawn, release_r, status_w)
    os.close(release_r)
    os.close(status_w)
    if life_r is not None:
        os.close(life_r)
        spawn.child_fds.discard(life_r)
    if go_child is not None:
        go_child.close()
    spawn.pid = spawn._direct_pid = pid
    spawn.status_fd = status_r
    try:
        pm.hook.hexe_spawn_parent(spawn=spawn)
    except BaseException as exc:
        os.close(release_w)  # the child reads EOF and exits without running anything
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(status_r)
        spawn.status_fd = None
        spawn.close_go()
        spawn.log.error("spawn_refused", **spawn._context(), problem=str(exc))
        spawn._call_failed(exc)
        raise
    os.write(release_w, b"\x01")
    os.close(release_w)
    return spawn


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


def _open_mountinfo() -> int | None:
    """/proc/self/mountinfo, opened now: polling it later says whether the mount
    table changed since (the kernel flags it with POLLPRI)."""
    try:
        return os.open("/proc/self/mountinfo", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def mounts_changed(fd: int | None) -> bool:
    """Whether this process's mount table changed since ``fd`` was opened
    (:func:`_open_mountinfo`); True when that cannot be told."""
    if fd is None:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLPRI)
    return bool(poller.poll(0))


def same_sandbox(a: SpawnPlan, b: SpawnPlan) -> bool:
    """Whether a sandbox prepared for ``a`` can run ``b``'s command: the same
    isolation and plugin settings (command, environment and directory aside)."""
    return a.isolation == b.isolation and dict(a.extra) == dict(b.extra)


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
    message = encode_command(plan.argv, plan.env, plan.cwd or spawn._caller_cwd, plan.cwd is not None)
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


def run(plan: SpawnPlan, pm: pluggy.PluginManager, **kwargs: Any) -> Spawn:
    """:func:`start` and :meth:`Spawn.wait_started` in one call."""
    spawn = start(plan, pm, **kwargs)
    spawn.wait_started()
    return spawn


# --------------------------------------------------------------------------
# Child side: everything below runs between fork and exec
# --------------------------------------------------------------------------


def _send(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode() + b"\n"
    try:
        os.write(fd, data)
    except OSError:
        pass


def _child_main(spawn: Spawn, release_r: int, status_w: int) -> NoReturn:
    """The child from fork to exec. Never returns; every path ends in exec or _exit."""
    code = EXIT_SETUP_FAILED
    try:
        gc.disable()  # no collections touching the parent's pages, no finalizers
        if os.read(release_r, 1) != b"\x01":
            os._exit(EXIT_SETUP_FAILED)  # the parent refused us
        os.close(release_r)
        spawn.child_status_fd = status_w
        keep = {0, 1, 2, status_w, *spawn.child_fds}
        if spawn.terminal_fd is not None:
            keep.add(spawn.terminal_fd)
        if spawn.go_socket is not None:
            keep.add(spawn.go_socket.fileno())
        _close_fds_except(keep)
        hook = spawn.pm.hook
        for phase, name in CHILD_PHASES_BEFORE_PID1:
            _phase(phase, getattr(hook, name), spawn=spawn)
        forked = _phase("pid1", hook.hexe_child_pid1, spawn=spawn)
        if forked:  # the outer process: hand over to the sandbox's PID 1
            _send(status_w, {"pid": forked})
            os._exit(0)
        for phase, name in CHILD_PHASES_AFTER_PID1:
            _phase(phase, getattr(hook, name), spawn=spawn)
        if spawn.go_socket is not None:
            _set_process_name(AHEAD_PROCESS_NAME)
        if spawn.terminal_fd is not None:
            _attach_terminal(spawn.terminal_fd)
        _phase("security", hook.hexe_child_security, spawn=spawn)
        _phase("seccomp", hook.hexe_child_seccomp, spawn=spawn)
        # a program that takes over reports "ready" itself (prepared ahead)
        _phase("handover", hook.hexe_child_handover, spawn=spawn)  # returns if not taken
        if spawn.go_socket is not None:
            _send(status_w, {"ready": True})
            _await_command(spawn)
        command = Command.prepare(spawn)
        _phase("exec", hook.hexe_child_exec, spawn=spawn, command=command)
        if "pid" in spawn.plan.isolation.namespaces:  # under an init: say the command starts
            _send(status_w, {"spawned": os.getpid()})
        command.exec()
    except SetupError as exc:
        _send(status_w, {"error": exc.to_dict()})
        code = exc.exit_code
    except BaseException as exc:  # a plugin bug must still reach the user
        _send(status_w, {"error": SetupError("setup", 0, f"{type(exc).__name__}: {exc}").to_dict()})
    finally:
        os._exit(code)


def _set_process_name(name: bytes) -> None:
    ctypes.CDLL(None).prctl(PR_SET_NAME, name, 0, 0, 0)  # best effort: only ps shows it


def encode_command(
    argv: tuple[str, ...] | list[str], env: Mapping[str, str], cwd: str, explicit: bool
) -> bytes:
    """The command as a program that takes over a spawn reads it (see
    ``hexe_child_handover``): NUL-terminated fields — ``1``/``0`` (the
    directory was given, so a missing one is an error), the directory, the
    argument count and arguments, the environment count and ``KEY=value``
    entries. Arguments and values cannot contain NUL (exec could not pass it)."""
    fields = ["1" if explicit else "0", cwd, str(len(argv)), *argv, str(len(env))]
    fields += [f"{key}={value}" for key, value in env.items()]
    return b"".join(os.fsencode(f) + b"\0" for f in fields)


def decode_command(data: bytes) -> tuple[tuple[str, ...], dict[str, str], str, bool]:
    """The inverse of :func:`encode_command`: (argv, env, directory, explicit)."""
    fields = [os.fsdecode(f) for f in data.split(b"\0")[:-1]]
    explicit, cwd, count = fields[0] == "1", fields[1], int(fields[2])
    argv = tuple(fields[3 : 3 + count])
    entries = fields[4 + count :]
    env = dict(e.split("=", 1) for e in entries if "=" in e)
    return argv, env, cwd, explicit


def _await_command(spawn: Spawn) -> None:
    """Spawned ahead: wait for :func:`adopt`'s command and make it the plan's.
    The parent closing the socket instead ends the child. Only ``read`` is
    used: the seccomp filter is already loaded."""
    sock = spawn.go_socket
    assert sock is not None
    chunks = []
    try:
        while chunk := os.read(sock.fileno(), 1 << 16):
            chunks.append(chunk)
    except OSError:
        os._exit(0)
    sock.close()
    spawn.go_socket = None
    if not chunks:
        os._exit(0)  # discarded: nothing was run
    argv, env, cwd, explicit = decode_command(b"".join(chunks))
    if not explicit:
        spawn._caller_cwd, cwd = cwd, None
    spawn.plan = replace(spawn.plan, argv=argv, env=env, cwd=cwd)


def _phase(phase: str, hook: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return hook(**kwargs)
    except SetupError:
        raise
    except OSError as exc:
        raise SetupError.from_oserror(f"{phase} phase", exc) from exc
    except HexeError as exc:
        raise SetupError(f"{phase} phase", 0, exc.message, hint=exc.hint) from exc
    except Exception as exc:
        raise SetupError(f"{phase} phase", 0, f"{type(exc).__name__}: {exc}") from exc


def _close_fds_except(keep: set[int]) -> None:
    low = 0
    for fd in sorted(keep):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def _attach_terminal(fd: int) -> None:
    """Make ``fd`` (a PTY slave) the controlling terminal and stdio of a new session."""
    try:
        os.setsid()
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
        for target in (0, 1, 2):
            os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    except OSError as exc:
        raise SetupError.from_oserror("attach terminal", exc) from exc


def _currently_ignored() -> set[int]:
    ignored = set()
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            if signal.getsignal(sig) == signal.SIG_IGN:
                ignored.add(sig)
        except (OSError, ValueError):
            pass
    return ignored


#: Signals this process was started with ignored (``nohup``, a background job
#: of a non-interactive shell): the command inherits them ignored, as it would
#: without hexe. Python ignores SIGPIPE and SIGXFSZ itself, so those two are
#: not counted (subprocess resets them the same way).
INHERITED_IGNORED = frozenset(_currently_ignored() - {signal.SIGPIPE, signal.SIGXFSZ})


def reset_signals() -> None:
    """Give signals the dispositions and mask a command should start with
    (before an exec: what hexe ignores back to default, nothing blocked)."""
    for sig in _ignored_signals():
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _ignored_signals() -> set[int]:
    """Signals hexe ignores that the command must get back at their default.

    exec keeps SIG_IGN (caught signals it resets by itself), so the ones hexe
    (or Python) chose to ignore are reset; the ones hexe was started with
    ignored stay ignored.
    """
    return _currently_ignored() - INHERITED_IGNORED


def _find_executable(name: str, env: Mapping[str, str]) -> str:
    """Resolve ``name`` like execvp would, with the command's own ``PATH``."""
    if "/" in name:
        return name
    found_but_denied = None
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(directory or ".", name)
        if os.path.isfile(path):
            if os.access(path, os.X_OK):
                return path
            found_but_denied = found_but_denied or path
    if found_but_denied:
        return found_but_denied  # exec then fails with EACCES, as execvp would
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)


@dataclass(frozen=True)
class Command:
    """The user's command, resolved in the child just before it runs.

    :meth:`prepare` changes into the working directory and resolves the
    executable with the command's own ``PATH``. :meth:`exec` replaces the
    calling process; :meth:`spawn` starts it as a child (``posix_spawn``:
    no Python runs in between) and returns its pid. Both give the command
    default signal dispositions and an empty signal mask, and raise
    :class:`SetupError` with exit code 127 (not found) or 126 (cannot be
    executed).
    """

    path: str
    argv: tuple[str, ...]
    env: Mapping[str, str]

    @classmethod
    def prepare(cls, spawn: Spawn) -> Command:
        plan = spawn.plan
        _enter_directory(spawn)
        try:
            path = _find_executable(plan.argv[0], plan.env)
        except FileNotFoundError as exc:
            raise _exec_error(plan.argv[0], exc) from exc
        return cls(path, tuple(plan.argv), plan.env)

    def exec(self) -> NoReturn:
        reset_signals()
        try:
            os.execve(self.path, list(self.argv), dict(self.env))
        except OSError as exc:
            raise _exec_error(self.argv[0], exc) from exc
        raise AssertionError("unreachable")

    def spawn(self) -> int:
        try:
            return os.posix_spawn(
                self.path,
                list(self.argv),
                dict(self.env),
                setsigmask=(),
                setsigdef=_ignored_signals() | (_blocked_signals() - INHERITED_IGNORED),
            )
        except OSError as exc:
            raise _exec_error(self.argv[0], exc) from exc


def _blocked_signals() -> set[int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, [])) - {signal.SIGKILL, signal.SIGSTOP}


def _exec_error(name: str, exc: OSError) -> SetupError:
    if exc.errno == errno.ENOENT:
        return SetupError(
            f"exec {name}",
            errno.ENOENT,
            exc.strerror or "No such file or directory",
            hint="check the command name and PATH",
            exit_code=EXIT_NOT_FOUND,
        )
    return SetupError(
        f"exec {name}", exc.errno or 0, exc.strerror or str(exc), exit_code=EXIT_NOT_EXECUTABLE
    )


def _enter_directory(spawn: Spawn) -> None:
    """chdir by path after setup: a directory inherited from before the mounts
    would still point into the host's /tmp."""
    plan = spawn.plan
    target = plan.cwd or spawn._caller_cwd
    try:
        os.chdir(target)
    except OSError as exc:
        if plan.cwd is not None:
            raise SetupError.from_oserror(f"chdir {target}", exc) from exc
        fallback = "/"
        home = plan.env.get("HOME")
        if home and os.path.isdir(home):
            fallback = home
        os.chdir(fallback)
        spawn.warn(f"{target} does not exist inside the sandbox; starting in {fallback}")
