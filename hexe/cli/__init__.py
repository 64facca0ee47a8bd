"""The one command-line front: ``hexe <command>``.

Parses arguments, configures logging, builds the plugin manager and hands
over to the module that does the work. No logic of its own beyond that.
A request to a running session (``hexe list-panes``, ``send-keys``) imports
neither argparse nor json nor re: scripts make such calls in loops, and those
imports were a third of each (:mod:`hexe.cli.quick`).
"""

from __future__ import annotations

import _signal  # the C module: signal's enums cost a command ~1 ms to build
import gc
import os
import sys

import hexe.cli.quick as quick
from hexe import log as hexe_log
from hexe.commands.registry import ACTIONS, ALIASES
from hexe.errors import EXIT_SETUP_FAILED, HexeError

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Sequence
    from typing import Any, NoReturn

    from hexe.cli.quick import Args


def _new_float_args(args: Namespace) -> list[str]:
    import shlex  # new-float's command only (shlex imports re)

    words = list(args.float_command)
    if words[:1] == ["--"]:
        words = words[1:]
    if words:  # run by the shell: quoted back into one line, exactly these words
        return [args.isolation or "", shlex.join(words)]
    return [args.isolation] if args.isolation else []


def main(argv: Sequence[str] | None = None) -> int:
    global _leave_at_once
    _leave_at_once = False
    collecting = gc.isenabled()
    try:
        code = _main(argv)
    except BrokenPipeError:
        # the reader went away (hexe config check | head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    finally:
        if collecting:
            gc.enable()  # for a caller in Python (tests); the program leaves below
    if argv is None and _leave_at_once:  # the program itself, not a caller in Python
        leave(code)
    return code


#: set by ``hexe run`` and the requests to a session: nothing of theirs needs
#: the interpreter's teardown
_leave_at_once = False


