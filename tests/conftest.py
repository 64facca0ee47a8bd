"""Fixtures shared by the test suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import as_nobody_argv, clean_env, find_python_for_nobody, portable_install


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory, monkeypatch):
    """Keep hexe's logs of in-process tests out of the real state dir."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))


@pytest.fixture
def mux(tmp_path):
    """Start ``hexe mux`` in a private tmux: ``m = mux(config)`` (see ``tests/mux.py``).

    Waits for the status line unless ``wait=False``; every session started is
    closed after the test.
    """
    from mux import Mux

    made: list[Mux] = []

    def start(config: str = "", wait: bool = True, **kw):
        m = Mux(tmp_path / f"m{len(made)}", config, **kw)
        made.append(m)
        if wait:
            m.wait_for("[t]", what="the status line")
        return m

    yield start
    for m in made:
        m.close()


@pytest.fixture(scope="session")
def nobody():
    """Run ``hexe ARGS`` as the unprivileged user 65534: ``nobody("run", "--", "id")``.

    hexe and its dependencies are copied to a world-readable directory first,
    since the unprivileged user cannot read root's site-packages.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    base = Path(tempfile.mkdtemp(prefix="hexe-nobody-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    site = portable_install(base / "site")
    state = base / "state"
    state.mkdir(mode=0o777)
    os.chmod(state, 0o777)
    python = find_python_for_nobody(site)
    if python is None:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip("no Python >= 3.11 the unprivileged user can run was found")

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = clean_env(PYTHONPATH=str(site), HOME=str(state), XDG_STATE_HOME=str(state))
        return subprocess.run(
            [*as_nobody_argv(python), "-m", "hexe", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )

    run.python = python  # type: ignore[attr-defined]
    yield run
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def python() -> str:
    return sys.executable


def pytest_collection_modifyitems(items):
    """Every test in a ``test_security_*.py`` file is an attack: mark it ``security``."""
    for item in items:
        if item.path.name.startswith("test_security_"):
            item.add_marker(pytest.mark.security)
