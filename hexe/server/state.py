"""What the rooms of the server share: its budgets and constants, the
:class:`Pane` and :class:`Client` records, small helpers."""

from __future__ import annotations

import os
import selectors
import socket
import time
from typing import Any

from hexe import spawn as spawn_mod
from hexe.commands.registry import COMMANDS
from hexe.config.model import PaneSpec
from hexe.mux.copymode import CopyMode
from hexe.mux.input import InputParser
from hexe.mux.view import PaneView
from hexe.terminal import PaneScreen
from hexe.wire import protocol

FRAME_INTERVAL = 1 / 60
READ_SIZE = 1 << 16
# A PTY read returns at most 4 KiB; one wake-up reads up to this much before
# parsing it in one batch (lines scrolled off within a batch cost no cells).
READ_BATCH = 1 << 18
# An unfocused pane's batch is smaller: a key typed while it floods waits for
# at most this much parsing (well under a millisecond of plain text).
UNFOCUSED_BATCH = 1 << 14
#: The cyclic collector's thresholds in a server (Python's are 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)
#: Seconds after a pane starts (or the focus moves) before the sandbox of the
#: next split is prepared ahead: a burst of spawns is not slowed by it.
AHEAD_DELAY = 0.1
#: Preparing ahead stops after this many failures in a row (until a reload):
#: the pane started the usual way reports the problem.
AHEAD_FAILURES = 3
AHEAD_RETRY = 1.0  # seconds before a failed preparation is tried again
# Output from a pane within this long after a key was written to it is an
# echo: it is drawn at once instead of waiting for the next frame slot.
ECHO_WINDOW = 0.25
# An unfocused pane that fills its batch (a flood) is left unread for this
# many times as long as reading and parsing the batch took: it gets a share
# of the server's time, and keys and echoes never wait behind a long run of
# its batches. The focused pane is never left unread.
UNFOCUSED_REST = 2.0
CLIENT_BUFFER_LIMIT = 8 << 20  # a client that stops reading is dropped past this
CLIENT_BACKLOG = 256 << 10  # past this, a client gets no new frames until it drains
PANE_INPUT_LIMIT = 1 << 20
#: Budgets for what a peer can make the server hold (docs/sessions.md, Budgets).
CLIENT_LIMIT = 64  # connections at once; past it the oldest without a hello goes
HELLO_DEADLINE = 5.0  # seconds a connection has to say hello
HELLO_FRAME_LIMIT = 64 << 10  # the largest frame before the hello (it is tiny)
ACCEPT_PAUSE = 0.25  # seconds the listener rests when the server is out of descriptors
PASTE_LIMIT = 1 << 20  # the paste buffer's size at most (set-buffer; copy mode)
FRAME_RATE = 2000  # frames a second one client may send, on average...
FRAME_BURST = 4000  # ...and at once; past it the server stops reading it for a while
DECODE_BUDGET = 32 << 20  # bytes of unfinished frames held for all clients together
TERM = "xterm-256color"
SO_PEERCRED_FORMAT = "3i"
#: Actions that start a pane: refused from inside a pane with limits (docs/sessions.md).
PANE_OPENERS = tuple(name for name, a in COMMANDS.items() if a.opens_pane)
#: A peer in any namespace of its own is inside a sandboxed pane.
PEER_NAMESPACES = ("user", "pid", "mnt", "net", "uts", "ipc")


class ActionError(Exception):
    """An action could not be done (no such pane or tab): shown, or replied to a command."""


class Pane:
    """One pane: its spec, PTY, spawn and screen."""

    def __init__(
        self,
        pane_id: int,
        spec: PaneSpec,
        cols: int,
        rows: int,
        scrollback: int,
        answer_checksums: bool = False,
    ) -> None:
        self.id = pane_id
        self.spec = spec
        self.screen = PaneScreen(cols, rows, scrollback, answer_checksums=answer_checksums)
        self.master: int | None = None
        self.spawn: spawn_mod.Spawn | None = None
        self.state = "new"  # new | starting | running | exited | failed
        self.exit_code: int | None = None
        self.notice: str | None = None
        self.message: str | None = None  # why it failed to start, for list-panes
        self.isolation = ""
        self.pending_input = bytearray()
        self.copy: CopyMode | None = None
        self.size = (cols, rows)
        self.plan: Any = None
        self.created = time.time()
        self.typed_at = 0.0  # when input was last written to the pane (echo frames)
        self.rest_until = 0.0  # an unfocused flood: its output is not read until then

    @property
    def title(self) -> str:
        spec = self.spec
        if spec.title or spec.name:
            return spec.title or spec.name or ""
        if self.screen.title:
            return self.screen.title
        argv = self.spawn.plan.argv if self.spawn else spec.command or ("shell",)
        return os.path.basename(argv[0]) if argv else "pane"

    @property
    def alive(self) -> bool:
        return self.state in ("starting", "running")


