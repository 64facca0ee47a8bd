"""Escape-sequence parsing: decoded PTY output -> calls on a :class:`~hexe.terminal.vt.VTScreen`.

This replaces pyte's ``Stream``, which reads one character at a time through a
generator and misreads sequences real programs send: ``CSI > 4 ; 2 m`` (vim's
modifyOtherKeys) becomes SGR underline, a DCS query (neovim's XTGETTCAP) and
``CSI 4:3 m`` are printed as text, ``ESC ( 0`` line drawing is ignored.

Here one regular expression finds the next token: a run of printable text
(drawn in one call), a CSI, OSC, string (DCS/APC/PM/SOS, skipped), a
two-character escape, or a control. Where the screen allows it, whole lines
(printable ASCII and SGR, each ended by CR LF) are drawn a batch at a time,
and lines of printable ASCII alone (``cat`` of a log) by a leaner call still;
the start of a line cut by the end of a read goes with them, and the screen
continues it when the rest arrives. A sequence cut by the end of a read is
kept until the next one. The grammar
is ECMA-48's: CSI is parameters ``0x30-0x3F`` (a leading ``? > = <`` selects
the private variants), intermediates ``0x20-0x2F``, a final ``0x40-0x7E``.

Nothing here holds screen state; the parser can be put in front of any object
with the :class:`VTScreen` method names.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"(?P<text>[^\x00-\x1f\x7f-\x9f]+)"
    r"|(?P<ctl>\r\n|[\x00-\x1a\x1c-\x1f\x7f-\x9f])"
    r"|\x1b\[(?P<csi>[\x30-\x3f\x08-\x0d]*)(?P<csi_i>[\x20-\x2f]*)(?P<csi_f>[\x40-\x7e])"
    r"|\x1b\](?P<osc>[^\x07\x1b\x9c]*)(?:\x07|\x9c|\x1b\\|(?=\x1b[^\\]))"
    r"|(?P<string>\x1b[P_^X][^\x1b\x9c]*(?:\x1b\x1b[^\x1b\x9c]*)*"
    r"(?:\x1b\\|\x9c|(?=\x1b[^\\\x1b])))"
    r"|\x1b(?![\[\]P_^X])(?P<esc_i>[\x20-\x2f]*)(?P<esc_f>[\x30-\x7e])"
)

# Whole lines of printable ASCII and SGR, each ended by CR LF: what `cat` of a
# log gives. When the screen allows it, they are drawn in one call.
LINES_POSSESSIVE = r"(?:(?:[\x20-\x7e]++|\x1b\[[0-9;]*+m)*+\r\n)++"
# The start of a line of the same (possibly empty): one cut by the end of a read.
TAIL_POSSESSIVE = r"(?:[\x20-\x7e]++|\x1b\[[0-9;]*+m)*+"
# The same with atomic groups: CPython 3.11.0 to 3.11.2 (Debian 12's) match
# possessive quantifiers inside a possessive repetition wrongly (``abc\x1b[5``
# gave 5, not 3: a cut escape sequence drawn as text). These give the same
# matches there, and are used where the possessive forms fail a check (they
# cost a few times more on SGR-heavy lines, so only there).
LINES_ATOMIC = r"(?>(?:(?>(?:(?>[\x20-\x7e]+)|(?>\x1b\[[0-9;]*)m)*)\r\n)+)"
TAIL_ATOMIC = r"(?>(?:(?>[\x20-\x7e]+)|(?>\x1b\[[0-9;]*)m)*)"


def possessive_ok() -> bool:
    """Whether this Python's ``re`` matches the possessive forms right."""
    tail = re.compile(TAIL_POSSESSIVE)
    return all(
        tail.match(text).end() == end  # type: ignore[union-attr]
        for text, end in (("abc\x1b[5", 3), ("ab\x1b[1mcd\x1b[", 8), ("\x1b[5;1H", 0))
    )


_POSSESSIVE = possessive_ok()
_LINES = re.compile(LINES_POSSESSIVE if _POSSESSIVE else LINES_ATOMIC)
_TAIL = re.compile(TAIL_POSSESSIVE if _POSSESSIVE else TAIL_ATOMIC)

