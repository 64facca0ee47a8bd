"""The one command-line front: ``hexe <command>``.

Parses arguments, configures logging, builds the plugin manager and hands
over to the module that does the work. No logic of its own beyond that.
"""

from __future__ import annotations

import _signal  # the C module: signal's enums cost a command ~1 ms to build
import argparse
import gc
import json
import os
import re
import shlex
import sys
from collections.abc import Sequence

from hexe import __version__
from hexe import log as hexe_log
from hexe.commands.registry import ACTIONS, ALIASES
from hexe.errors import EXIT_SETUP_FAILED, HexeError, did_you_mean

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from typing import Any, NoReturn


class Formatter(argparse.HelpFormatter):
    """argparse's help formatter, told the width it would ask shutil for:
    shutil's import (bz2, lzma, zlib) cost every call ~2 ms, and argparse
    makes a formatter for each argument it is given."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = help_width() if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit with ``error_exit`` (125 for ``run``)."""

    def __init__(self, *args: Any, error_exit: int = 2, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self.error_exit = error_exit

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        bad = re.match(r"argument COMMAND: invalid choice: '([^']*)'", message)
        if bad:
            choices = [c for a in self._actions for c in (getattr(a, "choices", None) or ())]
            hint = did_you_mean(bad.group(1), choices)
            message = f"{bad.group(1)!r} is not a command; {hint}see hexe --help"
        self.exit(self.error_exit, f"hexe: {message}\n")


def help_width() -> int:
    """The width argparse's help is wrapped at: ``shutil.get_terminal_size()``'s
    columns (``COLUMNS``, else the terminal of stdout, else 80), less 2."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class _Skipped:
    """A subcommand's parser not built: every call on it is taken and ignored."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


class _OnlyOne:
    """The subparsers with only the command asked for built (argparse takes
    about 10 ms to build all of them, a fifth of a session request's time)."""

    def __init__(self, sub: Any, keep: str) -> None:
        self.sub, self.keep = sub, keep
        self.found = False  # no such command: the whole parser is built, to say so

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name == self.keep or self.keep in kwargs.get("aliases", ()):
            self.found = True
            return self.sub.add_parser(name, **kwargs)
        return _Skipped()


#: where ``hexe run`` keeps a setting's flag value (``setting:memory``)
FLAG_DEST = "setting:"


def _add_flag(run: Any, setting: Any, flag: Any) -> None:
    """One ``hexe run`` option from a setting's :class:`hexe.plugin.settings.Flag`."""
    text = flag.help.replace("{forms}", setting.forms or "-")
    text = text.replace("{env}", ", ".join(setting.env) or "-")
    dest = FLAG_DEST + setting.name
    if flag.switch:
        run.add_argument(flag.name, dest=dest, action="store_const", const=True, help=text)
    elif flag.repeat:
        run.add_argument(flag.name, dest=dest, metavar=flag.metavar, action="append", help=text)
    else:
        run.add_argument(flag.name, dest=dest, metavar=flag.metavar, help=text)


def _flag_values(args: argparse.Namespace) -> dict[str, object]:
    """The settings ``hexe run``'s options gave: {setting: value}."""
    return {
        key[len(FLAG_DEST) :]: value
        for key, value in vars(args).items()
        if key.startswith(FLAG_DEST)
    }


def build_parser(lean: bool = False, only: str | None = None, helps: bool = True) -> Parser:
    """The whole command line; ``lean`` for a request to a running session (no
    profile list), with only the subcommand ``only`` built when given;
    ``helps`` False when no help is shown (the profile list and the limits'
    forms come from the plugins, loaded only for ``--help``)."""
    parser = Parser(
        prog="hexe",
        description="A terminal multiplexer whose panes can be sandboxes.",
        epilog="Each command has --help. Docs: docs/isolation.md",
    )
    parser.add_argument("--version", action="version", version=f"hexe {__version__}")
    env_level = os.environ.get("HEXE_LOG_LEVEL", "info").lower()
    parser.add_argument(
        "--log-level",
        choices=hexe_log.LEVELS,
        default=env_level if env_level in hexe_log.LEVELS else "info",
        help="lowest level written to the log (default: info)",
    )
    parser.add_argument(
        "--log-file",
        metavar="PATH",
        help="log file, or - for stderr (default: $XDG_STATE_HOME/hexe/hexe.log)",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="init.lua to use (also HEXE_CONFIG; default: $XDG_CONFIG_HOME/hexe/init.lua)",
    )
    parser.add_argument(
        "--disable-plugin",
        metavar="NAME",
        action="append",
        default=[],
        help="do not load plugin NAME (repeatable; also HEXE_DISABLE_PLUGINS=a,b)",
    )
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=Parser)
    if only is not None:
        sub = _OnlyOne(sub, only)

    mux = sub.add_parser(
        "mux",
        help="start a session, or attach to it, in this terminal",
        description=(
            "Attach this terminal to session NAME, starting its server in the background "
            "when it does not exist yet. The server spawns the layout of init.lua, each pane "
            "with its own isolation; panes keep running when the terminal goes away."
        ),
    )
    mux.add_argument(
        "-s", "--session", metavar="NAME", default="main", help="the session (default: main)"
    )
    mux.add_argument(
        "-d", dest="detach_others", action="store_true", help="detach the session's other clients"
    )
    attach = sub.add_parser(
        "attach",
        help="attach this terminal to a running session",
        description=(
            "Attach to session NAME, which must be running (see hexe mux); without NAME, "
            "the most recently used session."
        ),
    )
    attach.add_argument(
        "session", nargs="?", metavar="NAME", help="the session (default: the last used one)"
    )
    attach.add_argument(
        "-d", dest="detach_others", action="store_true", help="detach the session's other clients"
    )
    ls = sub.add_parser(
        "ls",
        help="list the running sessions",
        description=(
            "List running sessions: name, tabs, panes, attached clients, when it was created "
            "and the server's pid. Exit 1 when there is none. Sockets of dead servers are removed."
        ),
    )
    ls.add_argument("--json", action="store_true", help="print JSON for scripts")
    kill = sub.add_parser(
        "kill",
        aliases=["kill-session"],
        help="end a session: every pane's process tree and cgroup",
        description=(
            "End session NAME (default: this pane's session, else the only one running, else "
            "main): every pane's process tree ends, its cgroups and its socket are removed. "
            "Returns once the server is gone."
        ),
    )
    kill.add_argument("session", nargs="?", metavar="NAME", help="the session")
    kill.add_argument("-s", dest="session_opt", metavar="NAME", help=argparse.SUPPRESS)
    kill.add_argument("--all", action="store_true", help="every running session")
    sub.add_parser(
        "kill-server",
        help="end every running session (hexe kill --all)",
        description=(
            "End every running session, as tmux's kill-server does (hexe runs one server per "
            "session): the same as hexe kill --all. Exit 1 when none is running."
        ),
    )
    detach = sub.add_parser(
        "detach",
        help="detach a client from a session",
        description=(
            "Detach the session's most recently active client (the one you typed in last), "
            "or every client with --all. The panes keep running."
        ),
    )
    _session_option(detach)
    detach.add_argument("--all", action="store_true", help="detach every client")
    panes = sub.add_parser(
        "list-panes",
        help="the session's panes: pid, cwd, command, isolation",
        description=(
            "Print the session's panes: id, tab, state, pid (the command, not the sandbox's "
            "PID 1), isolation, the working directory and command of the program in the "
            "foreground. --json prints everything, including namespaces, limits and cgroup."
        ),
    )
    _session_option(panes)
    panes.add_argument("--json", action="store_true", help="print JSON for scripts")
    show = sub.add_parser(
        "show-buffer",
        help="print the paste buffer (what was copied last)",
        description="Print the paste buffer. Refused from inside a sandboxed pane.",
    )
    _session_option(show)
    save = sub.add_parser(
        "save-buffer",
        help="write the paste buffer to a file (- for standard output)",
        description="Write the paste buffer to PATH (relative to this directory), or to "
        "standard output with -. Refused from inside a sandboxed pane.",
    )
    _session_option(save)
    save.add_argument("path", metavar="PATH")
    capture = sub.add_parser(
        "capture-pane",
        help="print a pane's screen or scrollback as text (tmux's capture-pane -p)",
        description=(
            "Print the text of a pane: the visible screen, or lines START..END where 0 is "
            "the top of the screen, negative numbers reach back into the scrollback and - "
            "means its start (for -S) or the screen's end (for -E). A sandboxed pane may "
            "capture only itself."
        ),
    )
    _session_option(capture)
    capture.add_argument(
        "-t", "--pane", metavar="ID", type=int, help="the pane (default: this one, else focused)"
    )
    capture.add_argument("-p", action="store_true", help="print (the default; for tmux's habit)")
    capture.add_argument("-e", action="store_true", help="with colours and attributes (SGR)")
    capture.add_argument("-J", action="store_true", help="join wrapped lines")
    capture.add_argument("-S", metavar="START", help="first line (default 0)")
    capture.add_argument("-E", metavar="END", help="last line (default the screen's last)")
    _new_float_parser(sub)

    _sessions_parsers(sub)

    # run's options beyond --profile are the plugins' (each setting's Flag):
    # their registry is loaded for hexe run itself and for help
    registry = None
    if not lean and only in (None, "run") and (helps or only == "run"):
        from hexe.errors import HexeError
        from hexe.plugin.settings import Settings, default_settings

        try:
            registry = default_settings()
        except HexeError:  # a plugin that fails to load: said when the command loads them
            registry = Settings()
    if registry is None or not helps:
        profiles = "see hexe run --help"
    else:
        profiles = ", ".join(registry.profiles) or "see hexe plugins"
    run = sub.add_parser(
        "run",
        help="run a command isolated, in the foreground",
        description=(
            "Run CMD in the foreground of this terminal, isolated by a profile and "
            "limited by cgroups. Settings: built-in defaults < init.lua defaults < HEXE_* "
            "environment < the pane's isolation (with --pane) < flags. "
            "Exit status: the command's own; 128+N for signal N; 125 when hexe or the "
            "isolation failed before exec; 126 not executable; 127 not found."
        ),
        error_exit=EXIT_SETUP_FAILED,
    )
    run.add_argument(
        "--profile", metavar="P", help=f"isolation profile: {profiles} (env HEXE_VOIDBOX_PROFILE)"
    )
    for name in registry or ():
        flag = registry[name].flag  # type: ignore[index]
        if flag is not None:
            _add_flag(run, registry[name], flag)  # type: ignore[index]
    run.add_argument(
        "--pane",
        metavar="NAME",
        help="run the pane NAME of init.lua's layout (its command, cwd, env and isolation); "
        "a CMD given too replaces the pane's command",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, metavar="[--] CMD [ARGS...]")

    doctor = sub.add_parser(
        "doctor",
        help="what this machine supports, tried for real",
        description=(
            "Try every namespace, cgroup controller and profile for real and report "
            "what works. Exit status 0 when every profile works, 1 otherwise."
        ),
    )
    doctor.add_argument("--json", action="store_true", help="print JSON for scripts")

    config = sub.add_parser(
        "config",
        help="check init.lua",
        description="Commands about the configuration (init.lua).",
    )
    config_sub = config.add_subparsers(dest="config_cmd", metavar="SUBCOMMAND", parser_class=Parser)
    check = config_sub.add_parser(
        "check",
        help="print every pane's effective settings, or every error",
        description=(
            "Load init.lua (PATH, else --config, HEXE_CONFIG or $XDG_CONFIG_HOME/hexe/init.lua) "
            "and print the effective settings of every pane with the layer each came from "
            "(built-in < init.lua < HEXE_* environment < pane). Exit 0, or print every error "
            "and exit 1."
        ),
    )
    check.add_argument("path", nargs="?", metavar="PATH", help="the init.lua to check")
    check.add_argument("--json", action="store_true", help="print JSON for scripts")

    sub.add_parser(
        "plugins",
        help="list loaded plugins and the hooks each implements",
        description="List loaded plugins (built-in and third-party) and their hooks.",
    )
    # every action of the vocabulary is a command too: hexe split-right -t 3
    for action in ACTIONS.values():
        if not action.cli:
            continue
        aliases = [a for a, target in ALIASES.items() if target == action.name]
        cmd = sub.add_parser(
            action.name,
            aliases=aliases,
            help=action.description,
            description=f"{action.description[0].upper()}{action.description[1:]}. "
            "An action of the vocabulary shared with key bindings and init.lua "
            "(docs/cli.md).",
        )
        _session_option(cmd)
        if action.targets_pane:
            cmd.add_argument(
                "-t",
                "--pane",
                metavar="ID",
                type=int,
                help="the pane (default: this shell's pane, $HEXE_PANE, else the focused one)",
            )
        if action.opens_pane:
            cmd.add_argument("-P", "--print", action="store_true", help="print the new pane's id")
        for flag in action.flags:
            cmd.add_argument(
                flag, dest="action_flag", action="store_const", const=flag, help="see above"
            )
        for i, (arg_name, kind) in enumerate(action.args):  # one dest each: join-pane TAB DIR
            nargs = "?" if arg_name.endswith("?") else "+" if arg_name.endswith("*") else None
            cmd.add_argument(
                f"action_arg{i}", metavar=arg_name.rstrip("?*").upper(), nargs=nargs, type=kind
            )
        cmd.set_defaults(action=action.name)
    if isinstance(sub, _OnlyOne) and not sub.found:
        return build_parser(lean=lean, helps=helps)  # argparse lists the commands there are
    return parser


