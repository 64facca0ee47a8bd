"""``hexe mux``: the client. Puts the terminal in raw mode and relays it to a session server.

The server owns the panes and draws; the client sends what is typed and the
terminal's size, writes what the server draws, and restores the terminal
however it ends (detach, the session ending, the server dying, a signal).
When the session does not exist yet, ``hexe mux`` starts its server in the
background first, under a lock so that two clients starting at once end up
in one server.
"""

from __future__ import annotations

import _socket  # socket's enums cost ~2 ms to build: the C module does the same here
import errno
import fcntl
import os
import select
import sys
import time

from hexe import log as hexe_log
from hexe.errors import HexeError
from hexe.server.paths import beside, socket_file
from hexe.wire import protocol

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:  # and collections.abc, which imports collections (~2 ms a request)
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Any

RESTORE = (
    "\x1b[?2026l\x1b[0m\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1006l\x1b[?2004l\x1b[?25h\x1b[?1049l"
    "\x1b[0 q\x1b[?1004l"  # the cursor shape and focus events a pane asked for
)
START_TIMEOUT = 10.0


def connect(path: str | Path) -> _socket.socket | None:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    return sock


def ensure_server(
    session: str, environ: Mapping[str, str], start: Callable[[str, int, int], None] | None
) -> _socket.socket:
    """Connect to the session's server, starting it (``start``) when there is none.

    A stale socket (no server behind it) is replaced. The check and the start
    happen under a lock, so concurrent ``hexe mux`` share one server.
    ``start(path, lock_fd, ready_fd)`` hands ``ready_fd`` to the server, which
    writes to it once it listens (:meth:`hexe.server.server.Server.listen`):
    the client connects then, not at its next poll.
    """
    path = socket_file(session, environ)
    sock = connect(path)
    if sock is not None:
        return sock
    if start is None:
        raise HexeError(f"no session {session}", hint="hexe mux --session NAME starts one")
    with open(beside(path, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sock = connect(path)
        if sock is not None:
            return sock
        ready_r, ready_w = os.pipe()
        try:
            try:
                start(path, lock.fileno(), ready_w)
            finally:
                os.close(ready_w)  # the server holds it now: EOF when it dies first
            # the server's word that it listens, or EOF: it ended before that
            readable = select.select([ready_r], [], [], START_TIMEOUT)[0]
            listening = bool(readable and os.read(ready_r, 64))
        finally:
            os.close(ready_r)
        deadline = time.monotonic() + (1.0 if listening else 0.0)
        while True:
            sock = connect(path)
            if sock is not None:
                return sock
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
    raise HexeError(
        f"the server of session {session} did not start",
        hint=f"see the log ({hexe_log.default_log_file()})",
    )


def daemonize(run: Callable[[], None], close: tuple[int, ...] = ()) -> None:
    """Run ``run`` in a detached grandchild (new session, stdio on /dev/null); return at once.

    ``close`` are descriptors the grandchild must not keep: the start lock
    above all, or the server would hold it for its whole life (flock locks
    belong to the open file, which fork shares) and the next ``hexe mux``
    that finds no server yet would wait for it forever.
    """
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        for fd in close:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        run()
    finally:
        from hexe.methodcache import save

        save()  # the server's own compiled dataclass methods: os._exit runs no atexit
        os._exit(0)


class Terminal:
    """The user's terminal in raw mode, restored on exit."""

    def __init__(self, fd: int = 0) -> None:
        import termios  # an attach only

        self.fd = fd
        self.saved = termios.tcgetattr(fd)

    def __enter__(self) -> Terminal:
        import tty

        tty.setraw(self.fd)
        os.write(1, b"\x1b[?1049h")
        return self

    def __exit__(self, *exc: object) -> None:
        os.write(1, RESTORE.encode())
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def size(self) -> tuple[int, int]:
        size = os.get_terminal_size(self.fd)
        return max(size.columns, 1), max(size.lines, 2)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 0.05)
            continue
        except InterruptedError:
            continue
        view = view[n:]


class Connection:
    """A command connection to a session server: requests and their replies, no terminal."""

    def __init__(self, sock: _socket.socket, session: str, timeout: float = 10.0) -> None:
        self.sock = sock
        self.session = session
        self.decoder = protocol.Decoder()
        self.frames: list[protocol.Frame] = []
        sock.settimeout(timeout)
        sock.sendall(
            protocol.encode_json(
                protocol.HELLO, {"version": protocol.PROTOCOL_VERSION, "mode": "command"}
            )
        )
        frame = self._next()
        if frame.kind == protocol.BYE:
            raise HexeError(f"session {session}: {frame.json().get('message', 'refused')}")
        if frame.kind != protocol.HELLO:
            raise HexeError(f"session {session}: the server did not say hello")
        self.server = frame.json()

    def _next(self) -> protocol.Frame:
        while not self.frames:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError as exc:
                raise HexeError(f"session {self.session}: the server did not answer") from exc
            except ConnectionResetError:
                data = b""
            if not data:
                raise HexeError(f"session {self.session}: the server closed the connection")
            try:
                self.frames += self.decoder.feed(data)
            except protocol.ProtocolError as exc:
                raise HexeError(f"session {self.session}: {exc}") from exc
        return self.frames.pop(0)

    def request(self, action: str, args: list[Any] | None = None, pane: int | None = None) -> Any:
        """Run ``action`` in the session; its result, or HexeError with the server's reason."""
        message: dict[str, Any] = {"action": action, "args": list(args or [])}
        if pane is not None:
            message["pane"] = pane
        self.sock.sendall(protocol.encode_json(protocol.COMMAND, message))
        while True:
            frame = self._next()
            if frame.kind == protocol.REPLY:
                reply = frame.json()
                if not reply.get("ok"):
                    raise HexeError(str(reply.get("error", "failed")))
                return reply.get("result")
            if frame.kind == protocol.BYE:
                raise HexeError(f"session {self.session}: {frame.json().get('message', 'ended')}")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(session: str, environ: Mapping[str, str], timeout: float = 10.0) -> Connection:
    """A command connection to ``session``; HexeError when it is not running."""
    try:
        sock = connect(socket_file(session, environ))
    except PermissionError as exc:
        raise HexeError(f"cannot connect to session {session}: {exc.strerror}") from exc
    if sock is None:
        raise HexeError(f"no session {session}", hint="hexe ls lists the running sessions")
    return Connection(sock, session, timeout)


def attach(
    sock: _socket.socket,
    term: str,
    detach_others: bool = False,
    *,
    environ: Mapping[str, str] | None = None,
    choose: bool = False,
) -> tuple[str, str]:
    """Relay the terminal and the session's socket until the server says bye;
    (reason, message). A ``switch`` bye (``switch-client``, the chooser) moves
    the relay to that session's socket, in the same terminal."""
    if not os.isatty(0) or not os.isatty(1):
        raise HexeError(
            "attaching to a session needs a terminal on stdin and stdout",
            hint="from a script: hexe new-session -d, send-keys, capture-pane",
        )
    environ = os.environ if environ is None else environ
    with Terminal() as terminal:
        while True:
            reason, message = _relay(sock, terminal, term, detach_others, environ, choose)
            if reason != "switch":
                return reason, message
            detach_others = choose = False
            try:
                sock.close()
                sock = _switch_to(message, environ)
            except HexeError as exc:
                return "lost", f"could not switch to session {message}: {exc.message}"


def _switch_to(session: str, environ: Mapping[str, str]) -> _socket.socket:
    try:
        sock = connect(socket_file(session, environ))
    except OSError as exc:
        raise HexeError(exc.strerror or str(exc)) from exc
    if sock is None:
        raise HexeError(f"no session {session}")
    return sock


def _relay(
    sock: _socket.socket,
    terminal: Terminal,
    term: str,
    detach_others: bool,
    environ: Mapping[str, str],
    choose: bool,
) -> tuple[str, str]:
    """One session's part of :func:`attach`: ("switch", NAME) to go on elsewhere."""
    cols, rows = terminal.size()
    hello: dict[str, Any] = {
        "version": protocol.PROTOCOL_VERSION,
        "cols": cols,
        "rows": rows,
        "term": term,
        "detach_others": detach_others,
        # what this client can follow: a bye with reason "switch" (protocol 2
        # servers that predate it never send one, and ignore these keys)
        "features": ["switch"],
        "inside": environ.get("HEXE_SESSION") or None,
        "choose": choose,
    }
    sock.sendall(protocol.encode_json(protocol.HELLO, hello))
    # the C modules: signal's enums and selectors' collections cost an attach ~8 ms
    import _signal

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    old_wakeup = _signal.set_wakeup_fd(wake_w)
    handlers = {
        sig: _signal.signal(sig, lambda *_: None)
        for sig in (_signal.SIGWINCH, _signal.SIGTERM, _signal.SIGHUP)
    }
    poll = select.poll()
    names = {0: "stdin", sock.fileno(): "server", wake_r: "signal"}
    for fd in names:
        poll.register(fd, select.POLLIN)  # a hang-up or an error wakes it too: read, and see
    decoder = protocol.Decoder()
    try:
        while True:
            for fd, _events in poll.poll():
                name = names[fd]
                if name == "stdin":
                    data = os.read(0, 65536)
                    if not data:
                        return "gone", "the terminal went away"
                    sock.sendall(protocol.encode(protocol.INPUT, data))
                elif name == "signal":
                    signals = os.read(wake_r, 64)
                    if _signal.SIGTERM in signals or _signal.SIGHUP in signals:
                        return "killed", "the client was told to stop; the session goes on"
                    cols, rows = terminal.size()
                    sock.sendall(
                        protocol.encode_json(protocol.RESIZE, {"cols": cols, "rows": rows})
                    )
                else:
                    try:
                        data = sock.recv(1 << 16)
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        return "lost", _lost(sock)
                    for frame in decoder.feed(data):
                        if frame.kind == protocol.OUTPUT:
                            write_all(1, frame.payload)
                        elif frame.kind == protocol.BYE:
                            bye = frame.json()
                            if bye.get("reason") == "switch":
                                return "switch", str(bye.get("session", ""))
                            return str(bye.get("reason")), str(bye.get("message", ""))
    finally:
        _signal.set_wakeup_fd(old_wakeup)
        for sig, handler in handlers.items():
            _signal.signal(sig, handler)
        os.close(wake_r)
        os.close(wake_w)


def _lost(sock: _socket.socket) -> str:
    """Why the server's end closed: it is gone, or it dropped this client."""
    try:
        path = sock.getpeername()
    except OSError:
        path = ""
    alive = connect(path) if path else None
    if alive is None:
        return "lost the server (it died?)"
    alive.close()
    return (
        "the server disconnected this client (the terminal took no output for too long?); "
        "the session goes on: hexe attach"
    )


def run_client(
    session: str,
    environ: Mapping[str, str],
    start: Callable[[Path, int], None] | None,
    detach_others: bool = False,
    choose: bool = False,
) -> int:
    try:
        sock = ensure_server(session, environ, start)
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise HexeError(f"cannot connect to session {session}: {exc.strerror}") from exc
        raise
    try:
        reason, message = attach(
            sock, environ.get("TERM", "xterm"), detach_others, environ=environ, choose=choose
        )
    finally:
        sock.close()
    print(f"[{message or reason}]", file=sys.stderr)
    return 0 if reason in ("detached", "exited") else 1