class Client:
    """One connection: an attached ``hexe mux``, or a command (``hexe split-right``)."""

    def __init__(self, sock: socket.socket, pid: int = 0) -> None:
        self.sock = sock
        self.pid = pid
        #: an attached terminal (False: a command connection, which never draws)
        self.attached = False
        #: connected from inside a sandbox (namespaces of its own), and from which pane
        self.sandboxed = False
        self.pane: int | None = None
        self.decoder = protocol.Decoder(HELLO_FRAME_LIMIT)
        self.decoder.hold_after = protocol.HELLO  # a hello and a big frame may come together
        self.connected_at = time.monotonic()
        self.out = bytearray()
        self.cols = 80
        self.rows = 24
        self.ready = False
        self.parser = InputParser()
        self.prefix_pending = False
        self.render_state: Any = None
        self.closing = False
        self.attached_at = time.time()
        self.active_at = time.monotonic()
        self.term = ""
        #: when the client last took bytes from us (while we had some for it)
        self.progress_at = time.monotonic()
        #: frames it may still send before the server stops reading it (a token bucket)
        self.frame_tokens = float(FRAME_BURST)
        self.tokens_at = self.connected_at
        #: not read until then: it sent frames faster than FRAME_RATE
        self.read_paused_until: float | None = None
        #: the events its socket is registered for (0: not registered)
        self.watching = selectors.EVENT_READ

    def send(self, kind: int, payload: bytes) -> None:
        self.out += protocol.encode(kind, payload)

    def send_json(self, kind: int, data: dict[str, Any]) -> None:
        self.out += protocol.encode_json(kind, data)


def _priority(event: tuple[selectors.SelectorKey, int]) -> int:
    kind, obj = event[0].data
    if kind != "pty":
        return 0
    return 1 if obj.typed_at else 2


def _size(data: dict[str, Any]) -> tuple[int, int]:
    try:
        cols, rows = int(data.get("cols", 80)), int(data.get("rows", 24))
    except (TypeError, ValueError) as exc:
        raise protocol.ProtocolError("size is not a number") from exc
    if not (1 <= cols <= 10000 and 2 <= rows <= 10000):
        raise protocol.ProtocolError(f"size {cols}x{rows} is out of range")
    return cols, rows


#: What a pane shows when part of its output could not be handled.
OUTPUT_FAULT_NOTICE = (
    b"\r\n\x1b[0;7m[hexe: part of this pane's output could not be shown; see the log]\x1b[0m\r\n"
)


def feed_contained(screen: PaneScreen, data: bytes, log: Any, pane_id: int) -> bool:
    """Feed one pane's output; a fault ends only this chunk's parse.

    One server holds every pane, so an exception from the emulator must never
    leave here: the pane's screen drops the half-read sequence, shows a notice
    and goes on with the next output; the log has the event with the start of
    the offending bytes. False when the chunk faulted.
    """
    try:
        screen.feed(data)
        return True
    except Exception as exc:  # noqa: BLE001 - a bug in one pane's output stays there
        log.error(
            "pane_output_fault",
            pane=pane_id,
            error=f"{type(exc).__name__}: {exc}"[:300],
            data=repr(data[:200]),
            size=len(data),
        )
    try:
        screen.recover()
        screen.feed(OUTPUT_FAULT_NOTICE)
    except Exception:  # noqa: BLE001 - the notice is best effort
        pass
    return False


def _raise_fd_limit() -> None:
    """As many descriptors as the hard limit allows: panes, clients and their
    pipes all take some, and running out must not be what a peer can cause."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def pane_view(pane: Pane, rect: Any, focused: bool) -> PaneView:
    """What the compositor draws of ``pane`` in ``rect`` (a tiled pane, or a float's inside);
    the pane's last one again while nothing in it changed (outside copy mode)."""
    title = pane.title
    last = pane.__dict__.get("_last_view")
    if (
        last is not None
        and pane.copy is None
        and last.focused is focused
        and last.title == title
        and last.isolation == pane.isolation
        and last.notice == pane.notice
        and last.screen is pane.screen
        and (last.rect is rect or last.rect == rect)
    ):
        return last
    view = PaneView(
        id=pane.id,
        rect=rect,
        screen=pane.screen,
        focused=focused,
        title=title,
        isolation=pane.isolation,
        notice=pane.notice,
        copy=pane.copy.view() if pane.copy else None,
    )
    pane.__dict__["_last_view"] = view if view.copy is None else None
    return view


def current_directory(pane: Pane) -> str | None:
    """The directory of the pane's foreground program, as tmux's
    ``#{pane_current_path}``, when it is the same directory at the same path
    for the server: a sandbox's fresh ``/tmp`` or its own root is not the
    host's, so None there (and for a pane not running)."""
    if pane.spawn is None or not pane.alive or pane.master is None:
        return None
    pid = pane.spawn.pid
    try:
        fg: int | None = os.tcgetpgrp(pane.master)
    except OSError:
        fg = None
    link = f"/proc/{fg or _command_pid(pane.spawn) or pid}/cwd"
    path = _readlink(link)
    if not path or not path.startswith("/"):
        return None
    try:
        theirs, ours = os.stat(link), os.stat(path)
    except OSError:  # gone, or "(deleted)"
        return None
    return path if (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino) else None


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def _command_pid(spawn: spawn_mod.Spawn | None) -> int | None:
    """The pid of the pane's command when the process its spawn waits on is
    not the command itself (a sandbox's init), as the isolation plugin says
    (``hexe_command_pid``); else None."""
    if spawn is None or spawn.pid is None:
        return None
    found = spawn.pm.hook.hexe_command_pid(spawn=spawn)
    return int(found) if found else None


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
