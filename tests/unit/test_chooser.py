"""The chooser's model (hexe/mux/chooser.py) and the outer title's sanitizer (status room)."""

from __future__ import annotations

from hexe.mux.chooser import Chooser
from hexe.server.status import TITLE_LIMIT, outer_title


def _pane(pid: int, tab: int, *, title: str = "sh", active=False, focused=False, name="x"):
    return {
        "id": pid, "tab": tab, "tab_name": name, "title": title, "active": active,
        "focused": focused,
    }  # fmt: skip


def test_the_tree_lists_sessions_tabs_panes_and_starts_on_the_active_pane():
    here = [_pane(1, 0, focused=True), _pane(2, 1, focused=True, active=True)]
    other = [_pane(5, 0, focused=True)]
    chooser = Chooser.build("t", [{"name": "t", "panes": here}, {"name": "o", "panes": other}])
    kinds = [(r.kind, r.session, r.tab, r.pane) for r in chooser.rows]
    assert kinds == [
        ("session", "o", None, None), ("tab", "o", 0, None), ("pane", "o", 0, 5),
        ("session", "t", None, None), ("tab", "t", 0, None), ("pane", "t", 0, 1),
        ("tab", "t", 1, None), ("pane", "t", 1, 2),
    ]  # fmt: skip
    assert chooser.row.pane == 2 and chooser.row.current
    assert chooser.rows[6].preview == 2  # a tab previews its focused pane
    chooser.move_to_kind(-1, "session")
    assert chooser.row.session == "t" and chooser.row.kind == "session"
    chooser.move_to_kind(-1, "session")
    assert chooser.row.session == "o"
    chooser.move(-5)
    assert chooser.cursor == 0


def test_a_session_that_did_not_answer_is_listed_with_why():
    chooser = Chooser.build("t", [{"name": "t", "panes": []}, {"name": "b", "panes": None}])
    assert "(did not answer)" in chooser.rows[0].label


def test_lines_fit_the_box_and_hostile_names_lose_their_controls():
    panes = [_pane(1, 0, title="evil\x1b]2;x\x07\x9b6n", active=True, focused=True)]
    chooser = Chooser.build("t", [{"name": "t", "panes": panes}])
    chooser.previews[("t", 1)] = ["top", "\x1b[31mred", "last"]
    lines = chooser.lines(40, 12)
    assert len(lines) == 12 and all(len(line) == 40 for line in lines)
    text = "\n".join(lines)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "evil]2;x6n" in text and "[31mred" in text


def test_outer_title_has_no_controls_and_is_capped():
    assert outer_title("a\x1b]2;b\x07c\x9bd\x00e\x7f") == "a]2;bcde"
    assert len(outer_title("x" * 5000)) == TITLE_LIMIT
