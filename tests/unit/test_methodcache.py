"""The table of dataclass methods: the same classes, without the compiles."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hexe import methodcache

# a class with every kind of generated method: frozen (setattr, delattr,
# hash), defaults, a factory, eq and order
CLASS = """
import dataclasses
@dataclasses.dataclass(frozen=True, order=True)
class Spec:
    name: str
    size: int = 3
    tags: tuple = ()
    extra: list = dataclasses.field(default_factory=list, compare=False)
"""


def make(namespace: dict | None = None) -> type:
    namespace = {} if namespace is None else namespace
    exec(CLASS, namespace)
    return namespace["Spec"]


def run_python(code: str, table: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environ.update(env)
    prelude = f"from hexe import methodcache\nmethodcache.install({table!r})\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


COUNT_COMPILES = """
import builtins
compiles = []
def counting(*args, **kw):
    compiles.append(args[0])
    return builtins.compile(*args, **kw)
methodcache.compile = counting
"""


def test_hexe_routes_dataclasses_through_the_table():
    assert dataclasses.__dict__.get("exec") is methodcache._exec


def test_a_class_made_from_the_table_has_the_same_methods(tmp_path):
    methodcache.install(str(tmp_path / "table"))
    try:
        first = make()  # compiled, now in the table
        again = make()  # from the table
        del dataclasses.exec  # what dataclasses does without it
        plain = make()
    finally:
        methodcache.install()
    for name in ("__init__", "__repr__", "__eq__", "__lt__", "__hash__", "__setattr__"):
        codes = [getattr(cls, name).__code__ for cls in (first, again, plain)]
        assert codes[0] is codes[1], name  # the very code object: no compile
        assert codes[1].co_code == codes[2].co_code, name
        assert codes[1].co_consts == codes[2].co_consts, name
        assert codes[1].co_names == codes[2].co_names, name
    spec = again("a", tags=("x",))
    assert spec == again("a", tags=("x",), extra=[1]) and spec < again("b")
    assert repr(spec) == "Spec(name='a', size=3, tags=('x',), extra=[])"
    assert hash(spec) == hash(again("a", tags=("x",)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.size = 4  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        again()
    # the annotations of the generated methods are objects, as without the table
    assert plain.__init__.__annotations__ == again.__init__.__annotations__


def test_a_second_process_compiles_nothing(tmp_path):
    table = str(tmp_path / "table")
    make_it = CLASS + "\nassert Spec('a') == Spec('a')\n"
    first = run_python(COUNT_COMPILES + make_it + "print(len(compiles))", table)
    assert first.returncode == 0, first.stderr
    assert int(first.stdout) >= 5  # init, repr, eq, order, hash, setattr, delattr
    with open(table, "rb") as f:
        assert f.read().startswith(methodcache._MAGIC)
    second = run_python(COUNT_COMPILES + make_it + "print(len(compiles))", table)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "0"


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", methodcache._MAGIC + b"\x00\x01", methodcache._MAGIC[:-2] + b"X\n"],
    ids=["empty", "garbage", "truncated", "another-python"],
)
def test_a_damaged_or_foreign_table_is_compiled_around_and_replaced(tmp_path, content):
    table = tmp_path / "table"
    table.write_bytes(content)
    result = run_python(COUNT_COMPILES + CLASS + "print(len(compiles), Spec('a'))", str(table))
    assert result.returncode == 0, result.stderr
    count, _, shown = result.stdout.strip().partition(" ")
    assert int(count) >= 5 and shown == "Spec(name='a', size=3, tags=(), extra=[])"
    assert table.read_bytes().startswith(methodcache._MAGIC)  # rewritten whole


def test_a_table_of_other_objects_is_not_trusted(tmp_path):
    import marshal

    table = tmp_path / "table"
    # the right header, but a value that is not code: never exec'd
    table.write_bytes(methodcache._MAGIC + marshal.dumps({"x": "print('owned')"}))
    result = run_python("print(len(methodcache._table))", str(table))
    assert result.stdout.strip() == "0", result.stderr


def test_nothing_is_written_where_python_writes_no_bytecode(tmp_path):
    table = tmp_path / "table"
    result = run_python(CLASS, str(table), PYTHONDONTWRITEBYTECODE="1")
    assert result.returncode == 0, result.stderr
    assert not table.exists()


def test_an_unwritable_place_costs_only_the_compile(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    table = blocker / "table"  # its directory is a file: every write fails
    result = run_python(CLASS + "print(Spec('a').size)", str(table))
    assert result.returncode == 0 and result.stdout.strip() == "3", result.stderr
    assert result.stderr == ""
    assert sorted(os.listdir(tmp_path)) == ["file"]  # no temporary file left either


OTHER = CLASS.replace("Spec", "Other").replace("name: str", "label: str")

FORKS = """
import os
def child(source):
    pid = os.fork()
    if pid == 0:
        if source:
            exec(source, {})
        methodcache.save()
        os._exit(0)
    os.waitpid(pid, 0)
    return methodcache._load(methodcache._path)
