"""The Lua runtime that runs ``init.lua``: lupa, a budget, and the ``hexe`` table.

The ``hexe`` functions only *record* what the config asked for, each call with
the file and line it was made on; validation happens afterwards in Python
(:mod:`hexe.config.schema`), so every error can name its line and none of them
is raised through Lua's stack.

The budget: Lua code runs with a memory ceiling (lupa's ``max_memory``) and a
CPU-time deadline checked by a count hook, so an endless loop or a runaway
table in ``init.lua`` (or in a callback later) becomes a config error instead
of a hung or dead hexe. Python is not reachable from Lua: lupa's ``python``
module is removed and attribute access on Python objects is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import lupa.lua54 as lupa

from hexe.errors import HexeError, did_you_mean

DEFAULT_MAX_MEMORY = 64 << 20
DEFAULT_LOAD_SECONDS = 2.0
DEFAULT_CALLBACK_SECONDS = 0.5

NODE_KEY = "__hexe_node"
#: the functions of the ``hexe`` table (the prelude defines them)
API_FUNCTIONS = (
    "defaults",
    "options",
    "profile",
    "key",
    "unbind",
    "status",
    "on",
    "layout",
    "tab",
    "split",
    "pane",
)

PRELUDE = r"""
local calls = {}
local budget = { armed = false, deadline = math.huge, exceeded = false }
local clock = os.clock
local getinfo = debug.getinfo
local sethook = debug.sethook
local rawget, format, stderr = rawget, string.format, io.stderr

local function guard()
  if not budget.armed then
    sethook()
    return
  end
  if budget.exceeded or clock() > budget.deadline then
    if not budget.exceeded then
      budget.exceeded = true
      -- from now on fire on every instruction, so a pcall in a loop cannot
      -- swallow the error forever
      sethook(guard, "", 1)
    end
    error("time budget exceeded (an endless loop?)", 2)
  end
end

-- Lua hooks are per coroutine: every coroutine the config makes gets the
-- guard too, and is re-armed with each new deadline.
local threads = setmetatable({}, { __mode = "k" })
local co_create, co_status, co_resume = coroutine.create, coroutine.status, coroutine.resume

local function set_deadline(seconds)
  budget.exceeded = false
  budget.deadline = clock() + seconds
  budget.armed = true
  sethook(guard, "", 1000)
  for co in pairs(threads) do
    if co_status(co) ~= "dead" then sethook(co, guard, "", 1000) end
  end
end

coroutine.create = function(f)
  local co = co_create(f)
  threads[co] = true
  if budget.armed then sethook(co, guard, "", 1000) end
  return co
end

coroutine.wrap = function(f)
  local co = coroutine.create(f)
  return function(...)
    local result = table.pack(co_resume(co, ...))
    if not result[1] then error(result[2], 0) end
    return table.unpack(result, 2, result.n)
  end
end

local function where(level)
  local info = getinfo(level + 1, "Sl")
  if info == nil then return "?", 0 end
  return info.short_src, info.currentline
end

