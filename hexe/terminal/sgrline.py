"""Lines of printable ASCII and SGR, as the line fast path reads them.

:meth:`~hexe.terminal.vt.VTScreen.draw_lines` gets whole lines a program
wrote (``cat`` of coloured output): one-cell characters and SGR sequences,
nothing else. Here such a line becomes its text and flat runs
(:func:`runs_of_line`), following the attributes as a ``(mask, fg, bg)``
state and each SGR as a cached effect on it
(:func:`~hexe.terminal.cells.sgr_effect`).

Most of those lines scroll off into scrollback within the same read, and
most of what scrollback holds is dropped unread. So a line that goes
straight there is kept *as written* (a raw line: the escape of the
attributes it started in, then the line), and made into its text and runs
only when it is read (:func:`line_parts`). Keeping it needs only the state
it leaves behind (:func:`state_after`: the SGRs after its last reset, most
lines end with one): no step for each SGR. An SGR the state cannot follow
(an underline style or colour) before that reset is taken the way cells
take it when the line is read; one after it gives the line to the cells.

A raw line always holds an ``ESC``; text never does, so the two cannot be
confused. Nothing here knows about rows, screens or scrollback.
"""

from __future__ import annotations

import re

from hexe.terminal.cells import (
    BLANK,
    FLAG_PREFIX,
    SGR_EFFECTS,
    TRUE_COLOUR,
    NotInLinePath,
    apply_sgr,
    attrs_of,
    sgr_effect,
    sgr_escape,
)

#: An SGR in a line: a lone true colour (group 1) apart from the others (group 2).
SGR_IN_LINE = re.compile(rf"\x1b\[(?:({TRUE_COLOUR})|([0-9;]*))m")
#: Any SGR the line path reads (a line's text is what is left without them).
SGR = re.compile(r"\x1b\[[0-9;]*m")
#: A line is kept as written only while it has at most this many characters
#: for each column of the screen: a true colour for every character takes
#: about 20. Past that (a hostile pane: thousands of SGRs that change nothing
#: between two letters) it is made into runs at once, which hold at most one
#: escape for each column, so a raw line never costs more memory than that.
RAW_PER_COLUMN = 24


def runs_of_line(
    line: str, mask: int, fg: str, bg: str, escape: str
) -> tuple[str, list, int, str, str, str]:
    """``line`` (one-cell characters and SGR) drawn from the state ``(mask, fg,
    bg)`` whose escape is ``escape``: its text, its flat runs ``[escape,
    length, …]`` (adjacent escapes differ), and the state and escape after it.

    Raises :class:`~hexe.terminal.cells.NotInLinePath` for an SGR the state
    cannot follow (an underline style or colour).
    """
    if "\x1b" not in line:
        return line, [escape, len(line)] if line else [], mask, fg, bg, escape
    effects = SGR_EFFECTS
    prefix = FLAG_PREFIX
    # text, then for each SGR: its parameters if a lone true colour (else
    # None), its parameters if not (else None), the text after it
    parts = SGR_IN_LINE.split(line)
    it = iter(parts)
    text = next(it)
    if text:
        runs: list = [escape, len(text)]
        last = escape  # the escape of the last run
    else:
        runs = []
        last = None
    for true_colour, params, text in zip(it, it, it, strict=True):
        if true_colour is None:
            keep, on, new_fg, new_bg = effects.get(params) or sgr_effect(params)
            mask = mask & keep | on
            if new_fg is not None:
                fg = new_fg
            if new_bg is not None:
                bg = new_bg
        elif true_colour[0] == "3":
            fg = ";" + true_colour
        else:
            bg = ";" + true_colour
        if text:
            escape = f"{prefix[mask]}{fg}{bg}m" if mask or fg or bg else ""
            if escape == last:
                runs[-1] += len(text)
            else:
                runs += (escape, len(text))
                last = escape
    if not text:  # the line ends with an SGR: the next starts with it
        escape = f"{prefix[mask]}{fg}{bg}m" if mask or fg or bg else ""
    return "".join(parts[::3]), runs, mask, fg, bg, escape


def state_after(line: str, mask: int, fg: str, bg: str) -> tuple[int, str, str]:
    """The state after ``line`` (one-cell characters and SGR) drawn from
    ``(mask, fg, bg)``: only the SGRs after its last reset (``ESC [0m`` or
    ``ESC [m``) are read, so a line that ends with one costs two searches.
    Raises :class:`~hexe.terminal.cells.NotInLinePath` for an SGR after it
    that the state cannot follow (one before it is forgotten at the reset)."""
    full = line.rfind("\x1b[0m")
    short = line.rfind("\x1b[m")
    if full > short:
        start = full + 4
    elif short >= 0:
        start = short + 3
    else:
        start = 0
    if start:
        mask, fg, bg = 0, "", ""
    if line.find("\x1b", start) < 0:
        return mask, fg, bg
    effects = SGR_EFFECTS
    for true_colour, params in SGR_IN_LINE.findall(line, start):
        if true_colour:
            if true_colour[0] == "3":
                fg = ";" + true_colour
            else:
                bg = ";" + true_colour
        else:
            keep, on, new_fg, new_bg = effects.get(params) or sgr_effect(params)
            mask = mask & keep | on
            if new_fg is not None:
                fg = new_fg
            if new_bg is not None:
                bg = new_bg
    return mask, fg, bg


def line_parts(raw: str) -> tuple[str, list]:
    """The text and flat runs of a line kept as written (it starts in the
    default attributes; see the module docstring)."""
    try:
        text, runs, *_ = runs_of_line(raw, 0, "", "", "")
    except NotInLinePath:  # before a reset: the attributes of cells
        return _cell_parts(raw)
    return text, runs


def _cell_parts(raw: str) -> tuple[str, list]:
    """:func:`line_parts` the way cells take the SGRs, one at a time
    (:func:`~hexe.terminal.cells.apply_sgr`), which follows them all: the
    runs :func:`~hexe.terminal.lines.compact` finds in the cells drawn."""
    parts = SGR_IN_LINE.split(raw)
    it = iter(parts)
    text = next(it)
    attrs = BLANK
    runs: list = ["", len(text)] if text else []
    for true_colour, params, text in zip(it, it, it, strict=True):
        attrs = apply_sgr(attrs, true_colour or params)
        if text:
            escape = sgr_escape(attrs_of(attrs))
            if runs and runs[-2] == escape:
                runs[-1] += len(text)
            else:
                runs += (escape, len(text))
    return "".join(parts[::3]), runs
