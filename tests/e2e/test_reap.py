"""The server collects each pane whose process ended, and resumes one that
stopped, among many panes of one session (every pane's process is a child of
the server, which hears of it by SIGCHLD)."""

from __future__ import annotations

import json
import os
import signal

import pytest
from support import hexe, wait_for


@pytest.fixture
def env(headless):
    return headless


def _panes(env: dict[str, str]) -> dict[int, dict]:
    listed = hexe("list-panes", "-s", "r", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    return {p["id"]: p for p in json.loads(listed.stdout)}


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _running(env: dict[str, str], count: int) -> dict[int, dict]:
    def all_up() -> dict[int, dict] | None:
        panes = _panes(env)
        return panes if len(panes) == count and all(p["pid"] for p in panes.values()) else None

    return wait_for(all_up, timeout=30, what=f"{count} panes running")


def test_panes_that_end_among_many_are_collected_and_a_stopped_one_resumed(env):
    words = ["new-session", "-d", "-s", "r"]
    for _ in range(7):
        words += [";", "split-right"]
    assert hexe(*words, env=env).returncode == 0
    panes = _running(env, 8)
    # one stopped from outside is resumed (its SIGCHLD says "stopped")
    stopped = panes[5]["pid"]
    os.kill(stopped, signal.SIGSTOP)
    wait_for(lambda: _state(stopped) not in ("T", "t"), what=f"pane 5's {stopped} resumed")
    # two killed from outside, in the middle of the list, are collected
    for pane in (3, 6):
        os.kill(panes[pane]["pid"], signal.SIGKILL)
    wait_for(lambda: sorted(_panes(env)) == [1, 2, 4, 5, 7, 8], what="panes 3 and 6 gone")
    for pane in (3, 6):
        assert _state(panes[pane]["pid"]) == "gone"  # collected: no zombie left
    assert _state(stopped) not in ("T", "t", "Z", "gone")
