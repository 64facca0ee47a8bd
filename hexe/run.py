"""``hexe run``: one command, isolated, in the foreground of the user's terminal.

The command inherits stdin, stdout, stderr and the terminal; it stays in the
terminal's foreground process group, so Ctrl-C and Ctrl-Z reach it directly
and ``hexe run`` itself ignores Ctrl-C while it waits. SIGTERM, SIGHUP, SIGUSR1
and SIGUSR2 sent to ``hexe run`` are forwarded. The exit status is the
command's own, 128+N for signal N, 125 when hexe or the isolation failed
before exec, 126 when the command cannot be executed, 127 when it is not found.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping, Sequence

import pluggy

from hexe import spawn as spawn_mod
from hexe.errors import EXIT_SETUP_FAILED, HexeError
from hexe.isolation import InvalidSettings, Isolation, Layer, resolve

FLAG_LABELS = {
    "profile": "--profile",
    "memory": "--memory",
    "pids": "--pids",
    "cpu": "--cpu",
    "tmp_size": "--tmp-size",
    "hostname": "--hostname",
    "strict": "--strict-limits",
}
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


def report(error: HexeError) -> None:
    for line in error.message.splitlines():
        print(f"hexe: {line}", file=sys.stderr)
    if error.hint:
        print(f"hexe: hint: {error.hint}", file=sys.stderr)


def isolation_from(flags: Mapping[str, object], environ: Mapping[str, str]) -> Isolation:
    """built-in < HEXE_* environment < flags."""
    return resolve([Layer.from_env(environ), Layer.from_flags(flags, FLAG_LABELS)])


def run_command(
    argv: Sequence[str],
    flags: Mapping[str, object],
    pm: pluggy.PluginManager,
    environ: Mapping[str, str] | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    try:
        isolation = isolation_from(flags, environ)
    except InvalidSettings as exc:
        report(exc)
        return EXIT_SETUP_FAILED
    if not argv:
        print(
            "hexe: run: no command given; usage: hexe run [OPTIONS] [--] CMD [ARGS...]",
            file=sys.stderr,
        )
        return EXIT_SETUP_FAILED
    plan = spawn_mod.SpawnPlan(
        argv=tuple(argv), isolation=isolation, env=dict(environ), name=f"run-{os.getpid()}"
    )

    def warn(message: str) -> None:
        print(f"hexe: warning: {message}", file=sys.stderr)

    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGQUIT)}
    # Signals to forward are held (blocked) from before the fork until the
    # forwarding handlers are in place: one arriving in between is delivered
    # then, instead of killing hexe and orphaning the sandbox. The child
    # unblocks them just before exec.
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    try:
        try:
            child = spawn_mod.start(plan, pm, on_warning=warn)
            child.wait_started()
        except HexeError as exc:
            report(exc)
            return exc.exit_code

        def forward(sig: int, _frame: object) -> None:
            child.send_signal(sig)

        for sig in FORWARDED:
            old.setdefault(sig, signal.signal(sig, forward))
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        return spawn_mod.exit_code_of(child.wait())
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        for sig, handler in old.items():
            signal.signal(sig, handler)
