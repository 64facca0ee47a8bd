"""Clients: accept, hello, peer policy, budgets, sizes, sending.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

import os
import selectors
import socket
import struct
import time

from hexe import __version__
from hexe.commands.registry import COMMANDS
from hexe.server.state import (
    ACCEPT_PAUSE,
    CLIENT_BUFFER_LIMIT,
    CLIENT_LIMIT,
    DECODE_BUDGET,
    FRAME_BURST,
    FRAME_RATE,
    HELLO_DEADLINE,
    HELLO_FRAME_LIMIT,
    PANE_OPENERS,
    PEER_NAMESPACES,
    READ_SIZE,
    Client,
    Pane,
    _ppid,
    _readlink,
    _size,
)
from hexe.wire import protocol


class ClientsRoom:
    """Clients: accept, hello, peer policy, budgets, sizes, sending."""

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
            limits = caller.spawn.plan.isolation.status_text(self.config.settings)
            if limits:
                return (
                    f"{name} is refused from inside pane {caller.id}: it has limits "
                    f"({limits}), and a pane opened from inside would get limits "
                    "of its own on top of them; open it from the client (prefix key) instead"
                )
        entry = COMMANDS.get(name)
        if client.sandboxed and client.pane is None:
            # a sandbox that is none of this session's panes (another session's):
            # nothing here is its business, not even the list of panes
            return (
                f"{name} is refused from inside a sandbox that is not a pane of session "
                f"{self.session}: a sandboxed pane may not look at or drive other sessions"
            )
        if not client.sandboxed or (entry is not None and entry.from_sandbox == "any"):
            return None  # queries; detaching you is a nuisance at worst, never a way out
        where = f"pane {client.pane}" if client.pane is not None else "a sandbox"
        if client.pane is None or entry is None or entry.from_sandbox != "self":
            return (
                f"{name} is refused from inside {where}: a sandboxed pane may only act "
                "on itself (split, send-keys, resize, zoom, close-pane, capture-pane) "
                "and list panes"
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
        while True:
            try:
                frames = client.decoder.feed(data)
            except protocol.ProtocolError as exc:
                self.log.warning("client_protocol_error", error=str(exc))
                self.drop_client(client, str(exc))
                return
            data = b""
            if len(client.decoder.buffer) > HELLO_FRAME_LIMIT:
                self.check_decode_budget()
            if frames:
                self.charge_frames(client, len(frames))
            for frame in frames:
                if client not in self.clients:
                    return
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
            if client not in self.clients or not client.ready:
                return
            if client.decoder.hold_after is None:
                return
            # said hello: the frames behind it (already read) get the full limit
            client.decoder.hold_after = None
            client.decoder.limit = protocol.MAX_FRAME
            if not client.decoder.buffer:
                return

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
            self.hello_extras(client, hello)  # features, inside, choose (switching.py)
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

    def watch_client(self, client: Client) -> bool:
        """Register the client's socket for what we wait on: its frames (unless
        it is paused for sending too many) and room for ours. False once gone."""
        if client not in self.clients:
            return False
        want = 0 if client.read_paused_until is not None else selectors.EVENT_READ
        if client.out:
            want |= selectors.EVENT_WRITE
        if want == client.watching:
            return True
        try:
            if not want:
                self.sel.unregister(client.sock)
            elif not client.watching:
                self.sel.register(client.sock, want, ("client", client))
            else:
                self.sel.modify(client.sock, want, ("client", client))
        except (KeyError, ValueError, OSError):
            return False
        client.watching = want
        return True

    def charge_frames(self, client: Client, count: int) -> None:
        """Frames per second budget: a client past FRAME_BURST frames (refilled at
        FRAME_RATE a second) is not read until it is back in budget. It is slowed,
        never dropped: what it sent waits in its socket, the others go on."""
        now = time.monotonic()
        client.frame_tokens = min(
            float(FRAME_BURST), client.frame_tokens + (now - client.tokens_at) * FRAME_RATE
        )
        client.tokens_at = now
        client.frame_tokens -= count
        if client.frame_tokens < 0 and client.read_paused_until is None:
            client.read_paused_until = now - client.frame_tokens / FRAME_RATE
            self.paused_clients.add(client)
            self.log.info("client_paused", client_pid=client.pid, reason="frames per second")
            self.watch_client(client)

    def resume_clients(self, now: float) -> float | None:
        """Read paused clients again once in budget; the next time one is due."""
        due: float | None = None
        for client in list(self.paused_clients):
            until = client.read_paused_until
            if until is None or now >= until:
                client.read_paused_until = None
                self.paused_clients.discard(client)
                self.watch_client(client)
            else:
                due = until if due is None else min(due, until)
        return due

    def check_decode_budget(self) -> None:
        """All clients' unfinished frames together stay under DECODE_BUDGET: past
        it, the client holding the most is dropped (one peer cannot grow the server)."""
        held = sum(len(c.decoder.buffer) for c in self.clients)
        while held > DECODE_BUDGET and self.clients:
            worst = max(self.clients, key=lambda c: len(c.decoder.buffer))
            held -= len(worst.decoder.buffer)
            self.log.warning(
                "client_shed", client_pid=worst.pid, reason="unfinished frames over budget",
                held=len(worst.decoder.buffer), budget=DECODE_BUDGET,
            )
            self.drop_client(worst, "shed: unfinished frames over budget")

    def drop_client(self, client: Client, reason: str) -> None:
        if client not in self.clients:
            return
        self.clients.remove(client)
        self.paused_clients.discard(client)
        if client.watching:
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
        if not self.watch_client(client):
            return
        if not client.out and client.closing:
            self.drop_client(client, "closed")
        elif len(client.out) > CLIENT_BUFFER_LIMIT:
            self.drop_client(client, "not reading")

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
