"""Which modules hexe itself imports, in a fresh interpreter run with ``-S``.

``-S``: no ``.pth`` file of this machine's site-packages runs, so none has
loaded a module before hexe does (as in a clean virtual environment); the
checkout, its plugins and (optionally) the site-packages directories are put
on the path by hand. Only imports made by hexe's own modules are counted: a
third-party package or a module of the standard library that loads one of the
watched modules for itself is not hexe's choice (and changes with versions).
"""

from __future__ import annotations

import ast
import os
import site
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The probe itself imports nothing beyond builtins and sys (not json: it
# imports re, enum, functools and collections, which hexe's requests avoid).
_WATCH = """
import builtins, sys
_watched = set(sys.argv.pop(1).split(","))
_by_hexe = []
_import = builtins.__import__
def _recording(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name in _watched and name not in sys.modules:
        importer = (globals or {}).get("__name__") or ""
        if importer.split(".")[0].startswith("hexe"):
            _by_hexe.append(name + " (imported by " + importer + ")")
    return _import(name, globals, locals, fromlist, level)
builtins.__import__ = _recording
"""

_REPORT = """
sys.stdout.flush()
print("\\n" + repr({"by_hexe": _by_hexe, "code": globals().get("code")}))
"""


def imported_by_hexe(
    code: str,
    watched: Sequence[str],
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    site_packages: bool = False,
) -> tuple[list[str], object, subprocess.CompletedProcess[str]]:
    """Run ``code`` (it may ``raise SystemExit``: the report is printed at
    exit); the watched modules hexe's modules imported, the value ``code``
    left in its variable ``code`` (None if none), and the run."""
    path = [str(ROOT), str(ROOT / "plugins")]
    if site_packages:
        path += site.getsitepackages()
    environ = {**(env if env is not None else os.environ), "PYTHONPATH": os.pathsep.join(path)}
    report = "import atexit\natexit.register(lambda: exec(" + repr(_REPORT) + "))\n"
    program = _WATCH + report + code
    done = subprocess.run(
        [sys.executable, "-S", "-c", program, ",".join(watched), *args],
        capture_output=True, text=True, env=environ, cwd="/", timeout=60,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("{"), f"no report: {done.stdout[-500:]}{done.stderr}"
    report = ast.literal_eval(lines[-1])
    return report["by_hexe"], report["code"], done
