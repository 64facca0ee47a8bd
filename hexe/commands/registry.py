"""The command registry: every action, declared once, as tmux's table of ``cmd-*.c`` entries.

Each entry (:class:`Action`) says its name, help text, arguments, what it
targets (a pane or the session), what a sandboxed pane may do with it, its
default key bindings and whether the command line has it as a subcommand.
Everything else is generated from this table:

- the command line: ``hexe split-right -t 3`` (``hexe/cli/__init__.py`` adds one
  subcommand per entry with ``cli=True``, ``-t`` for pane targets, ``-P``
  for entries that open a pane);
- key bindings: :data:`DEFAULT_BINDINGS` comes from each entry's ``keys``;
  ``hexe.key("prefix %", "split-right")`` in ``init.lua`` is checked by
  :func:`check_action`;
- the server: an entry ``name`` runs ``Server.do_<name>`` (or the handler
  its ``runs`` names, with fixed leading arguments); queries
  (``kind="query"``) answer without changing anything; the sandbox rule and
  the pane openers come from ``sandbox`` and ``opens_pane``;
- the help overlay (``prefix ?``): each binding with the entry's help text.

Adding an action is one entry here plus its ``do_`` handler; the test
``tests/unit/test_commands.py`` checks every entry is reachable from each place.
Key names (:func:`parse_key`) are parsed here too.
"""

from __future__ import annotations

from hexe.errors import did_you_mean

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from typing import Any


#: Action's fields, in order (its constructor's positional arguments).
_FIELDS = (
    "name", "description", "args", "targets_pane", "keys", "kind", "opens_pane", "sandbox",
    "cli", "flags", "runs",
)  # fmt: skip


class Action:
    """One action of the vocabulary: a command, a key binding and a Lua call alike.

    Immutable, compared and hashed by its fields, as a frozen dataclass would
    be; written out because every command line call imports this module, and
    ``dataclasses`` brings ``inspect``, ``ast``, ``dis`` and ``tokenize`` (~7 ms)
    to a request to a session that needs none of them.

    - ``name``, ``description``
    - ``args``: (name, type) of each argument; optional ones end with "?", and
      a last one ending with "*" takes any number (one or more)
    - ``targets_pane``: it acts on a pane (``-t PANE`` on the command line;
      default the focused one)
    - ``keys``: default key bindings: (keys as init.lua writes them, arguments)
    - ``kind``: "action" changes the session; "query" only answers (the
      command line only)
    - ``opens_pane``: it starts a pane (``-P`` prints its id; refused from a
      pane with limits)
    - ``sandbox``: from a sandboxed pane: "self" (on that pane only), "any",
      "never"; "" means "self" for pane targets, else "never"
    - ``cli``: a subcommand of its own (``hexe split-right``); False when the
      command line has a richer one (``hexe detach``, ``hexe kill``,
      ``hexe list-panes``)
    - ``flags``: tmux's option letters the command line takes for the first
      argument (``hexe swap-pane -U`` runs ``swap-pane "-U"``)
    - ``runs``: the handler it runs and the arguments put before the user's,
      when several entries share one (``resize-left`` runs
      ``do_resize("left", ...)``); empty: ``do_<name>`` with the user's arguments
    """

    __slots__ = _FIELDS
    name: str
    description: str
    args: tuple[tuple[str, type], ...]
    targets_pane: bool
    keys: tuple[tuple[str, tuple[object, ...]], ...]
    kind: str
    opens_pane: bool
    sandbox: str
    cli: bool
    flags: tuple[str, ...]
    runs: tuple[str, tuple[object, ...]] | tuple[()]

    def __init__(
        self,
        name: str,
        description: str,
        args: tuple[tuple[str, type], ...] = (),
        targets_pane: bool = False,
        keys: tuple[tuple[str, tuple[object, ...]], ...] = (),
        kind: str = "action",
        opens_pane: bool = False,
        sandbox: str = "",
        cli: bool = True,
        flags: tuple[str, ...] = (),
        runs: tuple[str, tuple[object, ...]] | tuple[()] = (),
    ) -> None:
        values = (name, description, args, targets_pane, keys, kind, opens_pane, sandbox, cli,
                  flags, runs)  # fmt: skip
        for field, value in zip(_FIELDS, values, strict=True):
            object.__setattr__(self, field, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, field) for field in _FIELDS)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={getattr(self, field)!r}" for field in _FIELDS)
        return f"Action({fields})"

    def __reduce__(self) -> tuple[type[Action], tuple[object, ...]]:
        # copy, deepcopy and pickle go through the constructor (the slots
        # cannot be set back one by one: assignment is refused)
        return (Action, self._values())

    @property
    def handler(self) -> str:
        """The server method this entry runs (``do_resize``)."""
        return "do_" + (self.runs[0] if self.runs else self.name).replace("-", "_")

    @property
    def fixed(self) -> tuple[object, ...]:
        """Arguments the entry passes before the user's (``("left",)``)."""
        return self.runs[1] if self.runs else ()

    @property
    def from_sandbox(self) -> str:
        return self.sandbox or ("self" if self.targets_pane else "never")

    @property
    def required(self) -> int:
        return sum(1 for name, _ in self.args if not name.endswith("?"))

    @property
    def variadic(self) -> bool:
        return bool(self.args) and self.args[-1][0].endswith("*")

    def usage(self) -> str:
        """``send-keys KEY...`` — the action and its arguments, as help shows them."""
        parts = [self.name]
        for name, _ in self.args:
            if name.endswith("?"):
                parts.append(f"[{name[:-1].upper()}]")
            elif name.endswith("*"):
                parts.append(f"{name[:-1].upper()}...")
            else:
                parts.append(name.upper())
        return " ".join(parts)


