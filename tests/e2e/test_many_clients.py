"""Several clients attached to one session: each gets every frame, drawn once for all.

A real ``hexe mux`` client runs in a private tmux; more clients attach over
the socket with the wire protocol, as ``hexe attach`` does, at the session's
own size.
"""

from __future__ import annotations

import shutil
import socket
import time

import pytest
from support.mux import Mux, prompt_ready

from hexe.wire import protocol

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def attach(m: Mux) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(m.run_dir / "hexe" / f"{m.session}.sock"))
    s.settimeout(10)
    hello = {"version": protocol.PROTOCOL_VERSION, "mode": "attach", "cols": 120, "rows": 40}
    s.sendall(protocol.encode_json(protocol.HELLO, hello))
    return s


def output_until(s: socket.socket, decoder: protocol.Decoder, marker: bytes) -> bytes:
    """Every OUTPUT frame's bytes up to and including the frame that holds ``marker``."""
    seen = b""
    deadline = time.monotonic() + 30
    while marker not in seen:
        assert time.monotonic() < deadline, f"no {marker!r} in {seen[-400:]!r}"
        try:
            data = s.recv(1 << 16)
        except TimeoutError:
            data = None
        assert data is not None, f"no {marker!r} in {seen[-400:]!r}"
        assert data, "the session dropped the client"
        for frame in decoder.feed(data):
            if frame.kind == protocol.OUTPUT:
                seen += frame.payload
    return seen


def test_every_attached_client_gets_the_frames_and_the_bell(mux):
    m = mux('hexe.defaults { profile = "none" }\n')
    prompt_ready(m)
    clients = [attach(m) for _ in range(3)]
    decoders = [protocol.Decoder() for _ in clients]
    try:
        for s, d in zip(clients, decoders, strict=True):
            output_until(s, d, b"[t]")  # each one's first, whole frame
        m.type("sleep 0.3; printf 'rang-%s\\a\\n' here")
        got = [output_until(s, d, b"rang-here") for s, d in zip(clients, decoders, strict=True)]
        for s, d, data in zip(clients, decoders, got, strict=True):
            # the bell may come in the frame of the text or the next one
            if b"\x07" not in data:
                data += output_until(s, d, b"\x07")
            assert b"\x07" in data
        m.type("echo still-$((40+2))")
        m.wait_for("still-42")
    finally:
        for s in clients:
            s.close()