def leave(code: int) -> NoReturn:
    """Exit with ``code`` without the interpreter's teardown, which frees every
    object of every module one by one (10-20 ms of a ``hexe run``, after the
    command has ended). What an exit must still do is done: the ``atexit``
    functions run (a third-party plugin's included) and the standard streams
    are flushed; hexe's log writes each line through. A reader gone away
    while the last output is flushed exits 141, as in :func:`main`."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            code = 141
        except (OSError, ValueError):
            pass
    os._exit(code)


#: Commands that only talk to a running session's server.
SESSION_COMMANDS = (
    "ls", "kill", "kill-session", "kill-server", "detach", "list-panes", "capture-pane",
    "show-buffer", "save-buffer", "switch-client", "switchc",
)  # fmt: skip


#: The word that ends one command of a chain (``hexe a \; b``), and how a
#: command says it as text (hexe/cli/chain.py).
CHAIN, LITERAL_CHAIN = ";", "\\;"

#: commands beyond the requests that hexe.cli.quick reads: short-lived
#: (attach) or the start of a server, which keeps what this process imported
_QUICK = ("attach", "mux", "new-session", "new")

#: hexe's own options that take a value (``--config PATH``): the word after
#: one is its value, not the command.
_VALUED = tuple(quick.GLOBAL_OPTIONS)


def _command_word(words: Sequence[str]) -> str | None:
    """The subcommand's word: the first that is neither an option nor an option's value."""
    at = _command_index(words)
    return words[at] if at < len(words) else None


def _command_index(words: Sequence[str]) -> int:
    """Where :func:`_command_word` is among ``words`` (the words before it are
    hexe's own options); ``len(words)`` when there is none."""
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
        elif word in _VALUED:
            skip = True
        elif not word.startswith("-"):
            return i
    return len(words)


def _main(argv: Sequence[str] | None = None) -> int:
    global _leave_at_once
    # An ignored SIGCHLD (inherited from a careless parent) makes the kernel
    # reap children itself: hexe could no longer wait for its sandboxes.
    _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
    words = list(sys.argv[1:] if argv is None else argv)
    command = _command_word(words)
    if CHAIN in words or LITERAL_CHAIN in words:
        from hexe.cli import chain

        if chain.chains(command):
            # tmux's command sequence: hexe new-tab \; split-right \; send-keys make Enter
            parts = chain.parts(words)
            if len(parts) > 1:
                _leave_at_once = True
                return chain.run(parts)
            words = argv = parts[0]
    # a request to a running session builds the parser without what only
    # hexe run's help shows (the profiles: hexe.isolation is a third of the import time)
    lean = command in SESSION_COMMANDS or command in ACTIONS or command in ALIASES
    helps = "-h" in words or "--help" in words
    if lean or command == "run":
        # short-lived, and what it loads makes no garbage cycles worth finding:
        # the cyclic collector would walk the import-time objects ~20 times (1-2 ms)
        gc.disable()
    args: Any = None
    if lean or command in _QUICK:
        args = quick.parse(words)  # None: a form argparse reads, below
    elif command == "run" and not helps:
        args = _quick_run(words)
    if args is None:
        # only the command's own subparser is built (argparse takes ~20 ms for all
        # of them); every one, for the list, when there is no command or no such one
        from hexe.cli.parser import build_parser, unknown_arguments

        parser = build_parser(lean=lean, only=command, helps=helps)
        args, unknown = parser.parse_known_args(words)
        if unknown:
            unknown_arguments(parser, args.cmd, unknown)
        if args.cmd is None:
            parser.print_help()
            return 0
    level = os.environ.get("HEXE_LOG_LEVEL")
    if level and level.lower() not in hexe_log.LEVELS:
        print(
            f"hexe: warning: HEXE_LOG_LEVEL={level} is not a level; "
            f"levels: {', '.join(hexe_log.LEVELS)}; using info",
            file=sys.stderr,
        )
    if args.cmd in ("new-session", "new") and os.environ.get("HEXE_SESSION"):
        # from inside a pane: this session's server starts it (and may refuse)
        args.action, args.action_arg0, args.print = "new-session", args.new_name, True
        args.session = None
    if args.cmd in SESSION_COMMANDS or hasattr(args, "action"):
        # a request to a running session: no plugins and no log to load here
        # (they cost most of such a command's time; the server has both)
        _leave_at_once = True
        return _session_command(args)
    hexe_log.configure(args.log_level, args.log_file)
    if args.cmd == "attach":
        # the session's server has its plugins: attaching loads none (~15 ms)
        from hexe.cli.mux import mux_command

        return mux_command(
            args.session, None, config_path=args.config, create=False,
            log_level=args.log_level, log_file=args.log_file,
            detach_others=args.detach_others,
        )  # fmt: skip
    pm = _plugin_manager(args)
    if pm is None:
        return EXIT_SETUP_FAILED
    if args.cmd == "run":
        from hexe.run import run_command

        command = list(args.command)
        if command[:1] == ["--"]:
            command = command[1:]
        flags = {"profile": args.profile, **quick.flag_values(args)}
        _leave_at_once = True
        return run_command(command, flags, pm, config_path=args.config, pane_name=args.pane)
    if args.cmd == "doctor":
        from hexe import doctor

        checks = doctor.run_checks(pm)
        if args.json:
            import json

            print(json.dumps(doctor.to_json(checks), indent=2))
        else:
            print(doctor.render(checks))
        return 0 if doctor.all_profiles_work(checks) else 1
    if args.cmd == "mux":
        from hexe.cli.mux import mux_command

        return mux_command(
            args.session,
            pm,
            config_path=args.config,
            create=True,
            log_level=args.log_level,
            log_file=args.log_file,
            detach_others=args.detach_others,
        )
    if args.cmd in ("new-session", "new"):
        from hexe.cli.mux import mux_command, new_session_command

        if not args.detached:
            return mux_command(
                args.new_name or "main", pm, config_path=args.config, create=True,
                log_level=args.log_level, log_file=args.log_file,
            )  # fmt: skip
        return new_session_command(
            args.new_name, pm, config_path=args.config, log_level=args.log_level,
            log_file=args.log_file,
        )  # fmt: skip
    if args.cmd == "config":
        if args.config_cmd != "check":
            parser.parse_args(["config", "--help"])
        from hexe.config.check import check_command

        return check_command(args.path or args.config, pm, as_json=args.json)
    if args.cmd == "plugins":
        from hexe.plugin.manager import describe

        for info in describe(pm):
            origin = "built-in" if info.builtin else "third-party"
            dist = f"{info.distribution} {info.version}".strip() or "registered directly"
            print(f"{info.name}  ({info.module}; {dist}; {origin})")
            for hook in info.hooks:
                print(f"    {hook}")
        return 0
    parser.error(f"unknown command {args.cmd}")


def _quick_run(words: list[str]) -> Args | None:
    """``hexe run``'s plain forms read without argparse (~7 ms of a run: its
    import and the parser), with the options the plugins declare; None for
    the forms argparse reads, and when a plugin cannot be loaded (argparse's
    path reports it as before)."""
    from hexe.plugin.settings import default_settings

    try:
        registry = default_settings()
    except HexeError:
        return None
    return quick.parse_run(words, registry)


def _plugin_manager(args: Namespace) -> Any:
    """The plugins, loaded (``--disable-plugin`` and ``HEXE_DISABLE_PLUGINS``
    heeded); None, the reason reported, when they cannot be."""
    from hexe.plugin.manager import disabled_from_env, make_plugin_manager
    from hexe.plugin.settings import default_plugin_manager

    try:
        pm = default_plugin_manager()  # hexe run's options were read from it
        if pm is None or args.disable_plugin or disabled_from_env(os.environ):
            pm = make_plugin_manager(args.disable_plugin)
    except HexeError as exc:
        from hexe.errors import report

        report(exc)
        return None
    for name in getattr(pm, "unknown_disabled", ()):
        print(f"hexe: warning: no plugin named {name} to disable", file=sys.stderr)
    return pm


def _session_command(args: Namespace | Args) -> int:
    from hexe import sessions
    from hexe.errors import report

    environ = dict(os.environ)
    try:
        if args.cmd == "ls":
            return sessions.ls_command(environ, args.json)
        if args.cmd in ("kill", "kill-session"):
            return sessions.kill_command(args.session or args.session_opt, args.all, environ)
        if args.cmd == "kill-server":
            return sessions.kill_command(None, True, environ)
        if args.cmd == "detach":
            sessions.action_command(
                "detach",
                ["all"] if args.all else [],
                session=args.session,
                pane=None,
                environ=environ,
            )
            return 0
        if args.cmd in ("show-buffer", "save-buffer"):
            text = sessions.action_command(
                "show-buffer", [], session=args.session, pane=None, environ=environ
            )
            if args.cmd == "show-buffer" or args.path == "-":
                sys.stdout.write(text)
            else:
                with open(args.path, "w", encoding="utf-8") as f:
                    f.write(text)
            return 0
        if args.cmd == "capture-pane":
            options = {"start": args.S, "end": args.E, "escapes": args.e, "join": args.J}
            text = sessions.action_command(
                "capture-pane", [options], session=args.session, pane=args.pane, environ=environ
            )
            sys.stdout.write(text)
            return 0
        if args.cmd in ("switch-client", "switchc"):
            sessions.action_command(
                "switch-client", [args.target], session=args.session, pane=None, environ=environ
            )
            return 0
        if args.cmd == "list-panes":
            panes = sessions.action_command(
                "list-panes", [], session=args.session, pane=None, environ=environ
            )
            if args.json:
                import json  # --json only: json imports re (~8 ms a request)

                print(json.dumps(panes, indent=2))
            else:
                print(sessions.format_panes(panes))
            return 0
        if args.cmd == "new-float":
            values = _new_float_args(args)
        else:
            values = []
            for i in range(len(ACTIONS[args.action].args)):
                value = getattr(args, f"action_arg{i}", None)
                if value is not None:
                    values += value if isinstance(value, list) else [value]
            if getattr(args, "action_flag", None) is not None:
                values = [args.action_flag, *values]  # hexe swap-pane -U: swap-pane "-U"
        result = sessions.action_command(
            args.action,
            values,
            session=args.session,
            pane=getattr(args, "pane", None),
            environ=environ,
        )
        if getattr(args, "print", False) and result is not None:
            print(result)
        return 0
    except HexeError as exc:
        report(exc)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
