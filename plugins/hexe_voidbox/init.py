"""PID 1 of a sandbox: start the command as PID 2, reap orphans, forward signals.

The kernel gives PID 1 of a namespace two jobs a shell command does not do:
orphans are re-parented to it (so it must reap them, or they stay zombies),
and it receives only the signals it has handlers for (so ``kill -TERM`` of a
``sleep`` running as PID 1 would do nothing). hexe runs this small loop as
PID 1 instead, like ``bwrap``'s and ``tini``'s inits.

Signals: the ones below are forwarded to the command when a process sent them
(``kill``); signals the terminal generates (Ctrl-C, Ctrl-\\, window size) are
not, because the terminal already delivers them to the command's process
group. When the command ends, this process exits with its status (128+N when
signal N ended it) and the kernel ends everything else in the namespace.
"""

from __future__ import annotations

import os
import signal
from typing import Any, NoReturn

from hexe_voidbox.syscalls import set_process_name

SI_KERNEL = 0x80

FORWARDED = frozenset(
    {
        signal.SIGHUP,
        signal.SIGINT,
        signal.SIGQUIT,
        signal.SIGTERM,
        signal.SIGUSR1,
        signal.SIGUSR2,
        signal.SIGALRM,
        signal.SIGCONT,
        signal.SIGWINCH,
    }
)


def exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def run_init(command: Any, status_fd: int | None) -> NoReturn:
    """Start ``command`` (a ``hexe.spawn.Command``) as PID 2 and supervise it. Never returns.

    The command is started with ``posix_spawn`` (no Python runs in the new
    process) with default signal dispositions and an empty mask; a failure to
    execute it raises ``SetupError`` here, before the status pipe is closed.
    """
    waited = FORWARDED | {signal.SIGCHLD}
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ignored, children would vanish unseen
    signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    pid = command.spawn()
    if status_fd is not None:
        # say so explicitly: end of file alone could also mean we were killed
        os.write(status_fd, b'{"spawned": %d}\n' % pid)
        os.close(status_fd)  # end of file: the parent learns the command runs
    set_process_name("hexe-init")
    while True:
        info = signal.sigwaitinfo(waited)
        if info.si_signo == signal.SIGCHLD:
            status = _reap(pid)
            if status is not None:
                os._exit(exit_code(status))
        elif info.si_code != SI_KERNEL:
            try:
                os.kill(pid, info.si_signo)
            except ProcessLookupError:
                pass


def _reap(command: int) -> int | None:
    """Reap every exited child; return the command's wait status if it was one."""
    found = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if pid == 0:
            return found
        if pid == command:
            found = status
