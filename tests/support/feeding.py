"""A pane screen fed in pieces: the differential tests' way of cutting a stream."""

from __future__ import annotations

from hexe.terminal import PaneScreen


def fed(
    data: bytes,
    *cuts: int,
    fast: bool = True,
    plain: bool = True,
    tails: bool = True,
    cols: int = 20,
    rows: int = 6,
    limit: int = 1000,
) -> PaneScreen:
    """``data`` fed to a new screen in pieces cut at ``cuts``: by the line fast
    paths (``fast``; ``plain`` for the plain-text one, ``tails`` for lines cut
    by the end of a piece) or character by character."""
    s = PaneScreen(cols, rows, limit)
    s._parser.fast_lines = fast
    s._parser.plain_lines = plain
    s._parser.line_tails = tails
    start = 0
    for cut in (*cuts, len(data)):
        s.feed(data[start:cut])
        start = cut
    return s
