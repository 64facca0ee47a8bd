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

The count hook cannot interrupt a C function, so nothing that can block is
reachable (``os.execute``, ``io.popen``, ``io.read``...; ``io.open``,
``require`` and ``dofile`` open regular files only, without blocking), C code
is not loaded (unless ``HEXE_LUA_C_MODULES=1``), chunks are text only, and a
string pattern whose backtracking could take long on its subject is refused.
The hook also ends running Lua when hexe is asked to exit
(:func:`request_stop`). See docs/config.md, "Containment".
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping
from typing import Any

from hexe.errors import HexeError, SettingError, did_you_mean
from hexe.values import parse_bool

DEFAULT_MAX_MEMORY = 64 << 20
DEFAULT_LOAD_SECONDS = 2.0
DEFAULT_CALLBACK_SECONDS = 0.5
#: the instruction budget: this many Lua instructions per second of budget
INSTRUCTIONS_PER_SECOND = 200_000_000
#: a pattern function refuses when (subject length + 1) ^ (repetitions + 1) is above this
PATTERN_WORK = 1e8
#: Lua files (``require``, ``dofile``) larger than this are refused
MAX_SOURCE = 4 << 20
#: the variable that lets ``init.lua`` load C code (off by default)
C_MODULES_VARIABLE = "HEXE_LUA_C_MODULES"
#: the variable that multiplies every time budget (tests run with 0.25: an endless
#: loop is stopped after 0.5 s instead of 2 s; docs/config.md, "Containment")
BUDGET_SCALE_VARIABLE = "HEXE_LUA_BUDGET_SCALE"

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
    "action",
    "float",
)
#: at most this many ``hexe.action`` calls in one key function
MAX_ACTIONS = 64

