"""The ``clipboard`` isolation setting: may a pane's programs set the clipboard?

A program writes the terminal's clipboard with OSC 52. hexe forwards such a
write to the terminals attached to the session (``hexe.options {
set_clipboard = true }``, tmux's ``set-clipboard on``) only when the pane's
``clipboard`` is ``"write"``. Unset, it is ``"deny"`` for the locked
profiles (``full`` and ``sandbox``: code that is not trusted should not
plant a command in the clipboard the user pastes into a shell) and
``"write"`` otherwise. Reading the clipboard (OSC 52 with ``?``) is never
answered, whatever the setting. The server enforces it (``hexe/server/clipboard.py``), asking
:func:`hexe_clipboard_allowed`; this module declares, parses and answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hexe import hookimpl
from hexe.errors import SettingError
from hexe.plugin.settings import Setting

if TYPE_CHECKING:
    from hexe.isolation import Isolation

MODES = ("deny", "write")
#: the profiles whose panes are refused clipboard writes unless they say otherwise
DENYING_PROFILES = ("full", "sandbox")


def parse_clipboard(setting: str, value: object) -> str:
    if value not in MODES:
        raise SettingError(
            setting,
            value,
            'use "deny" (OSC 52 writes are refused) or "write" (they set the outer clipboard)',
            problem="is not a clipboard mode",
        )
    return str(value)


SETTING = Setting(
    "clipboard",
    parse_clipboard,
    doc='OSC 52 from the pane: "write" sets the clipboard, "deny" refuses; '
    "unset: deny in full and sandbox",
    env=("HEXE_VOIDBOX_CLIPBOARD",),
    profiles={name: "deny" for name in DENYING_PROFILES},
)


@hookimpl
def hexe_clipboard_allowed(isolation: Isolation) -> bool:
    """A pane's clipboard writes are allowed when its ``clipboard`` is ``write``
    (its value under the profile when unset; ``write`` when neither says)."""
    return (isolation.get("clipboard") or "write") == "write"
