"""What the v1 and v2 drivers share: file writes that keep a record, kill, remove.

A driver makes one leaf cgroup per spawn (``<own cgroup>/hexe/<name>``, on
v1 one per hierarchy it needs) and has the same small interface on both
versions:

- ``create(name, controllers)`` -> {controller: why it cannot be used}
- ``set_limits(limits)``         -> {limit: why it was not applied}
- ``add_pid(pid)``               -> {controller: why the pid could not be placed}
- ``kill(timeout)``              -> problems (SIGKILL what is left, wait until empty)
- ``remove(timeout)``            -> problems (rmdir each leaf, retrying on EBUSY)

Reasons are sentence fragments in bubblewrap's style (``cannot create
/sys/fs/cgroup/memory/hexe/run-1: Permission denied``); the plugin turns them
into "memory limit not applied: ..." for the user. Every write is recorded
in ``writes`` as ``(path, value)`` so tests on a fake tree can check what was
written and in which order. A driver never moves any process but the one it
is given, and never removes the shared ``hexe`` parent directory.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping

PARENT_NAME = "hexe"
#: the leaf (under PARENT_NAME) hexe moves itself into on cgroup v2 to make room
SELF_NAME = ".self"
KILL_TIMEOUT = 5.0
REMOVE_TIMEOUT = 2.0


def reason(action: str, path: str, exc: OSError) -> str:
    """``cannot create /x: Permission denied`` from an OSError."""
    text = exc.strerror or os.strerror(exc.errno or 0) or str(exc)
    return f"cannot {action} {path}: {text}"


def safe_name(name: str) -> str:
    """A leaf name that is one path component: no ``/``, not ``.``/``..``, no leading dot."""
    cleaned = name.replace("/", "_").replace("\0", "_").lstrip(".")
    return cleaned or "spawn"


def read_pids(directory: str) -> list[int]:
    """The pids in ``directory/cgroup.procs``; [] when the cgroup is gone."""
    try:
        with open(os.path.join(directory, "cgroup.procs")) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    # A pid outside our pid namespace reads as 0: it cannot be signalled from here.
    return [pid for pid in (int(w) for w in text.split()) if pid > 0]


def _backoff(delay: float) -> float:
    time.sleep(delay)
    return min(delay * 2, 0.02)


class Driver:
    """The part of a driver that does not depend on the cgroup version."""

    version = ""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []
        #: leaf directories this driver created, in creation order
        self.leaves: list[str] = []
        #: why a leaf could not be made (the first such reason), for the log
        self.problem: str | None = None

    # -- files -------------------------------------------------------------

    def write(self, path: str, value: str) -> None:
        """Write ``value`` to an existing control file (never creates one)."""
        self.writes.append((path, value))
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def make_leaf(self, parent: str, name: str) -> str:
        """mkdir ``parent`` (kept) and a fresh ``parent/name``; returns the leaf path.

        An existing leaf is never taken over, even an empty one: it may belong
        to another spawn whose child has not joined yet. The new leaf then gets
        a numbered suffix. Raises OSError naming nothing: the caller words the
        reason.
        """
        os.makedirs(parent, exist_ok=True)
        base = safe_name(name)
        for n in range(100):
            leaf = os.path.join(parent, base if n == 0 else f"{base}-{n}")
            try:
                os.mkdir(leaf)
            except FileExistsError:
                continue
            self.leaves.append(leaf)
            return leaf
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), leaf)

    def write_limit(
        self,
        leaf: str,
        limit: str,
        value: object,
        writes: Callable[[str, object, Callable[[str], bool]], list[tuple[str, str]]],
    ) -> str | None:
        """Write one limit's files (``writes`` gives them, in order) into ``leaf``.

        Returns why it failed, or None. Stops at the first failed write.
        """
        for filename, text in writes(limit, value, lambda f: os.path.exists(os.path.join(leaf, f))):
            path = os.path.join(leaf, filename)
            try:
                self.write(path, text)
            except OSError as exc:
                return reason(f"write {text} to", path, exc)
        return None

    # -- cleanup -----------------------------------------------------------

    def kill(self, timeout: float = KILL_TIMEOUT) -> list[str]:
        """SIGKILL everything in our leaves until they are empty, for at most ``timeout`` s."""
        problems = []
        for leaf in self.leaves:
            problem = sigkill_until_empty(leaf, time.monotonic() + timeout)
            if problem:
                problems.append(problem)
        return problems

    def remove(self, timeout: float = REMOVE_TIMEOUT) -> list[str]:
        """rmdir every leaf (retrying on EBUSY); a missing leaf is fine."""
        problems = []
        deadline = time.monotonic() + timeout
        for leaf in reversed(self.leaves):
            problem = rmdir_retrying(leaf, deadline)
            if problem:
                problems.append(problem)
        self.leaves = [leaf for leaf in self.leaves if os.path.isdir(leaf)]
        return problems

    # -- the version-specific interface ---------------------------------------

    def create(self, name: str, controllers: Iterable[str]) -> dict[str, str]:
        raise NotImplementedError

    def set_limits(self, limits: Mapping[str, object]) -> dict[str, str]:
        raise NotImplementedError

    def add_pid(self, pid: int) -> dict[str, str]:
        raise NotImplementedError

    def paths(self) -> list[str]:
        return list(self.leaves)


def sigkill_until_empty(directory: str, deadline: float) -> str | None:
    """SIGKILL every pid in ``directory`` again and again until none is left."""
    delay = 0.001
    own = os.getpid()
    while True:
        pids = [p for p in read_pids(directory) if p != own]
        if not pids:
            return None
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            except PermissionError:
                pass  # reported below if it stays
        if time.monotonic() > deadline:
            shown = " ".join(str(p) for p in pids[:10])
            return f"processes still in {directory} after SIGKILL: {shown}"
        delay = _backoff(delay)


def wait_until_empty(directory: str, deadline: float) -> bool:
    delay = 0.001
    while read_pids(directory):
        if time.monotonic() > deadline:
            return False
        delay = _backoff(delay)
    return True


def rmdir_retrying(directory: str, deadline: float) -> str | None:
    """rmdir ``directory``; retry on EBUSY (exiting tasks) until ``deadline``."""
    delay = 0.001
    while True:
        try:
            os.rmdir(directory)
            return None
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                return reason("remove", directory, exc)
        delay = _backoff(delay)
