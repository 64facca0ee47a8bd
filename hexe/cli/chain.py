"""Command sequences on the command line: ``hexe new-session -d -s w \\; split-right``.

tmux's ``;`` between commands: every command parsed before the first runs, run
in order in this one process, the first failure ending the chain (docs/cli.md).
"""

from __future__ import annotations

import gc
import os
import sys

from hexe import log as hexe_log
from hexe.cli import (
    CHAIN,
    LITERAL_CHAIN,
    SESSION_COMMANDS,
    _command_index,
    _command_word,
    _plugin_manager,
    _session_command,
)
from hexe.commands.registry import ACTIONS, ALIASES
from hexe.errors import EXIT_SETUP_FAILED

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from argparse import Namespace
    from typing import Any

    from hexe.cli.quick import Args


def chains(command: str | None) -> bool:
    """Whether ``;`` separates commands on this command line: for requests to a
    running session and ``new-session`` (tmux's command sequences), never for
    ``hexe run`` and the rest, whose words are a command's (``find -exec ... ;``)."""
    return (
        command in SESSION_COMMANDS
        or command in ACTIONS
        or command in ALIASES
        or command in ("new-session", "new")
    )


def parts(words: list[str]) -> list[list[str]]:
    """The words split at each ``;`` word into commands, ``\\;`` made ``;``;
    hexe's own options before the first command (``--log-level``) go to every
    command; empty commands (``;`` at the end, two in a row) are dropped."""
    split: list[list[str]] = [[]]
    for word in words:
        if word == CHAIN:
            split.append([])
        else:
            split[-1].append(CHAIN if word == LITERAL_CHAIN else word)
    first = split[0]
    shared = first[: _command_index(first)]
    return [first] + [shared + part for part in split[1:] if part]


def run(commands: list[list[str]]) -> int:
    """Run a command sequence (``hexe new-session -d -s w \\; split-right \\; ls``)
    as tmux does: every command is parsed before the first runs (a typo in the
    third runs none), they run in order, and the first that fails ends the
    chain with its exit status. ``new-session -d`` may come first: the commands
    after it that name no session go to the one it started. What takes the
    terminal or runs a sandbox (``mux``, ``attach``, ``run``, ``new-session``
    without ``-d``) cannot be in a chain."""
    from hexe.cli import quick

    parsed: list[Namespace | Args] = []
    parsers: dict[tuple[str | None, bool], Any] = {}  # one a command: ~1 ms each to build
    for i, words in enumerate(commands):
        # a plain request; None: argparse reads it (and refuses what cannot chain)
        command = _command_word(words)
        args: Any = quick.parse(words) if chains(command) else None
        helps = "-h" in words or "--help" in words
        if args is None:
            parser = _parser(parsers, command, helps)
            args, unknown = parser.parse_known_args(words)  # an unknown command ends here
            if args.cmd is None:
                parser.error(f"no command in part {i + 1} of a chain of commands (';')")
            if not chains(args.cmd):
                parser.error(
                    f"{args.cmd} cannot be in a chain of commands (';'): only "
                    "requests to a running session can, and new-session -d as the first"
                )
            if unknown:
                from hexe.cli.parser import unknown_arguments

                unknown_arguments(parser, args.cmd, unknown)
        if args.cmd in ("new-session", "new") and not (args.detached and i == 0):
            _parser(parsers, command, helps).error(
                "new-session in a chain of commands (';') must be the first and have -d; "
                "attach after it with hexe attach NAME"
            )
        parsed.append(args)
    gc.disable()  # short-lived, as a single request
    from hexe.sessions import kept_connections

    with kept_connections():
        return _run_parsed(parsed)


def _parser(parsers: dict[tuple[str | None, bool], Any], command: str | None, helps: bool) -> Any:
    """argparse's parser of ``command``, built once for a chain (~1 ms each)."""
    parser = parsers.get((command, helps))
    if parser is None:
        from hexe.cli.parser import build_parser

        parser = parsers[command, helps] = build_parser(lean=True, only=command, helps=helps)
    return parser


def _run_parsed(parsed: list[Namespace | Args]) -> int:
    """The commands of a chain, parsed, run in order until one fails."""
    started: list[str] = []
    for args in parsed:
        if args.cmd in ("new-session", "new") and os.environ.get("HEXE_SESSION"):
            code = _new_session_from_inside(args.new_name, started)
        elif args.cmd in ("new-session", "new"):
            hexe_log.configure(args.log_level, args.log_file)
            pm = _plugin_manager(args)
            if pm is None:
                return EXIT_SETUP_FAILED
            from hexe.cli.mux import new_session_command

            code = new_session_command(
                args.new_name, pm, config_path=args.config, log_level=args.log_level,
                log_file=args.log_file, started=started.append,
            )  # fmt: skip
        else:
            if started and _goes_to_started(args):
                args.session = started[0]
            sys.stdout.flush()  # in order with what the next command prints
            code = _session_command(args)
        if code:
            return code
    return 0


def _new_session_from_inside(name: str | None, started: list[str]) -> int:
    """``new-session -d`` from inside a pane: this session's server starts it (and
    may refuse, from a sandbox); its name is printed and kept for the chain."""
    from hexe import sessions
    from hexe.errors import HexeError, report

    try:
        made = sessions.action_command(
            "new-session", [name] if name else [], session=None, pane=None,
            environ=dict(os.environ),
        )  # fmt: skip
    except HexeError as exc:
        report(exc)
        return 1
    print(made, flush=True)
    started.append(str(made))
    return 0


#: Commands about the terminal the user types in, not about a session's panes:
#: after ``new-session -d`` they still go to the session that terminal shows.
ABOUT_THE_CLIENT = ("switch-client", "switchc", "detach")


def _goes_to_started(args: Namespace | Args) -> bool:
    """Whether a command of a chain headed by ``new-session -d`` goes to that
    session: it is about a session, and names none (``-s``, or ``kill``'s NAME)."""
    return (
        hasattr(args, "session")
        and args.session is None
        and getattr(args, "session_opt", None) is None
        and args.cmd not in ABOUT_THE_CLIENT
    )
