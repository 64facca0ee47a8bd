"""The command prompt's Tab: action names, then the action's own words."""

from __future__ import annotations

from types import SimpleNamespace

from hexe.server.status import StatusRoom


def complete(text: str) -> str:
    room = SimpleNamespace(session="s", panes={}, tabs=[])
    return StatusRoom.complete_prompt(room, text)  # type: ignore[arg-type]


def test_tab_completes_names_layouts_and_flags():
    assert complete("select-lay") == "select-layout "
    assert complete("select-layout even-h") == "select-layout even-horizontal "
    assert complete("select-layout main-") == "select-layout main-"  # two of them: the common part
    assert complete("select-layout ti") == "select-layout tiled "
    assert complete("swap-pane -") == "swap-pane -"
    assert complete("swap-pane -U") == "swap-pane -U "
    assert complete("nosuch x") == "nosuch x"
