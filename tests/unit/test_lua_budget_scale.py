"""``HEXE_LUA_BUDGET_SCALE``: the suite runs with smaller Lua budgets; the real default is 2 s.

The test run sets the variable (tests/support/speed.py) so that every
endless-loop test does not spend the full budget; here it is removed to check
the budgets hexe really has, and set to check that it scales them.
"""

from __future__ import annotations

import pytest

from hexe.config.lua import (
    DEFAULT_CALLBACK_SECONDS,
    DEFAULT_LOAD_SECONDS,
    INSTRUCTIONS_PER_SECOND,
    LuaConfigRuntime,
    LuaFailure,
)


def _max_hooks_after(runtime: LuaConfigRuntime, run) -> float:
    """The instruction budget (in hooks of 1000 instructions) the last run was given."""
    run()
    return runtime._api.budget.max_hooks


def test_without_the_variable_init_lua_gets_2_s_and_a_callback_half_a_second(monkeypatch):
    monkeypatch.delenv("HEXE_LUA_BUDGET_SCALE", raising=False)
    assert DEFAULT_LOAD_SECONDS == 2.0 and DEFAULT_CALLBACK_SECONDS == 0.5
    runtime = LuaConfigRuntime(environ={})
    loaded = _max_hooks_after(runtime, lambda: runtime.run_source("x = 1", "init.lua"))
    assert loaded == 2.0 * INSTRUCTIONS_PER_SECOND / 1000  # 400 M instructions
    fn = runtime.lua.eval("function() return 1 end")
    called = _max_hooks_after(runtime, lambda: runtime.call(fn))
    assert called == 0.5 * INSTRUCTIONS_PER_SECOND / 1000  # 100 M instructions


def test_the_variable_scales_every_budget_and_a_loop_is_still_stopped(monkeypatch):
    monkeypatch.setenv("HEXE_LUA_BUDGET_SCALE", "0.05")
    runtime = LuaConfigRuntime(environ={})
    with pytest.raises(LuaFailure, match="time budget exceeded"):
        runtime.run_source("while true do end", "init.lua")
    assert runtime._api.budget.max_hooks == 0.1 * INSTRUCTIONS_PER_SECOND / 1000
    fn = runtime.lua.eval("function() while true do end end")
    with pytest.raises(LuaFailure, match="time budget exceeded"):
        runtime.call(fn)
    assert runtime._api.budget.max_hooks == 0.025 * INSTRUCTIONS_PER_SECOND / 1000


@pytest.mark.parametrize("value", ["0", "-1", "fast", "inf", "nan"])
def test_a_bad_scale_is_an_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("HEXE_LUA_BUDGET_SCALE", value)
    runtime = LuaConfigRuntime(environ={})
    with pytest.raises(LuaFailure) as info:
        runtime.run_source("x = 1", "init.lua")
    assert str(info.value) == (
        f"HEXE_LUA_BUDGET_SCALE={value} is not a factor for the Lua time budgets; "
        "use a number above 0 (0.5 halves them, 2 doubles them)"
    )
