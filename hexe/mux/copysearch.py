"""Copy-mode search: regular expressions with smart case, bounded in time.

A pane's text is written by its program, and a sandboxed pane is hostile: a
pattern that backtracks (``(x+x+)+y``) over text chosen to make it explode
must not freeze the server. Python's :mod:`re` cannot be interrupted, so
patterns run on the :mod:`regex` module (the same syntax as :mod:`re`) with
its ``timeout``: one search of the whole history gets :data:`SEARCH_BUDGET`
seconds in all, the highlighting of one frame :data:`HIGHLIGHT_BUDGET`. Past
its budget a search stops and says so; what it found so far stays found.

Smart case, as vim's ``smartcase`` and tmux's: a pattern without capitals
ignores case. Positions are ``(line, column)`` with the column in cells (a
wide character counts two), lines numbered as in :mod:`hexe.mux.copymode`.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hexe.terminal.lines import index_to_column

if TYPE_CHECKING:
    import regex

#: Seconds one search (or the count of matches) may take, whatever the text.
SEARCH_BUDGET = 0.5
#: Seconds the matches of one frame's visible lines may take.
HIGHLIGHT_BUDGET = 0.05
#: Matches remembered for the position (``3/17``); beyond, the count shows ``+``.
MATCH_LIMIT = 100_000
#: The longest pattern accepted.
PATTERN_LIMIT = 1000


class SearchError(Exception):
    """A pattern that cannot be used; ``str()`` says why, for the status line."""


class SearchTimeout(Exception):
    """The search used up its budget."""


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile ``pattern`` with smart case; :class:`SearchError` when it is bad."""
    if len(pattern) > PATTERN_LIMIT:
        raise SearchError(f"search: a pattern is at most {PATTERN_LIMIT} characters")
    import regex  # at the first search: ~1.7 MB of every server that never searches

    flags = regex.VERSION0
    if pattern == pattern.lower():
        flags |= regex.IGNORECASE
    try:
        return regex.compile(pattern, flags)
    except (regex.error, ValueError, OverflowError) as exc:
        raise SearchError(f"search: bad regular expression {pattern!r}: {exc}") from None


def _spans(pattern: regex.Pattern[str], text: str, deadline: float) -> list[tuple[int, int]]:
    """Non-empty matches of ``pattern`` in ``text`` as character spans."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SearchTimeout
    try:
        return [m.span() for m in pattern.finditer(text, timeout=remaining) if m.end() > m.start()]
    except TimeoutError:
        raise SearchTimeout from None


def line_matches(pattern: regex.Pattern[str], text: str, deadline: float) -> list[tuple[int, int]]:
    """The matches in one line's text as column spans ``(start, end)``, end excluded."""
    out = []
    for start, end in _spans(pattern, text, deadline):
        if text.isascii():
            out.append((start, end))
        else:
            out.append((index_to_column(text, start), index_to_column(text, end)))
    return out


@dataclass
class Search:
    """The search of one copy mode: its pattern, direction and every match."""

    pattern: str
    backwards: bool
    compiled: regex.Pattern[str] = field(init=False)
    #: every match start, in order, found over the whole buffer
    starts: list[tuple[int, int]] = field(default_factory=list)
    #: the buffer's shape when ``starts`` were found (they are found again when it changes)
    shape: tuple[int, ...] = ()
    #: the count stopped early (budget or limit): positions show ``+``
    partial: bool = False

    def __post_init__(self) -> None:
        self.compiled = compile_pattern(self.pattern)

    def find_all(self, count: int, text_of: Callable[[int], str], shape: tuple[int, ...]) -> None:
        """Find every match over lines ``0 .. count-1`` (bounded in time and number)."""
        if shape == self.shape:
            return
        self.shape = shape
        self.starts = []
        self.partial = False
        deadline = time.monotonic() + SEARCH_BUDGET
        try:
            for line in range(count):
                for start, _ in line_matches(self.compiled, text_of(line), deadline):
                    self.starts.append((line, start))
                if len(self.starts) >= MATCH_LIMIT:
                    self.partial = True
                    return
        except SearchTimeout:
            self.partial = True

    def next_from(self, at: tuple[int, int], backwards: bool) -> tuple[int, int] | None:
        """The nearest match after (or before) ``at``, wrapping round as tmux does."""
        starts = self.starts
        if not starts:
            return None
        if backwards:
            i = bisect.bisect_left(starts, at) - 1
            return starts[i] if i >= 0 else starts[-1]
        i = bisect.bisect_right(starts, at)
        return starts[i] if i < len(starts) else starts[0]

    def position(self, at: tuple[int, int]) -> str:
        """``3/17``: which match the cursor is on, of how many (``?`` when on none)."""
        i = bisect.bisect_left(self.starts, at)
        here = str(i + 1) if i < len(self.starts) and self.starts[i] == at else "?"
        return f"{here}/{len(self.starts)}{'+' if self.partial else ''}"

    def visible(
        self, first: int, rows: int, text_of: Callable[[int], str]
    ) -> tuple[tuple[int, int, int], ...]:
        """``(line, start, end)`` of each match on lines ``first .. first+rows-1``."""
        deadline = time.monotonic() + HIGHLIGHT_BUDGET
        out = []
        try:
            for line in range(first, first + rows):
                for start, end in line_matches(self.compiled, text_of(line), deadline):
                    out.append((line, start, end))
        except SearchTimeout:
            pass
        return tuple(out)
