"""A request's command line (and ``hexe attach``'s, ``hexe mux``'s and
``hexe new-session``'s) read without argparse.

``argparse`` imports ``re``, ``gettext`` and ``locale`` and builds a parser:
~10 ms of a call like ``hexe send-keys -t 3 make Enter`` or ``hexe
list-panes``, which scripts and status lines make in loops. Those calls are
read here instead, for the plain forms they come in: hexe's own options,
then the command, then its options, exactly as ``--help`` spells them
(``--log-level warning``, ``-t 3``, ``--json``), each value a word of its
own, then its arguments. Anything else (``-h``, ``--pane=3``, ``-t3``, an
abbreviation, ``--``, an option between two arguments, a value argparse
would refuse, a missing argument) is :func:`parse`'s None, and argparse
reads the whole line as before, with its messages. What :func:`parse`
returns has the attributes argparse's namespace would have, with the same
values: tests/unit/test_cli_quick.py compares the two on generated command
lines.
"""

from __future__ import annotations

import os

from hexe.commands.registry import ACTIONS, ALIASES
from hexe.log import LEVELS

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    #: an option: (its attribute, how its value is read; or (attribute, None,
    #: constant) for one without a value)
    Option = tuple[str, Callable[[str], Any] | None, object]
    #: an argument: (its attribute, argparse's nargs: None, "?" or "+", its type)
    Argument = tuple[str, str | None, Callable[[str], Any]]


