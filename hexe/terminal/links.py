"""Hyperlinks (OSC 8) of one pane: a bounded table of the links its program opened.

A program writes ``ESC ] 8 ; params ; URI ST`` to start a link and
``ESC ] 8 ; ; ST`` to end it; every character drawn in between links to the
URI. A cell does not hold the URI: it holds a number (``Cell.link``) that this
table maps to it, so a screen and a scrollback full of linked text hold each
URI once.

What a pane writes is untrusted, and this table lives in the server, so it is
bounded (see docs/terminal.md):

- a URI longer than :data:`URI_LIMIT` bytes opens no link (xterm's and VTE's
  limit is about 2 KiB; a truncated URI would lead somewhere else), and
  control characters are removed from it;
- the program's ``id=`` parameter (links sharing one id are one link to the
  outer terminal) is cut to :data:`ID_LIMIT` characters of a safe set;
- at most :data:`LINKS_LIMIT` links and :data:`BYTES_LIMIT` bytes of URIs and
  ids are kept: using a link moves it to the end, the least recently used
  goes first. Cells of a link that went show as plain text.

Numbers are never reused (one counter for every pane of the process): a cell
whose link went can never show someone else's URI. Nothing here parses
escapes or draws.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from itertools import count

#: The longest URI a link may have, in bytes of UTF-8.
URI_LIMIT = 2048
#: The longest ``id=`` kept, in characters.
ID_LIMIT = 64
#: Links kept per pane.
LINKS_LIMIT = 512
#: Bytes of URIs and ids kept per pane.
BYTES_LIMIT = 256 << 10

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9._~+=/-]")
_numbers = count(1)


def _id_of(params: str) -> str:
    """The ``id`` of an OSC 8's parameters (``key=value`` pairs joined by ``:``)."""
    for pair in params.split(":"):
        key, _, value = pair.partition("=")
        if key == "id":
            return _UNSAFE_IN_ID.sub("", value)[:ID_LIMIT]
    return ""


class Links:
    """number -> link, for the cells of one pane (see the module docstring)."""

    def __init__(self, limit: int = LINKS_LIMIT, budget: int = BYTES_LIMIT) -> None:
        self.limit = limit
        self.budget = budget
        self.size = 0  # bytes of URIs and ids held
        #: (id, uri) -> number, least recently used first
        self._numbers: OrderedDict[tuple[str, str], int] = OrderedDict()
        #: number -> the OSC 8 that opens the link on the outer terminal
        self._opens: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._opens)

    def open(self, body: str) -> int:
        """The number of the link an OSC 8 body (``params;URI``) opens: 0 for
        one that ends a link, or that is refused (a URI too long)."""
        params, _, uri = body.partition(";")
        if _CONTROLS.search(uri):
            uri = _CONTROLS.sub("", uri)
        if not uri or len(uri) > URI_LIMIT or len(uri.encode(errors="replace")) > URI_LIMIT:
            return 0
        key = (_id_of(params) if params else "", uri)
        number = self._numbers.get(key)
        if number is not None:
            self._numbers.move_to_end(key)
            return number
        number = next(_numbers)
        self._numbers[key] = number
        # the outer terminal groups cells by id: a link the program named gets
        # a name of ours, one per (id, URI), so panes cannot merge their links
        named = f"id=hexe{number}" if key[0] else ""
        self._opens[number] = f"\x1b]8;{named};{uri}\x1b\\"
        self.size += len(key[0]) + len(uri)
        while len(self._opens) > self.limit or self.size > self.budget:
            (old_id, old_uri), old = self._numbers.popitem(last=False)
            del self._opens[old]
            self.size -= len(old_id) + len(old_uri)
        return number

    def opening(self, number: int) -> str | None:
        """The OSC 8 that opens link ``number`` on the outer terminal, or None
        when it is not kept (any more)."""
        return self._opens.get(number)


#: The end of a link, on the outer terminal.
LINK_END = "\x1b]8;;\x1b\\"
