"""The child side of a spawn: everything between fork and exec.

:func:`child_main` runs the child phases in order (each a hook), reports on
the status pipe, and ends in exec or ``_exit``. :class:`Command` is the
user's command resolved in the child; :func:`encode_command` is how a
program that takes over a spawn (``hexe_child_handover``) reads it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import gc
import os
import signal
import termios
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn

from hexe import codec
from hexe.errors import (
    EXIT_NOT_EXECUTABLE,
    EXIT_NOT_FOUND,
    EXIT_SETUP_FAILED,
    HexeError,
    SetupError,
)

if TYPE_CHECKING:
    from hexe.spawn.parent import Spawn

PR_SET_NAME = 15

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


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one status message (a JSON line) to the parent; best effort."""
    data = codec.dumps(message).encode() + b"\n"
    try:
        os.write(fd, data)
    except OSError:
        pass


def child_main(spawn: Spawn, release_r: int, status_w: int) -> NoReturn:
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
        # PID 1 (when a plugin forks one) goes on only once the outer process
        # has said its pid and exited, which closes the write end: else, on a
        # busy machine, PID 1's "ready" could reach the parent first, and the
        # parent would take the outer process for the sandbox (kill it, wait
        # for it, name it) while PID 1 lives on
        handed_r, handed_w = os.pipe()
        forked = _phase("pid1", hook.hexe_child_pid1, spawn=spawn)
        if forked:  # the outer process: hand over to the sandbox's PID 1
            send(status_w, {"pid": forked})
            os._exit(0)
        os.close(handed_w)
        os.read(handed_r, 1)  # end of file: the outer process is gone (at once without a fork)
        os.close(handed_r)
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
            send(status_w, {"ready": True})
            _await_command(spawn)
        command = Command.prepare(spawn)
        _phase("exec", hook.hexe_child_exec, spawn=spawn, command=command)
        if spawn.handover is not None:  # under a plugin's init: say the command starts
            send(status_w, {"spawned": os.getpid()})
        command.exec()
    except SetupError as exc:
        send(status_w, {"error": exc.to_dict()})
        code = exc.exit_code
    except BaseException as exc:  # a plugin bug must still reach the user
        send(status_w, {"error": SetupError("setup", 0, f"{type(exc).__name__}: {exc}").to_dict()})
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
        env = with_pwd(plan.env, _enter_directory(spawn))
        try:
            path = _find_executable(plan.argv[0], env)
        except FileNotFoundError as exc:
            raise _exec_error(plan.argv[0], exc) from exc
        return cls(path, tuple(plan.argv), env)

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


def with_pwd(env: Mapping[str, str], directory: str) -> Mapping[str, str]:
    """``env`` with ``PWD`` naming ``directory``, the command's working
    directory, as tmux sets it and the shells read it (without it, dash and
    bash ask ``getcwd`` into a buffer of their heap: a page of every idle
    shell); kept when it names that directory already (a path through a
    symlink, as the caller's shell spelt it); taken out when ``directory`` is
    relative (it names nothing). hexe-init does the same in C."""
    if not directory.startswith("/"):
        return {key: value for key, value in env.items() if key != "PWD"}
    pwd = env.get("PWD")
    if pwd and pwd.startswith("/"):
        try:
            if os.path.samestat(os.stat(pwd), os.stat(".")):
                return env
        except OSError:
            pass
    return {**env, "PWD": directory}


def _enter_directory(spawn: Spawn) -> str:
    """chdir by path after setup: a directory inherited from before the mounts
    would still point into the host's /tmp. The directory entered."""
    plan = spawn.plan
    target = plan.cwd or spawn._caller_cwd
    try:
        os.chdir(target)
        return target
    except OSError as exc:
        if plan.cwd is not None:
            raise SetupError.from_oserror(f"chdir {target}", exc) from exc
        fallback = "/"
        home = plan.env.get("HOME")
        if home and os.path.isdir(home):
            fallback = home
        os.chdir(fallback)
        spawn.warn(f"{target} does not exist inside the sandbox; starting in {fallback}")
        return fallback
