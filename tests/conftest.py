"""Fixtures shared by the test suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
from support import as_nobody_argv, clean_env, find_python_for_nobody, portable_install

pytest_plugins = ["support.speed"]  # longest tests first, small xdist batches, Lua budgets

# -- nothing left behind ------------------------------------------------------------
#
# A test may write only inside its own temporary directories. These are the
# places a careless test (or hexe itself) would leave something: their listings
# before and after are compared. Run serially (``-p no:xdist`` or ``-n 0``) the
# test that left something fails; under xdist the other workers' tests write at
# the same time, so the whole run is checked once instead, at its end, by the
# controller (and fails naming what was left). On a machine shared with other
# runs, HEXE_LEAK_CHECK=warn reports instead of failing.


def _watched() -> list[Path]:
    home = Path(os.environ.get("HOME") or "/nonexistent")
    return [
        Path("/tmp"),
        Path(f"/tmp/tmux-{os.getuid()}"),
        Path(f"/tmp/hexe-{os.getuid()}"),  # sockets without XDG_RUNTIME_DIR
        Path("/var/tmp"),
        home,
        home / ".local" / "state" / "hexe",
        home / ".config" / "hexe",
    ]


# entries that session-scoped fixtures create and remove themselves
SESSION_OWNED: set[str] = set()


def _listing() -> set[str]:
    seen = set()
    for place in _watched():
        try:
            names = os.listdir(place)
        except OSError:
            continue
        for name in names:
            if name.startswith(("pytest-of-", "hexe-hypothesis-")):  # pytest's, hypothesis'
                continue
            seen.add(str(place / name))
    return seen


def _left_behind(before: set[str]) -> list[str]:
    return sorted(p for p in _listing() - before - SESSION_OWNED if os.path.lexists(p))


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, or a serial run
        session.config._hexe_listing = _listing()
        if getattr(session.config.option, "numprocesses", None) and _wants_landlock(session.config):
            _install_landlock_ahead(session.config)


LANDLOCK_TESTS = [
    Path(__file__).resolve().parent / "kernel" / name
    for name in ("test_landlock_plugin.py", "test_security_landlock.py")
]


def _wants_landlock(config) -> bool:
    for arg in config.args or [str(config.rootpath)]:
        path = Path(arg.split("::")[0]).resolve()
        if any(path == test or path in test.parents for test in LANDLOCK_TESTS):
            return True
    return False


def _install_landlock_ahead(config) -> None:
    """pip-install the Landlock plugin for the run while the workers start.
    Its tests' fixture installs it once for the run under a lock; all four
    workers reached those tests at once and three waited ~4 s on the lock.
    The controller (idle while workers run) takes the lock first here; a
    worker that wins the race installs it itself, as before."""
    from support import install_plugin_once, landlock_abi

    if landlock_abi() < 1:
        return

    def install() -> None:
        try:
            install_plugin_once(config._tmp_path_factory)
        except Exception:  # the fixture tries again, and its test says why
            pass

    _in_background(config, install)


def _in_background(config, work) -> None:
    """Run ``work`` in a thread of the controller (idle while the workers
    run); the session waits for it at its end."""
    import threading

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    config.__dict__.setdefault("_hexe_background", []).append(thread)


def pytest_sessionfinish(session, exitstatus):
    for thread in getattr(session.config, "_hexe_background", ()):
        thread.join(timeout=120)
    before = getattr(session.config, "_hexe_listing", None)
    if before is None or not os.environ.get("PYTEST_XDIST_WORKER_COUNT_SEEN"):
        return
    left = _left_behind(before)
    if left:
        session.config._hexe_left = left
        if os.environ.get("HEXE_LEAK_CHECK") != "warn":
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left = getattr(config, "_hexe_left", None)
    if left:
        terminalreporter.write_sep("=", "files left outside the tests' temporary directories")
        for path in left:
            terminalreporter.write_line(path)
        terminalreporter.write_line(
            "(made by a test, or by another program writing there during the run: on a"
            " shared machine HEXE_LEAK_CHECK=warn reports them without failing the run)"
        )


def _compile_hexe() -> None:
    """Byte-compile hexe and its plugins once, up front. The tests run ``python3
    -m hexe`` thousands of times; where ``PYTHONDONTWRITEBYTECODE`` is set (CI
    images often set it) none of those runs may write the cache, so each one
    compiled every module it imports again: ~65 ms of CPU a call, more than
    the rest of a ``hexe run``. Python reads a cache it may not write."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for part in ("hexe", "plugins"):
        compileall.compile_dir(root / part, quiet=2, workers=1)
    # and the methods dataclasses generates (hexe.methodcache): one process
    # that imports every module writes their table, which the others read
    subprocess.run(
        [sys.executable, "-m", "hexe.precompile"], capture_output=True, check=False, timeout=120
    )


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller or a serial run, before workers
        _compile_hexe()
    # the same for the test modules: pytest keeps their rewritten bytecode only
    # when Python may write it; every worker of every run rewrote all of them
    # (2.7 s of CPU a worker here). Written into tests/**/__pycache__ (ignored by git).
    sys.dont_write_bytecode = False
    # hypothesis keeps its examples and constants in ./.hypothesis by default:
    # in the repository, outside the tests' temporary directories. Here it
    # gets a directory of this run's own, removed at the end, shared by the
    # run's workers: it also holds the table of the characters text
    # strategies draw from, which hypothesis computes in ~1.3 s of CPU when
    # missing (each worker did, every run). The controller computes it once
    # while the workers start.
    from hypothesis.configuration import set_hypothesis_home_dir

    shared = getattr(config, "workerinput", {}).get("hexe_hypothesis_home")
    if shared:
        set_hypothesis_home_dir(shared)  # the controller's: it removes it
    else:
        config._hexe_hypothesis_home = tempfile.mkdtemp(prefix="hexe-hypothesis-")
        set_hypothesis_home_dir(config._hexe_hypothesis_home)
    if getattr(config.option, "numprocesses", None):
        os.environ["PYTEST_XDIST_WORKER_COUNT_SEEN"] = "1"
        if not shared:
            _in_background(config, _characters)


