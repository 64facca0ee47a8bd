"""Sessions from inside: rename this one, start another, move a client to another, the chooser.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md. It touches the
session's own name and files (socket, pid file, lock), asks other sessions'
servers what they hold (over their sockets, briefly, with a deadline) and
tells an attached client to reconnect elsewhere (a ``BYE`` with reason
``switch``). It never reaches into another server's panes beyond asking.

None of these may come from inside a sandboxed pane (registry ``sandbox``:
never): a sandbox must not see other sessions, rename or leave this one, nor
start a session, whose panes would not be sandboxed.
"""

from __future__ import annotations

import fcntl
import os
import selectors
import socket
import sys
import time
from typing import Any

from hexe.commands.registry import check_action
from hexe.errors import HexeError
from hexe.mux.chooser import Chooser, Row
from hexe.mux.input import Key, Mouse, Paste
from hexe.server.paths import beside, check_session_name, socket_directory, socket_file
from hexe.server.state import ActionError, Client
from hexe.wire import protocol

#: Seconds another session's server has to answer the chooser (it may be busy,
#: or asking us at the same moment: then both give up after this long).
PEER_TIMEOUT = 1.0
#: What a client says in its hello when it can follow a ``switch`` bye.
SWITCH_FEATURE = "switch"


def peer_request(
    path: Any, action: str, args: list[Any] | None = None, pane: int | None = None
) -> Any:
    """One command to another session's server, answered within PEER_TIMEOUT in all
    (``hexe/client``'s Connection, kept small: the server may not import the client).

    The deadline is for the whole answer, not each read: a socket in the
    run directory that trickles a byte a second cannot hold this server."""
    deadline = time.monotonic() + PEER_TIMEOUT
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(PEER_TIMEOUT)
    try:
        sock.connect(str(path))
        hello = {"version": protocol.PROTOCOL_VERSION, "mode": "command"}
        message: dict[str, Any] = {"action": action, "args": list(args or [])}
        if pane is not None:
            message["pane"] = pane
        sock.sendall(protocol.encode_json(protocol.HELLO, hello))
        sock.sendall(protocol.encode_json(protocol.COMMAND, message))
        decoder = protocol.Decoder()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OSError(f"no answer within {PEER_TIMEOUT:g} s")
            sock.settimeout(left)
            data = sock.recv(1 << 16)
            if not data:
                raise OSError("closed")
            for frame in decoder.feed(data):
                if frame.kind == protocol.BYE:
                    raise OSError(str(frame.json().get("message", "refused")))
                if frame.kind == protocol.REPLY:
                    reply = frame.json()
                    if not reply.get("ok"):
                        raise OSError(str(reply.get("error", "failed")))
                    return reply.get("result")
    except TimeoutError as exc:
        raise HexeError(f"no answer within {PEER_TIMEOUT:g} s") from exc
    except (OSError, protocol.ProtocolError, ValueError) as exc:
        raise HexeError(str(exc) or type(exc).__name__) from exc
    finally:
        sock.close()