def _sessions_parsers(sub: Any) -> None:
    """``hexe new-session`` and ``hexe switch-client`` (tmux's words and options)."""
    new = sub.add_parser(
        "new-session",
        aliases=["new"],
        help="start a session (-d: in the background, without attaching)",
        description=(
            "Start session NAME (default: the lowest free number). With -d its server starts "
            "in the background and the command returns; without, this terminal attaches to "
            "it, as hexe mux. From inside a session's pane, the session's server starts it "
            "(in the background); refused from a sandboxed pane."
        ),
    )
    new.add_argument("-s", dest="new_name", metavar="NAME", help="the new session's name")
    new.add_argument("-d", dest="detached", action="store_true", help="do not attach")
    switch = sub.add_parser(
        "switch-client",
        aliases=["switchc"],
        help="show another session in the attached terminal",
        description=(
            "The session's attached client (the one typed in last) shows session NAME "
            "instead: it detaches and attaches there, in the same terminal."
        ),
    )
    _session_option(switch)
    switch.add_argument("-t", dest="target", metavar="NAME", required=True, help="the session")


def _new_float_parser(sub: Any) -> None:
    """``hexe new-float [--isolation PROFILE] [-P] [-- CMD...]`` (docs/cli.md)."""
    cmd = sub.add_parser(
        "new-float",
        help="open a floating pane over the tiled ones",
        description="Open a floating pane over the current tab's tiled panes: the shell, or "
        "CMD, with the isolation of the focused pane or of PROFILE. Refused from inside a "
        "sandboxed pane or a pane with limits.",
    )
    _session_option(cmd)
    cmd.add_argument("--isolation", metavar="PROFILE", help="the float's isolation profile")
    cmd.add_argument("-P", "--print", action="store_true", help="print the new pane's id")
    cmd.add_argument("float_command", nargs=argparse.REMAINDER, metavar="[--] CMD [ARGS...]")
    cmd.set_defaults(action="new-float")


