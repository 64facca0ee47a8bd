"""``hexe_command_pid``: the isolation plugin, not the server, says which
process is a pane's command when the spawn waits on a sandbox's init."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest
from support import iso, wait_for

from hexe import hookimpl
from hexe.plugin.manager import make_plugin_manager
from hexe.server.state import _command_pid
from hexe.spawn import SpawnPlan, start

pytestmark = pytest.mark.kernel


def _comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def _started(profile: str):
    pm = make_plugin_manager()
    plan = SpawnPlan(argv=("sleep", "30"), isolation=iso(profile=profile), cwd="/")
    spawn = start(plan, pm, terminal_fd=None)
    spawn.wait_started()
    return spawn


@pytest.mark.parametrize("profile", ["default", "full"])
def test_voidbox_names_the_command_under_its_init(profile):
    spawn = _started(profile)
    try:
        assert _comm(spawn.pid) == "hexe-init"
        found = wait_for(lambda: _command_pid(spawn), what="the command under hexe-init")
        assert _comm(found) == "sleep"
        assert found != spawn.pid
    finally:
        spawn.send_signal(signal.SIGKILL)
        spawn.wait()


def test_without_an_init_the_spawned_process_is_the_command():
    spawn = _started("none")
    try:
        assert _comm(spawn.pid) == "sleep"
        assert _command_pid(spawn) is None
    finally:
        spawn.send_signal(signal.SIGKILL)
        spawn.wait()


def test_a_third_party_plugin_can_name_the_command_of_its_own_init():
    class OwnInit:
        @hookimpl(tryfirst=True)
        def hexe_command_pid(self, spawn):
            return 4242 if spawn.pid == 1 else None

    pm = make_plugin_manager(extra=[("own-init", OwnInit())])
    assert _command_pid(SimpleNamespace(pid=1, pm=pm)) == 4242