class SwitchingRoom:
    """Sessions from inside: rename-session, new-session, switch-client, choose-tree."""

    #: the chooser on screen (drawn in the help overlay's box; it takes every key)
    chooser: Chooser | None = None

    # -- rename -----------------------------------------------------------------------

    def do_rename_session(self, client: Client | None, name: str | None = None) -> None:
        if name is None:
            if client is None or not client.attached:
                raise ActionError("rename-session needs a NAME from the command line")
            self.start_prompt("rename session", self.rename_from_prompt, self.session)
            return
        self.rename_session(name)

    def rename_from_prompt(self, text: str) -> None:
        try:
            self.rename_session(text.strip() or self.session)
        except ActionError as exc:
            self.show_message(str(exc))

    def rename_session(self, name: str) -> None:
        """The session becomes ``name``: its socket, pid file and lock follow, new
        panes get ``HEXE_SESSION=name``; refused when that name is taken."""
        try:
            check_session_name(name)
        except HexeError as exc:
            raise ActionError(f"rename-session: {exc.message}") from None
        if name == self.session:
            return
        new_sock = os.path.join(os.path.dirname(self.sock_path), f"{name}.sock")
        # under the new name's start lock: a `hexe mux -s NAME` starting now
        # either finds us there, or we find it and refuse
        with open(beside(new_sock, ".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ActionError(f"rename-session: session {name} is starting") from None
            if _listening(new_sock):
                raise ActionError(f"rename-session: there is already a session {name}")
            old_sock, old_pid = self.sock_path, self.pid_path
            os.replace(old_sock, new_sock)
            self.sock_path = new_sock
            os.replace(old_pid, self.pid_path)
        try:
            os.unlink(beside(old_sock, ".lock"))
        except FileNotFoundError:
            pass
        old = self.session
        self.session = name
        self.log = self.log.bind(session=name)
        self.log.info("session_renamed", old=old, new=name)
        self.dirty = True

    # -- another session ------------------------------------------------------------------

    def do_new_session(self, client: Client | None, name: str | None = None) -> str:
        """Start session ``name`` (default: the lowest free number) in the background:
        ``hexe new-session -d`` run by the server, with this session's config file."""
        return self.start_session(None, [] if name is None else [name])

    def start_session(self, waiter: Client | None, args: list[Any]) -> str:
        """:meth:`do_new_session`; ``waiter`` (a command) is answered once the new
        server listens, or with why it did not start."""
        problem = check_action("new-session", args)
        if problem is not None:
            raise ActionError(problem)
        caller = self.panes.get(waiter.pane) if waiter and waiter.pane is not None else None
        iso = caller.spawn.plan.isolation if caller and caller.spawn else None
        limits = iso.status_text(self.config.settings) if iso is not None else ""
        if limits:
            # its panes would start outside the caller's cgroup: a way out of its limits
            raise ActionError(
                f"new-session is refused from inside pane {caller.id}: it has limits "
                f"({limits}), and the new session's panes would not; start it "
                "from the client (prefix :) instead"
            )
        name = args[0] if args else None
        taken = set(self.session_names())
        if name is None:
            name = next(str(n) for n in range(len(taken) + 1) if str(n) not in taken)
        try:
            check_session_name(name)
        except HexeError as exc:
            raise ActionError(f"new-session: {exc.message}") from None
        if name in taken:
            raise ActionError(f"new-session: there is already a session {name}")
        env = {k: v for k, v in self.environ.items() if k not in ("HEXE_SESSION", "HEXE_PANE")}
        argv = [sys.executable, "-m", "hexe"]
        if self.config.file is not None:
            argv += ["--config", self.config.file]
        argv += ["new-session", "-d", "-s", name]
        import subprocess  # here only: with threading, ~3 ms of every server's start

        proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
            start_new_session=True,
        )
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        # its errors (a bad init.lua...) come back on the status line; the loop's
        # reap collects the process itself
        self.sel.register(proc.stderr, selectors.EVENT_READ, ("starter", proc))
        self.starters = getattr(self, "starters", {})
        self.starters[proc] = (name, bytearray(), waiter)
        self.log.info("session_starting", name=name, pid=proc.pid)
        return name

    def on_starter(self, proc: Any) -> None:
        """``hexe new-session -d`` wrote to stderr, or ended: say what went wrong."""
        try:
            data = os.read(proc.stderr.fileno(), 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        name, held, waiter = self.starters[proc]
        if data:
            held += data[: 4096 - len(held)]
            return
        self.sel.unregister(proc.stderr)
        proc.stderr.close()
        del self.starters[proc]
        text = bytes(held).decode(errors="replace").strip()
        started = _listening(os.path.join(os.path.dirname(self.sock_path), f"{name}.sock"))
        if not started:
            text = text or f"session {name} did not start (see the log)"
            self.show_message(f"new-session: {text.splitlines()[0]}", 8)
            self.log.warning("session_start_failed", name=name, error=text[:500])
        if waiter is not None and waiter in self.clients:
            reply = {"ok": True, "result": name} if started else {"ok": False, "error": text}
            waiter.send_json(protocol.REPLY, reply)
            self.flush_client(waiter)

    def session_names(self) -> list[str]:
        """The sessions with a server listening, this one included."""
        names = []
        directory = socket_directory(self.environ)
        for entry in sorted(os.listdir(directory)):
            path = os.path.join(directory, entry)
            if entry.endswith(".sock") and (path == self.sock_path or _listening(path)):
                names.append(entry[: -len(".sock")])
        return names

    def attached_client(self, client: Client | None) -> Client:
        """The client an action is for: the one that asked when it is attached (a
        key), else the attached one typed in last (a command); ActionError if none."""
        if client is not None and client.attached:
            return client
        attached = [c for c in self.clients if c.attached and not c.closing]
        if not attached:
            raise ActionError(f"no client is attached to session {self.session}")
        return max(attached, key=lambda c: c.active_at)

    def do_switch_client(self, client: Client | None, name: str) -> None:
        """The attached client (the one that asked, else the last active) shows ``name``."""
        self.switch(self.attached_client(client), name)

    def switch(self, client: Client, name: str) -> None:
        try:
            path = socket_file(name, self.environ)
        except HexeError as exc:
            raise ActionError(f"switch-client: {exc.message}") from None
        if name == self.session:
            return
        if SWITCH_FEATURE not in getattr(client, "features", ()):
            raise ActionError(
                f"switch-client: this client (an older hexe) cannot switch; detach and "
                f"hexe attach {name}"
            )
        if name == getattr(client, "inside", None):
            raise ActionError(
                f"switch-client: this client runs inside session {name}; showing it there "
                "would loop"
            )
        if not _listening(path):
            raise ActionError(f"switch-client: no session {name}")
        self.log.info("client_switched", client_pid=client.pid, to=name)
        client.send_json(
            protocol.BYE,
            {"reason": "switch", "session": name, "message": f"switched to session {name}"},
        )
        client.closing = True
        self.flush_client(client)

    def hello_extras(self, client: Client, hello: dict[str, Any]) -> None:
        """What a client's hello says beyond the size: what it can do (``features``),
        the session it runs inside (``inside``), and ``choose`` (open the chooser)."""
        features = hello.get("features")
        client.features = (
            tuple(  # type: ignore[attr-defined]
                str(f)[:32] for f in features[:16]
            )
            if isinstance(features, list)
            else ()
        )
        inside = hello.get("inside")
        client.inside = inside if isinstance(inside, str) else None  # type: ignore[attr-defined]
        if hello.get("choose") is True and client.attached:
            self.open_chooser(client)

    # -- the chooser --------------------------------------------------------------------

    def do_choose_tree(self, client: Client | None) -> None:
        self.open_chooser(self.attached_client(client))

    def open_chooser(self, client: Client) -> None:
        sessions: list[dict[str, Any]] = []
        for name in self.session_names():
            if name == self.session:
                sessions.append({"name": name, "panes": self.list_panes()})
                continue
            try:
                panes = peer_request(socket_file(name, self.environ), "list-panes")
            except HexeError as exc:
                sessions.append({"name": name, "panes": None, "error": exc.message})
                continue
            sessions.append({"name": name, "panes": panes if isinstance(panes, list) else []})
        self.chooser = Chooser.build(self.session, sessions)
        self.chooser_preview()
        self.draw_chooser()

    def chooser_preview(self) -> None:
        chooser = self.chooser
        row = chooser.row if chooser is not None else None
        if chooser is None or row is None or row.preview is None:
            return
        key = (row.session, row.preview)
        if key in chooser.previews:
            return
        text = ""
        if row.session == self.session:
            pane = self.panes.get(row.preview)
            if pane is not None:
                from hexe.server.commands import capture

                text = capture(pane.screen, [{}])
        else:
            try:
                path = socket_file(row.session, self.environ)
                text = str(peer_request(path, "capture-pane", [{}], row.preview))
            except HexeError as exc:
                text = f"(no preview: {exc.message})"
        lines = text.rstrip("\n").split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        chooser.previews[key] = lines

    def draw_chooser(self) -> None:
        if self.chooser is None:
            return
        self.overlay = self.chooser.lines(max(self.cols - 4, 10), self.overlay_room())
        self.overlay_top = 0
        self.dirty = True

    def set_size(self, cols: int, rows: int) -> None:
        super().set_size(cols, rows)  # type: ignore[misc]
        self.draw_chooser()  # the box follows the session's size

    def close_chooser(self) -> None:
        self.chooser = None
        self.overlay = None
        self.dirty = True

    def chooser_input(self, client: Client, event: Key | Mouse | Paste) -> None:
        """A key while the chooser is open (it takes every key)."""
        chooser = self.chooser
        if chooser is None or not isinstance(event, Key):
            return
        key = event.name
        if key in ("Escape", "q", "C-c", "C-g"):
            self.close_chooser()
            return
        if key in ("Up", "k", "C-p"):
            chooser.move(-1)
        elif key in ("Down", "j", "C-n"):
            chooser.move(1)
        elif key in ("PageUp",):
            chooser.move(-10)
        elif key in ("PageDown",):
            chooser.move(10)
        elif key in ("Left", "h"):
            chooser.move_to_kind(-1, "session")
        elif key in ("Right", "l"):
            chooser.move_to_kind(1, "session")
        elif key == "Enter" and chooser.row is not None:
            row = chooser.row
            self.close_chooser()
            try:
                self.choose(client, row)
            except ActionError as exc:
                self.show_message(str(exc))
            return
        self.chooser_preview()
        self.draw_chooser()

    def choose(self, client: Client, row: Row) -> None:
        """Show what ``row`` is: here, select its tab or pane; in another session,
        select it there and switch this client to it."""
        if row.session == self.session:
            if row.pane is not None:
                self.run_action(client, "select-pane", [row.pane])
            elif row.tab is not None:
                self.run_action(client, "select-tab", [row.tab])
            return
        path = socket_file(row.session, self.environ)
        try:
            if row.pane is not None:
                peer_request(path, "select-pane", [row.pane])
            elif row.tab is not None:
                peer_request(path, "select-tab", [row.tab])
        except HexeError as exc:
            raise ActionError(f"session {row.session}: {exc.message}") from None
        self.switch(client, row.session)


def _listening(path: Any) -> bool:
    """A server answers at ``path`` (a stale socket does not)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(PEER_TIMEOUT)
    try:
        sock.connect(str(path))
    except OSError:
        return False
    finally:
        sock.close()
    return True


__all__ = ["PEER_TIMEOUT", "SWITCH_FEATURE", "SwitchingRoom", "peer_request"]
