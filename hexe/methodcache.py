"""The methods ``dataclasses`` writes, compiled once, not at every start.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` (and, frozen, ``__setattr__`` and ``__delattr__``) as Python
source and compiles it with ``exec`` when the class statement runs — at
every import, in every process. CPython caches the bytecode of modules in
``__pycache__`` but not these strings: compiling them was a third of a
``hexe run``'s imports (~120 methods, ~0.15 ms each).

:func:`install` gives the ``dataclasses`` module an ``exec`` of its own that
looks the source text up in a table of code objects, kept like ``.pyc`` files
are: ``hexe/__pycache__/dataclass-methods.<cache tag>.marshal``, read once,
written (whole, atomically) at exit when a process compiled something new,
and skipped where that directory is read-only or Python may not write
bytecode (``PYTHONDONTWRITEBYTECODE``, ``-B``). The code object compiled from
the same text with the same flags is the same code: the class gets exactly
the methods ``dataclasses`` would have made; only the compile is skipped. A
missing, foreign or damaged file is compiled around, never trusted
(``marshal`` of another version is refused by its header).

Whoever can write to hexe's ``__pycache__`` can already replace its ``.pyc``
files: the table adds nothing a sandboxed pane could use that it could not
before (and hexe's own profiles never mount the install read-write).
"""

from __future__ import annotations

import atexit
import builtins
import marshal
import os
import sys

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from typing import Any

# the header: a file written by another interpreter (or another layout of
# this one) is not read
_MAGIC = b"hexe-dc1 " + sys.implementation.cache_tag.encode() + b" " + sys.version.encode() + b"\n"
_LIMIT = 4000  # entries: past it the table starts again from this process's own
_FLAGS = 0  # ``dataclasses`` has no ``from __future__``: its exec compiles with none

_table: dict[str, Any] = {}
_used: dict[str, Any] = {}
_dirty = False
_owner = 0  # the process that last compiled: a fork that compiled nothing writes nothing
_path = ""


def _cache_path() -> str:
    return os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "__pycache__",
        f"dataclass-methods.{sys.implementation.cache_tag}.marshal",
    )


def _load(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if not data.startswith(_MAGIC):
        return {}
    try:
        table = marshal.loads(data[len(_MAGIC) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(k, str) and type(v) is _CODE}


_CODE = type(_load.__code__)


def _exec(source: Any, globals: Any = None, locals: Any = None, /, **kw: Any) -> None:
    """``exec`` as ``dataclasses`` calls it, with the compile of SOURCE looked up."""
    global _dirty, _owner
    if type(source) is not str or kw:
        builtins.exec(source, globals, locals, **kw)
        return
    code = _table.get(source)
    if code is None:
        code = compile(source, "<string>", "exec", _FLAGS, dont_inherit=True)
        _table[source] = code
        if _owner == 0:
            atexit.register(save)  # forks inherit it
        _dirty = True
        _owner = os.getpid()
    _used[source] = code
    builtins.exec(code, globals, locals)


def save() -> None:
    """Write the table if this process compiled something new (at exit; a
    process that leaves by ``os._exit``, like a session's server, calls it)."""
    global _dirty
    if not _dirty or not _path or sys.dont_write_bytecode:  # as for .pyc files
        return
    if os.getpid() != _owner:
        return
    _dirty = False
    table = _table if len(_table) <= _LIMIT else _used
    directory = os.path.dirname(_path)
    tmp = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(_MAGIC + marshal.dumps(table))
        os.replace(tmp, _path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def install(path: str | None = None) -> None:
    """Route ``dataclasses``' compiles through the table kept at PATH (by
    default in hexe's ``__pycache__``); again with a PATH, switch to it."""
    global _path, _table
    import dataclasses

    if dataclasses.__dict__.get("exec") is _exec and path is None:
        return
    _path = path if path is not None else _cache_path()
    _table = _load(_path)
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # found before builtins'


def install_on_import() -> None:
    """:func:`install` at the moment ``dataclasses`` is imported, not before
    (a process that never imports it does not pay for it); at once when it
    is imported already."""
    if "dataclasses" in sys.modules:
        install()
    elif not any(isinstance(finder, _OnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())


class _OnImport:
    """A finder for ``dataclasses`` alone: the module is found and loaded as it
    would be, then :func:`install` runs before the import returns, and the
    finder leaves ``sys.meta_path``. It leaves by rebinding the list, never by
    changing it in place: an import walking the list at that moment (another
    thread, or a finder that imports) would otherwise skip a finder."""

    def __init__(self) -> None:
        self.done = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "dataclasses" or self.done:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None  # not ours to find: the other finders go on
        # found, maybe not loaded (importlib.util.find_spec): this finder stays
        # until the module is executed through it
        spec.loader = _Installing(spec.loader, self)
        return spec

    def leave(self) -> None:
        self.done = True
        sys.meta_path = [finder for finder in sys.meta_path if finder is not self]


class _Installing:
    """``dataclasses``' own loader, then :func:`install`."""

    def __init__(self, loader: Any, finder: _OnImport) -> None:
        self._loader = loader
        self._finder = finder

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        install()
        self._finder.leave()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def write_now() -> str:
    """Write the table now, whatever ``PYTHONDONTWRITEBYTECODE`` says (it was
    asked for: :mod:`hexe.precompile`); its path."""
    global _dirty, _owner
    install()
    _dirty, _owner = True, os.getpid()
    sys.dont_write_bytecode = False
    save()
    return _path


def status() -> tuple[str, int, bool]:
    """The table's path, its entries (0: none, or not readable) and whether
    this user may write it (its directory, or the package's to make it)."""
    path = _cache_path()
    entries = len(_load(path))
    directory = os.path.dirname(path)
    where = directory if os.path.isdir(directory) else os.path.dirname(directory)
    return path, entries, os.access(where, os.W_OK)