def _quoted(value: object) -> str:
    """A value as Lua would write it (messages read as Lua, not Python reprs)."""
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    if isinstance(value, int | float):
        return str(value)
    return "a table" if isinstance(value, dict | list | tuple) else f"a {type(value).__name__}"


def _a(
    name: str,
    description: str,
    *args: tuple[str, type],
    pane: bool = False,
    key: str | tuple[str, ...] = (),
    **more: Any,
) -> Action:
    keys = (key,) if isinstance(key, str) else key
    bound = tuple((k, ()) for k in keys) + tuple(more.pop("bound", ()))
    return Action(name, description, tuple(args), pane, keys=bound, **more)


#: Every command, in the order help and ``--help`` list them.
COMMANDS: dict[str, Action] = {
    a.name: a
    for a in (
        _a(
            "split-right",
            "split the pane, the new one to the right",
            pane=True,
            key="prefix %",
            opens_pane=True,
        ),
        _a(
            "split-down",
            "split the pane, the new one below",
            pane=True,
            key='prefix "',
            opens_pane=True,
        ),
        _a("focus-left", "focus the pane to the left", pane=True, key="prefix Left"),
        _a("focus-right", "focus the pane to the right", pane=True, key="prefix Right"),
        _a("focus-up", "focus the pane above", pane=True, key="prefix Up"),
        _a("focus-down", "focus the pane below", pane=True, key="prefix Down"),
        _a("focus-next", "focus the next pane", key="prefix o"),
        _a("focus-prev", "focus the previous pane"),
        _a("select-pane", "focus pane ID (and show its tab)", ("id", int)),
        *(
            _a(
                f"resize-{side}",
                f"move the pane's edge {side}",
                ("cells?", int),
                pane=True,
                key=f"prefix C-{side.capitalize()}",
                runs=("resize", (side,)),
            )
            for side in ("left", "right", "up", "down")
        ),
        _a("zoom", "zoom the pane to the whole window, or back", pane=True, key="prefix z"),
        _a("close-pane", "close the pane; its process tree ends", pane=True, key="prefix x"),
        _a("new-tab", "open a new tab", key="prefix c", opens_pane=True),
        _a("next-tab", "go to the next tab", key="prefix n"),
        _a("prev-tab", "go to the previous tab", key="prefix p"),
        _a(
            "select-tab",
            "go to tab N (0-9)",
            ("n", int),
            bound=tuple((f"prefix {n}", (n,)) for n in range(10)),
        ),
        _a(
            "rename-tab",
            "rename the current tab (a prompt without NAME)",
            ("name?", str),
            key="prefix ,",
        ),
        _a(
            "send-keys",
            "type keys into the pane: key names (Enter, C-c) or text",
            ("key*", str),
            pane=True,
        ),
        _a("send-text", "type TEXT into the pane, as it is", ("text", str), pane=True),
        _a("copy-mode", "scroll back, search and copy", pane=True, key="prefix ["),
        # the buffer holds what the user copied anywhere: a sandboxed pane may
        # neither read it (paste into itself, show) nor plant text in it
        _a("paste", "paste the last copied text", pane=True, key="prefix ]", sandbox="never"),
        _a("set-buffer", "set the paste buffer to TEXT (prefix ] pastes it)", ("text", str)),
        _a(
            "detach",
            "detach from the session; panes keep running",
            key="prefix d",
            sandbox="any",
            cli=False,
        ),
        _a("help", "show the active key bindings", key="prefix ?"),
        _a("reload-config", "reload init.lua; a bad one keeps the running config", key="prefix r"),
        _a("send-prefix", "send the prefix key to the pane", pane=True),
        _a("kill-session", "end the session: every pane's process tree and cgroup", cli=False),
        _a(
            "list-panes",
            "the session's panes: pid, cwd, command, isolation",
            kind="query",
            sandbox="any",
            cli=False,
        ),
        _a(
            "session-info",
            "the session: name, panes, clients",
            kind="query",
            sandbox="any",
            cli=False,
        ),
        _a(
            "show-buffer",
            "the paste buffer's text",
            kind="query",
            sandbox="never",
            cli=False,
        ),
        _a(
            "capture-pane",
            "the pane's screen, or lines of its scrollback, as text (-e: with colours)",
            pane=True,
            kind="query",
            sandbox="self",
            cli=False,
        ),
        # -- layouts, tabs, mouse on borders and the status line --
        # (hexe/server/arrange.py; none may be run from a sandboxed pane: each
        # moves or resizes panes other than the caller, or changes what the user sees)
        _a(
            "select-layout",
            "arrange the tab's panes: even-horizontal, even-vertical, main-horizontal, "
            "main-vertical, tiled (-E: spread, -n/-p: next/previous)",
            ("layout?", str),
            pane=True,
            bound=tuple(
                (f"prefix M-{n}", (name,))
                for n, name in enumerate(
                    (
                        "even-horizontal",
                        "even-vertical",
                        "main-horizontal",
                        "main-vertical",
                        "tiled",
                    ),
                    start=1,
                )
            ),
            flags=("-E", "-n", "-p"),
            sandbox="never",
        ),
        _a(
            "next-layout",
            "the next preset layout",
            pane=True,
            key="prefix Space",
            sandbox="never",
        ),
        _a("previous-layout", "the previous preset layout", pane=True, sandbox="never"),
        _a(
            "spread",
            "give the panes beside this one equal sizes (select-layout -E)",
            pane=True,
            key="prefix E",
            sandbox="never",
        ),
        _a(
            "swap-pane",
            "swap the pane with the previous (-U) or next (-D) one, or pane WITH",
            ("with?", str),
            pane=True,
            bound=(("prefix {", ("-U",)), ("prefix }", ("-D",))),
            flags=("-U", "-D"),
            sandbox="never",
        ),
        _a(
            "rotate",
            "move every pane of the tab one place up (-U) or down (-D) (rotate-window)",
            ("direction?", str),
            pane=True,
            bound=(("prefix C-o", ()), ("prefix M-o", ("-D",))),
            flags=("-U", "-D"),
            sandbox="never",
        ),
        _a(
            "break-pane",
            "move the pane to a tab of its own",
            ("name?", str),
            pane=True,
            key="prefix !",
            sandbox="never",
        ),
        _a(
            "join-pane",
            "move the pane into tab TAB, beside (right) or below (down) its focused pane",
            ("tab", int),
            ("direction?", str),
            pane=True,
            sandbox="never",
        ),
        _a(
            "move-tab",
            "move the tab to number TO (+N/-N: places right/left; a prompt without TO)",
            ("to?", str),
            key="prefix .",
            sandbox="never",
        ),
        _a(
            "swap-tab",
            "swap the tab with tab TO (+N/-N: places right/left)",
            ("to", str),
            sandbox="never",
        ),
        _a(
            "close-tab",
            "close the tab (N, else the current one) and its panes; a key asks first",
            ("n?", int),
            key="prefix &",
            sandbox="never",
        ),
        _a("last-pane", "focus the pane focused before", key="prefix ;", sandbox="never"),
        _a("last-tab", "go to the tab active before", key="prefix l", sandbox="never"),
        #
        # -- floating panes --
        # a sandboxed pane may open none (opens_pane) and may not move one over
        # another pane's place (sandbox "never": the layer is the user's)
        _a(
            "new-float",
            "open a floating pane over the tiled ones (ISOLATION: a profile, or "
            '"" for the focused pane\'s; COMMAND: run by the shell)',
            ("isolation?", str),
            ("command?", str),
            key="prefix W",
            opens_pane=True,
            cli=False,  # hexe new-float [--isolation PROFILE] [-P] [-- CMD...]
        ),
        _a("toggle-floats", "show or hide the tab's floating panes", key="prefix F"),
        *(
            _a(
                f"{verb}-float-{side}",
                f"{what} {side} (default 2 cells)",
                ("cells?", int),
                pane=True,
                sandbox="never",
                key=f"prefix {mod}{side.capitalize()}",
                runs=(f"{verb}-float", (side,)),
            )
            for verb, what, mod in (
                ("move", "move the floating pane", "S-"),
                ("resize", "move the floating pane's bottom-right corner", "C-S-"),
            )
            for side in ("left", "right", "up", "down")
        ),
        _a(
            "float-pane",
            "take the tiled pane out of the layout onto the floating layer",
            pane=True,
            sandbox="never",
            key="prefix M-f",
        ),
        _a(
            "embed-pane",
            "put the floating pane back into the tiled layout",
            pane=True,
            sandbox="never",
            key="prefix M-e",
        ),
        # -- copy mode and clipboard --
        # runs a host command outside any sandbox: never from a sandboxed pane
        _a(
            "copy-pipe",
            "copy the selection and pipe it to CMD, a shell command the server runs as you",
            ("cmd", str),
            pane=True,
            sandbox="never",
        ),
        #
        # -- sessions, status line, command prompt --
        #
        # another session's name, panes or screens are none of a sandbox's
        # business, and a session it started would not be sandboxed: never
        _a("rename-session", "rename this session (a prompt without NAME)", ("name?", str)),
        _a(
            "new-session",
            "start another session in the background (-d), named NAME or the next number",
            ("name?", str),
            cli=False,
        ),
        _a(
            "switch-client",
            "show session NAME in this terminal instead (the client reconnects)",
            ("name", str),
            cli=False,
        ),
        _a(
            "choose-tree",
            "choose a session, tab or pane from a tree, with a preview",
            bound=(("prefix s", ()), ("prefix w", ())),
        ),
        _a(
            "synchronize-panes",
            "type into every pane of the tab at once, or stop (per tab)",
        ),
        _a(
            "command-prompt",
            "run an action typed at a prompt (Tab completes names and arguments)",
            key="prefix :",
        ),
    )
}

