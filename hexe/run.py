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
from dataclasses import replace

import pluggy

from hexe import spawn as spawn_mod
from hexe.config import ConfigError, plan_for, run_exit_callbacks, run_pane
from hexe.config.contained import load_contained as load_config
from hexe.errors import EXIT_SETUP_FAILED, HexeError, report
from hexe.isolation import InvalidSettings, Layer


def flag_labels(pm: pluggy.PluginManager) -> dict[str, str]:
    """Each setting's ``hexe run`` option as messages name it (``--memory``):
    the core's ``--profile`` and every flag the plugins declare, disabled
    ones too (their error names the option the user typed)."""
    from hexe.plugin.manager import settings_of
    from hexe.plugin.settings import default_plugin_manager, default_settings

    labels = {"profile": "--profile"}
    registries = [default_settings()]
    if pm is not default_plugin_manager():  # else the same declarations
        registries.append(settings_of(pm))
    for registry in registries:
        for name in registry:
            flag = registry[name].flag
            if flag is not None:
                labels[name] = flag.name
    return labels


FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


def run_command(
    argv: Sequence[str],
    flags: Mapping[str, object],
    pm: pluggy.PluginManager,
    environ: Mapping[str, str] | None = None,
    *,
    config_path: str | None = None,
    pane_name: str | None = None,
) -> int:
    """``hexe run``: settings are built-in < init.lua defaults < HEXE_* < pane < flags."""
    environ = os.environ if environ is None else environ
    flag_layer = Layer.from_flags(flags, flag_labels(pm))
    try:
        config = load_config(config_path, environ=environ, pm=pm, meanwhile=_import_lua)
    except ConfigError as exc:
        report(exc)
        return EXIT_SETUP_FAILED
    kind = "run"
    if pane_name is not None:
        pane = config.find_pane(pane_name)
        if pane is None:
            names = ", ".join(p.label for p in config.panes())
            print(f"hexe: run: --pane {pane_name}: no such pane; panes: {names}", file=sys.stderr)
            return EXIT_SETUP_FAILED
        kind = "pane"
        if argv:
            pane = replace(pane, command=tuple(argv))
    elif not argv:
        usage = "usage: hexe run [OPTIONS] [--] CMD [ARGS...]"
        print(f"hexe: run: no command given; {usage}", file=sys.stderr)
        return EXIT_SETUP_FAILED
    else:
        pane = run_pane(tuple(argv))
    try:
        plan = plan_for(
            config,
            pane,
            environ,
            flag_layer,
            kind=kind,
            name=f"run-{os.getpid()}-{os.urandom(3).hex()}",
        )
    except (ConfigError, InvalidSettings) as exc:
        report(exc)
        return EXIT_SETUP_FAILED
    for message in plan.isolation.notes:  # settings given that do nothing here
        print(f"hexe: warning: {message}", file=sys.stderr)
    code = _run_plan(plan, pm)
    for failure in run_exit_callbacks(config, pane, code, kind=kind):
        print(f"hexe: warning: {failure}", file=sys.stderr)
    return code


def _import_lua() -> None:
    """lupa, imported while init.lua's first run (a child) takes the other core:
    the second run, in this process, needs it (~2 ms). Without an init.lua
    there is no first run, and this is not called: no Lua state is made then."""
    try:
        import lupa.lua54  # noqa: F401
    except ImportError:  # the config's load says what is missing
        pass


def _run_plan(plan: spawn_mod.SpawnPlan, pm: pluggy.PluginManager) -> int:
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
            if sig not in spawn_mod.INHERITED_IGNORED:  # under nohup, SIGHUP stays ignored
                old.setdefault(sig, signal.signal(sig, forward))
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        code = spawn_mod.exit_code_of(child.wait())
        for reason in pm.hook.hexe_explain_exit(spawn=child, code=code):
            if reason:  # cgroups: killed by its memory limit
                print(f"hexe: {reason}", file=sys.stderr)
        return code
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        for sig, handler in old.items():
            signal.signal(sig, handler)
