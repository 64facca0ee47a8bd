"""The action vocabulary and key names shared by key bindings, Lua and the command line.

One list of actions, so ``hexe.key("prefix %", "split-right")`` in
``init.lua``, a key press and a scripting command name the same thing. This
module only names and validates; the multiplexer carries actions out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from hexe.errors import did_you_mean


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    #: (name, type) of each argument; optional ones end with "?"
    args: tuple[tuple[str, type], ...] = ()

    @property
    def required(self) -> int:
        return sum(1 for name, _ in self.args if not name.endswith("?"))


def _a(name: str, description: str, *args: tuple[str, type]) -> Action:
    return Action(name, description, tuple(args))


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        _a("split-right", "split the pane, the new one to the right"),
        _a("split-down", "split the pane, the new one below"),
        _a("focus-left", "focus the pane to the left"),
        _a("focus-right", "focus the pane to the right"),
        _a("focus-up", "focus the pane above"),
        _a("focus-down", "focus the pane below"),
        _a("focus-next", "focus the next pane"),
        _a("focus-prev", "focus the previous pane"),
        _a("resize-left", "move the pane's edge left", ("cells?", int)),
        _a("resize-right", "move the pane's edge right", ("cells?", int)),
        _a("resize-up", "move the pane's edge up", ("cells?", int)),
        _a("resize-down", "move the pane's edge down", ("cells?", int)),
        _a("zoom", "zoom the pane to the whole window, or back"),
        _a("close-pane", "close the pane; its process tree ends"),
        _a("new-tab", "open a new tab"),
        _a("next-tab", "go to the next tab"),
        _a("prev-tab", "go to the previous tab"),
        _a("select-tab", "go to tab N (0-9)", ("n", int)),
        _a("rename-tab", "rename the current tab"),
        _a("copy-mode", "scroll back, search and copy"),
        _a("paste", "paste the last copied text"),
        _a("detach", "detach from the session; panes keep running"),
        _a("help", "show the active key bindings"),
        _a("reload-config", "reload init.lua; a bad one keeps the running config"),
        _a("send-prefix", "send the prefix key to the pane"),
    )
}

NAMED_KEYS = (
    "Up Down Left Right Enter Tab BTab Escape Space BSpace Home End PageUp PageDown "
    "Insert Delete " + " ".join(f"F{n}" for n in range(1, 13))
).split()
_MODIFIERS = re.compile(r"^((?:[CMS]-)*)(.+)$")

KEY_FORMS = (
    'a key is a character (%, ", a) or a name (Up, Enter, F5, Space), '
    "optionally with C- (Ctrl), M- (Alt) and S- (Shift); "
    '"prefix X" means the prefix key, then X'
)


def parse_key(text: str) -> str:
    """Normalise one key (``C-b``, ``M-Left``, ``%``); raises ``ValueError`` with a reason."""
    m = _MODIFIERS.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a key")
    mods, name = m.group(1), m.group(2)
    if len(name) == 1:
        if not name.isprintable() or name == " ":
            raise ValueError(f"{text!r} is not a key")
        if mods and "C-" in mods and name.isalpha():
            name = name.lower()
    elif name not in NAMED_KEYS:
        close = difflib.get_close_matches(name, NAMED_KEYS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"{name!r} is not a key name{hint}")
    order = "".join(f"{m}-" for m in "CMS" if f"{m}-" in mods)
    return order + name


def parse_keys(text: str) -> tuple[str, ...]:
    """``"prefix %"`` -> ``("prefix", "%")``; ``"M-Left"`` -> ``("M-Left",)``."""
    parts = text.split()
    if not parts or len(parts) > 2:
        raise ValueError(f"{text!r} must be one key, or prefix and one key")
    if len(parts) == 2 and parts[0] != "prefix":
        raise ValueError(f"{text!r}: a two-key binding starts with prefix")
    out = [] if len(parts) == 1 else ["prefix"]
    out.append(parse_key(parts[-1]))
    return tuple(out)


def check_action(name: object, args: list[object]) -> str | None:
    """None when ``name`` with ``args`` is a valid action, else the reason."""
    if not isinstance(name, str) or name not in ACTIONS:
        hint = did_you_mean(str(name), list(ACTIONS))
        return f"{name!r} is not an action; {hint}actions: {', '.join(ACTIONS)}"
    action = ACTIONS[name]
    if not action.required <= len(args) <= len(action.args):
        shown = " ".join(n for n, _ in action.args) or "no arguments"
        return f"{name} takes {shown}, got {len(args)} argument(s)"
    for (arg_name, kind), value in zip(action.args, args, strict=False):
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{name}: {arg_name.rstrip('?')} must be a whole number, got {value!r}"
    return None


#: The default bindings, as a tmux user would guess them.
DEFAULT_BINDINGS: dict[tuple[str, ...], tuple[str, tuple[object, ...]]] = {
    ("prefix", "%"): ("split-right", ()),
    ("prefix", '"'): ("split-down", ()),
    ("prefix", "Left"): ("focus-left", ()),
    ("prefix", "Right"): ("focus-right", ()),
    ("prefix", "Up"): ("focus-up", ()),
    ("prefix", "Down"): ("focus-down", ()),
    ("prefix", "o"): ("focus-next", ()),
    ("prefix", ";"): ("focus-prev", ()),
    ("prefix", "C-Left"): ("resize-left", ()),
    ("prefix", "C-Right"): ("resize-right", ()),
    ("prefix", "C-Up"): ("resize-up", ()),
    ("prefix", "C-Down"): ("resize-down", ()),
    ("prefix", "z"): ("zoom", ()),
    ("prefix", "x"): ("close-pane", ()),
    ("prefix", "c"): ("new-tab", ()),
    ("prefix", "n"): ("next-tab", ()),
    ("prefix", "p"): ("prev-tab", ()),
    **{("prefix", str(n)): ("select-tab", (n,)) for n in range(10)},
    ("prefix", ","): ("rename-tab", ()),
    ("prefix", "["): ("copy-mode", ()),
    ("prefix", "]"): ("paste", ()),
    ("prefix", "d"): ("detach", ()),
    ("prefix", "?"): ("help", ()),
    ("prefix", "r"): ("reload-config", ()),
}
