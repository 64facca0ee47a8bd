"""Character cells and their attributes: parsing SGR into a cell, and back into SGR.

A :class:`Cell` is what one column of a screen row holds. Its first nine fields
are those of ``pyte.screens.Char`` (pyte's own methods ``_replace`` them by
name); ``dim`` and ``hidden`` are added, and ``ext`` and ``link``: the
underline style and colour (``"4:3"`` curly, ``"58:5:196"``, both as
``"4:3;58:5:196"``: SGR sub-parameters as the outer terminal is sent them;
``""`` for none) and the number of an OSC 8 hyperlink in the pane's
:class:`~hexe.terminal.links.Links` (0 for none). Most text has neither, and
the paths that draw it fast (:func:`sgr_effect`) leave them to the cells.
Colours are kept as the SGR parameters that set them, not as names or RGB:
``"31"``, ``"91"``, ``"38;5;196"``, ``"38;2;1;2;3"`` (and ``"4…"``/``"10…"``/
``"48;…"`` for the background), or ``"default"``. So a 256-colour index stays
an index (the user's palette still applies) and rendering back to SGR is a join.

Cells are immutable and shared: the screen interns attribute sets and the
glyphs drawn with them, so a screen full of text holds few distinct objects.
Nothing here knows about rows, scrolling or the PTY.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import NamedTuple


class Cell(NamedTuple):
    """One styled character: ``data`` is one character plus any zero-width ones
    combined with it, ``""`` for the right half of a wide character."""

    data: str
    fg: str = "default"
    bg: str = "default"
    bold: bool = False
    italics: bool = False
    underscore: bool = False
    strikethrough: bool = False
    reverse: bool = False
    blink: bool = False
    dim: bool = False
    hidden: bool = False
    ext: str = ""
    link: int = 0


#: The attributes of a cell, without its character: the key runs are grouped by.
attrs_of = itemgetter(slice(1, None))
data_of = itemgetter(0)

BLANK = Cell(" ")
DEFAULT_ATTRS = attrs_of(BLANK)

# Index of each field in a Cell, for building one from a list.
(_FG, _BG, _BOLD, _ITALICS, _UNDERSCORE, _STRIKE, _REVERSE, _BLINK, _DIM, _HIDDEN, _EXT, _LINK) = (
    range(1, 13)
)

#: Where a run's escape names its link (``Cell.link``): ``LINK_MARK + "12;" + ST``
#: after the SGR. Rendering replaces it with the link's own OSC 8, and finds
#: it by its NUL (one ``memchr`` a row; text never holds a control). Were it
#: written as it is, a terminal would ignore the NUL and read an OSC 8 with
#: an empty URI, which ends a link.
LINK_MARK = "\x00\x1b]8;hexe="

_FLAGS_ON = {
    1: _BOLD,
    2: _DIM,
    3: _ITALICS,
    4: _UNDERSCORE,
    5: _BLINK,
    6: _BLINK,
    7: _REVERSE,
    8: _HIDDEN,
    9: _STRIKE,
}
_FLAGS_OFF = {
    23: (_ITALICS,),
    24: (_UNDERSCORE,),
    25: (_BLINK,),
    27: (_REVERSE,),
    28: (_HIDDEN,),
    29: (_STRIKE,),
    22: (_BOLD, _DIM),
}

_CACHE_LIMIT = 4096
_GLYPHS_LIMIT = 65536
_new_cell = tuple.__new__


class Glyphs(dict):
    """Character -> Cell for one set of attributes, filled as characters appear,
    so every ``a`` drawn in the same colours is the same object."""

    __slots__ = ("attrs", "_rest")

    def __init__(self, attrs: Cell) -> None:
        super().__init__()
        self.attrs = attrs
        self._rest = tuple(attrs[1:])
        self[attrs.data] = attrs

    def __missing__(self, char: str) -> Cell:
        if len(self) >= _GLYPHS_LIMIT:
            self.clear()
            self[self.attrs.data] = self.attrs
        cell = self[char] = _new_cell(Cell, (char, *self._rest))
        return cell


def _extended_colour(base: str, fields: list[str]) -> str | None:
    """``38``/``48`` followed by ``5;N`` or ``2;R;G;B`` (fields after the base)."""
    try:
        kind = int(fields[0] or 0)
        if kind == 5:
            index = int(fields[1] or 0)
            if 0 <= index <= 255:
                return f"{base};5;{index}"
        elif kind == 2:
            red, green, blue = (int(f or 0) for f in fields[1:4])
            if len(fields) >= 4 and all(0 <= c <= 255 for c in (red, green, blue)):
                return f"{base};2;{red};{green};{blue}"
    except (IndexError, ValueError):
        pass
    return None


def _underline_colour(fields: list[str]) -> str | None:
    """``58`` followed by ``5;N`` or ``2;R;G;B``, as it is kept (and sent):
    ``58:5:N`` or ``58:2::R:G:B`` (sub-parameters, which a terminal that does
    not know 58 skips whole; ``58;5;N`` would make it blink)."""
    colour = _extended_colour("58", fields)
    if colour is None:
        return None
    parts = colour.split(";")
    return f"58:5:{parts[2]}" if parts[1] == "5" else "58:2::" + ":".join(parts[2:])


def _set_ext(values: list, style: str | None = None, colour: str | None = None) -> None:
    """Change the underline style (``"4:N"``) and/or colour (``"58:…"``) in
    ``values[_EXT]``: None leaves one as it is, ``""`` clears it."""
    ext = values[_EXT]
    old_style, old_colour = "", ext
    if ext.startswith("4:"):
        old_style, _, old_colour = ext.partition(";")
    style = old_style if style is None else style
    colour = old_colour if colour is None else colour
    values[_EXT] = f"{style};{colour}" if style and colour else style or colour


def _apply(attrs: Cell, params: str, reset: Cell) -> Cell:
    if not params:
        return reset if not attrs[_LINK] else reset._replace(link=attrs[_LINK])
    values = list(attrs)
    fields = params.split(";")
    i = 0
    count = len(fields)
    while i < count:
        field = fields[i]
        i += 1
        if ":" in field:
            # ITU T.416 sub-parameters: 38:5:N, 38:2:[colourspace:]R:G:B, 4:3 (curly) ...
            sub = field.split(":")
            head = sub[0]
            if head in ("38", "48", "58"):
                rest = sub[1:]
                if rest and rest[0] == "2" and len(rest) >= 5:
                    rest = [rest[0], *rest[2:5]]  # drop the colour space id
                if head == "58":
                    underline = _underline_colour(rest)
                    if underline is not None:
                        _set_ext(values, colour=underline)
                    continue
                colour = _extended_colour(head, rest)
                if colour is not None:
                    values[_FG if head == "38" else _BG] = colour
            elif head == "4":
                # 4:0 none, 4:1 single, 4:2 double, 4:3 curly, 4:4 dotted, 4:5 dashed
                style = sub[1]
                values[_UNDERSCORE] = style not in ("", "0")
                _set_ext(values, style=f"4:{style}" if style in ("2", "3", "4", "5") else "")
            continue  # unknown ones are ignored
        try:
            code = int(field) if field else 0
        except ValueError:
            continue
        if code == 0:
            values = list(reset)
            values[_LINK] = attrs[_LINK]  # a link ends with OSC 8, not SGR
        elif 30 <= code <= 37 or 90 <= code <= 97:
            values[_FG] = field.lstrip("0")
        elif 40 <= code <= 47 or 100 <= code <= 107:
            values[_BG] = field.lstrip("0")
        elif code == 39:
            values[_FG] = "default"
        elif code == 49:
            values[_BG] = "default"
        elif code == 4 or code == 24:
            values[_UNDERSCORE] = code == 4
            if values[_EXT]:
                _set_ext(values, style="")
        elif code == 21:  # double underline (xterm, tmux)
            values[_UNDERSCORE] = True
            _set_ext(values, style="4:2")
        elif code == 59:
            if values[_EXT]:
                _set_ext(values, colour="")
        elif code in _FLAGS_ON:
            values[_FLAGS_ON[code]] = True
        elif code in _FLAGS_OFF:
            for index in _FLAGS_OFF[code]:
                values[index] = False
        elif code in (38, 48, 58):
            # Semicolon form: 38;5;N or 38;2;R;G;B; consume the fields either way.
            kind = fields[i] if i < count else ""
            width = 2 if kind == "5" else 4 if kind == "2" else 1
            if code == 58:
                underline = _underline_colour(fields[i : i + width])
                if underline is not None:
                    _set_ext(values, colour=underline)
            else:
                colour = _extended_colour(str(code), fields[i : i + width])
                if colour is not None:
                    values[_FG if code == 38 else _BG] = colour
            i += width
    return Cell(*values)


def _one_colour(params: str) -> tuple[int, str] | None:
    """``38;5;N``, ``48;5;N``, ``38;2;R;G;B`` or ``48;2;R;G;B`` alone: the field
    it sets (``_FG`` or ``_BG``) and the colour as kept; None for anything else."""
    fields = params.split(";")
    count = len(fields)
    head = fields[0]
    if head not in ("38", "48") or count not in (3, 5):
        return None
    numbers = fields[2:]
    if not all(f.isascii() and f.isdigit() for f in numbers):
        return None
    values = [int(f) for f in numbers]
    if max(values) > 255:
        return None
    if count == 3 and fields[1] == "5":
        colour = f"{head};5;{values[0]}"
    elif count == 5 and fields[1] == "2":
        colour = f"{head};2;{values[0]};{values[1]};{values[2]}"
    else:
        return None
    return (_FG if head == "38" else _BG), colour


def _apply_one_colour(attrs: Cell, params: str) -> Cell | None:
    """A lone 256 or true colour SGR, quickly (colour-heavy output is mostly
    these, and too varied for the cache); None for anything else."""
    one = _one_colour(params)
    if one is None:
        return None
    cell = list(attrs)
    cell[one[0]] = one[1]
    return _new_cell(Cell, cell)


_sgr_cache: dict[tuple[Cell, str, Cell], Cell] = {}


def apply_sgr(attrs: Cell, params: str, reset: Cell = BLANK) -> Cell:
    """The attributes after ``CSI params m`` is applied to ``attrs``.

    ``params`` is the raw parameter string (``"1;38;5;196"``, ``"4:3"``, ``""``);
    ``reset`` is what ``0`` resets to (reverse under DECSCNM). Results are cached:
    colour-heavy output repeats the same few transitions.
    """
    key = (attrs, params, reset)
    result = _sgr_cache.get(key)
    if result is None:
        if len(_sgr_cache) >= _CACHE_LIMIT:
            _sgr_cache.clear()
        result = _apply_one_colour(attrs, params) or _apply(attrs, params, reset)
        _sgr_cache[key] = result
    return result


_escape_cache: dict[tuple, str] = {}


def sgr_escape(attrs: tuple) -> str:
    """The escape that sets ``attrs`` (an :data:`attrs_of` tuple) from scratch.

    ``""`` for the default attributes, else ``"\\x1b[0;…m"``: each run of a
    rendered row starts from a reset, so runs can be cut and joined freely.
    The underline style and colour follow the colours (``…;4:3;58:5:196m``);
    a link adds its :data:`LINK_MARK` after the SGR.
    """
    escape = _escape_cache.get(attrs)
    if escape is None:
        fg, bg, bold, italics, underscore, strike, reverse, blink, dim, hidden, ext, link = attrs
        params = ["0"]
        for on, code in (
            (bold, "1"),
            (dim, "2"),
            (italics, "3"),
            (underscore, "4"),
            (blink, "5"),
            (reverse, "7"),
            (hidden, "8"),
            (strike, "9"),
        ):
            if on:
                params.append(code)
        if fg != "default":
            params.append(fg)
        if bg != "default":
            params.append(bg)
        if ext:
            params.append(ext)
        escape = "" if len(params) == 1 else "\x1b[" + ";".join(params) + "m"
        if link:
            escape = f"{escape or RESET_SGR}{LINK_MARK}{link};\x1b\\"
        if len(_escape_cache) >= _CACHE_LIMIT:
            _escape_cache.clear()
        _escape_cache[attrs] = escape
    return escape


RESET_SGR = "\x1b[0m"


def link_of_escape(escape: str) -> int:
    """The link number an :func:`sgr_escape` result names, 0 for none."""
    at = escape.find(LINK_MARK)
    if at < 0:
        return 0
    start = at + len(LINK_MARK)
    return int(escape[start : escape.index(";", start)])


def attrs_from_escape(escape: str) -> Cell:
    """The blank cell an :func:`sgr_escape` result stands for (its inverse)."""
    if not escape:
        return BLANK
    return cell_of_escape(escape)


#: The cells of text in the default attributes, shared by every screen.
PLAIN_GLYPHS = Glyphs(BLANK)


# -- SGR as a state of three values, for the line fast path ----------------------------
#
# Whole lines going to scrollback need only the escape of each run of text, not
# cells. There, the attributes are kept as ``(mask, fg, bg)``: the flags as bits
# (in :func:`sgr_escape`'s order), each colour as ``";" + colour`` or ``""`` for
# the default. An SGR is then an *effect*: flags kept, flags set, a colour set
# or left alone. Whatever its parameters, every field an SGR changes it sets
# regardless of what was there (``_apply`` never reads the old values), so one
# effect per parameter string is exact.

_FLAG_FIELDS = (_BOLD, _DIM, _ITALICS, _UNDERSCORE, _BLINK, _REVERSE, _HIDDEN, _STRIKE)
_FLAG_CODES = ("1", "2", "3", "4", "5", "7", "8", "9")
ALL_FLAGS = (1 << len(_FLAG_FIELDS)) - 1
#: The start of the escape of each flag mask: ``"\x1b[0;1;4"`` for bold underline.
FLAG_PREFIX = tuple(
    "\x1b[0" + "".join(";" + code for bit, code in enumerate(_FLAG_CODES) if mask >> bit & 1)
    for mask in range(ALL_FLAGS + 1)
)

SgrEffect = tuple  # (flags kept, flags set, fg or None, bg or None)


class NotInLinePath(Exception):
    """An SGR the ``(mask, fg, bg)`` state cannot follow (an underline style or
    colour, ``21``, ``58``): the line path gives the line back to the cells."""


_UNSET = "\x00unset"
_PROBE_OFF = Cell(" ", _UNSET, _UNSET)
_PROBE_ON = Cell(" ", _UNSET, _UNSET, *([True] * 8))
_BYTE = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
#: A lone true colour exactly as _one_colour would write it back (no leading
#: zeros): such an SGR sets its colour to ``";" + params``.
TRUE_COLOUR = rf"[34]8;2;{_BYTE};{_BYTE};{_BYTE}"


class _Lazy:
    """A regular expression compiled at its first match, not at import: these
    two take ~2.5 ms to compile, on a new server's path to its first prompt,
    and a pane that prints no colour never needs them."""

    __slots__ = ("pattern", "compiled")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled: re.Pattern[str] | None = None

    def match(self, text: str) -> re.Match[str] | None:
        if self.compiled is None:
            self.compiled = re.compile(self.pattern)
        return self.compiled.match(text)


_CANONICAL_TRUE_COLOUR = _Lazy(TRUE_COLOUR + r"\Z")
# The parameters of an sgr_escape (a reset, flags in FLAG_PREFIX's order, a
# valid colour for fg and bg as kept): the whole state, set from scratch. The
# line path writes an unfinished row's runs back as these.
_FG_KEPT = rf"3[0-7]|9[0-7]|38;5;{_BYTE}|38;2;{_BYTE};{_BYTE};{_BYTE}"
_BG_KEPT = rf"4[0-7]|10[0-7]|48;5;{_BYTE}|48;2;{_BYTE};{_BYTE};{_BYTE}"
_ESCAPE_PARAMS = _Lazy(
    "0(" + "".join(f"(?:;{code})?" for code in _FLAG_CODES) + ")"
    rf"(;(?:{_FG_KEPT}))?(;(?:{_BG_KEPT}))?\Z"
)
_MASK_OF_FLAGS = {prefix[3:]: mask for mask, prefix in enumerate(FLAG_PREFIX)}
#: Parameter string -> effect, filled as they appear (not lone true colours:
#: too many, and quick to work out again).
SGR_EFFECTS: dict[str, SgrEffect] = {}


def sgr_effect(params: str) -> SgrEffect:
    """What ``CSI params m`` does to a ``(mask, fg, bg)`` state (reset: ``BLANK``).

    Raises :class:`NotInLinePath` for one that sets what the state does not
    hold (an underline style or colour)."""
    effect = SGR_EFFECTS.get(params)
    if effect is not None:
        return effect
    if _CANONICAL_TRUE_COLOUR.match(params):  # kept as it is written
        return (
            (ALL_FLAGS, 0, ";" + params, None)
            if params[0] == "3"
            else (ALL_FLAGS, 0, None, ";" + params)
        )
    whole = _ESCAPE_PARAMS.match(params)
    one = None if whole is not None else _one_colour(params)
    if whole is not None:  # as the line path writes an unfinished row back
        flags, fg, bg = whole.groups()
        fg = fg or ""
        bg = bg or ""
        effect = (0, _MASK_OF_FLAGS[flags], fg, bg)
        if fg[4:5] == "2" or bg[4:5] == "2":  # a true colour: too varied to cache
            return effect
    elif one is not None:
        field, colour = one
        if field == _FG:
            effect = (ALL_FLAGS, 0, ";" + colour, None)
        else:
            effect = (ALL_FLAGS, 0, None, ";" + colour)
        if colour[3] == "2":
            return effect
    else:
        # Apply it to two probes, one with every flag off and one with every
        # flag on, both with colours no SGR can set: what differs was kept.
        off = _apply(_PROBE_OFF, params, BLANK)
        on = _apply(_PROBE_ON, params, BLANK)
        if off[_EXT] or on[_EXT]:
            raise NotInLinePath(params)
        keep = set_ = 0
        for bit, field in enumerate(_FLAG_FIELDS):
            if off[field]:
                set_ |= 1 << bit
            elif on[field]:
                keep |= 1 << bit
        colours = []
        for field in (_FG, _BG):
            value = off[field]
            colours.append(None if value == _UNSET else "" if value == "default" else ";" + value)
        effect = (keep, set_, colours[0], colours[1])
    if len(SGR_EFFECTS) >= _CACHE_LIMIT:
        SGR_EFFECTS.clear()
    SGR_EFFECTS[params] = effect
    return effect


def state_of(attrs: Cell) -> tuple[int, str, str]:
    """The ``(mask, fg, bg)`` state of a cell's attributes."""
    mask = 0
    for bit, field in enumerate(_FLAG_FIELDS):
        if attrs[field]:
            mask |= 1 << bit
    fg, bg = attrs[_FG], attrs[_BG]
    return mask, "" if fg == "default" else ";" + fg, "" if bg == "default" else ";" + bg


def escape_of_state(mask: int, fg: str, bg: str) -> str:
    """:func:`sgr_escape` of a state: ``FLAG_PREFIX[mask] + fg + bg + "m"``, or ``""``."""
    if mask or fg or bg:
        return FLAG_PREFIX[mask] + fg + bg + "m"
    return ""


_cells_of_escapes: dict[str, Cell] = {"": BLANK}


def cell_of_escape(escape: str) -> Cell:
    """The blank cell with the attributes an :func:`sgr_escape` result sets, cached."""
    cell = _cells_of_escapes.get(escape)
    if cell is None:
        if len(_cells_of_escapes) >= _CACHE_LIMIT:
            _cells_of_escapes.clear()
            _cells_of_escapes[""] = BLANK
        link = link_of_escape(escape)
        if link:
            sgr = escape[: escape.index(LINK_MARK)]
            cell = _apply(BLANK, sgr[2:-1], BLANK)._replace(link=link)
        else:
            cell = _apply(BLANK, escape[2:-1], BLANK)
        _cells_of_escapes[escape] = cell
    return cell