# The characters a line of plain text holds (``bytes.translate`` deletes them:
# what is left of a run of such lines is its CR LF pairs).
_PRINTABLE = bytes(range(0x20, 0x7F))

# What may still become a sequence once more bytes arrive.
_PARTIAL = re.compile(
    r"\x1b(?:\[[\x08-\x0d\x20-\x3f]*"
    r"|\][^\x07\x1b\x9c]*\x1b?"
    r"|[P_^X][^\x1b\x9c]*(?:\x1b\x1b[^\x1b\x9c]*)*\x1b?"
    r"|[\x20-\x2f]*)?\Z"
)

# A CSI broken by a character it may not hold: dropped up to that character.
_BROKEN_CSI = re.compile(r"\x1b\[[\x08-\x0d\x20-\x3f]*[\x40-\x7e]?")

_UNPRINTABLE_IN_TITLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: A sequence still open after this many characters is dropped (a runaway OSC).
PENDING_LIMIT = 4 << 10
#: Where a sequence too long to keep ends: a CSI at its final byte, a string
#: (OSC, DCS, SOS, PM, APC) at BEL or ST. Its rest is skipped, read by read.
_SKIP_END = {
    "csi": re.compile(r"[\x40-\x7e]"),
    "string": re.compile(r"\x07|\x1b\\|\x9c"),
}
TITLE_LIMIT = 1024
#: An OSC 52 (clipboard) longer than PENDING_LIMIT is gathered read by read, up
#: to this many characters of body (1 MiB of decoded text in base64, plus its
#: selection); a longer one is dropped whole. Each read costs its own length.
OSC52_LIMIT = 4 * ((1 << 20) + 2) // 3 + 16
_OSC52_END = re.compile(r"\x07|\x9c|\x1b")
PARAMETER_LIMIT = 65535


def _arity(handler: Callable[..., Any]) -> int:
    """How many positional parameters ``handler`` takes (a large number for
    ``*args``); asked once per screen class (:func:`_tables`)."""
    count = 0
    for parameter in inspect.signature(handler).parameters.values():
        if parameter.kind == parameter.VAR_POSITIONAL:
            return PARAMETER_LIMIT
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


_ENDS_WITH_SGR = re.compile(r"\x1b\[[0-9;]*m\Z")


def _last_printed(data: str, position: int, tail: int) -> str:
    """What REP may repeat after the lines up to ``position`` and the line
    start up to ``tail`` were drawn: the last character, unless a CR LF or
    an SGR came after it."""
    if tail == position or _ENDS_WITH_SGR.search(data, position, tail):
        return ""
    return data[tail - 1]


_TABLES: dict[type, tuple[dict, dict, dict, dict]] = {}


def _carriage_return_linefeed(screen: Any) -> None:
    screen.carriage_return()
    screen.linefeed()


