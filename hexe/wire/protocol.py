"""The wire between ``hexe mux`` (the client) and the server: length-prefixed binary frames.

A frame is one type byte, a 4-byte big-endian payload length, and the
payload. Terminal bytes travel as they are (they are not text); control
messages are JSON. The first frame each way is HELLO, carrying the protocol
version; a mismatch ends the connection with a BYE that says what to do.
A malformed or oversized frame ends that one connection only.
"""

from __future__ import annotations

import struct

from hexe import codec  # json's C functions without json's import (~8 ms)

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from typing import Any

PROTOCOL_VERSION = 2
HEADER = struct.Struct(">BI")
MAX_FRAME = 4 << 20

HELLO = 1  # both ways, JSON: {"version", "mode": "attach"|"command", "cols", "rows", "term",
#   "detach_others", and optional "features": ["switch"], "inside": session, "choose": true}
#   (only a JSON true "choose" opens the chooser) / {"version", "session", "server"};
#   a server ignores keys it does not know
INPUT = 2  # client -> server: bytes typed
RESIZE = 3  # client -> server: JSON {"cols", "rows"}
OUTPUT = 4  # server -> client: bytes to write to the terminal
BYE = 5  # both ways, JSON {"reason": "detached" | "exited" | ..., "message": "..."};
#   "reason": "switch" with "session": NAME (only to a client whose hello has the
#   "switch" feature): attach to NAME instead, in the same terminal
COMMAND = 6  # client -> server: JSON {"action": name, "args": [...], "pane": id or absent}
REPLY = 7  # server -> client: JSON {"ok": true, "result": ...} / {"ok": false, "error": "..."}

NAMES = {
    HELLO: "hello",
    INPUT: "input",
    RESIZE: "resize",
    OUTPUT: "output",
    BYE: "bye",
    COMMAND: "command",
    REPLY: "reply",
}


class ProtocolError(Exception):
    """The peer sent something that is not a frame of this protocol."""


def encode(kind: int, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def encode_json(kind: int, data: dict[str, Any]) -> bytes:
    return encode(kind, codec.dumps(data).encode())


class Frame:
    """One frame: its kind and payload (a plain class: ``dataclasses`` and what
    it imports cost a command line call ~7 ms)."""

    __slots__ = ("kind", "payload")

    def __init__(self, kind: int, payload: bytes) -> None:
        self.kind = kind
        self.payload = payload

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.kind, self.payload) == (other.kind, other.payload)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return f"Frame(kind={self.kind!r}, payload={self.payload!r})"

    def json(self) -> dict[str, Any]:
        try:
            data = codec.loads(self.payload)
        except ValueError as exc:
            raise ProtocolError(f"{NAMES.get(self.kind, self.kind)} frame is not JSON") from exc
        if not isinstance(data, dict):
            raise ProtocolError(f"{NAMES.get(self.kind, self.kind)} frame is not a JSON object")
        return data


class Decoder:
    """Accumulates bytes and yields whole frames."""

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self.buffer = bytearray()
        #: the largest frame accepted (a server keeps it small until the hello)
        self.limit = limit
        #: stop decoding after a frame of this kind (the server: after the hello,
        #: so the frames behind it are measured against the limit it then raises)
        self.hold_after: int | None = None

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= HEADER.size:
            kind, length = HEADER.unpack_from(self.buffer)
            if kind not in NAMES:
                raise ProtocolError(f"unknown frame type {kind}")
            if length > self.limit:
                raise ProtocolError(f"frame of {length} bytes is larger than {self.limit}")
            end = HEADER.size + length
            if len(self.buffer) < end:
                break
            frames.append(Frame(kind, bytes(self.buffer[HEADER.size : end])))
            del self.buffer[:end]
            if kind == self.hold_after:
                break
        return frames