#: What keys, init.lua and Lua may run: the entries that act (not queries).
ACTIONS: dict[str, Action] = {n: a for n, a in COMMANDS.items() if a.kind == "action"}
#: What the command line may ask besides actions: answers, no changes.
QUERIES: tuple[str, ...] = tuple(n for n, a in COMMANDS.items() if a.kind == "query")

#: Other names accepted for an action (tmux's words).
ALIASES = {"kill-pane": "close-pane"}


def canonical(name: object) -> object:
    """The action a name stands for (``kill-pane`` -> ``close-pane``)."""
    return ALIASES.get(name, name) if isinstance(name, str) else name


NAMED_KEYS = (
    "Up Down Left Right Enter Tab BTab Escape Space BSpace Home End PageUp PageDown "
    "Insert Delete " + " ".join(f"F{n}" for n in range(1, 13))
).split()

KEY_FORMS = (
    'a key is a character (%, ", a) or a name (Up, Enter, F5, Space), '
    "optionally with C- (Ctrl), M- (Alt) and S- (Shift); "
    '"prefix X" means the prefix key, then X'
)


def parse_key(text: str) -> str:
    """Normalise one key (``C-b``, ``M-Left``, ``%``); raises ``ValueError`` with a reason."""
    mods, name = "", text  # C-, M-, S- in front, as long as a key is left after them
    while len(name) > 2 and name[0] in "CMS" and name[1] == "-":
        mods, name = mods + name[:2], name[2:]
    if not name:
        raise ValueError(f"{_quoted(text)} is not a key")
    if len(name) == 1:
        if not name.isprintable() or name == " ":
            raise ValueError(f"{_quoted(text)} is not a key")
        if mods and "C-" in mods and name.isalpha():
            name = name.lower()
    elif name not in NAMED_KEYS:
        import difflib  # only to suggest a name: not loaded by every command

        close = difflib.get_close_matches(name, NAMED_KEYS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"{_quoted(name)} is not a key name{hint}")
    order = "".join(f"{m}-" for m in "CMS" if f"{m}-" in mods)
    return order + name


