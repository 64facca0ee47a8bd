"""The suite's own guard: a test that leaves files outside its temporary
directories fails (tests/conftest.py, ``_leaves_nothing_behind``).

Checked on a real pytest run of a small test file, with ``HOME`` (one of the
watched places) pointed into this test's own directory, so nothing real is
touched. Works as root and as an ordinary user.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent

INNER = """
import os

def test_leaves_a_file_in_home():
    open(os.path.join(os.environ["HOME"], "left-behind"), "w").close()

def test_writes_only_in_its_tmp_path(tmp_path):
    (tmp_path / "fine").write_text("x")
"""


def inner_run(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "HEXE_")) and k != "PYTHONPATH"
    }
    paths = [str(TESTS), *sys.path[1:]]
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join(p for p in paths if p))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), "-c", os.devnull,
         "--basetemp", str(tmp_path / "base"), "test_inner.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_a_test_leaving_a_file_in_home_fails_and_a_clean_one_passes(tmp_path):
    result = inner_run(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "ERROR test_inner.py::test_leaves_a_file_in_home" in out, out
    # the traceback's own line ("E   AssertionError: ..."), not the short
    # summary's, which pytest cuts to the terminal's width (whole in a wide one)
    flagged = [
        line
        for line in out.splitlines()
        if line.startswith("E ") and "AssertionError: the test left" in line
    ]
    # named once: for the test that made it, not for the next one (which runs
    # after it and leaves nothing; other processes on the machine may write to
    # /tmp meanwhile, so whether that one passes is not asserted)
    named = [line for line in flagged if str(tmp_path / "home" / "left-behind") in line]
    assert len(named) == 1, out
