"""What the v1 and v2 drivers share: file writes that keep a record, kill, remove, sweep.

A driver makes one cgroup per spawn (``<own cgroup>/hexe/<name>``, on v1 one
per hierarchy it needs), writes the limits there, and places the spawn's
process one level below, in ``<name>/box``: a cgroup namespace or a cgroup
mount made from inside then shows ``box`` as its root, whose own files do
not loosen the limits of ``<name>`` above it (see docs/cgroups.md). The
``<name>`` carries its owner (``@<pid namespace>.<pid>.<start time>``, see
:func:`owner_tag`), so that a later hexe can tell a leftover of a dead one
(:func:`sweep`). Both versions have the same small interface:

- ``create(name, controllers)`` -> {controller: why it cannot be used}
- ``set_limits(limits)``         -> {limit: why it was not applied}
- ``add_pid(pid)``               -> {controller: why the pid could not be placed}
- ``kill(timeout)``              -> problems (SIGKILL what is left, wait until empty)
- ``remove(timeout)``            -> problems (rmdir each leaf and all below, retrying on EBUSY)

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
import re
import signal
import time
from collections.abc import Callable, Iterable, Mapping

PARENT_NAME = "hexe"
#: the leaf (under PARENT_NAME) hexe moves itself into on cgroup v2 to make room
SELF_NAME = ".self"
#: the cgroup below a spawn's limited one that its processes are placed in
BOX_NAME = "box"
#: ``<name>@<pid namespace inode>.<pid>.<start time>``: who made a spawn's cgroup
OWNER_TAG = re.compile(r"@(\d+)\.(\d+)\.(\d+)$")
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


def start_time(pid: int | str) -> int | None:
    """A process's start time (clock ticks after boot, ``/proc/<pid>/stat`` field 22)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces or ')'
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[19])


def pid_namespace() -> int:
    return os.stat("/proc/self/ns/pid").st_ino


_owner: tuple[int, str] | None = None


def owner_tag() -> str:
    """``@<pid namespace>.<pid>.<start time>`` of this process: appended to a cgroup's name.

    The start time tells a live owner from a later process that got its pid;
    the pid namespace keeps a hexe in another one (whose pids mean other
    processes) from judging it.
    """
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, f"@{pid_namespace()}.{pid}.{start_time('self')}")
    return _owner[1]


def owner_is_dead(name: str, namespace: int | None = None) -> bool:
    """Is ``name`` a spawn cgroup whose owner (a process in our pid namespace) has ended?

    False for names without a tag (made by something else, or an older hexe)
    and for owners in another pid namespace, which cannot be checked from here.
    """
    match = OWNER_TAG.search(name)
    if match is None:
        return False
    ns, pid, started = (int(g) for g in match.groups())
    if ns != (pid_namespace() if namespace is None else namespace):
        return False
    return start_time(pid) != started


def subtree(directory: str) -> list[str]:
    """``directory`` and every cgroup below it, deepest first (the order rmdir needs)."""
    found = []
    for top, dirs, _files in os.walk(directory, topdown=False):
        found.extend(os.path.join(top, d) for d in dirs)
    found.append(directory)
    return found


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

    def make_box(self, leaf: str) -> str:
        """mkdir ``leaf/box``, where the spawn's processes go (limits stay on ``leaf``)."""
        box = os.path.join(leaf, BOX_NAME)
        os.mkdir(box)
        return box

    def kill(self, timeout: float = KILL_TIMEOUT) -> list[str]:
        """SIGKILL everything in our leaves (and below) until empty, for at most ``timeout`` s."""
        problems = []
        for leaf in self.leaves:
            problem = sigkill_until_empty(leaf, time.monotonic() + timeout)
            if problem:
                problems.append(problem)
        return problems

    def remove(self, timeout: float = REMOVE_TIMEOUT) -> list[str]:
        """rmdir every leaf and what is below it (retrying on EBUSY); a missing one is fine."""
        problems = []
        deadline = time.monotonic() + timeout
        for leaf in reversed(self.leaves):
            problem = remove_tree(leaf, deadline)
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


def tree_pids(directory: str) -> list[int]:
    """The pids in ``directory`` and every cgroup below it (v1's ``cgroup.procs`` and
    v2's list only a cgroup's own members)."""
    return [pid for path in subtree(directory) for pid in read_pids(path)]


def sigkill_until_empty(directory: str, deadline: float) -> str | None:
    """SIGKILL every pid in ``directory`` and below, again and again, until none is left."""
    delay = 0.001
    own = os.getpid()
    while True:
        pids = [p for p in tree_pids(directory) if p != own]
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
    while tree_pids(directory):
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


def remove_tree(directory: str, deadline: float) -> str | None:
    """rmdir ``directory`` and every cgroup below it (made from inside, or the box)."""
    for path in subtree(directory):
        problem = rmdir_retrying(path, deadline)
        if problem:
            return problem
    return None


def kill_tree(directory: str, deadline: float) -> str | None:
    """End every process in ``directory`` and below: ``cgroup.kill`` (v2, Linux 5.14+)
    when the file is there, else SIGKILL each pid until none is left."""
    kill_file = os.path.join(directory, "cgroup.kill")
    if os.path.exists(kill_file):
        try:
            fd = os.open(kill_file, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, b"1")
            finally:
                os.close(fd)
        except OSError:
            pass  # fall back to signalling one by one
        else:
            if wait_until_empty(directory, deadline):
                return None
    return sigkill_until_empty(directory, deadline)


def stale(parent: str, namespace: int | None = None) -> list[str]:
    """The spawn cgroups in ``parent`` (a ``hexe`` directory) whose owner has ended."""
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return []
    return [
        os.path.join(parent, name)
        for name in names
        if owner_is_dead(name, namespace) and os.path.isdir(os.path.join(parent, name))
    ]


def sweep(parent: str, timeout: float = KILL_TIMEOUT) -> tuple[list[str], list[str]]:
    """Kill what is left in the stale cgroups of ``parent`` and remove them.

    Returns (the cgroups removed, problems). A SIGKILLed server or ``hexe
    run`` leaves its cgroups behind, perhaps with processes in them: the next
    hexe to start a spawn cleans them up.
    """
    removed: list[str] = []
    problems: list[str] = []
    deadline = time.monotonic() + timeout
    for directory in stale(parent):
        problem = kill_tree(directory, deadline) or remove_tree(directory, deadline)
        if problem:
            problems.append(problem)
        else:
            removed.append(directory)
    return removed, problems
