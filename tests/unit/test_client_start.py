"""A new session's client waits for its server's word that it listens
(``hexe.client.ensure_server``): it connects then, and says at once that the
server did not start when the server ends before listening."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from hexe.client import ensure_server
from hexe.errors import HexeError
from hexe.server.paths import socket_file


def _in_a_child(work) -> None:
    """Run ``work`` in a forked child that exits after it (the server's place)."""
    if os.fork() == 0:  # pragma: no cover - the child
        try:
            work()
        finally:
            os._exit(0)


def test_the_client_connects_once_the_server_says_it_listens(tmp_path: Path):
    environ = {"XDG_RUNTIME_DIR": str(tmp_path)}
    socket_file("s", environ)  # the socket directory, made

    def start(where: str, lock_fd: int, ready_fd: int) -> None:
        def serve() -> None:
            os.close(lock_fd)
            time.sleep(0.3)  # a slow start: the client must wait, not give up
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(where))
            listener.listen(1)
            os.write(ready_fd, b"listening\n")
            os.close(ready_fd)
            conn, _ = listener.accept()
            conn.sendall(b"hello")
            conn.close()

        _in_a_child(serve)

    sock = ensure_server("s", environ, start)
    try:
        assert sock.recv(5) == b"hello"
    finally:
        sock.close()
        os.wait()


def test_a_server_that_ends_before_listening_is_told_at_once(tmp_path: Path):
    environ = {"XDG_RUNTIME_DIR": str(tmp_path)}
    socket_file("s", environ)  # the socket directory, made

    def start(where: str, lock_fd: int, ready_fd: int) -> None:
        _in_a_child(lambda: None)  # ends at once: its copy of ready_fd closes with it

    began = time.monotonic()
    with pytest.raises(HexeError, match="did not start"):
        ensure_server("s", environ, start)
    os.wait()
    # not the 10 s the client waits for a server that is slow to listen
    assert time.monotonic() - began < 5
