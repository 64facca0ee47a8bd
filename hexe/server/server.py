"""The session server: owns the panes, reads their PTYs, draws for its clients.

One process per session, single-threaded (it forks every pane through the
spawn protocol, and a process that forks must not run threads), around one
``selectors`` loop:

- each pane's PTY master is read in large batches into its
  :class:`hexe.terminal.PaneScreen`; drawing is coalesced into frames at most
  every ``FRAME_INTERVAL`` and never blocks reading;
- each pane's spawn status pipe is watched until the command runs (or its
  isolation failed, which the pane then shows);
- SIGCHLD wakes the loop; panes whose process ended are reaped, and orphans
  re-parented to the server (it is their subreaper) are collected;
- clients speak :mod:`hexe.server.protocol` over a Unix socket; their input
  goes through the key bindings (prefix, actions) or to the focused pane.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import secrets
import selectors
import signal
import socket
import struct
import termios
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hexe import __version__
from hexe import log as hexe_log
from hexe import spawn as spawn_mod
from hexe.actions import ACTIONS, canonical, check_action
from hexe.config import (
    Config,
    ConfigError,
    pane_isolation,
    plan_for,
    reload,
    run_exit_callbacks,
)
from hexe.config import lua as config_lua
from hexe.config.contained import Preflight
from hexe.config.loader import Problems, Table, plain
from hexe.config.model import PaneSpec
from hexe.errors import HexeError, SetupError
from hexe.input import InputParser, Key, Mouse, Paste, encode_key, encode_mouse
from hexe.isolation import InvalidSettings
from hexe.layout import Tab, Tabs
from hexe.server import protocol
from hexe.server.copymode import CopyMode
from hexe.terminal import MouseEncoding, MouseMode, PaneScreen
from hexe.view import PaneView, View

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
TERM = "xterm-256color"
SO_PEERCRED_FORMAT = "3i"
#: What the command line may ask besides actions: answers, no changes.
QUERIES = ("list-panes", "session-info")
#: Actions that start a pane: refused from inside a pane with limits (docs/sessions.md).
PANE_OPENERS = ("split-right", "split-down", "new-tab")
#: A peer in any namespace of its own is inside a sandboxed pane.
PEER_NAMESPACES = ("user", "pid", "mnt", "net", "uts", "ipc")


class ActionError(Exception):
    """An action could not be done (no such pane or tab): shown, or replied to a command."""


class Pane:
    """One pane: its spec, PTY, spawn and screen."""

    def __init__(self, pane_id: int, spec: PaneSpec, cols: int, rows: int, scrollback: int) -> None:
        self.id = pane_id
        self.spec = spec
        self.screen = PaneScreen(cols, rows, scrollback)
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

    def send(self, kind: int, payload: bytes) -> None:
        self.out += protocol.encode(kind, payload)

    def send_json(self, kind: int, data: dict[str, Any]) -> None:
        self.out += protocol.encode_json(kind, data)


class Server:
    def __init__(
        self,
        session: str,
        config: Config,
        pm: Any,
        sock_path: Path,
        environ: dict[str, str],
    ) -> None:
        self.session = session
        self.config = config
        self.pm = pm
        self.sock_path = sock_path
        self.environ = environ
        self.sel = selectors.DefaultSelector()
        self.panes: dict[int, Pane] = {}
        self.clients: list[Client] = []
        self.tabs = Tabs()
        self.next_pane_id = 1
        self.cols, self.rows = 80, 24
        self.dirty = True
        self.echo = False  # a pane answered input: draw now, not at the next frame slot
        self.resting: set[Pane] = set()  # unfocused floods left unread for a while
        self.last_frame = 0.0
        self.running = True
        self.message: str | None = None
        self.message_until = 0.0
        self.prompt: dict[str, Any] | None = None
        self.overlay: list[str] | None = None
        self.paste_buffer = b""
        self.log = hexe_log.get_logger(session=session)
        self.listener: socket.socket | None = None
        #: out of descriptors: the listener rests until then (None: accepting)
        self.accept_paused_until: float | None = None
        self.created = time.time()
        self.activity = time.time()
        #: the pane a command names (``-t``); the focused pane otherwise
        self._target: Pane | None = None
        #: the sandbox prepared for the next split (``options.spawn_ahead``)
        self.ahead: spawn_mod.Spawn | None = None
        self.ahead_master: int | None = None  # its PTY
        self.ahead_spec: PaneSpec | None = None  # the pane it was prepared for
        self.ahead_focus: int | None = None  # the focused pane when it was last looked at
        self.ahead_due: float | None = None
        self.ahead_failures = 0
        self.ahead_refusal = spawn_mod.ahead_refused(pm)
        #: a reload's first run of init.lua, in a child (see hexe/config/contained.py)
        self.config_check: Preflight | None = None
        self.reload_waiters: list[Client] = []  # ``hexe reload-config`` clients to answer

    # -- geometry -------------------------------------------------------------

    @property
    def pid_path(self) -> Path:
        return self.sock_path.with_suffix(".pid")

    @property
    def area(self) -> tuple[int, int]:
        """The space for panes: the whole terminal but the status line."""
        return self.cols, max(self.rows - 1, 1)

    def layout_panes(self) -> None:
        """Give every pane its rectangle, resizing screens and PTYs (SIGWINCH) that changed.

        Panes of tabs in the background are sized too, so their programs
        already have the right size when the tab is shown; hidden panes (a
        zoomed tab, a window too small) keep the size they had.
        """
        for tab in self.tabs:
            for pane_id, rect in tab.geometry(*self.area).panes.items():
                pane = self.panes.get(pane_id)
                if pane is not None:
                    self.resize_pane(pane, rect.cols, rect.rows)
        self.dirty = True

    def resize_pane(self, pane: Pane, cols: int, rows: int) -> None:
        if pane.size == (cols, rows):
            return
        pane.size = (cols, rows)
        pane.screen.resize(cols, rows)
        if pane.master is not None:
            winsize = struct.pack("HHHH", rows, cols, 0, 0)
            try:
                fcntl.ioctl(pane.master, termios.TIOCSWINSZ, winsize)
            except OSError:
                pass

    # -- panes ----------------------------------------------------------------

    def new_pane_id(self) -> int:
        pane_id = self.next_pane_id
        self.next_pane_id += 1
        return pane_id

    def start_pane(self, pane_id: int, spec: PaneSpec, cols: int, rows: int) -> Pane:
        # The pane (and its screen) is made after the fork: the child sets itself up meanwhile.
        cols, rows = max(cols, 1), max(rows, 1)

        def make_pane(plan: Any = None) -> Pane:
            pane = Pane(pane_id, spec, cols, rows, self.config.options.scrollback)
            self.panes[pane_id] = pane
            if plan is not None:
                pane.plan = plan
                pane.isolation = plan.isolation.summary()
            return pane

        log = self.log.bind(pane=pane_id)
        try:
            plan = self.pane_plan(spec, str(pane_id), self.known_isolation(spec))
        except (ConfigError, InvalidSettings) as exc:
            pane = make_pane()
            self.pane_failed(pane, exc.message, None)
            return pane
        env = dict(plan.env)
        env.update(
            {
                "TERM": TERM,
                "COLORTERM": "truecolor",
                "HEXE_SESSION": self.session,
                "HEXE_PANE": str(pane_id),
            }
        )
        env.pop("TMUX", None)
        plan = replace(plan, env=env)
        warnings: list[str] = []
        self.schedule_ahead()
        adopted = self.adopt_ahead(plan, cols, rows, warnings)
        if adopted is not None:
            spawn, master = adopted
        else:
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            try:
                spawn = spawn_mod.start(
                    plan, self.pm, terminal_fd=slave, on_warning=warnings.append
                )
            except HexeError as exc:
                os.close(master)
                os.close(slave)
                pane = make_pane(plan)
                pane.exit_code = getattr(exc, "exit_code", None)
                self.pane_failed(pane, exc.message, exc.hint)
                return pane
            os.close(slave)
        pane = make_pane(plan)
        os.set_blocking(master, False)
        assert spawn.status_fd is not None
        os.set_blocking(spawn.status_fd, False)
        pane.master = master
        pane.spawn = spawn
        pane.state = "starting"
        # its first output (the prompt) is drawn at once, as an echo is, not at the next slot
        pane.typed_at = time.monotonic()
        for warning in warnings:
            self.show_message(f"pane {pane_id}: {warning}")
        self.sel.register(master, selectors.EVENT_READ, ("pty", pane))
        assert spawn.status_fd is not None
        self.sel.register(spawn.status_fd, selectors.EVENT_READ, ("status", pane))
        log.info(
            "pane_spawning",
            profile=plan.isolation.profile,
            argv=list(plan.argv),
            cols=cols,
            rows=rows,
        )
        return pane

    # -- the sandbox of the next split, prepared ahead ------------------------------

    def schedule_ahead(self, delay: float = AHEAD_DELAY) -> None:
        """Prepare the next split's sandbox in ``delay`` seconds (if it is wanted)."""
        if (
            self.config.options.spawn_ahead
            and self.ahead_refusal is None
            and self.ahead_failures < AHEAD_FAILURES
            and self.running
        ):
            self.ahead_due = time.monotonic() + delay

    def prepare_ahead(self) -> None:
        """Fork the sandbox a split of the focused pane would get, through its
        seccomp phase; :meth:`adopt_ahead` gives it the pane's command."""
        self.ahead_due = None
        spec = self.default_spec(self.focused())
        try:
            isolation = pane_isolation(self.config, spec, self.environ, callbacks=False)
            plan = self.pane_plan(spec, "ahead", isolation)
        except (ConfigError, InvalidSettings):
            return  # the split will say what is wrong
        if self.ahead is not None:
            if spawn_mod.same_sandbox(self.ahead.plan, plan):
                self.ahead_spec = spec
                return
            self.discard_ahead()
        master, slave = os.openpty()
        try:
            ahead = spawn_mod.start_ahead(plan, self.pm, terminal_fd=slave)
        except HexeError as exc:
            os.close(master)
            self.ahead_failures += 1
            self.log.info("spawn_ahead_refused", problem=exc.message)
            return
        finally:
            os.close(slave)
        assert ahead.status_fd is not None
        os.set_blocking(ahead.status_fd, False)
        self.sel.register(ahead.status_fd, selectors.EVENT_READ, ("ahead", ahead))
        self.ahead, self.ahead_master, self.ahead_spec = ahead, master, spec

    def follow_focus(self) -> None:
        """The next split is of the focused pane: when the focus moves, check
        (soon) that the prepared sandbox still fits a split of it."""
        focused = self.focused()
        focus = focused.id if focused is not None else None
        if focus != self.ahead_focus:
            self.ahead_focus = focus
            if self.ahead_due is None:
                self.schedule_ahead()

    def known_isolation(self, spec: PaneSpec) -> Any:
        """The isolation worked out for the prepared sandbox, when ``spec`` is
        the pane it was prepared for (its place in the layout aside) and no
        ``pane_spawn`` callback could make it differ this time; None: work
        it out."""
        known = self.ahead_spec
        if self.ahead is None or known is None or self.config.callbacks.get("pane_spawn"):
            return None
        if replace(spec, path="", where="") != replace(known, path="", where=""):
            return None
        return self.ahead.plan.isolation

    def on_ahead_status(self, ahead: spawn_mod.Spawn) -> None:
        """Read the prepared sandbox's status pipe; its end means it is gone."""
        fd = ahead.status_fd
        done = False
        while not done:
            try:
                done = ahead.read_status()
            except BlockingIOError:
                return
        # it ended before it was used: a setup error, or it was killed
        self.sel.unregister(fd)
        self.ahead_failures += 1
        error = ahead.setup_error
        self.log.info("spawn_ahead_ended", problem=error.message if error else "killed")
        self.end_ahead(*self.take_ahead())
        self.schedule_ahead(AHEAD_DELAY * 10)

    def take_ahead(self) -> tuple[spawn_mod.Spawn | None, int | None]:
        """The prepared sandbox and its PTY's master, no longer kept here."""
        taken = self.ahead, self.ahead_master
        self.ahead = self.ahead_master = self.ahead_spec = None
        return taken

    def adopt_ahead(
        self, plan: Any, cols: int, rows: int, warnings: list[str]
    ) -> tuple[spawn_mod.Spawn, int] | None:
        """The prepared sandbox, now running ``plan``'s command on its PTY
        (sized ``cols`` x ``rows``), and that PTY's master; None when there
        is none that fits (the pane is started the usual way)."""
        ahead = self.ahead
        if ahead is None or not ahead.ready or not spawn_mod.same_sandbox(ahead.plan, plan):
            return None
        ahead, master = self.take_ahead()
        assert ahead is not None and master is not None and ahead.status_fd is not None
        self.sel.unregister(ahead.status_fd)
        # the size first: the command reads it when it starts
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if spawn_mod.adopt(ahead, plan, on_warning=warnings.append):
            self.ahead_failures = 0
            return ahead, master
        self.end_ahead(ahead, master)
        return None

    def discard_ahead(self) -> None:
        self.ahead_due = None
        self.end_ahead(*self.take_ahead())

    def end_ahead(self, ahead: spawn_mod.Spawn | None, master: int | None) -> None:
        """End a prepared sandbox taken with :meth:`take_ahead`, and close its PTY."""
        if master is not None:
            os.close(master)
        if ahead is None:
            return
        if ahead.status_fd is not None:
            try:
                self.sel.unregister(ahead.status_fd)
            except (KeyError, ValueError):
                pass  # already taken out
        try:
            spawn_mod.discard(ahead)
        except Exception as exc:  # a plugin's cleanup must not take the server down
            self.log.error("spawn_ahead_cleanup_failed", error=str(exc))

    def pane_plan(self, spec: PaneSpec, label: str, isolation: Any = None) -> Any:
        """The spawn plan of a pane; its unique name (and cgroup) says ``label``."""
        name = f"{self.session}-{label}-{os.getpid()}-{secrets.token_hex(3)}"
        return plan_for(
            self.config, spec, self.environ, kind="pane", name=name, isolation=isolation
        )

    def pane_failed(self, pane: Pane, message: str, hint: str | None) -> None:
        """The pane's command could not start: it stays, with why (and its exit
        status), like tmux's remain-on-exit notice; ``list-panes`` shows it too."""
        pane.state = "failed"
        pane.message = message
        pane.notice = "isolation failed" if "isolation" in message else "failed to start"
        if pane.exit_code:
            pane.notice += f", exit {pane.exit_code}"
        text = f"\x1b[31mhexe: {message}\x1b[0m\r\n"
        if hint:
            text += f"hexe: hint: {hint}\r\n"
        status = f"exit status {pane.exit_code}" if pane.exit_code else "not started"
        text += f"\r\n[pane {pane.id} failed to start: {status}; prefix x closes it]\r\n"
        feed_contained(pane.screen, text.encode(), self.log, pane.id)
        self.log.error("pane_failed", pane=pane.id, message=message, exit_code=pane.exit_code)
        self.dirty = True

    def on_status(self, pane: Pane) -> None:
        """Read what the pane's status pipe holds (it is non-blocking); finish at its end."""
        spawn = pane.spawn
        assert spawn is not None and spawn.status_fd is not None
        fd = spawn.status_fd
        warnings_before = len(spawn.warnings)
        done = False
        while not done:
            try:
                done = spawn.read_status()
            except BlockingIOError:
                break
        if not done:
            for warning in spawn.warnings[warnings_before:]:
                self.show_message(f"pane {pane.id}: {warning}")
            return
        self.sel.unregister(fd)
        try:
            spawn.finish_start()
        except SetupError as exc:
            self.close_pty(pane)
            pane.exit_code = exc.exit_code
            self.pane_failed(pane, exc.message, exc.hint)
            return
        for warning in spawn.warnings[warnings_before:]:
            self.show_message(f"pane {pane.id}: {warning}")
        pane.state = "running"
        self.log.info("pane_spawned", pane=pane.id, child_pid=spawn.pid, setup_ms=spawn.setup_ms)
        self.reap()

    def on_pty(self, pane: Pane) -> None:
        assert pane.master is not None
        chunks = []
        size = 0
        ended = False
        batch = READ_BATCH
        now = time.monotonic()
        focused = pane is self.focused()
        if not pane.typed_at and any(
            now - p.typed_at < ECHO_WINDOW for p in self.panes.values() if p.typed_at
        ):
            batch = 1  # another pane owes an echo: one read (at most 4 KiB)
        elif not focused:
            batch = UNFOCUSED_BATCH
        while size < batch:
            try:
                data = os.read(pane.master, READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                ended = True
                break
            chunks.append(data)
            size += len(data)
        if chunks:
            feed_contained(pane.screen, b"".join(chunks), self.log, pane.id)
        if ended:
            # every slave end is closed: the process tree is (almost) gone
            self.close_pty(pane)
            self.dirty = True
            return
        if not chunks:
            return
        if size >= batch and not focused and UNFOCUSED_REST > 0:
            # a flood beside the focused pane: leave it unread as long as it took
            done = time.monotonic()
            pane.rest_until = done + (done - now) * UNFOCUSED_REST
            self.resting.add(pane)
            self.watch_pty(pane)
        if pane.typed_at and time.monotonic() - pane.typed_at < ECHO_WINDOW:
            self.echo = True  # once per key: what follows is paced again
            pane.typed_at = 0.0
        responses = pane.screen.take_responses()
        if responses:
            self.write_pane(pane, responses)
        self.dirty = True

    def close_pty(self, pane: Pane) -> None:
        if pane.master is None:
            return
        try:
            self.sel.unregister(pane.master)
        except (KeyError, ValueError):
            pass
        os.close(pane.master)
        pane.master = None

    def write_pane(self, pane: Pane, data: bytes) -> None:
        if pane.master is None or not pane.alive:
            return
        if pane.pending_input:
            if len(pane.pending_input) + len(data) <= PANE_INPUT_LIMIT:
                pane.pending_input += data
            return
        try:
            written = os.write(pane.master, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        if written < len(data):
            pane.pending_input += data[written:]
            self.watch_pty(pane)

    def flush_pane_input(self, pane: Pane) -> None:
        assert pane.master is not None
        try:
            written = os.write(pane.master, bytes(pane.pending_input))
        except BlockingIOError:
            return
        except OSError:
            written = len(pane.pending_input)
        del pane.pending_input[:written]
        if not pane.pending_input:
            self.watch_pty(pane)

    def watch_pty(self, pane: Pane) -> None:
        """(Re)register the pane's PTY: read unless it rests, write while input is pending."""
        if pane.master is None:
            return
        events = 0 if pane.rest_until else selectors.EVENT_READ
        if pane.pending_input:
            events |= selectors.EVENT_WRITE
        registered = pane.master in self.sel.get_map()
        if not events:
            if registered:
                self.sel.unregister(pane.master)
        elif registered:
            self.sel.modify(pane.master, events, ("pty", pane))
        else:
            self.sel.register(pane.master, events, ("pty", pane))

    def wake_rested(self, now: float) -> float | None:
        """Read the panes whose rest is over (or that got the focus) again; returns
        when the next rest ends."""
        focused = self.focused()
        soonest = None
        for pane in self.resting:
            if pane.rest_until <= now or pane is focused or pane.master is None:
                pane.rest_until = 0.0
            elif soonest is None or pane.rest_until < soonest:
                soonest = pane.rest_until
        woken = [p for p in self.resting if not p.rest_until]
        for pane in woken:
            self.resting.discard(pane)
            self.watch_pty(pane)
        return soonest

    def reap(self) -> None:
        """Collect ended panes and orphans.

        Starting spawns' status pipes are read first: a sandbox's PID 1 is
        only waitable here once the process that forked it exited, after it
        wrote that pid, so every pid that can be waited for is known.
        """
        for pane in list(self.panes.values()):
            if pane.spawn is not None and pane.spawn.starting:
                self.on_status(pane)
        for pane in list(self.panes.values()):
            spawn = pane.spawn
            if spawn is not None and spawn.starting:
                pass  # their status pipe tells us first
            elif pane.alive and spawn is not None and spawn.pid is not None:
                try:
                    pid, status = os.waitpid(spawn.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status = spawn.pid, 0
                if pid:
                    self.pane_exited(pane, status)
        if self.ahead is not None and self.ahead.starting:
            self.on_ahead_status(self.ahead)  # the pid of its PID 1, or its end
        known = set()
        for pane in self.panes.values():
            if pane.spawn is not None and pane.alive:
                known.update(p for p in (pane.spawn.pid, pane.spawn.direct_pid) if p)
        if self.ahead is not None:
            known.update(p for p in (self.ahead.pid, self.ahead.direct_pid) if p)
        if self.config_check is not None and self.config_check.pid is not None:
            known.add(self.config_check.pid)  # collected by Preflight
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid in known:
                return
            try:
                os.waitpid(info.si_pid, os.WNOHANG)  # an orphan re-parented to us
            except ChildProcessError:
                return

    def pane_exited(self, pane: Pane, status: int) -> None:
        assert pane.spawn is not None
        pane.exit_code = spawn_mod.exit_code_of(status)
        pane.state = "exited"
        try:
            pane.spawn.finish(status)
        except Exception as exc:  # a plugin's cleanup must not take the server down
            self.log.error("pane_cleanup_failed", pane=pane.id, error=str(exc))
        for failure in run_exit_callbacks(self.config, pane.spec, pane.exit_code):
            self.show_message(failure)
        self.log.info("pane_exited", pane=pane.id, exit_code=pane.exit_code)
        remain = pane.spec.remain_on_exit
        if remain is None:
            remain = self.config.options.remain_on_exit
        if remain:
            pane.notice = f"exited {pane.exit_code}"
            self.dirty = True
        else:
            self.remove_pane(pane)

    def kill_pane(self, pane: Pane) -> None:
        """End the pane's process tree (the sandbox's PID 1 takes the rest with it)."""
        if pane.spawn is not None and pane.alive:
            pane.spawn.send_signal(signal.SIGHUP)
            pane.spawn.send_signal(signal.SIGKILL)

    def remove_pane(self, pane: Pane) -> None:
        self.close_pty(pane)
        if pane.spawn is not None and pane.spawn.status_fd is not None:
            try:
                self.sel.unregister(pane.spawn.status_fd)
            except (KeyError, ValueError):
                pass
        self.panes.pop(pane.id, None)
        tab = self.tabs.find(pane.id)
        if tab is not None and tab.remove(pane.id):
            self.tabs.close(tab)
        if not len(self.tabs):
            self.running = False  # the last pane is gone: the session ends
            return
        self.layout_panes()

    # -- the session ------------------------------------------------------------

    def build_layout(self) -> None:
        self.tabs, specs = Tabs.from_specs(self.config.tabs, self.new_pane_id)
        for tab in self.tabs:
            geometry = tab.geometry(*self.area)
            for pane_id in tab.panes():
                rect = geometry.panes.get(pane_id)
                cols, rows = (rect.cols, rect.rows) if rect else self.area
                self.start_pane(pane_id, specs[pane_id], cols, rows)
        self.layout_panes()

    def default_spec(self, like: Pane | None = None) -> PaneSpec:
        """A new pane: the shell, with the isolation of the pane it splits."""
        if like is not None:
            return replace(
                like.spec,
                name=None,
                title=None,
                command=None,
                path=f"{like.spec.path}+",
                where="split",
            )
        return PaneSpec(path="new", where="new pane")

    # -- clients -----------------------------------------------------------------

    def accept(self) -> None:
        assert self.listener is not None
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        except OSError as exc:  # EMFILE, ENFILE, ENOBUFS...: shed and rest, never exit
            self.log.warning("accept_failed", error=exc.strerror, errno=exc.errno)
            self.shed_unready(1)
            self.pause_accepting()
            return
        if len(self.clients) >= CLIENT_LIMIT and not self.shed_unready(1):
            self.log.warning("client_refused", reason="client limit", limit=CLIENT_LIMIT)
            sock.close()
            return
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, gid = struct.unpack("3i", creds)
        if uid != os.getuid():
            self.log.warning("client_refused", uid=uid, client_pid=pid)
            sock.close()
            return
        sock.setblocking(False)
        client = Client(sock, pid)
        client.sandboxed, client.pane = self.peer_pane(pid)
        self.clients.append(client)
        self.sel.register(sock, selectors.EVENT_READ, ("client", client))
        self.log.info(
            "client_connected", client_pid=pid, sandboxed=client.sandboxed, pane=client.pane
        )

    def shed_unready(self, count: int) -> int:
        """Drop up to ``count`` connections that have not said hello, oldest first."""
        unready = sorted((c for c in self.clients if not c.ready), key=lambda c: c.connected_at)
        for client in unready[:count]:
            self.drop_client(client, "shed: too many connections")
        return min(count, len(unready))

    def pause_accepting(self) -> None:
        """Out of descriptors: stop accepting for a moment (the loop resumes it)."""
        if self.listener is not None and self.accept_paused_until is None:
            try:
                self.sel.unregister(self.listener)
            except (KeyError, ValueError):
                pass
            self.accept_paused_until = time.monotonic() + ACCEPT_PAUSE

    def resume_accepting(self, now: float) -> None:
        if self.accept_paused_until is not None and now >= self.accept_paused_until:
            self.accept_paused_until = None
            if self.listener is not None:
                self.sel.register(self.listener, selectors.EVENT_READ, ("listen", None))

    def peer_pane(self, pid: int) -> tuple[bool, int | None]:
        """Is the peer inside a sandbox (a namespace of its own), and in which pane?

        The pane is found by walking the peer's parents up to a pane's
        process (inside a pid namespace, orphans stay below its PID 1).
        """
        sandboxed = any(
            _readlink(f"/proc/{pid}/ns/{ns}") != _readlink(f"/proc/self/ns/{ns}")
            for ns in PEER_NAMESPACES
        )
        roots = {
            p.spawn.pid: p.id
            for p in self.panes.values()
            if p.spawn is not None and p.spawn.pid is not None and p.alive
        }
        current = pid
        for _ in range(256):
            if current in roots:
                return sandboxed, roots[current]
            parent = _ppid(current)
            if parent is None or parent <= 1 or parent == os.getpid():
                break
            current = parent
        return sandboxed, None

    def sandbox_refusal(self, client: Client, name: str, target: Pane | None) -> str | None:
        """Why a client inside a sandboxed pane may not run this, or None.

        From inside a sandbox, commands may only act on that pane itself
        (split it — the new pane inherits its isolation —, type into it,
        resize, zoom or close it), ask questions and detach the client;
        from inside a pane with limits (sandboxed or not), nothing may open
        a pane, whose limits would come on top of the caller's;
        anything that could
        reach another pane, start a pane with other isolation, reload the
        config or end the session is refused.
        """
        caller = self.panes.get(client.pane) if client.pane is not None else None
        if name in PANE_OPENERS and caller is not None and caller.spawn is not None:
            limits = caller.spawn.plan.isolation.limits
            if limits.requested():
                return (
                    f"{name} is refused from inside pane {caller.id}: it has limits "
                    f"({limits.summary()}), and a pane opened from inside would get limits "
                    "of its own on top of them; open it from the client (prefix key) instead"
                )
        if not client.sandboxed or name in QUERIES or name == "detach":
            return None  # detaching you is a nuisance at worst, never a way out
        where = f"pane {client.pane}" if client.pane is not None else "a sandbox"
        action = ACTIONS.get(name)
        if client.pane is None or action is None or not action.targets_pane:
            return (
                f"{name} is refused from inside {where}: a sandboxed pane may only act "
                "on itself (split, send-keys, resize, zoom, close-pane) and list panes"
            )
        if target is not None and target.id != client.pane:
            return (
                f"{name} -t {target.id} is refused from inside pane {client.pane}: a sandboxed "
                "pane may only act on itself"
            )
        return None

    def on_client(self, client: Client, events: int) -> None:
        if events & selectors.EVENT_WRITE:
            self.flush_client(client)
        if not events & selectors.EVENT_READ:
            return
        try:
            data = client.sock.recv(READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.drop_client(client, "gone")
            return
        try:
            frames = client.decoder.feed(data)
        except protocol.ProtocolError as exc:
            self.log.warning("client_protocol_error", error=str(exc))
            self.drop_client(client, str(exc))
            return
        for frame in frames:
            try:
                self.on_frame(client, frame)
            except protocol.ProtocolError as exc:
                self.log.warning("client_protocol_error", error=str(exc))
                self.drop_client(client, str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - one client's fault stays with it
                self.log.error(
                    "client_fault",
                    client_pid=client.pid,
                    kind=frame.kind,
                    error=f"{type(exc).__name__}: {exc}",
                    payload=repr(frame.payload[:200]),
                )
                self.drop_client(client, "fault")
                return
            if client.ready:
                client.decoder.limit = protocol.MAX_FRAME

    def on_frame(self, client: Client, frame: protocol.Frame) -> None:
        if frame.kind == protocol.HELLO:
            hello = frame.json()
            if hello.get("version") != protocol.PROTOCOL_VERSION:
                client.send_json(
                    protocol.BYE,
                    {
                        "reason": "version",
                        "message": f"this hexe server speaks protocol {protocol.PROTOCOL_VERSION} "
                        f"(hexe {__version__}); the client speaks {hello.get('version')}: "
                        "use the same hexe for both, or end the old session",
                    },
                )
                client.closing = True
                self.flush_client(client)
                return
            mode = hello.get("mode", "attach")
            if mode not in ("attach", "command"):
                raise protocol.ProtocolError(f"hello: mode {mode!r} is not attach or command")
            client.ready = True
            client.send_json(
                protocol.HELLO,
                {
                    "version": protocol.PROTOCOL_VERSION,
                    "session": self.session,
                    "server": __version__,
                },
            )
            if mode == "command":
                self.flush_client(client)
                return
            if client.sandboxed:
                where = f"pane {client.pane}" if client.pane is not None else "a sandbox"
                self.log.warning("attach_refused", pane=client.pane, client_pid=client.pid)
                client.send_json(
                    protocol.BYE,
                    {
                        "reason": "refused",
                        "message": f"attaching from inside {where} is refused: a sandboxed "
                        "pane must not see or type into the other panes",
                    },
                )
                client.closing = True
                self.flush_client(client)
                return
            client.cols, client.rows = _size(hello)
            client.attached = True
            client.term = str(hello.get("term", ""))[:64]
            client.render_state = None
            self.activity = time.time()
            if hello.get("detach_others"):
                for other in list(self.clients):
                    if other is not client and other.attached:
                        self.detach_client(other, "detached by another client (attach -d)")
            self.update_size()
            self.log.info(
                "client_attached", client_pid=client.pid, cols=client.cols, rows=client.rows
            )
            self.dirty = True
            return
        if not client.ready:
            raise protocol.ProtocolError("the first frame must be hello")
        if frame.kind == protocol.RESIZE and client.attached:
            client.cols, client.rows = _size(frame.json())
            client.render_state = None
            self.update_size()
        elif frame.kind == protocol.INPUT and client.attached:
            client.active_at = time.monotonic()
            self.activity = time.time()
            self.on_input(client, frame.payload)
        elif frame.kind == protocol.COMMAND:
            reply = self.command(client, frame.json())
            if reply is not None:  # None: answered later (reload-config)
                client.send_json(protocol.REPLY, reply)
                self.flush_client(client)
        elif frame.kind == protocol.BYE:
            self.drop_client(client, "detached")
        else:
            raise protocol.ProtocolError(f"unexpected {protocol.NAMES[frame.kind]} frame")

    def update_size(self) -> None:
        """The session takes the size of its smallest attached client (tmux's
        ``window-size smallest``): every client sees all of it; larger
        terminals show it in their top-left corner, the rest dotted."""
        attached = [c for c in self.clients if c.attached and not c.closing]
        if not attached:
            return
        self.set_size(min(c.cols for c in attached), min(c.rows for c in attached))

    def set_size(self, cols: int, rows: int) -> None:
        if (cols, rows) != (self.cols, self.rows):
            self.cols, self.rows = cols, rows
            for client in self.clients:
                client.render_state = None
            self.layout_panes()

    def detach_client(self, client: Client, message: str) -> None:
        client.send_json(protocol.BYE, {"reason": "detached", "message": message})
        client.closing = True
        self.flush_client(client)

    def drop_client(self, client: Client, reason: str) -> None:
        if client not in self.clients:
            return
        self.clients.remove(client)
        try:
            self.sel.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()
        self.log.info("client_disconnected", reason=reason, client_pid=client.pid)
        if client.attached:
            self.update_size()

    def flush_client(self, client: Client) -> None:
        if not client.out:
            client.progress_at = time.monotonic()
        else:
            try:
                sent = client.sock.send(client.out)
            except BlockingIOError:
                sent = 0
            except OSError:
                self.drop_client(client, "write failed")
                return
            del client.out[:sent]
            if sent:
                client.progress_at = time.monotonic()
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.out else 0)
        try:
            self.sel.modify(client.sock, want, ("client", client))
        except (KeyError, ValueError):
            return
        if not client.out and client.closing:
            self.drop_client(client, "closed")
        elif len(client.out) > CLIENT_BUFFER_LIMIT:
            self.drop_client(client, "not reading")

    # -- input ---------------------------------------------------------------------

    def focused(self) -> Pane | None:
        tab = self.tabs.active
        return self.panes.get(tab.focused) if tab is not None else None

    def on_input(self, client: Client, data: bytes) -> None:
        passthrough = bytearray()
        pane = self.focused()

        def flush() -> None:
            if passthrough and pane is not None:
                pane.typed_at = time.monotonic()
                self.write_pane(pane, bytes(passthrough))
            passthrough.clear()

        for event in client.parser.feed(data):
            if self.prompt is not None or self.overlay is not None or (pane and pane.copy):
                flush()
                self.modal_input(client, event)
                pane = self.focused()
                continue
            if isinstance(event, Mouse):
                flush()
                self.on_mouse(event)
                pane = self.focused()
            elif isinstance(event, Paste):
                flush()
                if pane is not None:
                    text = event.text
                    if pane.screen.bracketed_paste:
                        text = b"\x1b[200~" + text + b"\x1b[201~"
                    self.write_pane(pane, text)
            elif client.prefix_pending:
                client.prefix_pending = False
                binding = self.config.keys.get(("prefix", event.name))
                if binding is not None:
                    flush()
                    self.run_binding(client, binding)
                    pane = self.focused()
                elif event.name == self.config.options.prefix:
                    passthrough += event.raw  # prefix twice sends it
            elif event.name == self.config.options.prefix:
                client.prefix_pending = True
            elif (event.name,) in self.config.keys:
                flush()
                self.run_binding(client, self.config.keys[(event.name,)])
                pane = self.focused()
            else:
                passthrough += event.raw
        flush()

    def run_binding(self, client: Client, binding: Any) -> None:
        if binding.is_lua:
            pane = self.focused()
            ctx = self.config.runtime.table(
                {
                    "session": self.session,
                    "pane": {"id": pane.id, "title": pane.title} if pane else None,
                }
            )
            try:
                result = self.config.runtime.call(binding.action, ctx)
            except HexeError as exc:
                self.show_message(f"key {' '.join(binding.keys)} ({binding.where}): {exc.message}")
                return
            if isinstance(result, str):
                self.act(client, result, [])
            elif isinstance(result, tuple) and result and isinstance(result[0], str):
                self.act(client, result[0], list(result[1:]))  # return "send-keys", "ls", "Enter"
            elif result is not None and not isinstance(result, (str, tuple)):
                table = plain(result, "result", binding.where, Problems(), self.config.runtime)
                items = list(table.items) if isinstance(table, Table) else []
                if items and isinstance(items[0], str):
                    self.act(client, items[0], items[1:])  # return {"select-tab", 2}
            return
        self.act(client, binding.action, list(binding.args))

    def on_mouse(self, event: Mouse) -> None:
        tab = self.tabs.active
        if tab is None:
            return
        geometry = tab.geometry(*self.area).panes
        for pane_id, rect in geometry.items():
            if rect.contains(event.x, event.y):
                pane = self.panes.get(pane_id)
                if pane is None:
                    return
                mode = pane.screen.mouse_mode
                if mode is not None and pane_id == tab.focused:
                    wants_motion = mode in (MouseMode.BUTTON_EVENT, MouseMode.ANY_EVENT)
                    if event.motion and not wants_motion:
                        return
                    if mode == MouseMode.X10 and not event.pressed:
                        return  # X10 reports presses only
                    sgr = pane.screen.mouse_encoding == MouseEncoding.SGR
                    data = encode_mouse(event, event.x - rect.x, event.y - rect.y, sgr)
                    self.write_pane(pane, data)
                    return
                if event.wheel:
                    if pane.copy is None and event.wheel < 0:
                        pane.copy = CopyMode(pane.screen)
                    if pane.copy is not None:
                        pane.copy.scroll(event.wheel * 3)
                        if pane.copy.at_bottom and event.wheel > 0:
                            pane.copy = None
                    self.dirty = True
                elif event.pressed and not event.motion and event.button & 3 == 0:
                    tab.focus(pane_id)
                    self.dirty = True
                return

    def modal_input(self, client: Client, event: Key | Mouse | Paste) -> None:
        if self.overlay is not None:
            if isinstance(event, Key):
                self.overlay = None
                self.dirty = True
            return
        if self.prompt is not None:
            if isinstance(event, Paste):
                self.prompt["text"] += event.text.decode(errors="replace")
            elif isinstance(event, Key):
                self.prompt_key(event)
            self.dirty = True
            return
        pane = self.focused()
        if pane is None or pane.copy is None:
            return
        if isinstance(event, Mouse):
            if event.wheel:
                pane.copy.scroll(event.wheel * 3)
            self.dirty = True
            return
        if isinstance(event, Key):
            result = pane.copy.key(event.name)
            if result is not None:
                kind, value = result
                if kind == "copy":
                    self.paste_buffer = value.encode()
                    self.copy_to_clipboard(value)
                    pane.copy = None
                elif kind == "exit":
                    pane.copy = None
                elif kind == "search":
                    self.start_prompt(
                        "search" if value == "forward" else "search back",
                        lambda text, p=pane, d=value: self.search(p, text, d),
                    )
            self.dirty = True

    def search(self, pane: Pane, text: str, direction: str) -> None:
        if pane.copy is not None and text and not pane.copy.search(text, direction == "backward"):
            self.show_message(f"not found: {text}")

    def copy_to_clipboard(self, text: str) -> None:
        import base64

        osc = b"\x1b]52;c;" + base64.b64encode(text.encode()) + b"\x07"
        for client in self.clients:
            if client.attached:
                client.send(protocol.OUTPUT, osc)
        self.show_message(f"copied {len(text)} characters")

    def start_prompt(self, label: str, done: Callable[[str], None], text: str = "") -> None:
        self.prompt = {"label": label, "text": text, "done": done}
        self.dirty = True

    def prompt_key(self, event: Key) -> None:
        assert self.prompt is not None
        if event.name == "Enter":
            prompt, self.prompt = self.prompt, None
            prompt["done"](prompt["text"])
        elif event.name in ("Escape", "C-c", "C-g"):
            self.prompt = None
        elif event.name == "BSpace":
            self.prompt["text"] = self.prompt["text"][:-1]
        elif event.name == "Space":
            self.prompt["text"] += " "
        elif len(event.name) == 1:
            self.prompt["text"] += event.name

    def show_message(self, text: str, seconds: float = 4.0) -> None:
        self.message = text
        self.message_until = time.monotonic() + seconds
        self.dirty = True
        self.log.info("message", text=text)

    # -- actions ---------------------------------------------------------------------

    def run_action(
        self, client: Client | None, name: str, args: list[Any], target: Pane | None = None
    ) -> Any:
        """Run an action (a key binding, a Lua function's answer, a command); its result.

        From a key, what goes wrong is shown on the status line; from a
        command (``target`` may name its pane) it is raised as
        :class:`ActionError` for the reply.
        """
        name = str(canonical(name))
        problem = check_action(name, args)
        if problem is not None:
            raise ActionError(problem)
        handler = getattr(self, "do_" + name.replace("-", "_"))
        self._target = target
        try:
            result = handler(client, *args)
        finally:
            self._target = None
        self.dirty = True
        return result

    def act(self, client: Client | None, name: str, args: list[Any]) -> None:
        """:meth:`run_action` from a key or Lua: problems go to the status line."""
        try:
            self.run_action(client, name, args)
        except ActionError as exc:
            self.show_message(str(exc))

    def target(self) -> Pane | None:
        """The pane an action is about: the command's ``-t``, else the focused one."""
        return self._target if self._target is not None else self.focused()

    def target_tab(self) -> tuple[Tab | None, Pane | None]:
        pane = self.target()
        if pane is None:
            return self.tabs.active, None
        return self.tabs.find(pane.id), pane

    # -- commands (hexe split-right, hexe list-panes, ...) ------------------------------

    def command(self, client: Client, request: dict[str, Any]) -> dict[str, Any] | None:
        """One COMMAND frame: an action or a query; the REPLY to send (None: sent later)."""
        name = canonical(request.get("action"))
        args = request.get("args") or []
        if not isinstance(args, list):
            return {"ok": False, "error": "args must be a list"}
        pane_id = request.get("pane")
        self.log.info("command", action=name, args=args, pane=pane_id, client_pid=client.pid)
        try:
            target = None
            if pane_id is not None:
                target = self.find_pane(pane_id)
            elif client.sandboxed and client.pane is not None:
                target = self.panes.get(client.pane)
            refusal = self.sandbox_refusal(client, str(name), target)
            if refusal is not None:
                self.log.warning(
                    "command_refused", action=name, pane=client.pane, client_pid=client.pid
                )
                return {"ok": False, "error": refusal}
            if name == "list-panes":
                return {"ok": True, "result": self.list_panes()}
            if name == "session-info":
                return {"ok": True, "result": self.session_info()}
            if name == "detach":
                return {"ok": True, "result": self.detach_command(client, args)}
            if name == "reload-config":
                self.reload_waiters.append(client)
                self.reload_config()
                return None  # answered when the reload ends (finish_reload)
            if not isinstance(name, str) or name not in ACTIONS:
                check = check_action(name, args) or f"{name!r} is not an action"
                queries = ", ".join(QUERIES)
                return {"ok": False, "error": f"{check}; queries: {queries}"}
            result = self.run_action(client, name, args, target)
        except ActionError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "result": result}

    def find_pane(self, pane_id: Any) -> Pane:
        try:
            pane = self.panes.get(int(pane_id))
        except (TypeError, ValueError):
            pane = None
        if pane is None:
            known = ", ".join(str(p) for p in self.panes) or "none"
            raise ActionError(f"no pane {pane_id} in session {self.session}; panes: {known}")
        return pane

    def detach_command(self, client: Client, args: list[Any]) -> int:
        """``hexe detach``: the most recently active client, or every one (``all``)."""
        attached = [c for c in self.clients if c.attached and not c.closing]
        if args == ["all"]:
            chosen = attached
        elif args:
            raise ActionError(f"detach takes nothing, or all; got {' '.join(map(str, args))}")
        else:
            chosen = sorted(attached, key=lambda c: c.active_at)[-1:]
        if not chosen:
            raise ActionError(f"no client is attached to session {self.session}")
        for other in chosen:
            self.detach_client(other, f"detached (from session {self.session})")
        return len(chosen)

    def list_panes(self) -> list[dict[str, Any]]:
        out = []
        active = self.tabs.active
        for tab in self.tabs:
            for pane_id in tab.panes():
                pane = self.panes.get(pane_id)
                if pane is not None:
                    out.append(self.describe_pane(pane, tab, tab is active))
        return out

    def describe_pane(self, pane: Pane, tab: Tab, tab_active: bool) -> dict[str, Any]:
        spawn, plan = pane.spawn, pane.plan
        pid = spawn.pid if spawn is not None and pane.alive else None
        fg = None
        if pane.master is not None and pane.alive:
            try:
                fg = os.tcgetpgrp(pane.master)
            except OSError:
                fg = None
        command_pid = _command_pid(pid) if pid else None
        cwd = _readlink(f"/proc/{fg or command_pid or pid}/cwd") if pid else None
        isolation = None
        if plan is not None:
            iso = plan.isolation
            limits = iso.limits
            isolation = {
                "profile": iso.profile,
                "summary": iso.summary(),
                "namespaces": iso.ordered_namespaces(),
                "no_new_privs": iso.no_new_privs,
                "memory_max": limits.memory,
                "pids_max": limits.pids,
                "cpu_max": str(limits.cpu) if limits.cpu is not None else None,
                "cgroups": _as_list(spawn.facts.get("cgroup") if spawn is not None else None),
            }
        return {
            "id": pane.id,
            "name": pane.spec.name,
            "tab": self.tabs.number(tab),
            "tab_name": tab.name or self._tab_title(tab),
            "active": tab_active and tab.focused == pane.id,
            "focused": tab.focused == pane.id,
            "title": pane.title,
            "state": pane.state,
            "exit_code": pane.exit_code,
            "message": pane.message,
            "cols": pane.size[0],
            "rows": pane.size[1],
            "pid": command_pid or pid,
            "init_pid": pid if command_pid else None,
            "foreground_pid": fg,
            "command": list(plan.argv) if plan is not None else None,
            "current_command": _comm(fg) if fg else None,
            "cwd": cwd,
            "isolation": isolation,
            "created": pane.created,
        }

    def session_info(self) -> dict[str, Any]:
        attached = [c for c in self.clients if c.attached and not c.closing]
        return {
            "name": self.session,
            "pid": os.getpid(),
            "tabs": len(self.tabs),
            "panes": len(self.panes),
            "clients": [
                {
                    "pid": c.pid,
                    "cols": c.cols,
                    "rows": c.rows,
                    "term": c.term,
                    "attached": c.attached_at,
                }
                for c in attached
            ],
            "cols": self.cols,
            "rows": self.rows,
            "created": self.created,
            "activity": self.activity,
            "version": __version__,
        }

    def do_split_right(self, client: Client | None) -> int:
        return self.split("right")

    def do_split_down(self, client: Client | None) -> int:
        return self.split("down")

    def split(self, direction: str) -> int:
        """Split the target pane; the new pane's id."""
        tab, pane = self.target_tab()
        if tab is None or pane is None:
            raise ActionError("there is no pane to split")
        new_id = self.new_pane_id()
        tab.split(direction, new_id, pane=pane.id)
        rect = tab.geometry(*self.area).panes.get(new_id)
        cols, rows = (rect.cols, rect.rows) if rect else self.area
        self.start_pane(new_id, self.default_spec(pane), cols, rows)
        self.layout_panes()
        return new_id

    def _focus(self, side: str) -> None:
        tab, pane = self.target_tab()
        if tab is None or pane is None:
            return
        tab.focus(pane.id)
        rect = tab.geometry(*self.area).panes.get(pane.id)
        cursor = None
        if rect is not None:
            cx, cy = pane.screen.cursor
            cursor = (rect.x + cx, rect.y + cy)
        if tab.focus_toward(side, *self.area, cursor=cursor):
            self.layout_panes()

    def do_focus_left(self, client: Client | None) -> None:
        self._focus("left")

    def do_focus_right(self, client: Client | None) -> None:
        self._focus("right")

    def do_focus_up(self, client: Client | None) -> None:
        self._focus("up")

    def do_focus_down(self, client: Client | None) -> None:
        self._focus("down")

    def do_focus_next(self, client: Client | None) -> None:
        tab = self.tabs.active
        if tab is not None and tab.focus_next():
            self.layout_panes()

    def do_focus_prev(self, client: Client | None) -> None:
        tab = self.tabs.active
        if tab is not None and tab.focus_prev():
            self.layout_panes()

    def _resize(self, direction: str, cells: int = 5) -> None:
        if cells < 1:
            raise ActionError(f"resize-{direction}: cells must be 1 or more, got {cells}")
        tab, pane = self.target_tab()
        if (
            tab is not None
            and pane is not None
            and tab.resize(direction, cells, *self.area, pane=pane.id)
        ):
            self.layout_panes()

    def do_resize_left(self, client: Client | None, cells: int = 5) -> None:
        self._resize("left", cells)

    def do_resize_right(self, client: Client | None, cells: int = 5) -> None:
        self._resize("right", cells)

    def do_resize_up(self, client: Client | None, cells: int = 2) -> None:
        self._resize("up", cells)

    def do_resize_down(self, client: Client | None, cells: int = 2) -> None:
        self._resize("down", cells)

    def do_select_pane(self, client: Client | None, pane_id: int) -> None:
        pane = self.find_pane(pane_id)
        tab = self.tabs.find(pane.id)
        if tab is not None:
            self.tabs.select(self.tabs.number(tab))
            tab.focus(pane.id)
            self.layout_panes()

    def do_zoom(self, client: Client | None) -> None:
        tab, pane = self.target_tab()
        if tab is not None and pane is not None:
            if tab.zoomed is None:
                tab.focus(pane.id)
            tab.toggle_zoom()
            self.layout_panes()

    def do_close_pane(self, client: Client | None) -> None:
        pane = self.target()
        if pane is None:
            return
        if pane.alive:
            self.kill_pane(pane)  # its exit removes it
        else:
            self.remove_pane(pane)

    def do_new_tab(self, client: Client | None) -> int:
        pane_id = self.new_pane_id()
        self.tabs.new(Tab.single(pane_id))
        self.start_pane(pane_id, self.default_spec(), *self.area)
        self.layout_panes()
        return pane_id

    def do_next_tab(self, client: Client | None) -> None:
        self.tabs.next()
        self.layout_panes()

    def do_prev_tab(self, client: Client | None) -> None:
        self.tabs.prev()
        self.layout_panes()

    def do_select_tab(self, client: Client | None, n: int) -> None:
        if not self.tabs.base <= n < self.tabs.base + len(self.tabs):
            last = self.tabs.base + len(self.tabs) - 1
            raise ActionError(f"no tab {n}; tabs are {self.tabs.base}..{last}")
        if self.tabs.select(n):
            self.layout_panes()

    def do_rename_tab(self, client: Client | None, name: str | None = None) -> None:
        tab = self.tabs.active
        if client is not None and not client.attached and name is None:
            raise ActionError("rename-tab needs a NAME from the command line")
        if tab is None:
            return
        if name is not None:
            self.tabs.rename(name, tab)
            return
        self.start_prompt(
            "rename tab", lambda text, t=tab: self.tabs.rename(text or t.name, t), tab.name or ""
        )

    def do_send_keys(self, client: Client | None, *keys: str) -> None:
        """tmux's send-keys: a word that names a key is that key, any other is text."""
        from hexe.actions import parse_key

        pane = self.target()
        if pane is None:
            raise ActionError("there is no pane to send keys to")
        data = bytearray()
        for word in keys:
            try:
                name = parse_key(word)
            except ValueError:
                data += word.encode()
                continue
            data += encode_key(name, pane.screen.application_cursor)
        self.send_to(pane, bytes(data))

    def do_send_text(self, client: Client | None, text: str) -> None:
        pane = self.target()
        if pane is None:
            raise ActionError("there is no pane to send text to")
        self.send_to(pane, text.encode())

    def send_to(self, pane: Pane, data: bytes) -> None:
        if not pane.alive:
            raise ActionError(f"pane {pane.id} is not running ({pane.notice or pane.state})")
        self.write_pane(pane, data)

    def do_kill_session(self, client: Client | None) -> None:
        self.log.info("session_killed", client_pid=client.pid if client else None)
        self.running = False

    def do_copy_mode(self, client: Client | None) -> None:
        pane = self.target()
        if pane is not None and pane.copy is None:
            pane.copy = CopyMode(pane.screen)

    def do_paste(self, client: Client | None) -> None:
        pane = self.target()
        if pane is not None and self.paste_buffer:
            text = self.paste_buffer
            if pane.screen.bracketed_paste:
                text = b"\x1b[200~" + text + b"\x1b[201~"
            self.write_pane(pane, text)

    def do_detach(self, client: Client | None) -> None:
        if client is not None and client.attached:
            self.detach_client(client, f"detached (from session {self.session})")

    def do_help(self, client: Client | None) -> None:
        lines = ["key bindings (any key closes this)", ""]
        for keys, binding in sorted(self.config.keys.items(), key=lambda kv: " ".join(kv[0])):
            shown = " ".join(keys).replace("prefix", self.config.options.prefix)
            what = (
                "<lua function>"
                if binding.is_lua
                else " ".join(str(x) for x in (binding.action, *binding.args))
            )
            lines.append(f"{shown:<14} {what}")
        self.overlay = lines

    def do_reload_config(self, client: Client | None) -> None:
        self.reload_config()

    def reload_config(self) -> None:
        """Start a reload: init.lua runs first in a child, killed at its deadline.

        The loop keeps serving meanwhile; :meth:`finish_reload` applies the
        result (a second, in-process run that builds the callbacks) or keeps
        the running config and says why."""
        if self.config_check is not None:
            return  # one is running: its outcome answers every waiter
        try:
            check = Preflight(
                self.config.file,
                environ=self.environ,
                pm=self.pm,
                explicit=True if self.config.file is not None else None,
            )
        except OSError as exc:  # no process or pipe to spare: no reload, no crash
            self.finish_reload([f"cannot start the config check: {exc.strerror}"])
            return
        self.config_check = check
        self.sel.register(check.fd, selectors.EVENT_READ, ("config", check))
        self.log.info("config_reload_started", pid=check.pid)

    def on_config_check(self, check: Preflight, now: float | None = None) -> None:
        """The child answered (readable) or its deadline passed (``now`` given)."""
        ended = check.check_deadline(now) if now is not None else check.on_readable()
        if not ended:
            return
        self.sel.unregister(check.fd)
        self.config_check = None
        self.finish_reload(check.outcome or [])

    def finish_reload(self, errors: list[str]) -> None:
        error = self.apply_reload(errors)
        reply = {"ok": True, "result": None} if error is None else {"ok": False, "error": error}
        for client in self.reload_waiters:
            if client in self.clients:
                client.send_json(protocol.REPLY, reply)
                self.flush_client(client)
        self.reload_waiters.clear()

    def apply_reload(self, errors: list[str]) -> str | None:
        """None, or every error (the running config is kept)."""
        config = self.config
        if not errors:  # the child ran it cleanly: run it here, for its callbacks
            config, error = reload(self.config, environ=self.environ, pm=self.pm)
            errors = error.errors if error is not None else []
        if errors:
            self.show_message(f"config not reloaded: {errors[0]}", 8)
            self.log.warning("config_reload_failed", errors=errors)
            return "config not reloaded (the running one is kept):\n" + "\n".join(errors)
        self.config = config
        self.discard_ahead()  # made with the old settings
        self.ahead_failures = 0
        self.schedule_ahead()
        added = self.add_new_layout_tabs()
        self.show_message("config reloaded" + (f"; new tabs: {', '.join(added)}" if added else ""))
        return None

    def add_new_layout_tabs(self) -> list[str]:
        """Tabs of the reloaded layout whose name no open tab has are opened.

        Running panes are never touched: open tabs keep their panes and
        shape (a changed split in init.lua applies to new tabs, or after
        closing the tab).
        """
        names = {tab.name for tab in self.tabs if tab.name}
        added = []
        for spec in self.config.tabs:
            if not spec.name or spec.name in names:
                continue
            tab, specs = Tab.from_spec(spec, self.new_pane_id)
            self.tabs.new(tab, select=False)
            geometry = tab.geometry(*self.area)
            for pane_id in tab.panes():
                rect = geometry.panes.get(pane_id)
                cols, rows = (rect.cols, rect.rows) if rect else self.area
                self.start_pane(pane_id, specs[pane_id], cols, rows)
            added.append(spec.name)
            names.add(spec.name)
        if added:
            self.layout_panes()
        return added

    def do_send_prefix(self, client: Client | None) -> None:
        pane = self.target()
        if pane is not None:
            from hexe.actions import parse_key

            key = parse_key(self.config.options.prefix)
            if key.startswith("C-") and len(key) == 3:
                self.write_pane(pane, bytes([ord(key[2]) & 0x1F]))

    # -- drawing ------------------------------------------------------------------------

    def view(self) -> View:
        tab = self.tabs.active
        panes = []
        geometry = tab.geometry(*self.area) if tab is not None else None
        for pane_id, rect in geometry.panes.items() if geometry else ():
            pane = self.panes.get(pane_id)
            if pane is None:
                continue
            panes.append(
                PaneView(
                    id=pane_id,
                    rect=rect,
                    screen=pane.screen,
                    focused=pane_id == tab.focused,
                    title=pane.title,
                    isolation=pane.isolation,
                    notice=pane.notice,
                    copy=pane.copy.view() if pane.copy else None,
                )
            )
        message = self.message if self.message and time.monotonic() < self.message_until else None
        focused = self.focused()
        return View(
            cols=self.cols,
            rows=self.rows,
            session=self.session,
            tabs=tuple(
                (self.tabs.number(t), t.name or self._tab_title(t), t is tab) for t in self.tabs
            ),
            panes=tuple(panes),
            borders=geometry,
            zoomed=bool(tab and tab.zoomed is not None),
            status_left=self.config.status.left,
            status_right=self.config.status.right,
            message=message,
            prompt=(self.prompt["label"], self.prompt["text"]) if self.prompt else None,
            overlay=tuple(self.overlay) if self.overlay else None,
            focused_title=focused.title if focused else "",
            focused_isolation=focused.isolation if focused else "",
            mouse=self.config.options.mouse,
            runtime=self.config.runtime,
            hooks=self.pm.hook,
            known_panes=tuple(self.panes),
        )

    def _tab_title(self, tab: Tab) -> str:
        pane = self.panes.get(tab.focused) if tab.focused is not None else None
        return pane.title if pane is not None else ""

    def render(self) -> None:
        echo = self.echo
        self.echo = False
        # An echo frame draws the focused pane only (the compositor shows the
        # others as they were): the frame that follows at the usual pace,
        # whose slot it does not take, draws the rest.
        self.dirty = False
        if not echo:
            self.last_frame = time.monotonic()
        if not any(c.attached for c in self.clients):
            return
        view = self.view()
        if echo:
            view = replace(view, echo=True)
        for client in self.clients:
            if not client.attached or client.closing:
                continue
            if len(client.out) > CLIENT_BACKLOG:
                # a slow terminal: skip frames; it gets a whole one once it drains
                client.render_state = None
                continue
            full = client.render_state is None
            result = self.pm.hook.hexe_render(view=view, previous=client.render_state)
            if result is None:
                continue
            data, client.render_state = result
            if full:
                data += self.outside(client)
            if data:
                client.send(protocol.OUTPUT, data)
        if echo:
            self.dirty = any(p.screen.has_dirty_rows for p in view.panes)
        for client in list(self.clients):
            self.flush_client(client)

    def outside(self, client: Client) -> bytes:
        """For a terminal larger than the session: dots where the session does not reach."""
        if client.cols <= self.cols and client.rows <= self.rows:
            return b""
        out = ["\x1b7\x1b[0;2m"]
        if client.cols > self.cols:
            dots = "\u00b7" * (client.cols - self.cols)
            out += (
                f"\x1b[{y + 1};{self.cols + 1}H{dots}" for y in range(min(self.rows, client.rows))
            )
        dots = "\u00b7" * client.cols
        out += (f"\x1b[{y + 1};1H{dots}" for y in range(self.rows, client.rows))
        out.append("\x1b[0m\x1b8")
        return "".join(out).encode()

    # -- the loop -------------------------------------------------------------------------

    def listen(self) -> None:
        try:
            self.sock_path.unlink()
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(str(self.sock_path))
        finally:
            os.umask(old)
        listener.listen(16)
        listener.setblocking(False)
        self.listener = listener
        self.pid_path.write_text(f"{os.getpid()}\n")
        self.sel.register(listener, selectors.EVENT_READ, ("listen", None))

    def serve(self) -> None:
        # Output becomes many small objects (a line of scrollback is a tuple)
        # that never form cycles: the cyclic collector ran every 700 of them
        # and took a quarter of the time spent parsing plain text. What was
        # loaded before serving (modules, config) is never garbage: frozen.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        _raise_fd_limit()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            # Lua running when it arrives (a callback) fails at its next count hook
            signal.signal(sig, lambda *_: config_lua.request_stop())
        self.sel.register(wake_r, selectors.EVENT_READ, ("wake", None))
        if self.listener is None:
            self.listen()
        self.build_layout()
        self.log.info("server_started", socket=str(self.sock_path), pid=os.getpid())
        try:
            while self.running:
                timeout = None
                rest_end = self.wake_rested(time.monotonic()) if self.resting else None
                if self.dirty and self.echo:
                    timeout = 0.0
                elif self.dirty:
                    timeout = max(0.0, self.last_frame + FRAME_INTERVAL - time.monotonic())
                elif self.message is not None:
                    timeout = max(0.0, self.message_until - time.monotonic())
                if any(c.out or not c.ready for c in self.clients):
                    timeout = 1.0 if timeout is None else min(timeout, 1.0)
                if self.accept_paused_until is not None:
                    wait = max(0.0, self.accept_paused_until - time.monotonic())
                    timeout = wait if timeout is None else min(timeout, wait)
                if rest_end is not None:
                    wait = max(0.0, rest_end - time.monotonic())
                    timeout = wait if timeout is None else min(timeout, wait)
                if self.ahead_due is not None:
                    wait = max(0.0, self.ahead_due - time.monotonic())
                    timeout = wait if timeout is None else min(timeout, wait)
                if self.config_check is not None:
                    wait = max(0.0, self.config_check.deadline - time.monotonic())
                    timeout = wait if timeout is None else min(timeout, wait)
                # clients first, then panes that owe an echo, then the others
                ready = sorted(self.sel.select(timeout), key=_priority)
                for key, events in ready:
                    if self.echo and self.dirty:
                        self.render()  # an echo is drawn before more output is parsed
                    kind, obj = key.data
                    if not self.still_registered(key.fd, kind, obj):
                        continue  # closed by an earlier event of this round
                    if kind == "pty":
                        if events & selectors.EVENT_READ:
                            self.on_pty(obj)
                        if events & selectors.EVENT_WRITE and obj.master is not None:
                            self.flush_pane_input(obj)
                    elif kind == "status":
                        self.on_status(obj)
                    elif kind == "ahead":
                        self.on_ahead_status(obj)
                    elif kind == "client":
                        self.on_client(obj, events)
                    elif kind == "listen":
                        self.accept()
                    elif kind == "wake":
                        self.on_wake(wake_r)
                    elif kind == "config":
                        self.on_config_check(obj)
                if self.config_check is not None:
                    self.on_config_check(self.config_check, time.monotonic())
                if self.message is not None and time.monotonic() >= self.message_until:
                    self.message = None
                    self.dirty = True
                if self.dirty and (
                    self.echo or time.monotonic() - self.last_frame >= FRAME_INTERVAL
                ):
                    self.render()
                self.drop_stalled_clients()
                self.follow_focus()
                if self.ahead_due is not None and time.monotonic() >= self.ahead_due:
                    self.prepare_ahead()
        except Exception:
            self.log.exception("server_crashed")
            raise
        finally:
            self.shutdown()

    def drop_stalled_clients(self) -> None:
        now = time.monotonic()
        self.resume_accepting(now)
        for client in list(self.clients):
            if not client.ready and now - client.connected_at > HELLO_DEADLINE:
                self.drop_client(client, "no hello in time")
                continue
            if client.out and now - client.progress_at > self.config.options.client_timeout:
                self.log.warning("client_stalled", client_pid=client.pid, backlog=len(client.out))
                self.drop_client(client, "not reading")

    def still_registered(self, fd: int, kind: str, obj: Any) -> bool:
        if kind == "pty":
            return obj.master == fd
        if kind == "status":
            return obj.spawn is not None and obj.spawn.status_fd == fd
        if kind == "ahead":
            return obj is self.ahead and obj.status_fd == fd
        if kind == "client":
            return obj in self.clients
        if kind == "config":
            return obj is self.config_check
        return True

    def on_wake(self, fd: int) -> None:
        try:
            signals = os.read(fd, 512)
        except BlockingIOError:
            return
        if any(s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT) for s in signals):
            self.running = False
        self.reap()

    def shutdown(self) -> None:
        self.discard_ahead()
        if self.config_check is not None:
            self.config_check.close()  # the child is killed, the reload not applied
            self.config_check = None
        for client in list(self.clients):
            client.send_json(
                protocol.BYE, {"reason": "exited", "message": f"session {self.session} ended"}
            )
            try:
                client.sock.setblocking(True)
                client.sock.settimeout(1)
                client.sock.sendall(client.out)
            except OSError:
                pass
            self.drop_client(client, "server exiting")
        for pane in list(self.panes.values()):
            self.kill_pane(pane)
        deadline = time.monotonic() + 5
        for pane in list(self.panes.values()):
            spawn = pane.spawn
            if spawn is None:
                continue
            if spawn.starting:
                try:
                    while not spawn.read_status():
                        pass
                    spawn.finish_start()
                except (HexeError, OSError):
                    continue
            if pane.alive and spawn.pid is not None:
                while time.monotonic() < deadline:
                    try:
                        pid, status = os.waitpid(spawn.pid, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid:
                        spawn.finish(status)
                        break
                    time.sleep(0.01)
        for path in (self.sock_path, self.pid_path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        self.log.info("server_stopped")


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


def _command_pid(pid: int) -> int | None:
    """The pane's command when ``pid`` is the sandbox's PID 1 (hexe-init): its first child."""
    if _comm(pid) != "hexe-init":
        return None
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