print(len(child("")), any("label" in key for key in child(%r)), flush=True)
os._exit(0)  # the parent writes nothing itself: only what the children did counts
"""


def test_a_fork_writes_the_table_only_when_it_compiled_something(tmp_path):
    """A sandbox's first process is a fork that compiles nothing: it writes
    nothing. A session's server is a fork that makes its own classes (and
    leaves by ``os._exit``, calling ``save`` itself): it writes them."""
    result = run_python(CLASS + FORKS % OTHER, str(tmp_path / "table"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "True"], result.stdout + result.stderr


FINDER_PROBE = """
import importlib.util, sys
import hexe
from hexe import methodcache

# found but not loaded: the finder stays for the import that loads it
assert importlib.util.find_spec("dataclasses") is not None
assert any(isinstance(f, methodcache._OnImport) for f in sys.meta_path)

class Importing:
    # a finder behind hexe's that imports dataclasses while an import walks the list
    def find_spec(self, name, path=None, target=None):
        if name == "wanted_module":
            import dataclasses
        return None

class Victim:
    # the finder after it must still be asked
    def find_spec(self, name, path=None, target=None):
        if name == "wanted_module":
            import importlib.machinery
            return importlib.machinery.ModuleSpec(name, Loader())
        return None

class Loader:
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        module.ok = True

sys.meta_path[1:1] = [Importing(), Victim()]
import wanted_module
import dataclasses
print(wanted_module.ok, dataclasses.__dict__.get("exec") is methodcache._exec,
      any(isinstance(f, methodcache._OnImport) for f in sys.meta_path))
"""


def test_the_one_shot_finder_skips_no_other_finder_and_survives_find_spec():
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-S", "-c", FINDER_PROBE], capture_output=True, text=True, cwd="/",
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": root}, timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == ["True", "True", "False"], done.stdout + done.stderr


def test_precompile_writes_the_table_where_no_run_would(tmp_path):
    """``python3 -m hexe.precompile``, for an install its users cannot write:
    every module of hexe and its plugins imported, the table written even
    with ``PYTHONDONTWRITEBYTECODE``; a later process then compiles none of
    the methods (here a copy of the checkout stands for the install)."""
    import shutil
    import site

    root = Path(__file__).resolve().parents[2]
    ignore = shutil.ignore_patterns("__pycache__", "_bin", "*.egg-info")
    shutil.copytree(root / "hexe", tmp_path / "hexe", ignore=ignore)
    for plugin in ("hexe_voidbox", "hexe_cgroups", "hexe_render"):
        shutil.copytree(root / "plugins" / plugin, tmp_path / plugin, ignore=ignore)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *site.getsitepackages()]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    table = tmp_path / "hexe" / "__pycache__" / Path(methodcache._cache_path()).name
    done = subprocess.run(
        [sys.executable, "-S", "-m", "hexe.precompile"], capture_output=True, text=True,
        env=env, cwd="/", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(table) and table.exists(), done.stdout
    probe = (
        "import builtins\n"
        "from hexe import methodcache\n"
        "compiles = []\n"
        "def counting(*args, **kw):\n"
        "    compiles.append(args[0])\n"
        "    return builtins.compile(*args, **kw)\n"
        "methodcache.compile = counting\n"
        "import hexe.run, hexe.server.server\n"
        "from hexe.plugin.manager import make_plugin_manager\n"
        "make_plugin_manager()\n"
        "print(len(compiles), len(methodcache._table) > 100)\n"
    )
    later = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, env=env, cwd="/",
        timeout=60,
    )  # fmt: skip
    assert later.stdout.split() == ["0", "True"], later.stdout + later.stderr


def test_doctor_says_whether_the_methods_are_compiled(tmp_path, monkeypatch):
    from hexe.doctor import methods_check

    table = tmp_path / "__pycache__" / "dataclass-methods.marshal"
    monkeypatch.setattr(methodcache, "_cache_path", lambda: str(table))
    missing = methods_check()
    assert missing.ok is None and "none yet" in missing.detail, missing
    assert "python3 -m hexe.precompile" in missing.detail
    # a directory this user cannot write (root writes anywhere: the answer of
    # access(2) is what the check asks, so it stands in for a read-only install)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if m == os.W_OK else real_access(p, m))
    readonly = methods_check()
    assert readonly.ok is None and "cannot write" in readonly.detail, readonly
    assert "as the user who installed hexe" in readonly.detail
    monkeypatch.setattr(os, "access", real_access)
    table.parent.mkdir()
    import marshal

    table.write_bytes(methodcache._MAGIC + marshal.dumps({"x": compile("1", "", "eval")}))
    present = methods_check()
    assert present.ok is True and present.detail.startswith("1 in "), present
