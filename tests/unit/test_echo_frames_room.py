"""The frames room (hexe/server/frames.py) with several clients: one render a frame,
the echo to the client that typed first, the last view drawn again for an echo.

A server whose panes run nothing; each client is one end of a socket pair whose
other end this test reads, as ``hexe mux`` would. What a user sees end to end
is in tests/e2e/test_many_clients.py and tests/e2e/test_status_refresh.py.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from hexe.config.loader import load
from hexe.config.model import PaneSpec
from hexe.mux.layout import Layout
from hexe.mux.tabs import Tab, Tabs
from hexe.plugin.manager import make_plugin_manager
from hexe.server.server import Server
from hexe.server.state import Client, Pane
from hexe.wire import protocol


@pytest.fixture
def server(tmp_path: Path):
    config = load(source="", environ={})
    made = Server("t", config, make_plugin_manager(), tmp_path / "t.sock", {})
    made.cols, made.rows = 80, 24
    for pane_id in (1, 2):
        pane = Pane(pane_id, PaneSpec(path="t", where="test"), 39, 23, 100)
        pane.state = "running"
        made.panes[pane_id] = pane
    made.tabs = Tabs([Tab(Layout.single(1).split(1, "right", 2), None)])
    made.tabs.active.focus(1)
    ends: list[socket.socket] = []

    def attach() -> tuple[Client, socket.socket]:
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        client = Client(ours, 1)
        client.attached = client.ready = True
        client.cols, client.rows = 80, 24
        made.clients.append(client)
        ends.extend((ours, theirs))
        return client, theirs

    made.attach = attach
    yield made
    for end in ends:
        end.close()
    made.sel.close()


def received(end: socket.socket) -> bytes:
    """The terminal bytes the client was sent (its OUTPUT frames' payloads)."""
    data = b""
    try:
        while chunk := end.recv(1 << 20):
            data += chunk
    except BlockingIOError:
        pass
    return b"".join(f.payload for f in protocol.Decoder().feed(data) if f.kind == protocol.OUTPUT)


def render(server: Server, echo: bool = False) -> None:
    server.echo, server.dirty = echo, True
    server.render()


def test_clients_attached_at_different_frames_share_one_render(server, monkeypatch):
    first, first_end = server.attach()
    render(server)
    second, second_end = server.attach()  # a full frame of its own
    render(server)
    renders = []
    hook = server.pm.hook.hexe_render

    def counted(**kw):
        renders.append(kw["previous"])
        return hook(**kw)

    monkeypatch.setattr(server.pm.hook, "hexe_render", counted)
    server.panes[2].screen.feed(b"output")
    render(server)
    assert len(renders) == 1 and first.render_state is second.render_state
    assert b"output" in received(first_end) and b"output" in received(second_end)


def test_an_echo_goes_first_to_the_client_that_typed_the_others_get_it_next(server):
    watcher, watcher_end = server.attach()
    typist, typist_end = server.attach()
    render(server)
    received(watcher_end), received(typist_end)
    typist.active_at = time.monotonic()
    server.panes[1].screen.feed(b"typed")
    render(server, echo=True)
    assert b"typed" in received(typist_end)
    assert received(watcher_end) == b""
    assert server.dirty  # the frame that brings it to the others is owed
    assert server.last_frame > time.monotonic() - 1  # ...at the usual pace, not at once
    render(server)
    assert b"typed" in received(watcher_end)


def test_an_echo_frame_draws_the_last_view_again_only_when_nothing_else_changed(server):
    client, end = server.attach()
    render(server)
    built = server.view_drawn[0]
    server.panes[1].screen.feed(b"a")
    server.echo_clean = True  # the panes room: only this pane's output since the frame
    render(server, echo=True)
    assert server.view_drawn[0] is built and b"a" in received(end)
    # a title set by that output is drawn by the next frame
    server.panes[1].screen.feed(b"\x1b]2;new-title\x07b")
    server.echo_clean = True
    render(server, echo=True)
    assert server.dirty and b"new-title" not in received(end)
    render(server)
    assert b"new-title" in received(end)
    # a message since the last frame: the view is built anew
    server.show_message("hello")
    server.panes[1].screen.feed(b"c")
    server.echo_clean = True
    render(server, echo=True)
    assert server.view_drawn[0] is not built and b"hello" in received(end)
