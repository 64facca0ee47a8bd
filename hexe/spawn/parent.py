"""The parent side of a spawn: :class:`Spawn` (one spawn in progress) and
:func:`start` (check, prepare, fork, parent phases, release the child)."""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

from hexe import codec
from hexe import log as hexe_log
from hexe.errors import SetupError, SpawnRefused
from hexe.procwait import STOPPED_CHECK, continue_if_stopped, waitpid_resuming
from hexe.spawn.child import child_main, encode_command, send
from hexe.spawn.plan import SpawnPlan, check, exit_code_of

if TYPE_CHECKING:
    import socket

PR_SET_CHILD_SUBREAPER = 36


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
        #: set by a plugin's ``hexe_spawn_prepare`` whose program will start the
        #: command (``hexe_child_handover``, as voidbox's init): the error to
        #: report when that program ends before saying the command runs. It
        #: also makes the spawn hold a lifeline and become a subreaper.
        self.handover: SetupError | None = None
        self.log = hexe_log.get_logger(spawn=plan.name)

    # -- used by plugins in the parent -------------------------------------

    def warn(self, message: str, **context: Any) -> None:
        """Tell the user about a degradation (printed by the caller, and logged).

        In a child phase the warning is sent to the parent over the status pipe.
        """
        if self.child_status_fd is not None:
            send(self.child_status_fd, {"warning": message})
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
        lost = self.handover
        if error is None and lost is not None and not (self._handed_over and self._spawned):
            error = lost  # end of file, but the program never said the command runs
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
        data = encode_command(
            plan.argv, plan.env, plan.cwd or self._caller_cwd, plan.cwd is not None
        )
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
            "child_pid": self.pid,
            **self.facts,
        }

    def _on_status(self, line: bytes) -> SetupError | None:
        try:
            msg = codec.loads(line)
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
    if spawn.handover is not None:
        _ensure_subreaper()
        life_r, spawn.lifeline_fd = os.pipe2(os.O_CLOEXEC)
        spawn.child_fds.add(life_r)
    release_r, release_w = os.pipe2(os.O_CLOEXEC)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    go_child = None
    if ahead:
        import socket  # only here: ~2 ms of every hexe run otherwise

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
        # the parent's ends: held here, the release pipe would never reach its
        # end of file if the parent died before releasing us, and this child
        # would wait for ever holding every descriptor of the parent's (the
        # other panes' lifelines among them: their sandboxes would outlive it)
        os.close(release_w)
        os.close(status_r)
        if go_child is not None:
            spawn.close_go()
            spawn.go_socket = go_child
        if spawn.lifeline_fd is not None:
            os.close(spawn.lifeline_fd)  # only the owner holds the write end
            spawn.lifeline_fd = life_r
        child_main(spawn, release_r, status_w)
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


def run(plan: SpawnPlan, pm: pluggy.PluginManager, **kwargs: Any) -> Spawn:
    """:func:`start` and :meth:`Spawn.wait_started` in one call."""
    spawn = start(plan, pm, **kwargs)
    spawn.wait_started()
    return spawn