local function record(kind, ...)
  local src, line = where(3)
  calls[#calls + 1] = { kind = kind, src = src, line = line, n = select("#", ...), args = { ... } }
end

local function node(kind)
  return function(spec)
    local src, line = where(2)
    return { __hexe_node = kind, spec = spec, src = src, line = line }
  end
end

local hexe = {
  version = HEXE_VERSION,
  defaults = function(...) record("defaults", ...) end,
  options = function(...) record("options", ...) end,
  profile = function(...) record("profile", ...) end,
  key = function(...) record("key", ...) end,
  unbind = function(...) record("unbind", ...) end,
  status = function(...) record("status", ...) end,
  on = function(...) record("on", ...) end,
  layout = function(...) record("layout", ...) end,
  tab = node("tab"),
  split = node("split"),
  pane = node("pane"),
}
HEXE_VERSION = nil
-- hexe.<name> that does not exist: still nil (feature tests work), but noted,
-- so "attempt to call a nil value (field 'default')" can say "did you mean"
local misses = {}
setmetatable(hexe, { __index = function(_, name) misses[name] = true end })

local function add_function(name, fn)
  hexe[name] = function(...)
    return fn(...)
  end
end

package.loaded["hexe"] = hexe
_G.hexe = hexe
-- nothing that could switch the budget off, end hexe, or reach Python
_G.python = nil
package.loaded.python = nil
_G.debug = { traceback = debug.traceback, getinfo = debug.getinfo }
package.loaded.debug = _G.debug
os.exit = function() error("os.exit is not allowed in init.lua", 2) end
-- a finalizer would run when the Lua state closes, outside any budget
local real_setmetatable = setmetatable
_G.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc finalizers are not allowed in init.lua", 2)
  end
  return real_setmetatable(t, mt)
end
_G.print = function(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  stderr:write(table.concat(parts, "\t"), "\n")
end
return { calls = calls, set_deadline = set_deadline, budget = budget,
         add_function = add_function, hexe = hexe, misses = misses,
         rawget = rawget, ident = function(t) return format("%p", t) end }
"""


class LuaFailure(HexeError):
    """Lua itself failed: a syntax error, a runtime error, or the budget ran out."""


def _no_attributes(obj: object, name: object, is_setting: bool) -> object:
    raise AttributeError("Python attributes are not reachable from init.lua")


class LuaConfigRuntime:
    """One Lua state for one config load; kept alive for the config's callbacks."""

    def __init__(
        self,
        *,
        lua_dir: Path | None = None,
        max_memory: int = DEFAULT_MAX_MEMORY,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        version: str = "",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.lua = lupa.LuaRuntime(
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_no_attributes,
            max_memory=max_memory,
        )
        self.lua.globals()["HEXE_VERSION"] = version
        paths = []
        if lua_dir is not None:
            paths = [str(lua_dir / "?.lua"), str(lua_dir / "?" / "init.lua")]
        package = self.lua.globals().package
        package.path = ";".join(paths)
        package.cpath = ""
        self._api = self.lua.execute(PRELUDE)
        if environ is not None:
            # os.getenv sees the environment hexe was given (the same one the
            # HEXE_* layer is read from), not whatever this process holds
            env = dict(environ)
            self.lua.globals().os.getenv = lambda name: (
                env.get(name) if isinstance(name, str) else None
            )
        for name, fn in (functions or {}).items():
            self._api.add_function(name, fn)

    @property
    def calls(self) -> list[Any]:
        return list(self._api.calls.values())

    def rawget(self, table: Any, key: Any) -> Any:
        """``table[key]`` without running the table's metamethods."""
        return self._api.rawget(table, key)

    def ident(self, table: Any) -> str:
        """A table's identity (its address), without ``__tostring``."""
        return str(self._api.ident(table))

    def run_file(self, path: Path, seconds: float = DEFAULT_LOAD_SECONDS) -> None:
        """Run ``path`` as the config chunk, within the budget."""
        try:
            source = path.read_bytes()
        except OSError as exc:
            raise LuaFailure(f"{display_path(path)}: cannot read: {exc.strerror}") from exc
        self.run_source(source, display_path(path), seconds)

    def run_source(
        self, source: bytes | str, name: str, seconds: float = DEFAULT_LOAD_SECONDS
    ) -> None:
        def compile_and_run() -> None:
            chunk = self.lua.compile(source, name=f"@{name}", mode="t")
            chunk()

        self.guarded(compile_and_run, seconds)

    def guarded(self, fn: Callable[[], Any], seconds: float) -> Any:
        """Call ``fn`` (which runs Lua) with the time budget; Lua errors -> :class:`LuaFailure`."""
        self._api.set_deadline(seconds)
        try:
            result = fn()
            if self._api.budget.exceeded:  # a pcall or coroutine.resume swallowed it
                raise LuaFailure("time budget exceeded (an endless loop?)")
            return result
        except lupa.LuaSyntaxError as exc:
            raise LuaFailure(f"syntax error: {_lua_message(exc)}") from exc
        except lupa.LuaMemoryError as exc:
            raise LuaFailure(
                f"memory budget of {self.lua.get_max_memory() >> 20} MiB exceeded "
                "(a runaway table?)"
            ) from exc
        except lupa.LuaError as exc:
            raise LuaFailure(self._with_hint(_lua_message(exc))) from exc
        finally:
            # a plain table write runs no Lua code, so the hook cannot fire on it;
            # the hook removes itself at the next Lua instruction
            self._api.budget.armed = False

    def _with_hint(self, message: str) -> str:
        """A call of a misspelt ``hexe.`` function gets a did-you-mean."""
        match = re.search(r"attempt to call a nil value \(field '([^']*)'\)", message)
        if match is None or self._api.misses[match[1]] is None:
            return message
        names = [f"hexe.{k}" for k in self._api.hexe.keys() if isinstance(k, str)]
        hint = did_you_mean(f"hexe.{match[1]}", names).strip()
        return f"{message}: hexe.{match[1]} does not exist" + (f"; {hint}" if hint else "")

    def call(self, fn: Any, *args: Any, seconds: float = DEFAULT_CALLBACK_SECONDS) -> Any:
        """Call a Lua function from the config (a callback) within the budget."""
        return self.guarded(lambda: fn(*args), seconds)

    def table(self, data: Any) -> Any:
        """A Python dict/list (nested) as a Lua table."""
        if isinstance(data, Mapping):
            return self.lua.table_from({k: self.table(v) for k, v in data.items()})
        if isinstance(data, (list, tuple)):
            return self.lua.table_from([self.table(v) for v in data])
        return data


def _lua_message(exc: Exception) -> str:
    text = str(exc).strip()
    if text in ("", "error"):
        return "a Lua error without a message (error() was given a non-string)"
    # lupa appends a Lua traceback to runtime errors; the first line says it all
    first = text.splitlines()[0] if text else "error"
    return first.replace("error loading code: ", "")


def display_path(path: Path) -> str:
    """``~/.config/hexe/init.lua`` rather than ``/home/ann/.config/hexe/init.lua``."""
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and text.startswith(home + os.sep):
        return "~" + text[len(home) :]
    return text
