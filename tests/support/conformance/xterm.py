"""Cases where hexe follows xterm's documentation (ctlseqs) and tmux 3.3a does not.

Each entry: ``name -> (text, cols, rows, expected rows of text, expected
cursor (x, y), why)``. The cursor is the raw position: ``x == cols`` is a
wrap pending after the last column. The names of synthetic cases in
:data:`DIFFERS_FROM_TMUX` are left out of the tmux comparison and checked
here instead, by hand-written expectations; the reason is the key's value.
"""

from __future__ import annotations

from support.conformance.cases import CASES, COLS, ROWS

XTERM_CASES: dict[str, tuple[str, int, int, list[str], tuple[int, int], str]] = {}
DIFFERS_FROM_TMUX: dict[str, str] = {}

FILL_ROWS = [f"{chr(97 + y)}0123456789abcdefghi"[:COLS] for y in range(ROWS)]

NOT_IN_TMUX = "tmux 3.3a does not implement it (input.c has no entry); xterm does"
PENDING = (
    "xterm resets the pending wrap on every cursor movement but HT (ResetWrap in "
    "cursor.c): the cursor is on the last column; tmux keeps it one past the last "
    "column and moves from there"
)


def fill(*changes: tuple[int, str]) -> list[str]:
    """The rows of ``cases.FILL`` with row ``y`` replaced by ``text``."""
    rows = list(FILL_ROWS)
    for y, text in changes:
        rows[y] = text
    return rows


def put(y: int, x: int, text: str, base: list[str] | None = None) -> tuple[int, str]:
    row = (base or FILL_ROWS)[y]
    return y, row[:x] + text + row[x + len(text) :]


def expect(name: str, rows: list[str], cursor: tuple[int, int], why: str) -> None:
    """A synthetic case of ``cases.py`` with its xterm screen."""
    text, cols, rows_count = CASES[name]
    DIFFERS_FROM_TMUX[name] = why
    XTERM_CASES[name] = (text, cols, rows_count, rows, cursor, why)


for count, x in (("default", 11), ("1", 11), ("3", 13), ("100", 19)):
    expect(f"HPR {count}", fill(put(4, x, "*")), (x + 1, 4), NOT_IN_TMUX)
for count, y in (("default", 5), ("1", 5), ("3", 7), ("100", 7)):
    expect(f"VPR {count}", fill(put(y, 10, "*")), (11, y), NOT_IN_TMUX)
for count, x in (("default", 16), ("1", 16), ("3", 19), ("100", 19)):
    expect(f"CHT {count}", fill(put(4, x, "*")), (x + 1, 4), NOT_IN_TMUX)
expect("tabs: CHT 2", [" " * 16 + "x"], (17, 0), NOT_IN_TMUX)
expect(
    "ICH 100",
    fill((4, "e012345678")),
    (10, 4),
    "xterm clears from the cursor to the margin; tmux 3.3a leaves the row unchanged "
    "when the count reaches past the margin",
)
expect(
    "region: DL outside",
    FILL_ROWS,
    (0, 0),
    "xterm (and VT100) ignore IL/DL outside the scrolling region; tmux deletes a "
    "line of the whole screen",
)
W = "W" * COLS
expect("pending wrap then LF", fill((1, W), put(2, 19, "x")), (20, 2), PENDING)
expect("pending wrap then BS", fill((1, "W" * 18 + "xW")), (19, 1), PENDING)
expect("pending wrap then CUB", fill((1, "W" * 18 + "xW")), (19, 1), PENDING)
expect("pending wrap then RI", fill(put(0, 19, "x"), (1, W)), (20, 0), PENDING)
expect(
    "DCH through wide chars",
    [" 本語x"],
    (0, 0),
    "deleting the left half of a wide character leaves its right half as a blank "
    "(xterm); tmux's capture-pane skips the orphan half, shifting the text left",
)
expect(
    "REP after a wide char",
    ["日日日"],
    (6, 0),
    "xterm repeats any graphic character; tmux only an ASCII one",
)
expect(
    "IRM pushes off the edge",
    ["I" * 20, "IIIIIb0123456789abcd", *FILL_ROWS[2:]],
    (5, 1),
    "in insert mode every character inserts, the first after a wrap too (xterm); "
    "tmux overwrites with the first character on the new row",
)
expect(
    "DECSTR keeps text",
    fill(put(4, 10, "x")),
    (11, 4),
    "DECSTR resets the attributes (xterm, VT220); tmux 3.3a does not implement it",
)
expect("DECSET 1048 saves the cursor", fill(put(0, 0, "x"), put(4, 10, "y")), (11, 4), NOT_IN_TMUX)


# -- vttest screens tmux 3.3a draws against vttest's own instructions ----------------------
# Each: the screen's name in programs.json -> (why, check of hexe's rows of text).

TMUX_FAILS_VTTEST = (
    "tmux 3.3a keeps a pending wrap one column past the edge and moves back from "
    "there on BS/CUB, so vttest's characters written after a full row land one "
    "column off"
)


def _border(rows: list[str]) -> bool:
    """vttest 1.2: a frame of *'s and +'s: every side row is ``*+ … +*``."""
    sides = [*range(2, 9), *range(16, 22)]
    return rows[0] == rows[23] == "*" * 80 and all(
        len(rows[y]) == 80 and rows[y][:2] == "*+" and rows[y][-2:] == "+*" for y in sides
    )


def _letters(rows: list[str]) -> bool:
    """vttest 1.3/1.4: 'The left/right margins should have letters in order'."""
    return all(
        rows[2 + i] == letter + " " * 78 + letter.lower()
        for i, letter in enumerate("IJKLMNOPQRSTUVWXYZ")
    )


def _origin(rows: list[str]) -> bool:
    """vttest 2.11: 'This line should be at the bottom of the screen.'"""
    return rows[23] == "Origin mode test. This line should be at the bottom of the screen."


VTTEST_CHECKS = {
    "vttest 1.2": (TMUX_FAILS_VTTEST, _border),
    "vttest 1.3": (TMUX_FAILS_VTTEST, _letters),
    "vttest 1.4": (TMUX_FAILS_VTTEST + " (at 80 columns: DECCOLM is not honoured)", _letters),
    "vttest 2.11": (
        "tmux 3.3a draws the line at the top: a CUP in origin mode below the region "
        "is clamped to the region's bottom row in xterm",
        _origin,
    ),
}
expect(
    "DECSC slots of the main and alternate screens are apart",
    fill(put(1, 2, "x")),
    (3, 1),
    "xterm keeps one DECSC slot per screen (main, alternate); tmux 3.3a one for both, "
    "so a full-screen program's DECSC would move the shell's saved cursor",
)