PRELUDE = r"""
local calls = {}
local budget = { armed = false, deadline = math.huge, exceeded = false, hooks = 0,
                 max_hooks = math.huge, reason = nil }
local clock = os.clock
local getinfo = debug.getinfo
local sethook = debug.sethook
local rawget, format, stderr = rawget, string.format, io.stderr
local INSTRUCTIONS_PER_SECOND = HEXE_INSTRUCTIONS_PER_SECOND

local stop_requested = HEXE_STOP_REQUESTED
local function guard()
  if not budget.armed then
    sethook()
    return
  end
  budget.hooks = budget.hooks + 1
  if not budget.exceeded then
    if budget.hooks % 64 == 0 and stop_requested() then
      budget.reason = "hexe is exiting"
    elseif budget.hooks > budget.max_hooks then
      budget.reason = "time budget exceeded (an endless loop?)"  -- by instructions
    elseif clock() > budget.deadline then
      budget.reason = "time budget exceeded (an endless loop?)"
    end
  end
  if budget.reason ~= nil then
    if not budget.exceeded then
      budget.exceeded = true
      -- from now on fire on every instruction, so a pcall in a loop cannot
      -- swallow the error forever
      sethook(guard, "", 1)
    end
    error(budget.reason, 2)
  end
end

-- Lua hooks are per coroutine: every coroutine the config makes gets the
-- guard too, and is re-armed with each new deadline.
local threads = setmetatable({}, { __mode = "k" })
local co_create, co_status, co_resume = coroutine.create, coroutine.status, coroutine.resume

local function set_deadline(seconds)
  budget.exceeded = false
  budget.reason = nil
  budget.hooks = 0
  -- 1000 instructions per hook call
  budget.max_hooks = seconds * INSTRUCTIONS_PER_SECOND / 1000
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
    if kind == "tab" then  -- noted: a tab outside hexe.layout does nothing
      calls[#calls + 1] = { kind = "tab_made", src = src, line = line, n = 0, args = {} }
    end
    return { __hexe_node = kind, spec = spec, src = src, line = line }
  end
end

local action_sink = HEXE_ACTION
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
  -- run an action of the command registry once the key function returns
  action = function(name, ...)
    local problem = action_sink(name, ...)
    if problem ~= nil then error("hexe.action: " .. problem, 2) end
  end,
  float = node("float"),
}
HEXE_VERSION, HEXE_ACTION = nil, nil
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

-- Nothing that can block hexe (wait for a process, a terminal, a FIFO, a
-- slow disk) is reachable: the config and its callbacks run in hexe's server.
local function unavailable(name, instead, why)
  return function()
    error(name .. " is not available in init.lua or its callbacks: "
      .. (why or "it could block hexe") .. (instead and ("; " .. instead) or ""), 2)
  end
end
os.execute = unavailable("os.execute")
os.remove = unavailable("os.remove")
os.rename = unavailable("os.rename")
os.tmpname = unavailable("os.tmpname")
local lua_write = function(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  stderr:write(table.concat(parts))
end
_G.io = {
  write = lua_write,
  read = unavailable("io.read"),
  lines = unavailable("io.lines", "io.open(name):lines() reads a regular file"),
  open = nil, -- below: regular files only
  popen = unavailable("io.popen"),
  input = unavailable("io.input"),
  output = unavailable("io.output"),
  close = unavailable("io.close"),
  tmpfile = unavailable("io.tmpfile"),
  type = io.type,
}
package.loaded.io = _G.io

-- io.open: regular files only, opened without blocking (never a FIFO, a
-- device or a terminal); a handle offers read, lines, write and close.
local file_open, file_op = HEXE_FILE_OPEN, HEXE_FILE_OP
local File = {}
File.__index = File
File.__name = "hexe file"
function File:read(what)
  local text, err = file_op(self.id, "read", what or "l")
  if err then error(err, 2) end
  return text
end
function File:write(...)
  local parts = table.pack(...)
  for i = 1, parts.n do
    local v = parts[i]
    if type(v) ~= "string" and type(v) ~= "number" then
      error("write: argument " .. i .. " is a " .. type(v) .. "; strings or numbers", 2)
    end
    parts[i] = tostring(v)
  end
  local ok, err = file_op(self.id, "write", table.concat(parts))
  if err then return nil, err end
  return self
end
function File:lines(what)
  return function() return self:read(what or "l") end
end
function File:close()
  file_op(self.id, "close", nil)
  return true
end
_G.io.open = function(path, mode)
  local id, err = file_open(path, mode or "r")
  if id == nil then return nil, err end
  return setmetatable({ id = id }, File)
end

-- Lua files are read by hexe (a regular file, never a FIFO or a terminal);
-- chunks are text only (a crafted binary chunk can crash Lua).
local read_source = HEXE_READ_SOURCE
local real_load = load
_G.load = function(chunk, name, mode, env)
  if mode ~= nil and mode ~= "t" then
    if type(mode) ~= "string" or not mode:find("t", 1, true) then
      error("load: binary chunks are not allowed in init.lua (mode must be \"t\")", 2)
    end
  end
  return real_load(chunk, name, "t", env)
end
_G.loadfile = function(path, mode, env)
  if path == nil then error("loadfile: give a file name (reading stdin could block hexe)", 2) end
  local source, err = read_source(path)
  if source == nil then return nil, err end
  return real_load(source, "@" .. tostring(path), "t", env)
end
_G.dofile = function(path)
  if path == nil then error("dofile: give a file name (reading stdin could block hexe)", 2) end
  local chunk, err = loadfile(path)
  if chunk == nil then error(err, 2) end
  return chunk()
end
local function lua_searcher(name)
  local tried = {}
  local file = string.gsub(name, "%.", "/")
  for template in string.gmatch(package.path, "[^;]+") do
    local path = string.gsub(template, "%?", file)
    local source, err = read_source(path)
    if source ~= nil then
      local chunk, lerr = real_load(source, "@" .. path, "t")
      if chunk == nil then
        error(format("error loading module '%s' from file '%s':\n\t%s", name, path, lerr), 0)
      end
      return chunk, path
    end
    tried[#tried + 1] = err
  end
  if #tried == 0 then return nil end
  return table.concat(tried, "\n\t") -- Lua 5.4 adds the first "\n\t"
end
if not HEXE_C_MODULES then
  package.loadlib = unavailable("package.loadlib", "HEXE_LUA_C_MODULES=1 turns it on",
    "loading C code is off (C code could crash hexe)")
  package.cpath = ""
  package.searchers = { package.searchers[1], lua_searcher, function(name)
    return "no C module: loading C code is off (HEXE_LUA_C_MODULES=1 turns it on)"
  end }
else
  package.searchers[2] = lua_searcher
end
package.searchpath = unavailable("package.searchpath")

-- The pattern functions are C: the count hook cannot stop them. A pattern
-- whose backtracking could take long on its subject is refused instead.
local s_find, s_match, s_gmatch, s_gsub, s_byte = string.find, string.match,
  string.gmatch, string.gsub, string.byte
local PATTERN_WORK = HEXE_PATTERN_WORK
local function check_pattern(fname, s, p)
  if type(p) ~= "string" or (type(s) ~= "string" and type(s) ~= "number") then
    return -- the real function says what is wrong
  end
  local n, i, loops, optional = #tostring(s), 1, 0, 0
  local len = #p
  while i <= len do
    local c = s_byte(p, i)
    if c == 37 then -- %x: an escape (or %b, %f with their arguments)
      local d = s_byte(p, i + 1)
      if d ~= nil and d >= 49 and d <= 57 then loops = loops + 1 end -- %1: compares a capture
      i = i + ((d == 98) and 4 or 2)
    elseif c == 91 then -- a set [...]: skip to its end
      i = i + 1
      if s_byte(p, i) == 94 then i = i + 1 end
      if s_byte(p, i) == 93 then i = i + 1 end
      while i <= len and s_byte(p, i) ~= 93 do
        if s_byte(p, i) == 37 then i = i + 1 end
        i = i + 1
      end
      i = i + 1
    else
      if c == 42 or c == 43 or c == 45 then loops = loops + 1
      elseif c == 63 then optional = optional + 1 end
      i = i + 1
    end
  end
  if loops == 0 and optional == 0 then return end
  local work = (n + 1) ^ (loops + 1) * 2 ^ math.min(optional, 64)
  if work > PATTERN_WORK then
    error(format("%s: the pattern %q has %d repetitions (* + - %%1) and the subject is %d bytes; "
      .. "matching could take too long (keep subject length ^ (repetitions + 1) under %.0e)",
      fname, #p > 40 and (p:sub(1, 40) .. "...") or p, loops, n, PATTERN_WORK), 3)
  end
end
string.find = function(s, p, init, plain)
  if not plain then check_pattern("string.find", s, p) end
  return s_find(s, p, init, plain)
end
string.match = function(s, p, init)
  check_pattern("string.match", s, p)
  return s_match(s, p, init)
end
string.gmatch = function(s, p, init)
  check_pattern("string.gmatch", s, p)
  return s_gmatch(s, p, init)
end
string.gsub = function(s, p, repl, n)
  check_pattern("string.gsub", s, p)
  return s_gsub(s, p, repl, n)
end
HEXE_READ_SOURCE, HEXE_C_MODULES, HEXE_PATTERN_WORK = nil, nil, nil
HEXE_FILE_OPEN, HEXE_FILE_OP = nil, nil
HEXE_STOP_REQUESTED, HEXE_INSTRUCTIONS_PER_SECOND = nil, nil
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


_stop = False


def request_stop() -> None:
    """Make running Lua fail soon (``hexe is exiting``): the server got SIGTERM.

    Safe in a signal handler: it sets a flag, which the count hook reads
    (through a call into Python, where the handler got its turn)."""
    global _stop
    _stop = True


def stop_requested() -> bool:
    return _stop


def c_modules_allowed(environ: Mapping[str, str]) -> bool:
    """``HEXE_LUA_C_MODULES``: may ``init.lua`` load C code? Off unless set to yes."""
    value = environ.get(C_MODULES_VARIABLE, "")
    if value.strip() == "":
        return False
    try:
        return parse_bool(C_MODULES_VARIABLE, value)
    except SettingError as exc:
        raise LuaFailure(exc.message) from exc


def budget_scale(environ: Mapping[str, str]) -> float:
    """``HEXE_LUA_BUDGET_SCALE``: the factor every Lua time budget is multiplied by (1 if unset)."""
    value = environ.get(BUDGET_SCALE_VARIABLE, "").strip()
    if not value:
        return 1.0
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0 < scale < float("inf"):
        raise LuaFailure(
            f"{BUDGET_SCALE_VARIABLE}={value} is not a factor for the Lua time budgets; "
            "use a number above 0 (0.5 halves them, 2 doubles them)"
        )
    return scale


def read_source(path: object) -> tuple[bytes | None, str | None]:
    """A Lua file for ``require``/``dofile``: (text, None), or (None, why not).

    Opened without blocking (a FIFO or a terminal is refused, not waited for)
    and only if it is a regular file of at most :data:`MAX_SOURCE` bytes."""
    if not isinstance(path, str):
        return None, f"no file {path!r} (a file name is a string)"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        return None, f"no file '{path}' ({exc.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"'{path}' is not a regular file (hexe reads Lua from regular files only)"
        if info.st_size > MAX_SOURCE:
            return None, f"'{path}' is larger than {MAX_SOURCE >> 20} MiB"
        chunks = []
        total = 0
        while total <= MAX_SOURCE:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks), None
    except OSError as exc:
        return None, f"cannot read '{path}' ({exc.strerror})"
    finally:
        os.close(fd)


def _no_attributes(obj: object, name: object, is_setting: bool) -> object:
    raise AttributeError("Python attributes are not reachable from init.lua")


class _Files:
    """The files ``io.open`` opened: regular files only, opened without blocking."""

    MODES = {
        "r": os.O_RDONLY,
        "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
        "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    }
    MAX_OPEN = 32

    def __init__(self) -> None:
        self.open_files: dict[int, Any] = {}
        self.next_id = 1

    def open(self, path: object, mode: object) -> tuple[int | None, str | None]:
        if not isinstance(path, str):
            return None, f"io.open: the file name is {path!r}; a string"
        base = mode.replace("b", "") if isinstance(mode, str) else None
        if base not in self.MODES:
            return None, f"io.open: mode {mode!r}: use r, w or a (hexe's io.open)"
        if len(self.open_files) >= self.MAX_OPEN:
            return None, f"io.open: {self.MAX_OPEN} files are open already; close some"
        flags = self.MODES[base] | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            return None, f"{path}: {exc.strerror}"
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                return None, f"{path}: not a regular file (hexe's io.open opens only those)"
        except OSError as exc:
            os.close(fd)
            return None, f"{path}: {exc.strerror}"
        handle = os.fdopen(fd, "rb" if base == "r" else "ab" if base == "a" else "wb")
        ident = self.next_id
        self.next_id += 1
        self.open_files[ident] = handle
        return ident, None

    def op(self, ident: object, what: str, arg: object) -> tuple[Any, str | None]:
        handle = self.open_files.get(ident) if isinstance(ident, int) else None
        if handle is None:
            return None, "attempt to use a closed file"
        try:
            if what == "close":
                del self.open_files[ident]
                handle.close()
                return True, None
            if what == "write":
                if "r" in handle.mode:
                    return None, "the file is open for reading"
                handle.write(arg.encode() if isinstance(arg, str) else bytes(arg))
                handle.flush()
                return True, None
            if "r" not in handle.mode:
                return None, "the file is open for writing"
            form = arg.lstrip("*") if isinstance(arg, str) else arg
            if form == "a":
                return handle.read(MAX_SOURCE), None
            if form in ("l", "L"):
                line = handle.readline(MAX_SOURCE)
                if not line:
                    return None, None
                return (line.rstrip(b"\n") if form == "l" else line), None
            return None, f"read: format {arg!r}: use \"a\", \"l\" or \"L\" (hexe's io.open)"
        except OSError as exc:
            return None, exc.strerror

    def close_all(self) -> None:
        for handle in self.open_files.values():
            handle.close()
        self.open_files.clear()


class LuaConfigRuntime:
    """One Lua state for one config load; kept alive for the config's callbacks."""

    def __init__(
        self,
        *,
        lua_dir: str | None = None,
        max_memory: int = DEFAULT_MAX_MEMORY,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        version: str = "",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        import lupa.lua54 as lupa  # here: a hexe run without an init.lua makes no Lua state

        self.lua = lupa.LuaRuntime(
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_no_attributes,
            max_memory=max_memory,
        )
        env_of = environ if environ is not None else {}
        lua_globals = self.lua.globals()
        lua_globals["HEXE_VERSION"] = version
        lua_globals["HEXE_C_MODULES"] = c_modules_allowed(env_of)
        lua_globals["HEXE_READ_SOURCE"] = read_source
        self.files = _Files()
        #: where ``hexe.action`` calls go while a key function runs (see :meth:`actions`)
        self._action_sink: Callable[..., str | None] | None = None
        lua_globals["HEXE_ACTION"] = self._action
        lua_globals["HEXE_FILE_OPEN"] = self.files.open
        lua_globals["HEXE_FILE_OP"] = self.files.op
        lua_globals["HEXE_STOP_REQUESTED"] = stop_requested
        lua_globals["HEXE_PATTERN_WORK"] = PATTERN_WORK
        lua_globals["HEXE_INSTRUCTIONS_PER_SECOND"] = INSTRUCTIONS_PER_SECOND
        paths = []
        if lua_dir is not None:
            paths = [os.path.join(lua_dir, "?.lua"), os.path.join(lua_dir, "?", "init.lua")]
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

    def run_file(self, path: str, seconds: float = DEFAULT_LOAD_SECONDS) -> None:
        """Run ``path`` as the config chunk, within the budget."""
        try:
            with open(path, "rb") as f:
                source = f.read()
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
        """Call ``fn`` (which runs Lua) with the time budget; Lua errors -> :class:`LuaFailure`.

        The budget is ``seconds`` times ``HEXE_LUA_BUDGET_SCALE`` (hexe's own environment)."""
        import lupa.lua54 as lupa  # loaded already: this runtime was made

        self._api.set_deadline(seconds * budget_scale(os.environ))
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

    def call_collecting_actions(
        self,
        fn: Any,
        *args: Any,
        check: Callable[[object, list[object]], str | None],
        seconds: float = DEFAULT_CALLBACK_SECONDS,
    ) -> tuple[Any, list[tuple[str, list[object]]]]:
        """:meth:`call` for a key function: its result, and the actions it asked
        for with ``hexe.action(name, args...)``, in order, for the caller to run
        once Lua has returned (no action runs inside Lua or its budget).
        ``check`` gives the reason an action is refused (None: accepted); a
        refused one is a Lua error at the line of its ``hexe.action``.
        Elsewhere (``init.lua`` itself, status functions, ``hexe.on``
        callbacks) ``hexe.action`` is an error."""
        asked: list[tuple[str, list[object]]] = []

        def sink(name: object, *rest: object) -> str | None:
            values = list(rest)
            problem = check(name, values)
            if problem is not None:
                return problem
            if len(asked) >= MAX_ACTIONS:
                return f"more than {MAX_ACTIONS} actions in one key function"
            asked.append((str(name), values))
            return None

        self._action_sink = sink
        try:
            result = self.call(fn, *args, seconds=seconds)
        finally:
            self._action_sink = None
        return result, asked

    def _action(self, name: object, *args: object) -> str | None:
        if self._action_sink is None:
            return (
                "runs only inside a key function: "
                'hexe.key("prefix x", function() hexe.action("split-right") end)'
            )
        return self._action_sink(name, *args)

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
    lines = text.splitlines()
    first = lines[0] if text else "error"
    if first.rstrip().endswith("not found:"):  # require: where it looked, one line
        tried = []
        for line in lines[1:]:
            if not line.startswith("\t") or not line.strip():
                break  # "stack traceback:"
            tried.append(line.strip())
        first = first.rstrip() + " " + "; ".join(tried)
    return first.replace("error loading code: ", "")


def display_path(path: str | os.PathLike[str]) -> str:
    """``~/.config/hexe/init.lua`` rather than ``/home/ann/.config/hexe/init.lua``."""
    text = os.fspath(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and text.startswith(home + os.sep):
        return "~" + text[len(home) :]
    return text
