"""Shared helpers for tests: run the real ``hexe`` command and the probe."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
PROBE = (TESTS / "probe.py").read_text()


#: HEXE_* variables that are knobs of the test run, not settings under test (support/speed.py)
RUN_KNOBS = ("HEXE_LUA_BUDGET_SCALE",)


def clean_env(extra: Mapping[str, str] | None = None, **kw: str) -> dict[str, str]:
    """The test process's environment without HEXE_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXE_") or k in RUN_KNOBS}
    env.update(extra or {})
    env.update(kw)
    return env


def hexe(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
    cwd: str = "/",
    preexec: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``hexe ARGS`` as a subprocess (optionally behind ``preexec``, e.g. setpriv)."""
    argv = [*(preexec or []), sys.executable, "-m", "hexe", *args]
    return subprocess.run(
        argv,
        env=clean_env() if env is None else dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def _usable_in_any_sandbox(path: str) -> bool:
    """Whether every sandbox can run ``path``: not under /tmp (a fresh /tmp hides
    it), and every directory on the way searchable by anyone (root inside
    ``full`` and ``sandbox`` is an unprivileged host id when the tests run as
    root, and /root is 0700)."""
    real = os.path.realpath(path)
    if real == "/tmp" or real.startswith("/tmp/"):
        return False
    parts = real.split("/")
    for i in range(2, len(parts)):
        directory = "/".join(parts[:i])
        try:
            if not os.stat(directory).st_mode & 0o001:
                return False
        except OSError:
            return False
    try:
        return bool(os.stat(real).st_mode & 0o001)
    except OSError:
        return False


def sandbox_python() -> str:
    """A Python to run inside sandboxes (stdlib only): the tests' own where every
    sandbox can reach it, else the system's ``/usr/bin/python3``."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if candidate and _usable_in_any_sandbox(candidate):
            if candidate.startswith("/tmp/"):
                # a virtualenv's python under /tmp: a symlink that a fresh /tmp
                # hides, to an interpreter every sandbox can reach
                return os.path.realpath(candidate)
            return candidate
    return sys.executable  # the sandboxed tests then fail and say which path


#: The interpreter tests run inside a sandbox (never ``sys.executable`` as such:
#: a virtualenv under /tmp, or root's /root/.pyenv, is out of a sandbox's reach).
SANDBOX_PYTHON = sandbox_python()


def probe(*run_args: str, marker: str = "", env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``hexe run RUN_ARGS -- python3 -c PROBE MARKER``; the facts the probe printed."""
    result = hexe("run", *run_args, "--", SANDBOX_PYTHON, "-c", PROBE, marker, env=env)
    assert result.returncode == 0, f"probe failed ({result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout)


def children(pid: int) -> list[int]:
    """The direct children of process ``pid`` (every thread's)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def sandbox_init(run_pid: int) -> int:
    """The host pid of the sandbox's PID 1 (``hexe-init``) under ``hexe run`` ``run_pid``."""

    def found() -> int | None:
        for child in children(run_pid):
            try:
                if Path(f"/proc/{child}/comm").read_text().strip() == "hexe-init":
                    return child
            except OSError:
                pass
        return None

    return wait_for(found, what="the sandbox's PID 1")


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds.

    Between two polls it waits 20 ms, or as long as the last poll took if that
    was longer: a condition that runs ``hexe`` (a Python process, ~0.1 s of CPU)
    then keeps one CPU at most half busy instead of busy all the time."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.monotonic()
        value = condition()
        if value:
            return value
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(max(0.02, min(now - started, 0.5)))


def host_ns(name: str) -> str:
    return os.readlink(f"/proc/self/ns/{name}")


NOBODY = 65534


def why_no_cgroup_limits(*controllers: str) -> str | None:
    """Why hexe cannot apply cgroup limits for ``controllers`` here; None when it can.

    Without root on a cgroup v1 controller, and without a writable (delegated)
    cgroup of our own, a limit is only a warning: the command runs without
    it (docs/cgroups.md, "When no cgroup can be made").
    """
    if os.geteuid() == 0:
        return None
    from hexe_cgroups.detect import detect

    layout = detect()
    for controller in controllers or ("memory", "pids"):
        place = layout.where(controller)
        if place is None:
            return f"no cgroup hierarchy offers the {controller} controller here"
        if not os.access(place.own_dir, os.W_OK):
            kind = "cgroup v1, never delegated to a user" if place.version == 1 else "cgroup v2"
            return (
                f"{controller} limits need root here: {place.own_dir} ({kind}) is not "
                "writable by this user, so hexe only warns (docs/cgroups.md)"
            )
    return None


def needs_tun() -> Any:
    """Skip, saying why, where pasta (``network = "user"``) cannot open /dev/net/tun."""
    import pytest

    tun = "/dev/net/tun"
    reason = None
    if not os.access(tun, os.R_OK | os.W_OK):
        try:
            mode = f"mode {os.stat(tun).st_mode & 0o777:o} here"
        except OSError as exc:
            mode = exc.strerror or "missing"
        reason = f"pasta opens {tun}, which this user cannot ({mode}; it is usually 0666)"
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def needs_cgroup_limits(*controllers: str) -> Any:
    """Skip, saying why, where hexe cannot apply limits (see :func:`why_no_cgroup_limits`)."""
    import pytest

    reason = why_no_cgroup_limits(*controllers)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def portable_install(dest: Path) -> Path:
    """Copy hexe, its built-in plugins and its dependencies into ``dest``, world-readable.

    Used to run hexe as an unprivileged user who cannot read root's
    site-packages. The ``hexe`` entry points are copied into a dist-info so
    plugins are discovered exactly as in a real install.
    """
    import importlib
    from importlib import metadata

    dest.mkdir(parents=True, exist_ok=True)
    for name in (
        "hexe",
        "hexe_voidbox",
        "hexe_cgroups",
        "hexe_render",
        "pluggy",
        "structlog",
        "lupa",
        "pyte",
        "wcwidth",
        "pyseccomp",
    ):
        module = importlib.import_module(name)
        origin = Path(module.__file__)
        if origin.name != "__init__.py":  # a single-file module
            shutil.copy(origin, dest / origin.name)
            continue
        shutil.copytree(
            origin.parent,
            dest / name,
            ignore=shutil.ignore_patterns("__pycache__"),
            dirs_exist_ok=True,
        )
    dist = metadata.distribution("hexe")
    info = dest / f"hexe-{dist.version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: hexe\nVersion: {dist.version}\n")
    (info / "entry_points.txt").write_text(dist.read_text("entry_points.txt") or "")
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    os.chmod(dest, 0o755)
    return dest


def as_nobody_argv(python: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", python]


def find_python_for_nobody(pythonpath: Path) -> str | None:
    """A Python >= 3.11 that the unprivileged user can run with ``pythonpath``."""

    env = clean_env(PYTHONPATH=str(pythonpath), HOME="/")
    for python in (sys.executable, shutil.which("python3.11"), "/usr/bin/python3"):
        if not python or not os.path.exists(python):
            continue
        check = subprocess.run(
            [
                *as_nobody_argv(python),
                "-c",
                "import sys, hexe, pluggy, structlog, lupa.lua54; "
                "assert sys.version_info >= (3, 11)",
            ],
            env=env,
            capture_output=True,
            cwd="/",
        )
        if check.returncode == 0:
            return python
    return None


def plugin_site(base: Path, module: str, source: str, entry: str, dist: str) -> Path:
    """A directory holding plugin ``module`` and a dist-info with its ``hexe`` entry point.

    Put it on PYTHONPATH and hexe discovers the plugin as it would a
    pip-installed one.
    """
    site = base / f"site-{module}"
    site.mkdir(parents=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[hexe]\n{entry} = {module}\n")
    return site


LANDLOCK_SOURCE = Path(__file__).resolve().parents[2] / "plugins" / "hexe-landlock"


def landlock_abi() -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(int(libc.syscall(444, None, ctypes.c_size_t(0), 1)), 0)


def install_plugin_once(tmp_path_factory: Any) -> dict[str, str]:
    """:func:`install_plugin` once per test run, shared by the run's xdist workers
    (pip builds the plugin in an isolated environment: seconds, and most of a
    module's time). The install is only read afterwards."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, above every worker's own
    base = root / "landlock-plugin"
    with open(root / "landlock-plugin.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = base / "env.json"
        if not done.exists():
            shutil.rmtree(base, ignore_errors=True)  # a run that failed half-way
            base.mkdir()
            env = install_plugin(base)
            done.write_text(json.dumps({"PYTHONPATH": env["PYTHONPATH"]}))
    return clean_env(PYTHONPATH=json.loads(done.read_text())["PYTHONPATH"])


def install_plugin(base: Path) -> dict[str, str]:
    """pip-install the plugin under ``base``; the environment that makes hexe find it."""
    skip = shutil.ignore_patterns("build", "*.egg-info")
    shutil.copytree(LANDLOCK_SOURCE, base / "src", ignore=skip)
    target = base / "site"
    (base / "tmp").mkdir()
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            str(base / "src"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(base / "tmp")},  # pip's build dirs: not in /tmp
    )
    assert install.returncode == 0, install.stderr
    assert (target / "hexe_landlock-0.1.0.dist-info" / "entry_points.txt").exists()
    path = os.pathsep.join(p for p in (str(target), os.environ.get("PYTHONPATH", "")) if p)
    return clean_env(PYTHONPATH=path)


def iso(**values: object) -> Any:
    """The resolved isolation of ``values`` as one settings layer."""
    from hexe.isolation import Layer, resolve

    return resolve([Layer("test", {k: (v, k) for k, v in values.items()})])


def read_until_eof(fd: int, timeout: float = 20.0) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: every slave end closed
                break
            if not chunk:
                break
            out += chunk
    return out
