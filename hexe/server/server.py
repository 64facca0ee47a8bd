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
- clients speak :mod:`hexe.wire.protocol` over a Unix socket; their input
  goes through the key bindings (prefix, actions) or to the focused pane.
"""

from __future__ import annotations

import gc
import os
import selectors
import signal
import socket
import time
from typing import Any

from hexe import log as hexe_log
from hexe import spawn as spawn_mod
from hexe.config import Config
from hexe.config import lua as config_lua
from hexe.config.contained import Preflight
from hexe.config.model import PaneSpec
from hexe.errors import HexeError
from hexe.mux.tabs import Tabs
from hexe.server.actions import ActionsRoom
from hexe.server.ahead import AheadRoom
from hexe.server.arrange import ArrangeRoom, ArrangeState
from hexe.server.clients import ClientsRoom
from hexe.server.clipboard import ClipboardRoom
from hexe.server.commands import CommandsRoom
from hexe.server.floats import FloatsRoom
from hexe.server.frames import FramesRoom
from hexe.server.keys import KeysRoom
from hexe.server.panes import PanesRoom
from hexe.server.paths import beside
from hexe.server.state import (
    ACCEPT_PAUSE,
    AHEAD_DELAY,
    AHEAD_FAILURES,
    CLIENT_BACKLOG,
    CLIENT_BUFFER_LIMIT,
    CLIENT_LIMIT,
    DECODE_BUDGET,
    ECHO_WINDOW,
    FRAME_BURST,
    FRAME_INTERVAL,
    FRAME_RATE,
    GC_THRESHOLDS,
    HELLO_DEADLINE,
    HELLO_FRAME_LIMIT,
    OUTPUT_FAULT_NOTICE,
    PANE_INPUT_LIMIT,
    PANE_OPENERS,
    PEER_NAMESPACES,
    READ_BATCH,
    READ_SIZE,
    SO_PEERCRED_FORMAT,
    TERM,
    UNFOCUSED_BATCH,
    UNFOCUSED_REST,
    ActionError,
    Client,
    Pane,
    _priority,
    _raise_fd_limit,
    feed_contained,
)
from hexe.server.status import StatusRoom
from hexe.server.switching import SwitchingRoom
from hexe.wire import protocol


# StatusRoom first: its on_pty and render add to the panes' and frames' rooms
class Server(
    StatusRoom,
    SwitchingRoom,
    PanesRoom,
    AheadRoom,
    ClientsRoom,
    KeysRoom,
    CommandsRoom,
    ActionsRoom,
    FramesRoom,
    ArrangeRoom,
    ClipboardRoom,
    FloatsRoom,
):
    def __init__(
        self,
        session: str,
        config: Config,
        pm: Any,
        sock_path: str | os.PathLike[str],
        environ: dict[str, str],
    ) -> None:
        self.session = session
        self.config = config
        self.pm = pm
        #: a string: pathlib (with urllib.parse) is ~0.7 MiB of a server that needs none of it
        self.sock_path = os.fspath(sock_path)
        self.environ = environ
        self.sel = selectors.DefaultSelector()
        self.panes: dict[int, Pane] = {}
        self.clients: list[Client] = []
        #: clients not read for a while (frames per second): the loop looks at these only
        self.paused_clients: set[Client] = set()
        self.tabs = Tabs()
        self.next_pane_id = 1
        self.cols, self.rows = 80, 24
        self.dirty = True
        self.echo = False  # a pane answered input: draw now, not at the next frame slot
        self.echo_clean = False  # ...and nothing else changed since the last frame
        #: the last view built, with the config, tab and focused pane it was built for
        self.view_drawn: tuple[Any, ...] | None = None
        self.resting: set[Pane] = set()  # unfocused floods left unread for a while
        self.last_frame = 0.0
        self.running = True
        self.message: str | None = None
        self.message_until = 0.0
        self.prompt: dict[str, Any] | None = None
        self.overlay: list[str] | None = None  # the help's lines, all of them
        self.overlay_top = 0  # the first one shown when they do not fit
        self.paste_buffer = b""
        self.log = hexe_log.get_logger(session=session)
        self.listener: socket.socket | None = None
        #: a pipe's end the client that started this server waits on (see listen)
        self.ready_fd: int | None = None
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
        self.arranging = ArrangeState()  # a border being dragged, each tab's preset layout

    # -- geometry -------------------------------------------------------------

    @property
    def pid_path(self) -> str:
        return beside(self.sock_path, ".pid")

    @property
    def area(self) -> tuple[int, int]:
        """The space for panes: the whole terminal but the status line."""
        return self.cols, max(self.rows - 1, 1)

    # -- panes ----------------------------------------------------------------

    # -- the sandbox of the next split, prepared ahead ------------------------------

    # -- the session ------------------------------------------------------------

    # -- clients -----------------------------------------------------------------

    # -- input ---------------------------------------------------------------------

    # -- actions ---------------------------------------------------------------------

    # -- commands (hexe split-right, hexe list-panes, ...) ------------------------------

    # -- drawing ------------------------------------------------------------------------

    # -- the loop -------------------------------------------------------------------------

    def listen(self) -> None:
        try:
            os.unlink(self.sock_path)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.sock_path)
        finally:
            os.umask(old)
        listener.listen(16)
        listener.setblocking(False)
        self.listener = listener
        with open(self.pid_path, "w") as f:
            f.write(f"{os.getpid()}\n")
        self.sel.register(listener, selectors.EVENT_READ, ("listen", None))
        if self.ready_fd is not None:  # the client that started us waits for this
            try:
                os.write(self.ready_fd, b"listening\n")
            except OSError:
                pass  # it went away: it will connect or not
            os.close(self.ready_fd)
            self.ready_fd = None

    def serve(self) -> None:
        # Output becomes many small objects (a line of scrollback is a tuple)
        # that never form cycles: the cyclic collector ran every 700 of them
        # and took a quarter of the time spent parsing plain text. What was
        # loaded before serving (modules, config) is never garbage: frozen.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        # on, whatever the process that started the server did: a short-lived
        # command (hexe new-session -d is one) turns the collector off for
        # its own start, and the server is a fork of it
        gc.enable()
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
        self.log.info(
            "server_started", socket=self.sock_path, pid=os.getpid(), gc=gc.isenabled()
        )
        try:
            while self.running:
                tick = self.status_tick(time.monotonic())  # the clock's redraw; None: no timer
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
                resume = self.resume_clients(time.monotonic())
                if resume is not None:
                    wait = max(0.0, resume - time.monotonic())
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
                if tick is not None:
                    wait = max(0.0, tick - time.monotonic())
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
                    elif kind == "starter":
                        self.on_starter(obj)
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
                    self.prepare_ahead_contained()
        except Exception:
            self.log.exception("server_crashed")
            raise
        finally:
            self.shutdown()

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
        # goodbyes get one second in all: clients that do not read cannot hold the exit
        goodbye_until = time.monotonic() + 1.0
        for client in list(self.clients):
            client.send_json(
                protocol.BYE, {"reason": "exited", "message": f"session {self.session} ended"}
            )
            left = goodbye_until - time.monotonic()
            try:
                if left > 0 and client.ready:
                    client.sock.setblocking(True)
                    client.sock.settimeout(left)
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
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.log.info("server_stopped")


__all__ = [
    "Server",
    "ACCEPT_PAUSE",
    "AHEAD_DELAY",
    "AHEAD_FAILURES",
    "ActionError",
    "CLIENT_BACKLOG",
    "CLIENT_BUFFER_LIMIT",
    "CLIENT_LIMIT",
    "Client",
    "DECODE_BUDGET",
    "ECHO_WINDOW",
    "FRAME_BURST",
    "FRAME_INTERVAL",
    "FRAME_RATE",
    "GC_THRESHOLDS",
    "HELLO_DEADLINE",
    "HELLO_FRAME_LIMIT",
    "OUTPUT_FAULT_NOTICE",
    "PANE_INPUT_LIMIT",
    "PANE_OPENERS",
    "PEER_NAMESPACES",
    "Pane",
    "READ_BATCH",
    "READ_SIZE",
    "SO_PEERCRED_FORMAT",
    "TERM",
    "UNFOCUSED_BATCH",
    "UNFOCUSED_REST",
    "feed_contained",
]