def _tables(S: type) -> tuple[dict, dict, dict, dict]:
    """The controls, two-character escapes, CSI handlers and their arities of
    screens of class ``S``, made once: each handler is called with the screen first."""
    found = _TABLES.get(S)
    if found is not None:
        return found
    controls: dict[str, Callable[..., Any]] = {
        "\x07": S.bell,
        "\x08": S.backspace,
        "\x09": S.tab,
        "\x0a": S.linefeed,
        "\x0b": S.linefeed,
        "\x0c": S.linefeed,
        "\x0d": S.carriage_return,
        "\x0e": S.shift_out,
        "\x0f": S.shift_in,
        "\r\n": _carriage_return_linefeed,
    }
    escapes: dict[str, Callable[..., Any]] = {
        "7": S.save_cursor,
        "8": S.restore_cursor,
        "D": S.index,
        "E": S.next_line,
        "M": S.reverse_index,
        "H": S.set_tab_stop,
        "c": S.reset,
        "Z": S.report_device_attributes,
        "=": lambda s: setattr(s, "application_keypad", True),
        ">": lambda s: setattr(s, "application_keypad", False),
    }
    csi: dict[str, Callable[..., Any]] = {
        "@": S.insert_characters,
        "A": S.cursor_up,
        "B": S.cursor_down,
        "C": S.cursor_forward,
        "D": S.cursor_back,
        "E": S.cursor_down1,
        "F": S.cursor_up1,
        "G": S.cursor_to_column,
        "H": S.cursor_position,
        "I": S.tab_forward,
        "J": S.erase_in_display,
        "K": S.erase_in_line,
        "L": S.insert_lines,
        "M": S.delete_lines,
        "P": S.delete_characters,
        "S": S.scroll_up,
        "T": lambda s, *a: s.scroll_down(*a) if len(a) <= 1 else None,  # 5 params: mouse
        "X": S.erase_characters,
        "Z": S.tab_backward,
        "`": S.cursor_to_column,
        "a": S.cursor_forward,
        "b": S.repeat,
        "c": S.report_device_attributes,
        "d": S.cursor_to_line,
        "e": S.cursor_down,
        "f": S.cursor_position,
        "g": S.clear_tab_stop,
        "h": S.set_mode,
        "l": S.reset_mode,
        "n": S.report_device_status,
        "r": S.set_margins,
        "s": lambda s, *a: None if a else s.save_cursor(),  # with params: DECSLRM
        "u": lambda s, *a: None if a else s.restore_cursor(),
        "t": S.window_operation,
        "?h": lambda s, *a: s.set_mode(*a, private=True),
        "?l": lambda s, *a: s.reset_mode(*a, private=True),
        "?J": S.erase_in_display,
        "?K": S.erase_in_line,
        "?n": lambda s, *a: s.report_device_status(*a[:1], private=True),
        "?$p": lambda s, *a: s.request_mode(*a[:1], private=True),
        "$p": lambda s, *a: s.request_mode(*a[:1]),
        ">c": S.report_secondary_attributes,
        ">q": S.report_version,
        "*y": S.request_checksum,
        " q": S.set_cursor_style,
        "!p": S.soft_reset,
    }

    # Extra parameters are dropped (xterm ignores them; pyte would raise);
    # the arity counts the screen, which every handler takes first.
    arity = {key: _arity(handler) - 1 for key, handler in csi.items()}
    found = _TABLES[S] = (controls, escapes, csi, arity)
    return found


