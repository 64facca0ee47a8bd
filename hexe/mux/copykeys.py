"""Copy mode's key tables: tmux's ``copy-mode-vi`` and ``copy-mode`` (emacs).

Each table maps a key name (as :mod:`hexe.mux.input` names keys) to a copy
mode command, by tmux's name for it (``send -X cursor-left``); the commands
are the ``cmd_*`` methods of :class:`hexe.mux.copymode.CopyMode`. The option
``hexe.options { mode_keys = "vi" | "emacs" }`` chooses the table, as tmux's
``mode-keys``. A key neither table has runs the root binding of that key, if
any (so ``hexe.key("M-y", "copy-pipe", "xclip -i")`` works in copy mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MODE_KEYS = ("vi", "emacs")

_COMMON = {
    "Up": "cursor-up",
    "Down": "cursor-down",
    "Left": "cursor-left",
    "Right": "cursor-right",
    "PageUp": "page-up",
    "PageDown": "page-down",
    "Home": "history-top",
    "End": "history-bottom",
    "C-c": "cancel",
    "q": "cancel",
    "n": "search-again",
    "N": "search-reverse",
    "f": "jump-forward",
    "F": "jump-backward",
    "t": "jump-to-forward",
    "T": "jump-to-backward",
    ";": "jump-again",
    ",": "jump-reverse",
}

VI: Mapping[str, str] = MappingProxyType(
    {
        **_COMMON,
        "h": "cursor-left",
        "j": "cursor-down",
        "k": "cursor-up",
        "l": "cursor-right",
        "w": "next-word",
        "b": "previous-word",
        "e": "next-word-end",
        "W": "next-space",
        "B": "previous-space",
        "E": "next-space-end",
        "0": "start-of-line",
        "^": "back-to-indentation",
        "$": "end-of-line",
        "g": "history-top",
        "G": "history-bottom",
        "H": "top-line",
        "M": "middle-line",
        "L": "bottom-line",
        "C-b": "page-up",
        "C-f": "page-down",
        "C-u": "halfpage-up",
        "C-d": "halfpage-down",
        "C-y": "scroll-up",
        "C-e": "scroll-down",
        "Space": "begin-selection",
        "v": "begin-selection",
        "V": "select-line",
        "C-v": "rectangle-toggle",
        "o": "other-end",
        "Escape": "clear-or-cancel",
        "Enter": "copy-selection-and-cancel",
        "y": "copy-selection-and-cancel",
        "/": "search-forward",
        "?": "search-backward",
        "{": "previous-prompt",
        "}": "next-prompt",
    }
)

EMACS: Mapping[str, str] = MappingProxyType(
    {
        **_COMMON,
        "C-b": "cursor-left",
        "C-f": "cursor-right",
        "C-p": "cursor-up",
        "C-n": "cursor-down",
        "M-f": "next-word-end",
        "M-b": "previous-word",
        "C-a": "start-of-line",
        "M-m": "back-to-indentation",
        "C-e": "end-of-line",
        "M-<": "history-top",
        "M->": "history-bottom",
        "M-R": "top-line",
        "M-r": "middle-line",
        "M-v": "page-up",
        "C-v": "page-down",
        "C-Space": "begin-selection",
        "R": "rectangle-toggle",
        "C-g": "clear-selection",
        "Escape": "cancel",
        "M-w": "copy-selection-and-cancel",
        "C-w": "copy-selection-and-cancel",
        "Enter": "copy-selection-and-cancel",
        "C-s": "search-forward",
        "C-r": "search-backward",
        "M-{": "previous-prompt",
        "M-}": "next-prompt",
    }
)


def table(mode_keys: str) -> Mapping[str, str]:
    """The key table of ``mode_keys`` ("vi" or "emacs")."""
    return EMACS if mode_keys == "emacs" else VI
