"""Copy mode's commands, by tmux's names (``cursor-left``, ``next-word``, ...).

Each is a function of the :class:`~hexe.mux.copymode.CopyMode` it moves;
:data:`COMMANDS` maps the name a key table (:mod:`hexe.mux.copykeys`) uses to
it. A command may return what the server must do (``("copy", text)``,
``("exit", None)``, ``("search", direction)``); most return None. Columns are
display columns: a motion lands on the first column of a character.

Words are vi's: letters, digits and ``_`` make a word, other non-blanks
punctuation; a WORD (``W B E``) is any run of non-blanks. The end of a line
that does not wrap into the next counts as a blank between words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hexe.mux.copyunits import blank_class, word_class

if TYPE_CHECKING:
    from hexe.mux.copymode import CopyMode

# moving by cells and lines


def _move(copy: CopyMode, dx: int = 0, dy: int = 0) -> None:
    if dx > 0:
        found = copy.units(copy.cy)
        i = copy.index_at(copy.cy, copy.cx)
        copy.cx = found[i][0] + found[i][1] if i < len(found) else copy.cx + 1
    elif dx < 0:
        copy.cx -= 1  # _clamp snaps it onto the start of a wide character
    copy.cy += dy


def cursor_left(copy: CopyMode) -> None:
    _move(copy, dx=-1)


def cursor_right(copy: CopyMode) -> None:
    _move(copy, dx=1)


def cursor_up(copy: CopyMode) -> None:
    _move(copy, dy=-1)


def cursor_down(copy: CopyMode) -> None:
    _move(copy, dy=1)


def _page(copy: CopyMode, lines: int) -> None:
    copy.cy += lines
    copy.top += lines


def page_up(copy: CopyMode) -> None:
    _page(copy, -copy.screen.rows)


def page_down(copy: CopyMode) -> None:
    _page(copy, copy.screen.rows)


def halfpage_up(copy: CopyMode) -> None:
    _page(copy, -(copy.screen.rows // 2))


def halfpage_down(copy: CopyMode) -> None:
    _page(copy, copy.screen.rows // 2)


def scroll_up(copy: CopyMode) -> None:
    copy.scroll(-1)


def scroll_down(copy: CopyMode) -> None:
    copy.scroll(1)


def history_top(copy: CopyMode) -> None:
    copy.cy, copy.cx = 0, 0


def history_bottom(copy: CopyMode) -> None:
    copy.cy = copy.total - 1


def top_line(copy: CopyMode) -> None:
    copy.cy = copy.top


def middle_line(copy: CopyMode) -> None:
    copy.cy = copy.top + (copy.screen.rows - 1) // 2


def bottom_line(copy: CopyMode) -> None:
    copy.cy = copy.top + copy.screen.rows - 1


def start_of_line(copy: CopyMode) -> None:
    copy.cx = 0


def back_to_indentation(copy: CopyMode) -> None:
    found = copy.units(copy.cy)
    copy.cx = next((x for x, _, c in found if not c.isspace()), 0)


def end_of_line(copy: CopyMode) -> None:
    found = copy.units(copy.cy)
    copy.cx = found[-1][0] if found else 0


# words: positions (line, unit index); the end of a line that does not
# wrap into the next counts as a blank between them


def _next(copy: CopyMode, pos: tuple[int, int]) -> tuple[int, int] | None:
    line, i = pos
    count = len(copy.units(line))
    if i + 1 < count or (i + 1 == count and not copy.wrapped(line)):
        return line, i + 1
    if line + 1 >= copy.total:
        return None
    return line + 1, 0


def _prev(copy: CopyMode, pos: tuple[int, int]) -> tuple[int, int] | None:
    line, i = pos
    if i > 0:
        return line, i - 1
    if line == 0:
        return None
    count = len(copy.units(line - 1))
    return (line - 1, max(count - 1, 0)) if copy.wrapped(line - 1) else (line - 1, count)


def _class(copy: CopyMode, pos: tuple[int, int], big: bool) -> int:
    found = copy.units(pos[0])
    char = found[pos[1]][2] if pos[1] < len(found) else ""
    return blank_class(char) if big else word_class(char)


def _land(copy: CopyMode, pos: tuple[int, int]) -> None:
    line, i = pos
    found = copy.units(line)
    copy.cy = line
    copy.cx = found[i][0] if i < len(found) else (found[-1][0] + found[-1][1] if found else 0)


def _here(copy: CopyMode) -> tuple[int, int]:
    return copy.cy, copy.index_at(copy.cy, copy.cx)


def _word_start(copy: CopyMode, big: bool) -> None:
    pos = _here(copy)
    kind = _class(copy, pos, big)
    while True:
        nxt = _next(copy, pos)
        if nxt is None:
            return _land(copy, pos)
        pos = nxt
        if _class(copy, pos, big) != kind:
            break
    while _class(copy, pos, big) == 0:
        nxt = _next(copy, pos)
        if nxt is None:
            break
        pos = nxt
    _land(copy, pos)


def _word_edge(copy: CopyMode, big: bool, step: Any) -> None:
    """To the far edge of the next word that way (``step``: ``_next`` for
    ``e``, the end; ``_prev`` for ``b``, the start), over blanks first."""
    pos = step(copy, _here(copy))
    while pos is not None and _class(copy, pos, big) == 0:
        pos = step(copy, pos)
    if pos is None:
        return
    kind = _class(copy, pos, big)
    while (beyond := step(copy, pos)) is not None and _class(copy, beyond, big) == kind:
        pos = beyond
    _land(copy, pos)


def _word_end(copy: CopyMode, big: bool) -> None:
    _word_edge(copy, big, _next)


def _word_back(copy: CopyMode, big: bool) -> None:
    _word_edge(copy, big, _prev)


def next_word(copy: CopyMode) -> None:
    _word_start(copy, False)


def next_space(copy: CopyMode) -> None:
    _word_start(copy, True)


def next_word_end(copy: CopyMode) -> None:
    _word_end(copy, False)


def next_space_end(copy: CopyMode) -> None:
    _word_end(copy, True)


def previous_word(copy: CopyMode) -> None:
    _word_back(copy, False)


def previous_space(copy: CopyMode) -> None:
    _word_back(copy, True)


# jumps to a character on the line: f t F T ; ,


def jump(copy: CopyMode, command: str, char: str) -> None:
    found = copy.units(copy.cy)
    i = copy.index_at(copy.cy, copy.cx)
    forward = command in ("jump-forward", "jump-to-forward")
    before = command.startswith("jump-to")
    if forward:
        start = i + (2 if before else 1)
        hits = [j for j in range(start, len(found)) if found[j][2][:1] == char]
        if hits:
            copy.cx = found[hits[0] - (1 if before else 0)][0]
    else:
        stop = i - (1 if before else 0)
        hits = [j for j in range(0, stop) if found[j][2][:1] == char]
        if hits:
            copy.cx = found[hits[-1] + (1 if before else 0)][0]


def jump_again(copy: CopyMode) -> None:
    if copy.last_jump:
        jump(copy, *copy.last_jump)


def jump_reverse(copy: CopyMode) -> None:
    if copy.last_jump:
        command, char = copy.last_jump
        flip = {
            "jump-forward": "jump-backward",
            "jump-backward": "jump-forward",
            "jump-to-forward": "jump-to-backward",
            "jump-to-backward": "jump-to-forward",
        }
        jump(copy, flip[command], char)


# shell prompts (OSC 133;A marks)


def previous_prompt(copy: CopyMode) -> None:
    before = [line for line in copy.screen.prompt_lines() if line < copy.cy]
    if before:
        copy.cy, copy.cx = before[-1], 0
        copy.top = min(copy.top, copy.cy)
    else:
        copy.message = "no earlier prompt (the shell marks prompts with OSC 133)"


def next_prompt(copy: CopyMode) -> None:
    after = [line for line in copy.screen.prompt_lines() if line > copy.cy]
    if after:
        copy.cy, copy.cx = after[0], 0
    else:
        copy.message = "no later prompt (the shell marks prompts with OSC 133)"


# selection


def begin_selection(copy: CopyMode) -> None:
    copy.anchor = (copy.cx, copy.cy)
    copy.kind = "char"


def select_line(copy: CopyMode) -> None:
    if copy.anchor is not None and copy.kind == "line":
        copy.anchor = None
        return
    if copy.anchor is None:
        copy.anchor = (copy.cx, copy.cy)
    copy.kind = "line"


def rectangle_toggle(copy: CopyMode) -> None:
    if copy.anchor is None:
        copy.anchor = (copy.cx, copy.cy)
        copy.kind = "rect"
        return
    copy.kind = "char" if copy.kind == "rect" else "rect"


def clear_selection(copy: CopyMode) -> None:
    copy.anchor = None
    copy.kind = "char"


def clear_or_cancel(copy: CopyMode) -> tuple[str, Any] | None:
    if copy.anchor is None:
        return ("exit", None)
    clear_selection(copy)
    return None


def other_end(copy: CopyMode) -> None:
    if copy.anchor is not None:
        (ax, ay), copy.anchor = copy.anchor, (copy.cx, copy.cy)
        copy.cx, copy.cy = ax, ay


def copy_selection_and_cancel(copy: CopyMode) -> tuple[str, Any]:
    if copy.anchor is None:
        return ("exit", None)
    return ("copy", copy.selected_text())


def cancel(copy: CopyMode) -> tuple[str, Any]:
    return ("exit", None)


# search


def search_forward(copy: CopyMode) -> tuple[str, Any]:
    return ("search", "forward")


def search_backward(copy: CopyMode) -> tuple[str, Any]:
    return ("search", "backward")


def search_again(copy: CopyMode) -> None:
    if copy.last_search:
        needle, backwards = copy.last_search
        copy.search(needle, backwards)


def search_reverse(copy: CopyMode) -> None:
    if copy.last_search:
        needle, backwards = copy.last_search
        copy.search(needle, not backwards)
        copy.last_search = (needle, backwards)


_JUMPS = ("jump-forward", "jump-backward", "jump-to-forward", "jump-to-backward")

#: Every command by its tmux name (the jumps wait for their character: see CopyMode.key).
COMMANDS: dict[str, Callable[[CopyMode], Any]] = {
    name.replace("_", "-"): function
    for name, function in list(globals().items())
    if callable(function)
    and not name.startswith("_")
    and getattr(function, "__module__", None) == __name__
    and name not in ("jump", "word_class", "blank_class")
}