def parse_keys(text: str) -> tuple[str, ...]:
    """``"prefix %"`` -> ``("prefix", "%")``; ``"M-Left"`` -> ``("M-Left",)``."""
    parts = text.split()
    if not parts or len(parts) > 2:
        raise ValueError(f"{_quoted(text)} must be one key, or prefix and one key")
    if len(parts) == 2 and parts[0] != "prefix":
        raise ValueError(f"{_quoted(text)}: a two-key binding starts with prefix")
    out = [] if len(parts) == 1 else ["prefix"]
    out.append(parse_key(parts[-1]))
    return tuple(out)


def check_action(name: object, args: list[object]) -> str | None:
    """None when ``name`` with ``args`` is a valid action, else the reason."""
    name = canonical(name)
    if not isinstance(name, str) or name not in ACTIONS:
        hint = did_you_mean(str(name), [*ACTIONS, *ALIASES])
        return f"{_quoted(name)} is not an action; {hint}actions: {', '.join(ACTIONS)}"
    action = ACTIONS[name]
    most = None if action.variadic else len(action.args)
    if len(args) < action.required or (most is not None and len(args) > most):
        shown = " ".join(action.usage().split()[1:]) or "no arguments"
        return f"{name} takes {shown}, got {len(args)} argument(s)"
    kinds = list(action.args)
    if action.variadic:
        kinds += [action.args[-1]] * (len(args) - len(kinds))
    for (arg_name, kind), value in zip(kinds, args, strict=False):
        shown = arg_name.rstrip("?*")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{name}: {shown} must be a whole number, got {_quoted(value)}"
        if kind is str and not isinstance(value, str):
            return f"{name}: {shown} must be a string, got {_quoted(value)}"
    return None


def coerce_args(name: str, args: list[str]) -> list[object]:
    """Command-line words as the action's argument types (``"3"`` -> 3 where a number goes)."""
    action = ACTIONS[canonical(name)]  # type: ignore[index]
    kinds = [kind for _, kind in action.args]
    if action.variadic:
        kinds += [kinds[-1]] * (len(args) - len(kinds))
    out: list[object] = []
    for kind, word in zip(kinds, args, strict=False):
        if kind is int:
            try:
                out.append(int(word))
                continue
            except ValueError:
                pass
        out.append(word)
    out.extend(args[len(kinds) :])
    return out


#: The default bindings, as a tmux user would guess them: each entry's ``keys``.
DEFAULT_BINDINGS: dict[tuple[str, ...], tuple[str, tuple[object, ...]]] = {
    parse_keys(keys): (action.name, args)
    for action in ACTIONS.values()
    for keys, args in action.keys
}
