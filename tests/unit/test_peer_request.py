"""The chooser asks other sessions' servers; a socket that trickles its answer
cannot hold this server (the deadline is for the whole answer)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from hexe.errors import HexeError
from hexe.server import switching


def test_a_peer_that_trickles_bytes_is_given_up_on(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(switching, "PEER_TIMEOUT", 0.5)
    path = tmp_path / "evil.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    stop = threading.Event()
    sent = []

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            # a frame header that promises a long body, then a byte at a time,
            # each well within the per-read timeout
            conn.sendall(b"\x05\x00\x10\x00\x00")
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                sent.append(1)

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    outcome: list[object] = []

    def ask() -> None:
        try:
            outcome.append(switching.peer_request(path, "list-panes"))
        except HexeError as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(timeout=20)
    stop.set()
    listener.close()
    assert not asker.is_alive(), "peer_request kept waiting on a trickling peer"
    assert len(outcome) == 1 and isinstance(outcome[0], HexeError), outcome
    assert "no answer within" in str(outcome[0])
    assert len(sent) >= 3, "the peer did trickle (each read got a byte in time)"


def test_a_peer_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HexeError):
        switching.peer_request(tmp_path / "none.sock", "list-panes")