def _new_float_args(args: argparse.Namespace) -> list[str]:
    words = list(args.float_command)
    if words[:1] == ["--"]:
        words = words[1:]
    if words:  # run by the shell: quoted back into one line, exactly these words
        return [args.isolation or "", shlex.join(words)]
    return [args.isolation] if args.isolation else []


def _session_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--session",
        metavar="NAME",
        help="the session (default: this pane's, $HEXE_SESSION, else the only one, else main)",
    )


def _unknown_arguments(parser: Parser, cmd: str | None, unknown: list[str]) -> NoReturn:
    """Refuse unknown options, with a did-you-mean, exiting as that command's parser does."""
    target = parser
    if cmd is not None:
        for action in parser._subparsers._group_actions if parser._subparsers else []:
            target = getattr(action, "choices", {}).get(cmd, parser)
    known = [opt for action in target._actions for opt in action.option_strings]
    first = unknown[0]
    import difflib  # only to suggest a name: not loaded by every command

    close = difflib.get_close_matches(first.split("=")[0], known, n=1)
    suggestion = f"; did you mean {close[0]}?" if close else ""
    target.error(f"unrecognized arguments: {' '.join(unknown)}{suggestion}")


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

#: hexe's own options that take a value (``--config PATH``): the word after
#: one is its value, not the command.
_VALUED = ("--log-level", "--log-file", "--config", "--disable-plugin")


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
    # only the command's own subparser is built (argparse takes ~20 ms for all
    # of them); every one, for the list, when there is no command or no such one
    parser = build_parser(lean=lean, only=command, helps=helps)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _unknown_arguments(parser, args.cmd, unknown)
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
        flags = {"profile": args.profile, **_flag_values(args)}
        _leave_at_once = True
        return run_command(command, flags, pm, config_path=args.config, pane_name=args.pane)
    if args.cmd == "doctor":
        from hexe import doctor

        checks = doctor.run_checks(pm)
        if args.json:
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


def _plugin_manager(args: argparse.Namespace) -> Any:
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


def _session_command(args: argparse.Namespace) -> int:
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
            print(json.dumps(panes, indent=2) if args.json else sessions.format_panes(panes))
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
