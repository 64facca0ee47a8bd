"""A screen as the conformance suite compares it: rows of text, attributes, cursor.

Both sides are brought to the same form: for each row, its text without
trailing blanks (a wide character once) and, for each character of that text,
its attributes as a tuple ``(fg, bg, flags)`` where colours are the SGR that
set them (``"31"``, ``"38;5;100"``, ``"38;2;1;2;3"``, ``""`` for the default)
and flags a sorted string of the SGR numbers on (``"17"`` is bold and reverse),
an underline style other than single as ``"~N"`` (``4:N``) and an underline
colour as ``"_58;5;N"`` or ``"_58;2;R;G;B"`` (``"14_58;5;9~3"``).
tmux's side is parsed from ``capture-pane -p -e`` (its SGR state runs on from
one line to the next); hexe's is read from the cells of its screen.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pyte.charsets import VT100_MAP
from wcwidth import wcwidth

from hexe.terminal import PaneScreen
from hexe.terminal.cells import BLANK

Attrs = tuple[str, str, str]
DEFAULT: Attrs = ("", "", "")

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_FLAG_ON = {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "7": "7", "8": "8", "9": "9"}
_FLAG_OFF = {"22": "12", "23": "3", "24": "4", "25": "5", "27": "7", "28": "8", "29": "9"}


@dataclass
class Seen:
    """One screen, compared as text, attributes and cursor."""

    text: list[str]
    attrs: list[list[Attrs]]
    cursor: tuple[int, int]

    def rows_differing(self, other: Seen) -> list[int]:
        return [
            y
            for y in range(max(len(self.text), len(other.text)))
            if _at(self.text, y, "") != _at(other.text, y, "")
            or _at(self.attrs, y, []) != _at(other.attrs, y, [])
        ]

    def show(self) -> str:
        lines = [f"cursor {self.cursor}"]
        for y, (text, attrs) in enumerate(zip(self.text, self.attrs, strict=True)):
            runs = []
            for a in attrs:
                if runs and runs[-1][0] == a:
                    runs[-1][1] += 1
                else:
                    runs.append([a, 1])
            shown = " ".join(f"{'/'.join(a)}x{n}" for a, n in runs if a != DEFAULT)
            lines.append(f"{y:2d} |{text}|  {shown}")
        return "\n".join(lines)


def _at(rows: list, y: int, default):
    return rows[y] if y < len(rows) else default


def _trim(text: str, attrs: list[Attrs]) -> tuple[str, list[Attrs]]:
    """Trailing blanks go (tmux's capture drops them, whatever their colour)."""
    stripped = text.rstrip(" ")
    return stripped, attrs[: len(stripped)]


def _colour(value: str) -> str:
    return "" if value in ("default", "39", "49") else value


def from_hexe(screen: PaneScreen) -> Seen:
    """The screen of a hexe pane (its cells, not its rendering)."""
    vt = screen._vt
    texts, attrs = [], []
    for y in range(vt.lines):
        row = vt.buffer.get(y)
        chars, row_attrs = [], []
        for x in range(vt.columns):
            cell = row[x] if row is not None else None
            if cell is None:
                chars.append(" ")
                row_attrs.append(DEFAULT)
                continue
            if cell.data == "":
                if x and (row.get(x - 1) or BLANK).data != "" and _wide(row.get(x - 1)):
                    continue  # the right half of a wide character
                cell = cell._replace(data=" ")
            flags = "".join(
                code
                for code, on in (
                    ("1", cell.bold),
                    ("2", cell.dim),
                    ("3", cell.italics),
                    ("4", cell.underscore),
                    ("5", cell.blink),
                    ("7", cell.reverse),
                    ("8", cell.hidden),
                    ("9", cell.strikethrough),
                )
                if on
            )
            chars.append(cell.data)
            row_attrs.append((_colour(cell.fg), _colour(cell.bg), flags + _ext_tokens(cell.ext)))
        text, row_attrs = _trim(unicodedata.normalize("NFC", "".join(chars)), row_attrs)
        texts.append(text)
        attrs.append(row_attrs)
    while texts and not texts[-1]:
        texts.pop()
        attrs.pop()
    return Seen(texts, attrs, (vt.cursor.x, vt.cursor.y))


def from_capture(lines: list[str], cursor: tuple[int, int]) -> Seen:
    """The screen as ``tmux capture-pane -p -e`` wrote it (one string per row).

    tmux writes DEC line-drawing cells as their ASCII letters between SO and
    SI; they are read back as the characters they show (pyte's VT100 map,
    which hexe draws with)."""
    fg = bg = ""
    flags: set[str] = set()
    acs = False  # between SO and SI: DEC special graphics, written as ASCII
    texts, attrs = [], []
    for line in lines:
        chars: list[str] = []
        row_attrs: list[Attrs] = []
        position = 0
        for match in [*_SGR.finditer(line), None]:
            stop = match.start() if match else len(line)
            for char in line[position:stop]:
                if char in "\x0e\x0f":
                    acs = char == "\x0e"
                    continue
                if acs:
                    char = char.translate(VT100_MAP)
                if chars and _joins(char):
                    chars[-1] += char
                    continue
                chars.append(char)
                row_attrs.append((fg, bg, "".join(sorted(flags))))
            if match is None:
                break
            position = match.end()
            fg, bg, flags = _apply(match[1], fg, bg, flags)
        text, row_attrs = _trim(unicodedata.normalize("NFC", "".join(chars)), row_attrs)
        texts.append(text)
        attrs.append(row_attrs)
    while texts and not texts[-1]:
        texts.pop()
        attrs.pop()
    return Seen(texts, attrs, cursor)


def _ext_tokens(ext: str) -> str:
    """A cell's underline style and colour as the flags' tokens (see above)."""
    tokens = []
    for part in ext.split(";") if ext else ():
        if part.startswith("4:"):
            tokens.append("~" + part[2:])
        else:
            tokens.append("_" + part.replace("::", ":").replace(":", ";"))
    return "".join(sorted(tokens))


def _wide(cell) -> bool:
    return cell is not None and wcwidth(cell.data[:1]) == 2


def _joins(char: str) -> bool:
    return unicodedata.combining(char) > 0 or char in "\u200d\ufe0f\ufe0e"


def _apply(params: str, fg: str, bg: str, flags: set[str]) -> tuple[str, str, set[str]]:
    fields = params.split(";") if params else ["0"]
    flags = set(flags)
    for k, field in enumerate(fields):
        if field.startswith("4:"):  # underline styles: 4:0 off, 4:1 single, others "~N"
            style = field[2:]
            fields[k] = (
                "24" if style == "0" else f"4;S{style}" if style in ("2", "3", "4", "5") else "4"
            )
    fields = ";".join(fields).replace("::", ":").replace(":", ";").split(";")
    i = 0
    while i < len(fields):
        p = fields[i] or "0"
        if p == "0":
            fg, bg, flags = "", "", set()
        elif p[0] == "S":
            flags.add("~" + p[1:])
        elif p in ("4", "24", "21"):
            flags = {f for f in flags if f[0] != "~" and f != "4"}
            if p != "24":
                flags.add("4")
            if p == "21":
                flags.add("~2")
        elif p == "59":
            flags = {f for f in flags if f[0] != "_"}
        elif p in _FLAG_ON:
            flags.add(_FLAG_ON[p])
        elif p in _FLAG_OFF:
            flags -= set(_FLAG_OFF[p])
        elif p in ("38", "48", "58") and i + 1 < len(fields):
            if fields[i + 1] == "5":
                value = f"{p};5;{fields[i + 2]}"
                i += 2
            else:
                value = f"{p};2;{';'.join(fields[i + 2 : i + 5])}"
                i += 4
            if p == "38":
                fg = value
            elif p == "48":
                bg = value
            else:
                flags = {f for f in flags if f[0] != "_"} | {"_" + value}
        elif p == "39":
            fg = ""
        elif p == "49":
            bg = ""
        elif len(p) == 2 and p[0] in "39" or len(p) == 2 and p[0] == "4" or len(p) == 3:
            if p[0] in "39":
                fg = p
            else:
                bg = p
        i += 1
    return fg, bg, flags


def feed(data: bytes, cols: int, rows: int, chunk: int | None = None) -> PaneScreen:
    """A hexe pane screen fed ``data`` in one read, or in reads of ``chunk`` bytes."""
    screen = PaneScreen(cols, rows, scrollback=1000)
    if chunk is None:
        screen.feed(data)
    else:
        for i in range(0, len(data), chunk):
            screen.feed(data[i : i + chunk])
    return screen