class Parser:
    """Feed it text (already decoded from UTF-8); it calls the screen's methods."""

    def __init__(self, screen: Any) -> None:
        self.screen = screen
        self.pending = ""
        #: a sequence that outgrew PENDING_LIMIT is being skipped: "csi" or "string"
        self.skipping: str | None = None
        #: Draw runs of whole lines in one call when the screen can (see
        #: ``VTScreen.draw_lines``); off, every character goes the slow way.
        self.fast_lines = hasattr(screen, "draw_lines")
        #: Runs of whole lines of printable ASCII alone (no escape at all) go
        #: to ``VTScreen.draw_plain_lines``; off, to ``draw_lines`` like others.
        self.plain_lines = hasattr(screen, "draw_plain_lines")
        #: A line cut by the end of the data (or by a sequence cut there) goes
        #: to those calls too, as their ``tail``: the screen continues it
        #: with the next data. Off, it is drawn the slow way.
        self.line_tails = self.fast_lines
        #: ``on_osc(code, text)``: OSC 52 (clipboard) and 133 (shell marks) go
        #: there (the screen facade sets it); None: they are ignored.
        self.on_osc: Callable[[str, str], Any] | None = None
        #: the pieces of a long OSC 52 gathered so far (``skipping == "osc52"``)
        self.osc52: list[str] = []
        self.osc52_size = 0
        # the dispatch tables of this screen's class, made once for every pane:
        # each handler takes the screen first (a pane's own bound methods were
        # ~9 KiB of every pane's memory)
        self.controls, self.escapes, self.csi, self.csi_arity = _tables(type(screen))

    def feed(self, data: str) -> None:
        if self.skipping is not None and self.skipping.startswith("osc52"):
            data = self._gather_osc52(data)
            if self.skipping is not None or not data:
                return
        if self.skipping is not None:
            if self.skipping == "string" and self.pending == "\x1b" and data[:1] == "\\":
                found = None  # the ST was cut between two reads: it ends here
                data = data[1:]
            else:
                found = _SKIP_END[self.skipping].search(data)
                if found is None:
                    # still inside it: each read costs its own length only
                    self.pending = "\x1b" if data.endswith("\x1b") else ""
                    return
                data = data[found.end() :]
            self.skipping = None
            self.pending = ""
        if self.pending:
            data = self.pending + data
            self.pending = ""
        match = _TOKEN.match
        screen = self.screen
        draw = screen.draw
        controls = self.controls
        position = 0
        end = len(data)
        fast = self.fast_lines
        lines = fast and screen.can_draw_lines()
        slow_until = 0  # no line path before this position (see below)
        plain = self.plain_lines
        while position < end:
            if lines:
                lines = False
                if plain:
                    stop = data.find("\x1b", position)
                    if stop != position:  # else the line starts with an escape: cheap to see
                        found = self._plain_lines(data, position, end if stop < 0 else stop)
                        if found:
                            position = found
                            lines = screen.can_draw_lines()
                            continue
                        # Not plain text: not looked for again in this call, so
                        # that looking costs at most one pass over the data.
                        plain = False
                run = _LINES.match(data, position)
                start = position
                if run is not None:
                    position = run.end()
                tail = self._tail(data, position) if self.line_tails else position
                if tail > position or run is not None:
                    drawn = screen.draw_lines(
                        data[start : position - 2].split("\r\n") if run is not None else [],
                        data[position:tail] if tail > position else None,
                    )
                    if drawn is not False:
                        screen.last_char = _last_printed(data, position, tail)
                        position = tail
                        continue
                    # an SGR only cells can follow (an underline style or
                    # colour): what was looked at goes the character way, so
                    # that looking costs at most one pass over the data
                    slow_until = tail
                    position = start
            token = match(data, position)
            if token is None:  # ESC that starts no complete sequence
                if _PARTIAL.match(data, position):
                    if end - position <= PENDING_LIMIT:
                        self.pending = data[position:]
                    else:
                        # kept whole, every later read would copy and rescan it:
                        # quadratic in small reads. Drop it, skip to its end.
                        csi = data[position + 1 : position + 2] == "["
                        if data.startswith("\x1b]52;", position) and self.on_osc is not None:
                            self.skipping = "osc52"
                            self.osc52, self.osc52_size = [], 0
                            self._gather_osc52(data[position + 2 :])
                            return
                        self.skipping = "csi" if csi else "string"
                        if self.skipping == "string" and data.endswith("\x1b"):
                            self.pending = "\x1b"  # perhaps the start of its ST
                    return
                broken = _BROKEN_CSI.match(data, position)
                position = broken.end() if broken else position + 1
                continue
            kind = token.lastgroup
            if kind == "text":
                draw(token[0])
            elif kind == "ctl":
                # REP repeats only a character printed right before it (tmux)
                screen.last_char = ""
                control = controls.get(token[0])
                if control is not None:
                    control(screen)
                    lines = fast and token.end() >= slow_until and screen.can_draw_lines()
            elif kind == "csi_f":
                if token["csi_f"] != "b":
                    screen.last_char = ""
                self._csi(token["csi"], token["csi_i"], token["csi_f"])
            elif kind == "osc":
                screen.last_char = ""
                self._osc(token["osc"])
            elif kind == "esc_f":
                screen.last_char = ""
                self._escape(token["esc_i"], token["esc_f"])
            position = token.end()

    def _plain_lines(self, data: str, position: int, stop: int) -> int:
        """Draw the whole lines from ``position`` to the last CR LF before ``stop``
        (no escape in between) with ``draw_plain_lines``, if they hold printable
        ASCII only, and what follows as their tail if it is the same up to the
        end of the data: where they end, or 0 if they were not drawn."""
        last = data.rfind("\r\n", position, stop)
        if last < 0:
            return 0
        block = data[position:last]
        if not block.isascii():
            return 0
        texts = block.split("\r\n")
        # Everything but the CR LF pairs between the lines is printable: no
        # control (or escape) in a line.
        if len(block.encode().translate(None, _PRINTABLE)) != 2 * len(texts) - 2:
            return 0
        end = last + 2
        tail = None
        if stop == len(data) and self.line_tails:
            rest = data[end:stop]
            if rest and rest.isascii() and rest.isprintable():
                tail = rest
                end = stop
        self.screen.draw_plain_lines(texts, tail)
        self.screen.last_char = tail[-1] if tail else ""
        return end

    @staticmethod
    def _tail(data: str, position: int) -> int:
        """Where the start of a line (printable ASCII and SGR) from
        ``position`` ends, if the data ends there or with a sequence that may
        still be completed; else ``position``."""
        stop = _TAIL.match(data, position).end()
        if stop == len(data) or (stop > position and _PARTIAL.match(data, stop)):
            return stop
        return position

    def _csi(self, params: str, intermediates: str, final: str) -> None:
        if not params.isprintable():
            # C0 controls inside a CSI act as if they came before it.
            for char in params:
                if char < " ":
                    control = self.controls.get(char)
                    if control is not None:
                        control(self.screen)
            params = "".join(char for char in params if char >= " ")
        prefix = ""
        if params and params[0] in "<=>?":
            prefix = params[0]
            params = params[1:]
        if final == "m" and not prefix and not intermediates:
            self.screen.sgr(params)
            return
        key = prefix + intermediates + final
        handler = self.csi.get(key)
        if handler is None:
            return
        if params:
            try:
                args = [min(int(p), PARAMETER_LIMIT) if p else 0 for p in params.split(";")]
            except ValueError:  # sub-parameters or a stray marker: not for us
                return
            handler(self.screen, *args[: self.csi_arity[key]])
        else:
            handler(self.screen)

    def _gather_osc52(self, data: str) -> str:
        """Add a read to a long OSC 52; at its end, hand it over and return
        what follows it. Past :data:`OSC52_LIMIT` the rest is skipped."""
        if self.pending == "\x1b":  # an ESC ended the last read
            self.pending = ""
            if data[:1] == "\\":
                data = data[1:]  # ... and this is its ST
            else:
                data = "\x1b" + data  # ESC of another sequence: it ends the OSC
            end = start = 0
        else:
            found = _OSC52_END.search(data)
            if found is None:
                self._add_osc52(data)
                return ""
            start = found.start()
            end = found.end()
            if found[0] == "\x1b":
                if end == len(data):
                    self._add_osc52(data[:start])
                    self.pending = "\x1b"
                    return ""
                if data[end] == "\\":
                    end += 1
                else:
                    end = start  # ESC starts what comes next
        self._add_osc52(data[:start])
        if self.skipping == "osc52":
            body = "".join(self.osc52)
            self._osc(body)
        self.skipping = None
        self.osc52, self.osc52_size = [], 0
        return data[end:]

    def _add_osc52(self, piece: str) -> None:
        if self.skipping != "osc52":
            return  # too long: being skipped
        self.osc52_size += len(piece)
        if self.osc52_size > OSC52_LIMIT:
            self.skipping = "osc52-dropped"
            self.osc52 = []
            if self.on_osc is not None:
                self.on_osc("52", "")  # empty: one too long, dropped
            return
        self.osc52.append(piece)

    def _osc(self, body: str) -> None:
        code, _, text = body.partition(";")
        if code in ("52", "133"):
            if self.on_osc is not None:
                self.on_osc(code, text)
            return
        if code in ("0", "1", "2"):
            text = _UNPRINTABLE_IN_TITLE.sub("", text)[:TITLE_LIMIT]
            if code in ("0", "1"):
                self.screen.set_icon_name(text)
            if code in ("0", "2"):
                self.screen.set_title(text)
        elif code == "8":
            hyperlink = getattr(self.screen, "hyperlink", None)
            if hyperlink is not None:
                hyperlink(text)

    def _escape(self, intermediates: str, final: str) -> None:
        if not intermediates:
            handler = self.escapes.get(final)
            if handler is not None:
                handler(self.screen)
        elif intermediates == "#" and final == "8":
            self.screen.alignment_display()
        elif intermediates in ("(", ")"):
            self.screen.define_charset(final, intermediates)
