"""The in-process spawn API that panes use: a PTY as controlling terminal, refusals, cleanup."""

from __future__ import annotations

import os
import pty
import select

import pytest
from support import iso, read_until_eof, wait_for

from hexe import hookimpl
from hexe.errors import SetupError, SpawnRefused
from hexe.plugin.manager import make_plugin_manager
from hexe.procwait import running
from hexe.spawn import SpawnPlan, exit_code_of, run, start

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("profile", ["none", "full"])
def test_pty_becomes_the_controlling_terminal_of_a_new_session(profile):
    master, slave = pty.openpty()
    pm = make_plugin_manager()
    plan = SpawnPlan(
        argv=("sh", "-c", "tty; test -t 0 && echo stdin-is-tty; ps -o sid= -p $$; echo $$"),
        isolation=iso(profile=profile),
        cwd="/",
    )
    child = run(plan, pm, terminal_fd=slave)
    os.close(slave)
    out = read_until_eof(master).decode().split()
    status = child.wait()
    os.close(master)
    assert exit_code_of(status) == 0
    # full's minimal /dev has the PTY as /dev/console (no host /dev/pts/N there)
    assert out[0] == "/dev/console" if profile == "full" else out[0].startswith("/dev/pts/")
    assert out[1] == "stdin-is-tty"
    # the session leader is PID 1 (hexe-init) in a pid namespace, else the shell itself
    assert out[2] == ("1" if profile == "full" else out[3])


def test_plugin_check_refuses_before_anything_starts():
    class Refuser:
        @hookimpl
        def hexe_spawn_check(self, plan):
            return [f"refused {plan.argv[0]} on purpose"]

    pm = make_plugin_manager(extra=[("refuser", Refuser())])
    with pytest.raises(SpawnRefused, match="refused true on purpose"):
        start(SpawnPlan(argv=("true",), isolation=iso(profile="none")), pm)


def test_failed_hook_runs_for_every_plugin_when_prepare_refuses():
    seen = []

    class Prepare:
        @hookimpl
        def hexe_spawn_prepare(self, spawn):
            raise SpawnRefused("no room")

        @hookimpl
        def hexe_spawn_failed(self, spawn, error):
            seen.append(str(error))

    pm = make_plugin_manager(extra=[("prepare", Prepare())])
    with pytest.raises(SpawnRefused, match="no room"):
        start(SpawnPlan(argv=("true",), isolation=iso(profile="none")), pm)
    assert seen == ["no room"]


def test_parent_phase_refusal_kills_the_held_child_before_it_runs(tmp_path):
    marker = tmp_path / "ran"

    class Parent:
        @hookimpl
        def hexe_spawn_parent(self, spawn):
            self.pid = spawn.pid
            raise SpawnRefused("cannot place the child")

    parent = Parent()
    pm = make_plugin_manager(extra=[("parent", parent)])
    with pytest.raises(SpawnRefused):
        start(SpawnPlan(argv=("touch", str(marker)), isolation=iso(profile="none")), pm)
    assert not marker.exists()
    assert not os.path.exists(f"/proc/{parent.pid}")


def test_exec_failure_is_a_setup_error_with_exit_code_127():
    pm = make_plugin_manager()
    with pytest.raises(SetupError) as info:
        run(SpawnPlan(argv=("hexe-no-such-command",), isolation=iso(profile="full"), cwd="/"), pm)
    assert info.value.exit_code == 127
    assert info.value.step == "exec hexe-no-such-command"


def test_explicit_missing_cwd_is_an_error():
    pm = make_plugin_manager()
    with pytest.raises(SetupError) as info:
        run(SpawnPlan(argv=("true",), isolation=iso(profile="none"), cwd="/nonexistent-dir"), pm)
    assert str(info.value) == "chdir /nonexistent-dir: No such file or directory"


def test_a_child_whose_parent_dies_before_releasing_it_ends_and_holds_nothing_of_the_parent():
    """The parent dies between the fork and the release (SIGKILL of a server at
    that moment): the held child must end, not wait for ever holding the
    parent's descriptors — the other panes' lifelines among them, whose
    sandboxes would then outlive their server."""
    life_r, life_w = os.pipe()  # stands for another pane's lifeline, held by the parent
    said_r, said_w = os.pipe()
    owner = os.fork()
    if owner == 0:  # pragma: no cover - the parent that dies
        try:
            os.close(life_r)
            os.close(said_r)

            class DieBeforeRelease:
                @hookimpl
                def hexe_spawn_parent(self, spawn):
                    os.write(said_w, f"{spawn.pid}\n".encode())
                    os._exit(0)

            pm = make_plugin_manager(extra=[("die", DieBeforeRelease())])
            start(SpawnPlan(argv=("sleep", "600"), isolation=iso(profile="none"), cwd="/"), pm)
        finally:
            os._exit(1)
    os.close(life_w)
    os.close(said_w)
    assert os.waitpid(owner, 0)[1] == 0  # it said the child's pid, then died
    held = int(os.read(said_r, 64).decode())
    os.close(said_r)
    try:
        # end of file on the lifeline: nobody holds its write end any more
        ready, _, _ = select.select([life_r], [], [], 10)
        assert ready and os.read(life_r, 1) == b"", "the held child keeps the parent's descriptors"
        wait_for(lambda: not running(held), what="the held child to end")
    finally:
        os.close(life_r)
        try:  # a failure must not leave it waiting (it holds this test's output too)
            os.kill(held, 9)
        except ProcessLookupError:
            pass
