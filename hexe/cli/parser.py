"""hexe's command line as argparse reads it: every command, its options and help.

A request to a running session in its plain forms is read by
:mod:`hexe.cli.quick` instead (argparse and what it imports cost such a call
~10 ms); everything else, and every error's message, is argparse's, here.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from hexe import __version__
from hexe import log as hexe_log
from hexe.cli.quick import FLAG_DEST
from hexe.commands.registry import ACTIONS, ALIASES
from hexe.errors import EXIT_SETUP_FAILED, did_you_mean

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


def _session_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--session",
        metavar="NAME",
        help="the session (default: this pane's, $HEXE_SESSION, else the only one, else main)",
    )


def unknown_arguments(parser: Parser, cmd: str | None, unknown: list[str]) -> NoReturn:
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