class Args:
    """The attributes argparse's ``Namespace`` would hold."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Args({self.__dict__!r})"


_SESSION: dict[str, Option] = {
    "-s": ("session", str, None), "--session": ("session", str, None),
}  # fmt: skip
_PANE: dict[str, Option] = {"-t": ("pane", int, None), "--pane": ("pane", int, None)}
_JSON: dict[str, Option] = {"--json": ("json", None, True)}
_ALL: dict[str, Option] = {"--all": ("all", None, True)}

#: the commands that are not actions of the vocabulary (hexe/cli/parser.py
#: builds their parsers): options, arguments, required options
_COMMANDS: dict[str, tuple[dict[str, Option], tuple[Argument, ...], tuple[str, ...]]] = {
    "ls": (_JSON, (), ()),
    "kill": ({"-s": ("session_opt", str, None), **_ALL}, (("session", "?", str),), ()),
    "kill-server": ({}, (), ()),
    "detach": ({**_SESSION, **_ALL}, (), ()),
    "list-panes": ({**_SESSION, **_JSON}, (), ()),
    "show-buffer": (_SESSION, (), ()),
    "save-buffer": (_SESSION, (("path", None, str),), ()),
    "capture-pane": (
        {
            **_SESSION, **_PANE, "-p": ("p", None, True), "-e": ("e", None, True),
            "-J": ("J", None, True), "-S": ("S", str, None), "-E": ("E", str, None),
        },
        (),
        (),
    ),  # fmt: skip
    "switch-client": ({**_SESSION, "-t": ("target", str, None)}, (), ("target",)),
    # not a request, but as short-lived to read: hexe attach [NAME] [-d]
    "attach": ({"-d": ("detach_others", None, True)}, (("session", "?", str),), ()),
    # a session's start: the process that becomes its server keeps what it
    # imported (argparse with gettext and locale: ~0.5 MiB of every server)
    "mux": ({**_SESSION, "-d": ("detach_others", None, True)}, (), ()),
    "new-session": ({"-s": ("new_name", str, None), "-d": ("detached", None, True)}, (), ()),
}
_COMMANDS["kill-session"] = _COMMANDS["kill"]
_COMMANDS["switchc"] = _COMMANDS["switch-client"]
_COMMANDS["new"] = _COMMANDS["new-session"]
#: argparse's defaults that are not None
_DEFAULTS: dict[str, dict[str, Any]] = {"mux": {"session": "main"}}


def _grammar(
    command: str,
) -> tuple[dict[str, Option], tuple[Argument, ...], tuple[str, ...], dict[str, Any]] | None:
    """The command's options, arguments, required options and the attributes
    argparse sets for it before reading any word; None for none of ours."""
    if command in _COMMANDS:
        options, arguments, required = _COMMANDS[command]
        extra: dict[str, Any] = dict(_DEFAULTS.get(command, {}))
    else:
        action = ACTIONS.get(ALIASES.get(command, command))
        if action is None or not action.cli:
            return None
        options = dict(_SESSION)
        if action.targets_pane:
            options.update(_PANE)
        if action.opens_pane:
            options["-P"] = options["--print"] = ("print", None, True)
        for flag in action.flags:
            options[flag] = ("action_flag", None, flag)
        arguments = tuple(
            (f"action_arg{i}", "?" if name[-1:] == "?" else "+" if name[-1:] == "*" else None, kind)
            for i, (name, kind) in enumerate(action.args)
        )
        required = ()
        extra = {"action": action.name}
    defaults: dict[str, Any] = {}
    for dest, read, _constant in options.values():
        defaults[dest] = False if read is None and _constant is True else None
    for dest, _nargs, _kind in arguments:
        defaults[dest] = None
    defaults.update(extra)
    return options, arguments, required, defaults


def _plain(word: str) -> bool:
    """A word argparse reads as an argument, never as an option: it does not
    start with '-', or is '-', or a negative number (``-S -10``)."""
    if not word.startswith("-") or word == "-":
        return True
    digits = word[1:]
    return digits.isascii() and digits.isdigit()


def _fit(nargs: Sequence[str | None], count: int) -> list[int] | None:
    """How many of ``count`` words each argument takes, as argparse's pattern
    (each argument's count as large as the ones after it allow); None when
    they cannot take exactly ``count``."""
    if not nargs:
        return [] if count == 0 else None
    first = nargs[0]
    tries = [1] if first is None else [1, 0] if first == "?" else range(count, 0, -1)
    for take in tries:
        if take <= count:
            rest = _fit(nargs[1:], count - take)
            if rest is not None:
                return [take, *rest]
    return None


def _level(word: str) -> str:
    if word not in LEVELS:  # argparse's choices: it says which
        raise ValueError(word)
    return word


#: hexe's own options, before the command (hexe/cli/parser.py)
GLOBAL_OPTIONS: dict[str, Option] = {
    "--log-level": ("log_level", _level, None),
    "--log-file": ("log_file", str, None),
    "--config": ("config", str, None),
    "--disable-plugin": ("disable_plugin", str, None),  # repeatable: a list
}


def _globals(words: Sequence[str], values: dict[str, Any]) -> int | None:
    """hexe's own options at the start of ``words`` read into ``values``:
    where the command's word is; None for a form left to argparse."""
    level = os.environ.get("HEXE_LOG_LEVEL", "info").lower()
    values.update(
        log_level=level if level in LEVELS else "info",
        log_file=None,
        config=None,
        disable_plugin=[],
    )
    i = 0
    while i + 1 < len(words) and words[i] in GLOBAL_OPTIONS:
        dest, read, _constant = GLOBAL_OPTIONS[words[i]]
        if not _plain(words[i + 1]):
            return None
        try:
            value = read(words[i + 1])  # type: ignore[misc]
        except ValueError:
            return None
        if dest == "disable_plugin":
            values[dest] = [*values[dest], value]
        else:
            values[dest] = value
        i += 2
    return i if i < len(words) else None


def parse(words: Sequence[str]) -> Args | None:
    """``words`` read as argparse would; None for a form left to argparse."""
    values: dict[str, Any] = {}
    i = _globals(words, values)
    if i is None:
        return None
    command = words[i]
    grammar = _grammar(command)
    if grammar is None:
        return None
    options, arguments, required, defaults = grammar
    values["cmd"] = command
    values.update(defaults)
    plain: list[str] = []
    given: set[str] = set()
    i, ended = i + 1, False  # ended: an option came after arguments
    while i < len(words):
        word = words[i]
        if word in options:
            dest, read, constant = options[word]
            if read is None:
                values[dest] = constant
            else:
                if i + 1 >= len(words) or not _plain(words[i + 1]):
                    return None
                try:
                    values[dest] = read(words[i + 1])
                except Exception:  # argparse says what is wrong with it
                    return None
                i += 1
            given.add(dest)
            ended = bool(plain)
        elif _plain(word) and not ended:
            plain.append(word)
        else:
            return None
        i += 1
    if any(dest not in given for dest in required):
        return None
    counts = _fit([nargs for _dest, nargs, _kind in arguments], len(plain))
    if counts is None:
        return None
    at = 0
    for (dest, nargs, kind), count in zip(arguments, counts, strict=True):
        taken = plain[at : at + count]
        at += count
        try:
            if nargs == "+":
                values[dest] = [kind(word) for word in taken]
            elif taken:
                values[dest] = kind(taken[0])
        except Exception:  # argparse says what is wrong with it
            return None
    return Args(values)


#: where ``hexe run`` keeps a setting's flag value (``setting:memory``), in
#: argparse's namespace (hexe/cli/parser.py) and in :func:`parse_run`'s
FLAG_DEST = "setting:"


def flag_values(args: Any) -> dict[str, object]:
    """The settings ``hexe run``'s options gave: {setting: value}."""
    return {
        key[len(FLAG_DEST) :]: value
        for key, value in vars(args).items()
        if key.startswith(FLAG_DEST)
    }


def parse_run(words: Sequence[str], registry: Any) -> Args | None:
    """``hexe run``'s command line read as argparse would, its options those
    of ``registry`` (a :class:`hexe.plugin.settings.Settings`): hexe's own
    options, ``run``, its options as ``--help`` spells them (each value a word
    of its own), then the command (``--`` first, or not), all of whose words
    are the command's. None for anything else (``--profile=full``, an
    abbreviation, ``-h``, an option whose value looks like one), which
    argparse reads with its messages."""
    values: dict[str, Any] = {}
    i = _globals(words, values)
    if i is None or words[i] != "run":
        return None
    options: dict[str, Option] = {
        "--profile": ("profile", str, None),
        "--pane": ("pane", str, None),
    }
    for name in registry:
        flag = registry[name].flag
        if flag is not None:
            dest = FLAG_DEST + name
            if flag.switch:
                options[flag.name] = (dest, None, True)
            else:  # repeat: read as a list below
                options[flag.name] = (dest, str, "repeat" if flag.repeat else None)
    values["cmd"] = "run"
    for dest, _read, _constant in options.values():
        values[dest] = None
    i += 1
    while i < len(words) and words[i] in options:
        dest, read, constant = options[words[i]]
        if read is None:
            values[dest] = constant
        else:
            if i + 1 >= len(words) or not _plain(words[i + 1]):
                return None
            if constant == "repeat":
                values[dest] = [*(values[dest] or ()), words[i + 1]]
            else:
                values[dest] = words[i + 1]
            i += 1
        i += 1
    if i < len(words) and not (_plain(words[i]) or words[i] == "--"):
        return None  # an option argparse knows (-h) or refuses
    values["command"] = list(words[i:])  # argparse.REMAINDER: "--" kept
    return Args(values)
