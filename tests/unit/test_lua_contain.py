"""Lua can never freeze or crash hexe (issue 13).

End to end: a reload of an ``init.lua`` that loops, blocks in ``os.execute`` or
in ``io.read`` leaves every pane echoing, reports failure and keeps the running
config; ``package.loadlib`` is refused and the server lives on. Unit: what Lua
may call (in ``init.lua`` and in callbacks), the instruction budget, pattern
costs, C modules, the child killed at its deadline, SIGTERM during Lua.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from support import clean_env, hexe, wait_for
from support.mux import _running, prompt_ready

from hexe import hookimpl
from hexe.config import ConfigError, load, run_exit_callbacks, spawn_callbacks
from hexe.config import lua as config_lua
from hexe.config.contained import Preflight, load_contained
from hexe.config.lua import LuaConfigRuntime, LuaFailure
from hexe.plugin.manager import make_plugin_manager
from hexe.sessions import _parent as parent_of

ENV = {"SHELL": "/bin/sh", "HOME": "/root"}
OLD_BINDING = 'hexe.key("prefix g", "send-keys", "echo old-$((2*3))", "Enter")\n'


def lua(text: str, **kw):
    return load("init.lua", source=textwrap.dedent(text), environ=kw.pop("environ", ENV), **kw)


def errors_of(text: str, **kw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        lua(text, **kw)
    return info.value.errors


# -- end to end: a reload that hangs or fails ----------------------------------------------


def reload_in_background(m) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hexe", "reload-config", "-s", m.session],
        env=m.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("while true do end", "time budget exceeded"),
        ('os.execute("sleep 20")', "os.execute is not available"),
        ("io.read()", "io.read is not available"),
        ('package.loadlib("libc.so.6", "abort")', "package.loadlib is not available"),
    ],
    ids=["loop", "os.execute", "io.read", "loadlib"],
)
def test_a_reload_that_hangs_or_fails_keeps_the_panes_and_the_running_config(mux, body, error):
    m = mux(OLD_BINDING)
    prompt_ready(m)
    pid = m.server_pid()
    good = m.config.read_text()
    m.config.write_text(good + 'hexe.key("prefix g", "send-keys", "echo new", "Enter")\n' + body)
    started = time.monotonic()
    proc = reload_in_background(m)
    m.type("echo alive-$((6*7))")
    m.wait_for("alive-42", timeout=5, what="the pane's echo while the reload runs")
    echoed = time.monotonic()
    if body.startswith("while"):  # the child burns its budget (2s of CPU): the echo came first
        assert proc.poll() is None, "the reload ended before the echo: not a concurrent test"
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, (out, err)
    assert "config not reloaded (the running one is kept)" in err, err
    # the loop's 2 s budget is CPU time; on a loaded machine the reload's 5 s
    # wall-clock deadline may stop it first: stopped either way, and said so
    stopped = error in err or (body.startswith("while") and "took longer than 5s" in err)
    assert stopped, err
    assert time.monotonic() - started < 10
    m.wait_for("config not reloaded", what="the status notice")
    m.prefix("g")  # the old binding still works: the old config is running
    m.wait_for("old-6")
    assert "new" not in m.screen().split("old-6")[-1]
    assert m.server_pid() == pid and os.path.exists(f"/proc/{pid}")
    assert echoed - started < 5


def test_a_good_reload_still_applies_after_a_failed_one(mux):
    m = mux(OLD_BINDING)
    prompt_ready(m)
    good = m.config.read_text()
    m.config.write_text(good + "io.read()\n")
    assert m.hexe("reload-config", "-s", "t").returncode == 1
    m.config.write_text(good.replace("old-", "new-"))
    result = m.hexe("reload-config", "-s", "t")
    assert result.returncode == 0, result.stderr
    m.prefix("g")
    m.wait_for("new-6")


def test_sigterm_while_a_key_callback_loops_ends_the_server_promptly(mux):
    m = mux('hexe.key("prefix y", function() while true do pcall(function() end) end end)\n')
    prompt_ready(m)
    pid = m.server_pid()
    m.prefix("y")
    os.kill(pid, signal.SIGTERM)
    # (a zombie is gone: the test process may be a subreaper the server was re-parented to)
    wait_for(lambda: not _running(pid), timeout=20, what="the server to end")


def test_loadlib_in_init_lua_refuses_hexe_run_with_a_clear_error(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text('package.loadlib("libc.so.6", "abort")\n')
    result = hexe("run", "true", env=clean_env(HEXE_CONFIG=str(config), HOME=str(tmp_path)))
    assert result.returncode != 0
    assert "package.loadlib is not available" in result.stderr
    assert "HEXE_LUA_C_MODULES=1" in result.stderr


# -- unit: what Lua may call ----------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    ['os.execute("true")', 'io.popen("true")', "io.read()", "io.lines()", 'os.remove("/x")'],
)
def test_blocking_functions_are_unavailable_with_their_name(call):
    (error,) = errors_of(call)
    name = call.split("(")[0]
    assert f"{name} is not available in init.lua or its callbacks" in error
    assert error.startswith("init.lua:1: ")


@pytest.mark.parametrize(
    "call",
    ['os.execute("sleep 20")', 'io.popen("sleep 20"):read("a")', "io.read()", "io.lines()"],
)
def test_blocking_functions_are_unavailable_in_callbacks_too(call):
    config = lua(
        f"""
        hexe.on("pane_spawn", function(pane) {call} end)
        hexe.layout {{ hexe.tab {{ hexe.pane {{ name = "p" }} }} }}
        """
    )
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        spawn_callbacks(config, config.find_pane("p"), ENV)
    assert time.monotonic() - started < 1
    assert f"{call.split('(')[0]} is not available" in info.value.errors[0]


def test_an_endless_loop_in_a_callback_is_stopped_even_under_pcall():
    config = lua(
        """
        hexe.on("pane_exit", function()
          while true do pcall(function() while true do end end) end
        end)
        """
    )
    # the budget is CPU time (os.clock): measured as CPU, a loaded machine cannot fail it
    started = time.process_time()
    (failure,) = run_exit_callbacks(config, config.panes()[0], 0)
    assert time.process_time() - started < 2
    assert "time budget exceeded" in failure


def test_the_instruction_budget_counts_instructions_not_only_cpu_time():
    runtime = LuaConfigRuntime(environ={})
    fn = runtime.lua.eval("function() local n = 0 while true do n = n + 1 end end")
    started = time.process_time()  # CPU time, as the budget
    with pytest.raises(LuaFailure, match="time budget exceeded"):
        runtime.call(fn, seconds=0.1)
    assert time.process_time() - started < 1


def test_costly_patterns_are_refused_cheap_ones_run():
    config = lua(
        """
        hexe.on("pane_exit", function()
          local s = string.rep("a", 20000)
          local n = select(2, s:gsub("a", "b"))       -- no repetition: any length
          assert(n == 20000)
          assert(s:find("a-b", 1, true) == nil)          -- plain find: any length
          assert(("key=value"):match("^(%w+)=(%w+)$") == "key")
          return s:find(".-.-b")
        end)
        """
    )
    started = time.process_time()  # CPU time: a loaded machine cannot fail it
    (failure,) = run_exit_callbacks(config, config.panes()[0], 0)
    assert time.process_time() - started < 1
    assert "string.find: the pattern" in failure and "could take too long" in failure
    (error,) = errors_of('local s = string.rep("a", 3000) local x = s:match("(.-)%1b")')
    assert "string.match: the pattern" in error


def test_io_open_reads_and_writes_regular_files_but_never_waits_on_a_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out.txt"
    config = lua(
        f"""
        local f = assert(io.open("{out}", "w")) f:write("one\\n", 2, "\\n") f:close()
        local lines = {{}}
        for line in io.open("{out}"):lines() do lines[#lines + 1] = line end
        assert(#lines == 2 and lines[2] == "2")
        local h, err = io.open("{fifo}")
        assert(h == nil and err:find("not a regular file", 1, true), err)
        local ok, derr = pcall(dofile, "{fifo}")
        assert(not ok and derr:find("not a regular file", 1, true), derr)
        hexe.layout {{ hexe.tab {{ hexe.pane {{ name = "p" }} }} }}
        """
    )
    assert config.find_pane("p") is not None
    assert out.read_text() == "one\n2\n"


def test_binary_chunks_are_refused():
    (error,) = errors_of("assert(load(string.dump(function() end)))")
    assert "attempt to load a binary chunk" in error


def test_c_modules_are_off_by_default_and_an_option_turns_them_on():
    (error,) = errors_of('package.loadlib("libc.so.6", "abort")')
    assert "loading C code is off" in error and "HEXE_LUA_C_MODULES=1" in error
    (error,) = errors_of('require("hexe_no_such_c_module")')
    assert "loading C code is off (HEXE_LUA_C_MODULES=1 turns it on)" in error
    # on: a library loads (globally, "*": nothing of it is called)
    lua('assert(package.loadlib("libc.so.6", "*"))', environ={**ENV, "HEXE_LUA_C_MODULES": "1"})
    (error,) = errors_of("x = 1", environ={**ENV, "HEXE_LUA_C_MODULES": "maybe"})
    assert error == (
        "HEXE_LUA_C_MODULES=maybe is not a yes/no value; use 1 or 0 "
        "(also true/false, yes/no, on/off)"
    )


def test_sigterm_makes_running_lua_fail_at_once(monkeypatch):
    monkeypatch.setattr(config_lua, "_stop", False)
    runtime = LuaConfigRuntime(environ={})
    fn = runtime.lua.eval("function() while true do end end")
    old = signal.signal(signal.SIGALRM, lambda *_: config_lua.request_stop())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        with pytest.raises(LuaFailure, match="hexe is exiting"):
            runtime.call(fn, seconds=30)
        assert time.monotonic() - started < 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# -- unit: the child and its deadline -------------------------------------------------------


class BlockingPlugin:
    """``hexe.block()``: a Python function that does not return for a long time."""

    @hookimpl
    def hexe_config_api(self, api):
        api.add_function("block", lambda: time.sleep(60))


def test_a_config_that_hangs_in_c_is_killed_at_the_deadline(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text("hexe.block()\n")
    pm = make_plugin_manager(extra=[("blocker", BlockingPlugin())])
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load_contained(config, environ=ENV, pm=pm, explicit=True, deadline=1.0)
    assert time.monotonic() - started < 4
    (error,) = info.value.errors
    assert error.startswith(f"{config} took longer than 1s")


def test_meanwhile_runs_while_the_child_runs_the_config_and_changes_no_outcome(tmp_path):
    # hexe mux imports the server's modules then: the child's run and the
    # import share the two cores instead of following each other
    config = tmp_path / "init.lua"
    config.write_text("hexe.block()\n")
    pm = make_plugin_manager(extra=[("blocker", BlockingPlugin())])

    def children() -> set[int]:
        pids = (int(p) for p in os.listdir("/proc") if p.isdigit())
        return {pid for pid in pids if parent_of(pid) == os.getpid()}

    before = children()
    started = time.monotonic()
    calls: list[tuple[float, set[int]]] = []

    def meanwhile() -> None:
        calls.append((time.monotonic() - started, children() - before))

    with pytest.raises(ConfigError) as info:
        load_contained(config, environ=ENV, pm=pm, explicit=True, deadline=3.0, meanwhile=meanwhile)
    assert "took longer than 3s" in info.value.errors[0]  # the outcome is the child's, as before
    ((when, new),) = calls
    assert when < 2.5 and len(new) == 1  # before the deadline, with the child (only) alive
    assert not children() - before  # and collected
    config.write_text('hexe.layout { hexe.tab { hexe.pane { name = "p" } } }\n')
    calls.clear()
    loaded = load_contained(config, environ=ENV, explicit=True, meanwhile=meanwhile)
    assert loaded.find_pane("p") is not None and len(calls) == 1
    calls.clear()
    empty = {**ENV, "XDG_CONFIG_HOME": str(tmp_path / "empty"), "HOME": str(tmp_path)}
    empty.pop("HEXE_CONFIG", None)
    assert load_contained(None, environ=empty, meanwhile=meanwhile) is not None
    assert calls == []  # no file, no child: nothing to overlap with


def test_the_preflight_child_is_gone_after_its_deadline(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text("hexe.block()\n")
    pm = make_plugin_manager(extra=[("blocker", BlockingPlugin())])
    check = Preflight(config, environ=ENV, pm=pm, explicit=True, deadline=0.5)
    pid = check.pid
    assert not check.check_deadline()
    assert check.check_deadline(time.monotonic() + 1)
    assert check.pid is None and check.outcome and "took longer than" in check.outcome[0]
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # collected


def test_load_contained_gives_the_same_config_and_errors_as_load(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text('hexe.layout { hexe.tab { hexe.pane { name = "p" } } }\n')
    assert load_contained(config, environ=ENV, explicit=True).find_pane("p") is not None
    config.write_text("hexe.defaults { memroy = 1 }\n")
    with pytest.raises(ConfigError) as info:
        load_contained(config, environ=ENV, explicit=True)
    assert "did you mean memory?" in info.value.errors[0]


def test_require_reads_lua_modules_from_the_lua_dir(tmp_path):
    (tmp_path / "lua").mkdir()
    (tmp_path / "lua" / "mine.lua").write_text("return { shell = '/bin/sh' }\n")
    config = tmp_path / "init.lua"
    config.write_text('hexe.options { shell = require("mine").shell }\n')
    assert load(config, environ=ENV, explicit=True).options.shell == "/bin/sh"


def test_the_preflight_child_dies_with_its_parent(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text("hexe.block()\n")
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path[:0] = {sys.path!r}
        from test_lua_contain import BlockingPlugin, ENV
        from hexe.config.contained import Preflight
        from hexe.plugin.manager import make_plugin_manager
        pm = make_plugin_manager(extra=[("blocker", BlockingPlugin())])
        check = Preflight({str(config)!r}, environ=ENV, pm=pm, explicit=True, deadline=60)
        print(check.pid, file=sys.stderr, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(proc.stderr.readline())
        assert os.path.exists(f"/proc/{child}")
    finally:
        proc.kill()
        proc.wait()
    wait_for(lambda: not _running(child), timeout=20, what="the child to die")