def _characters() -> None:
    from hypothesis.internal import charmap

    charmap.charmap()
    charmap.intervals_from_codec("utf-8")  # text()'s default alphabet


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist: each worker uses the controller's hypothesis directory."""
    node.workerinput["hexe_hypothesis_home"] = node.config._hexe_hypothesis_home


def pytest_unconfigure(config):
    home = getattr(config, "_hexe_hypothesis_home", None)
    if home:
        shutil.rmtree(home, ignore_errors=True)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: two workers per CPU this process may run on.

    Most tests wait on other processes (tmux, a hexe server, a sandbox) far
    more than they compute themselves, so one worker per CPU leaves the CPUs
    idle much of the time. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still wins.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return 2 * len(os.sched_getaffinity(0))


@pytest.fixture(autouse=True)
def _leaves_nothing_behind():
    """Fail a test that leaves new files in /tmp, /var/tmp or $HOME (serial runs)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("PYTEST_XDIST_WORKER_COUNT_SEEN"):
        yield
        return
    before = _listing()
    yield
    left = _left_behind(before)
    if left and os.environ.get("HEXE_LEAK_CHECK") == "warn":
        warnings.warn(f"files left outside the test's temporary directories: {left}", stacklevel=1)
        return
    assert not left, f"the test left files outside its temporary directories: {left}"


@pytest.fixture(scope="session")
def _private_base(tmp_path_factory) -> Path:
    """One directory per worker that holds every test's private state dirs."""
    return tmp_path_factory.mktemp("p")


@pytest.fixture(scope="session", autouse=True)
def _private_session_state(_private_base):
    """The same for what runs before a test's own fixtures (session- and
    module-scoped fixtures, which ran ``hexe`` with the real log), and a
    ``$XDG_CACHE_HOME`` per worker: where ``hexe-init`` is built when hexe's
    own directory is not writable (an ordinary user), not ``~/.cache``."""
    with pytest.MonkeyPatch.context() as mp:
        for var, name in (
            ("XDG_STATE_HOME", "state"),
            ("XDG_RUNTIME_DIR", "run"),
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_CACHE_HOME", "cache"),
        ):
            (_private_base / name).mkdir(mode=0o700)
            mp.setenv(var, str(_private_base / name))
        yield


@pytest.fixture(autouse=True)
def _private_state(_private_base, monkeypatch):
    """Keep hexe's logs, sockets and config lookups (in-process and in the
    subprocesses, which inherit the environment) out of the real ones.

    ``tempfile.mkdtemp`` (0700, a fresh name) under one base, not
    ``tmp_path_factory.mktemp``: that lists its whole base directory on every
    call, and three calls a test made the suite quadratic in its size."""
    state = tempfile.mkdtemp(prefix="s", dir=_private_base)
    monkeypatch.setenv("XDG_STATE_HOME", state)
    monkeypatch.setenv("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="r", dir=_private_base))
    monkeypatch.setenv("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="c", dir=_private_base))


@pytest.fixture
def mux(tmp_path):
    """Start ``hexe mux`` in a private tmux: ``m = mux(config)`` (see ``tests/support/mux.py``).

    Waits for the status line unless ``wait=False``; every session started is
    closed after the test.
    """
    from support.mux import Mux

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


@pytest.fixture
def headless(tmp_path):
    """The environment for sessions without a terminal (``hexe new-session -d``)
    of this test's own: its runtime, state and config dirs, panes in the ``none``
    profile running ``/bin/sh``. Every session started in it is ended after the test."""
    from support import clean_env, hexe

    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = clean_env(
        XDG_RUNTIME_DIR=str(run),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HEXE_VOIDBOX_PROFILE="none",
        SHELL="/bin/sh",
    )
    yield env
    hexe("kill-server", env=env)


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
    SESSION_OWNED.add(str(base))
    os.chmod(base, 0o755)
    site = portable_install(base / "site")
    state = base / "state"
    state.mkdir(mode=0o777)
    os.chmod(state, 0o777)
    python = find_python_for_nobody(site)
    if python is None:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip("no Python >= 3.11 the unprivileged user can run was found")

    def run(
        *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        given = env or {}
        env = clean_env(
            PYTHONPATH=str(site),
            HOME=str(state),
            XDG_STATE_HOME=str(state),
            XDG_CONFIG_HOME=str(state),  # root's private ones are not the user's to read
            XDG_CACHE_HOME=str(state),  # where it builds hexe-init
        )
        env.pop("XDG_RUNTIME_DIR", None)
        env.update(given)  # the test's own settings win
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
    """Marks by place: every test in a ``test_security_*.py`` file is an attack
    (``security``); ``tests/kernel`` needs namespaces and cgroups (``kernel``);
    ``tests/e2e`` and every test using the ``mux`` fixture drive a real
    terminal with sandboxed panes (``e2e`` and ``kernel``). So
    ``pytest -m 'not kernel'`` runs anywhere."""
    for item in items:
        if item.path.name.startswith("test_security_"):
            item.add_marker(pytest.mark.security)
        tier = item.path.parent.name
        e2e = tier == "e2e" or "mux" in getattr(item, "fixturenames", ())
        if e2e:
            item.add_marker(pytest.mark.e2e)
        if tier == "kernel" or e2e:
            item.add_marker(pytest.mark.kernel)
