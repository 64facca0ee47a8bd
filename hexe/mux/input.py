"""Turning the bytes a terminal sends into keys, mouse events and pastes.

The multiplexer needs to recognise the prefix key, bound keys, mouse events
and bracketed pastes in the client's input, and pass everything else through
to the focused pane byte for byte. Key names are those of
:func:`hexe.commands.registry.parse_key` (``C-b``, ``M-Left``, ``%``), so a parsed key
can be looked up in the bindings directly. No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ESC = "\x1b"


@dataclass(frozen=True)
class Key:
    name: str
    raw: bytes


@dataclass(frozen=True)
class Mouse:
    """An SGR (1006) mouse event; x and y are 0-based."""

    button: int  # 0 left, 1 middle, 2 right; 64/65 wheel up/down; +32 motion
    x: int
    y: int
    pressed: bool
    mods: int
    raw: bytes

    @property
    def wheel(self) -> int:
        """-1 for wheel up, 1 for wheel down, 0 otherwise."""
        base = self.button & ~(4 | 8 | 16 | 32)
        return {64: -1, 65: 1}.get(base, 0)

    @property
    def motion(self) -> bool:
        return bool(self.button & 32)


@dataclass(frozen=True)
class Paste:
    """The text of a bracketed paste (without the markers)."""

    text: bytes


_CSI_KEYS = {
    "A": "Up",
    "B": "Down",
    "C": "Right",
    "D": "Left",
    "H": "Home",
    "F": "End",
    "Z": "BTab",
    "P": "F1",
    "Q": "F2",
    "R": "F3",
    "S": "F4",
}
_TILDE_KEYS = {
    1: "Home",
    2: "Insert",
    3: "Delete",
    4: "End",
    5: "PageUp",
    6: "PageDown",
    7: "Home",
    8: "End",
    11: "F1",
    12: "F2",
    13: "F3",
    14: "F4",
    15: "F5",
    17: "F6",
    18: "F7",
    19: "F8",
    20: "F9",
    21: "F10",
    23: "F11",
    24: "F12",
}
_SS3_KEYS = {k: v for k, v in _CSI_KEYS.items() if k != "Z"}  # ESC O A ... ESC O S
_CSI_RE = re.compile(rb"\x1b\[([0-9;<?]*)([\x40-\x7e])")
_PASTE_START = b"\x1b[200~"
_PASTE_END = b"\x1b[201~"


def _mods(param: int) -> str:
    """xterm modifier parameter (1 + shift + 2*alt + 4*ctrl) as a C-M-S- prefix."""
    bits = max(param - 1, 0)
    return ("C-" if bits & 4 else "") + ("M-" if bits & 2 else "") + ("S-" if bits & 1 else "")


def _control(byte: int) -> str:
    if byte == 0x09:
        return "Tab"
    if byte in (0x0D, 0x0A):
        return "Enter"
    if byte == 0x7F or byte == 0x08:
        return "BSpace"
    if byte == 0x00:
        return "C-Space"
    if byte == 0x1B:
        return "Escape"
    if 1 <= byte <= 26:
        return "C-" + chr(ord("a") + byte - 1)
    return "C-" + {0x1C: "\\", 0x1D: "]", 0x1E: "^", 0x1F: "_"}[byte]


class InputParser:
    """Splits client input into :class:`Key`, :class:`Mouse` and :class:`Paste` events.

    A sequence cut at the end of a chunk is kept until the next chunk; a lone
    ESC at the end of a chunk is the Escape key (terminals send a sequence in
    one write).
    """

    def __init__(self) -> None:
        self.pending = b""
        self.paste: bytearray | None = None

    def feed(self, data: bytes) -> list[Key | Mouse | Paste]:
        buf = self.pending + data
        self.pending = b""
        out: list[Key | Mouse | Paste] = []
        i = 0
        n = len(buf)
        while i < n:
            if self.paste is not None:
                end = buf.find(_PASTE_END, i)
                if end < 0:
                    keep = _partial_suffix(buf[i:], _PASTE_END)
                    self.paste += buf[i : n - keep]
                    self.pending = buf[n - keep :]
                    return out
                self.paste += buf[i:end]
                out.append(Paste(bytes(self.paste)))
                self.paste = None
                i = end + len(_PASTE_END)
                continue
            byte = buf[i]
            if byte == 0x1B:
                if i + 1 >= n:
                    out.append(Key("Escape", b"\x1b"))
                    i += 1
                    continue
                nxt = buf[i + 1]
                if nxt == ord("["):
                    if buf.startswith(_PASTE_START, i):
                        self.paste = bytearray()
                        i += len(_PASTE_START)
                        continue
                    m = _CSI_RE.match(buf, i)
                    if m is None:
                        if _incomplete_csi(buf[i:]):
                            self.pending = buf[i:]
                            return out
                        out.append(Key("M-[", buf[i : i + 2]))
                        i += 2
                        continue
                    out.append(self._csi(m.group(1), m.group(2), buf[m.start() : m.end()]))
                    i = m.end()
                    continue
                if nxt == ord("O"):
                    if i + 2 >= n:
                        self.pending = buf[i:]
                        return out
                    final = chr(buf[i + 2])
                    name = _SS3_KEYS.get(final)
                    raw = buf[i : i + 3]
                    out.append(Key(name, raw) if name else Key("M-O", raw[:2]))
                    i += 3 if name else 2
                    continue
                char, size = _char_at(buf, i + 1)
                if char is None:
                    if size == 0:
                        self.pending = buf[i:]
                        return out
                    i += 1 + size
                    continue
                raw = buf[i : i + 1 + size]
                inner = char if ord(char) >= 0x20 and char != "\x7f" else _control(ord(char))
                if inner.startswith("C-"):
                    out.append(Key("C-M-" + inner[2:], raw))
                else:
                    out.append(Key("M-" + inner, raw))
                i += 1 + size
                continue
            if byte < 0x20 or byte == 0x7F:
                out.append(Key(_control(byte), buf[i : i + 1]))
                i += 1
                continue
            char, size = _char_at(buf, i)
            if char is None:
                if size == 0:  # a UTF-8 sequence cut by the chunk
                    self.pending = buf[i:]
                    return out
                out.append(Key("\ufffd", buf[i : i + size]))
                i += size
                continue
            out.append(Key("Space" if char == " " else char, buf[i : i + size]))
            i += size
        return out

    def _csi(self, params: bytes, final: bytes, raw: bytes) -> Key | Mouse:
        text = params.decode("ascii", "replace")
        end = final.decode("ascii", "replace")
        if text.startswith("<") and end in "Mm":
            try:
                button, x, y = (int(p) for p in text[1:].split(";"))
            except ValueError:
                return Key("Unknown", raw)
            return Mouse(button, x - 1, y - 1, end == "M", (button >> 2) & 7, raw)
        parts = [int(p) if p.isdigit() else 0 for p in text.split(";")] if text else []
        if end == "~" and parts:
            name = _TILDE_KEYS.get(parts[0])
            if name:
                mods = _mods(parts[1]) if len(parts) > 1 else ""
                return Key(mods + name, raw)
            return Key("Unknown", raw)
        name = _CSI_KEYS.get(end)
        if name:
            mods = _mods(parts[1]) if len(parts) > 1 else ""
            return Key(mods + name, raw)
        return Key("Unknown", raw)


def _char_at(buf: bytes, i: int) -> tuple[str | None, int]:
    """Decode one UTF-8 character at ``i``: (char, size); (None, 0) if cut; (None, 1) if invalid."""
    first = buf[i]
    size = (
        1
        if first < 0x80
        else 2
        if first >> 5 == 0b110
        else 3
        if first >> 4 == 0b1110
        else (4 if first >> 3 == 0b11110 else 1)
    )
    if i + size > len(buf):
        return None, 0
    try:
        return buf[i : i + size].decode("utf-8"), size
    except UnicodeDecodeError:
        return None, 1


def _incomplete_csi(rest: bytes) -> bool:
    return all(0x20 <= b <= 0x3F for b in rest[2:]) and len(rest) < 32


def _partial_suffix(data: bytes, marker: bytes) -> int:
    """How many bytes at the end of ``data`` could start ``marker``."""
    for k in range(min(len(marker) - 1, len(data)), 0, -1):
        if marker.startswith(data[-k:]):
            return k
    return 0


def encode_mouse(event: Mouse, x: int, y: int, sgr: bool = True) -> bytes:
    """``event`` at pane-relative ``x``, ``y`` (0-based), as the pane asked for it.

    SGR (1006) when ``sgr``, else the legacy X10 form (``ESC [ M`` and three
    bytes), which cannot say which button was released nor reach past column
    or row 223: such events give ``b""``.
    """
    if sgr:
        final = "M" if event.pressed else "m"
        return f"\x1b[<{event.button};{x + 1};{y + 1}{final}".encode()
    if x > 222 or y > 222:
        return b""
    button = event.button if event.pressed else 3 | (event.button & ~3)
    return b"\x1b[M" + bytes([32 + button, 33 + x, 33 + y])


# -- the other way: key names to the bytes a terminal would send (send-keys) -----

_NAMED_BYTES = {
    "Enter": b"\r",
    "Tab": b"\t",
    "BTab": b"\x1b[Z",
    "Escape": b"\x1b",
    "Space": b" ",
    "BSpace": b"\x7f",
}
_CSI_FINAL = {name: final for final, name in _CSI_KEYS.items() if name not in ("BTab",)}
_TILDE_CODE = {
    name: code for code, name in sorted(_TILDE_KEYS.items(), reverse=True) if code not in (1, 4)
}
_CTRL_SYMBOLS = {"@": 0, " ": 0, "[": 0x1B, "\\": 0x1C, "]": 0x1D, "^": 0x1E, "_": 0x1F, "?": 0x7F}


def encode_key(name: str, app_cursor: bool = False) -> bytes:
    """The bytes for a key named as :func:`hexe.commands.registry.parse_key` names it
    (``C-c``, ``M-Up``).

    Arrow keys honour the pane's application-cursor mode; modified special
    keys use xterm's ``CSI 1;m X`` / ``CSI n;m ~`` forms.
    """
    mods = ""
    while len(name) > 2 and name[1] == "-" and name[0] in "CMS":
        mods += name[0]
        name = name[2:]
    param = 1 + ("S" in mods) + 2 * ("M" in mods) + 4 * ("C" in mods)
    if len(name) == 1:
        if "C" in mods:
            low = name.lower()
            if "a" <= low <= "z":
                data = bytes([ord(low) & 0x1F])
            elif name in _CTRL_SYMBOLS:
                data = bytes([_CTRL_SYMBOLS[name]])
            else:
                data = name.encode()
        else:
            data = (name.upper() if "S" in mods else name).encode()
        return b"\x1b" + data if "M" in mods else data
    if name == "Space" and "C" in mods:
        return b"\x1b\x00" if "M" in mods else b"\x00"
    if name in _NAMED_BYTES:
        data = _NAMED_BYTES[name]
        if name == "Tab" and "S" in mods:
            data = b"\x1b[Z"
        return b"\x1b" + data if "M" in mods else data
    if name in _CSI_FINAL:
        final = _CSI_FINAL[name]
        if param > 1:
            return f"\x1b[1;{param}{final}".encode()
        if final in "PQRS" or (app_cursor and final in "ABCDHF"):
            return f"\x1bO{final}".encode()
        return f"\x1b[{final}".encode()
    if name in _TILDE_CODE:
        code = _TILDE_CODE[name]
        return (f"\x1b[{code};{param}~" if param > 1 else f"\x1b[{code}~").encode()
    raise ValueError(f"{name!r} is not a key name")
