"""Evaluating ``init.lua`` where a hang cannot stop hexe: a throwaway child first.

A config is first run in a forked child process (:class:`Preflight`), which is
killed when it passes its wall-clock deadline; only when the child ran it
cleanly does the caller load it in-process (and so get the Lua functions the
callbacks need). Both runs see the same restricted Lua (no blocking
functions, see :mod:`hexe.config.lua`), so the second run does what the first
did, in about the same time. What only a kill can stop (a C function that
does not return: a Lua string pattern, a plugin's Python function) is
stopped in the child, never in hexe.

The server watches :attr:`Preflight.fd` in its selector (it stays
single-threaded: it forks sandboxes); ``hexe mux`` and ``hexe run`` wait for
the child with :func:`load_contained`.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from hexe import codec
from hexe import log as hexe_log
from hexe.config.loader import ConfigError, exists, find_config, load
from hexe.config.lua import display_path
from hexe.config.model import Config

#: wall-clock seconds ``init.lua`` may take, in the child, before it is killed
LOAD_DEADLINE = 5.0
_MAX_REPLY = 1 << 20
_PR_SET_PDEATHSIG = 1


class Preflight:
    """One run of a config in a forked child; the outcome arrives on :attr:`fd`."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        environ: Mapping[str, str],
        pm: Any = None,
        explicit: bool | None = None,
        deadline: float = LOAD_DEADLINE,
        keep_fds: tuple[int, ...] = (),
    ) -> None:
        self.path = path
        self.seconds = deadline
        self.deadline = time.monotonic() + deadline
        self.data = b""
        self.outcome: list[str] | None = None  # None: not finished; []: fine
        found = os.fspath(path) if path is not None else find_config(environ)[0]
        self.shown = display_path(found) if found is not None else "init.lua"
        read_fd, write_fd = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:  # the child: run the config, say how it went, exit
            _child(parent, write_fd, path, environ, pm, explicit, keep_fds)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self.pid: int | None = pid
        self.fd = read_fd
        self.closed = False
        hexe_log.get_logger().debug("config_preflight_started", pid=pid, path=self.shown)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def on_readable(self) -> bool:
        """Read what the child wrote; True once it finished (:attr:`outcome` is set)."""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return False
            if not chunk:
                break
            self.data += chunk
            if len(self.data) > _MAX_REPLY:
                break
        self._finish(self._parse())
        return True

    def check_deadline(self, now: float | None = None) -> bool:
        """Kill the child once past the deadline; True when that ended it."""
        if self.done or (now if now is not None else time.monotonic()) < self.deadline:
            return False
        self._finish(
            [
                f"{self.shown} took longer than {self.seconds:g}s (something in it does not "
                "return: a blocking call, an endless loop in a C function, a slow string "
                "pattern?); it was stopped"
            ]
        )
        return True

    def close(self) -> None:
        """Kill the child if it still runs, and collect it."""
        if self.outcome is None:
            self._finish(["the config check was cancelled"])

    def _parse(self) -> list[str]:
        try:
            reply = codec.loads(self.data.decode())
            errors = reply["errors"]
            if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
                raise ValueError(errors)
            return errors
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return [f"{self.shown}: the config check ended without an answer (it crashed?)"]

    def _finish(self, errors: list[str]) -> None:
        self.outcome = errors
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass  # collected as an orphan already
            self.pid = None
        if not self.closed:  # self.fd keeps its number: a selector unregisters it after
            os.close(self.fd)
            self.closed = True
        hexe_log.get_logger().debug("config_preflight_done", errors=len(errors))


def _child(
    parent: int,
    write_fd: int,
    path: str | os.PathLike[str] | None,
    environ: Mapping[str, str],
    pm: Any,
    explicit: bool | None,
    keep_fds: tuple[int, ...],
) -> None:
    code = 0
    try:
        # killed with its parent: a child hung in C must not outlive a killed hexe
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)  # the parent died before the line above
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        try:
            signal.set_wakeup_fd(-1)
        except ValueError:
            pass
        # nothing of the parent's (panes, clients, the listener) stays open here
        keep_fds = (*keep_fds, *hexe_log.open_fds())
        keep = sorted({0, 1, 2, write_fd, *keep_fds})
        low = 3
        for fd in keep:
            if fd >= low:
                os.closerange(low, fd)
                low = fd + 1
        os.closerange(low, 65536)
        try:
            load(path, environ=environ, pm=pm, explicit=explicit)
            errors: list[str] = []
        except ConfigError as exc:
            errors = list(exc.errors)
        except Exception as exc:  # a plugin's bug: still an answer
            errors = [f"while loading the config: {type(exc).__name__}: {exc}"]
        data = codec.dumps({"errors": errors}).encode()
        while data:
            data = data[os.write(write_fd, data) :]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _wait(preflight: Preflight) -> list[str]:
    while not preflight.done:
        wait = max(0.0, preflight.deadline - time.monotonic())
        try:
            ready, _, _ = select.select([preflight.fd], [], [], wait)
        except InterruptedError:
            continue
        if ready:
            preflight.on_readable()
        else:
            preflight.check_deadline()
    assert preflight.outcome is not None
    return preflight.outcome


def load_contained(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    pm: Any = None,
    explicit: bool | None = None,
    deadline: float = LOAD_DEADLINE,
    meanwhile: Callable[[], object] | None = None,
) -> Config:
    """:func:`hexe.config.load`, but a config that hangs is stopped at ``deadline``.

    The config runs in a child first; only if that went well is it loaded
    here. Raises :class:`ConfigError` as ``load`` does (a timeout is one).
    ``meanwhile`` is called while the child runs the config (``hexe mux``
    imports the server's modules then, on the other core); not at all when
    there is no file to run (nothing runs beside it then).
    """
    environ = os.environ if environ is None else environ
    found = find_config(environ, os.fspath(path) if path is not None else None)[0]
    if found is None or not exists(found):
        # no file to run (the built-in defaults, or "no such file"): nothing
        # can hang, so no child to run it in first
        return load(found, environ=environ, pm=pm, explicit=explicit)
    preflight = Preflight(path, environ=environ, pm=pm, explicit=explicit, deadline=deadline)
    try:
        if meanwhile is not None:
            meanwhile()
        errors = _wait(preflight)
    finally:
        preflight.close()
    if errors:
        raise ConfigError(errors, preflight.shown)
    return load(path, environ=environ, pm=pm, explicit=explicit)
