"""The cgroup v2 driver: one leaf in the unified hierarchy, limits in ``*.max`` files.

Where: ``<own cgroup>/hexe/<name>``. cgroup v2 lets a cgroup hand a
controller to its children only through ``cgroup.subtree_control``, and (the
no-internal-processes rule) a non-root cgroup that has processes cannot
enable controllers for its children. So for each controller a limit needs,
this driver enables it in our own cgroup's ``cgroup.subtree_control``, then in
``hexe/cgroup.subtree_control``, then makes the leaf. A non-root cgroup that
holds processes cannot do that (EBUSY), and hexe itself is a process in its
own cgroup: when it is the only one there (hexe started in a scope of its
own), it moves itself into ``hexe/.self`` and tries again, and a later
detection counts the cgroup it left as its own. When other processes live
there, nothing is moved and the reason says how to give hexe a delegated
scope of its own.

The spawn's processes go one level lower, into ``<name>/box``: the limits
on ``<name>`` hold for its whole subtree, and no controller is enabled in
``<name>/cgroup.subtree_control``, so ``box`` has no limit files at all.

Files: ``memory.max`` (and ``memory.swap.max`` = 0 when it exists, so the
limit cannot be escaped into swap), ``pids.max``, ``cpu.max`` (``quota
period`` or ``max period``). ``cgroup.kill`` ends what is left at exit.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable, Mapping

from hexe_cgroups.detect import LIMIT_CONTROLLERS, Hierarchy
from hexe_cgroups.driver import (
    KILL_TIMEOUT,
    PARENT_NAME,
    SELF_NAME,
    Driver,
    reason,
    safe_name,
    sigkill_until_empty,
    wait_until_empty,
)

DELEGATE_HINT = (
    "run hexe in a delegated scope of its own, e.g. "
    "`systemd-run --user --scope -p Delegate=yes hexe ...`"
)


def limit_writes(
    limit: str, value: object, present: Callable[[str], bool] = lambda _: True
) -> list[tuple[str, str]]:
    """The (file, value) writes for one limit, in order. ``present(file)`` says if an
    optional file exists. ``value`` None means no limit (``max``)."""
    if limit == "memory":
        writes = [("memory.max", "max" if value is None else str(value))]
        if value is not None and present("memory.swap.max"):
            writes.append(("memory.swap.max", "0"))
        return writes
    if limit == "pids":
        return [("pids.max", "max" if value is None else str(value))]
    if limit == "cpu":
        quota = getattr(value, "quota", None)
        period = getattr(value, "period", 100_000)
        return [("cpu.max", f"{'max' if quota is None else quota} {period}")]
    raise ValueError(f"unknown limit {limit}")


def _enabled(directory: str) -> set[str]:
    with open(os.path.join(directory, "cgroup.subtree_control")) as f:
        return set(f.read().split())


class V2Driver(Driver):
    version = "v2"

    def __init__(self, hierarchy: Hierarchy) -> None:
        super().__init__()
        self.hierarchy = hierarchy
        #: the cgroup under which hexe/ lives: our own, or the one we left (see below)
        self.base = hierarchy.own_dir
        self.leaf: str | None = None
        #: the cgroup below ``leaf`` that the spawn's processes are placed in
        self.box: str | None = None
        self.controllers: set[str] = set()
        #: where hexe moved itself to make room, if it did
        self.moved_self: str | None = None

    @property
    def parent(self) -> str:
        return os.path.join(self.base, PARENT_NAME)

    def leaf_path(self, name: str) -> str:
        return os.path.join(self.parent, safe_name(name))

    def _enable(self, directory: str, controller: str) -> OSError | None:
        """Enable ``controller`` for the children of ``directory``."""
        try:
            if controller not in _enabled(directory):
                self.write(os.path.join(directory, "cgroup.subtree_control"), f"+{controller}")
        except OSError as exc:
            return exc
        return None

    def _leave_base(self) -> bool:
        """Move hexe itself into ``hexe/.self`` when it is the only process in the base.

        The no-internal-processes rule: a non-root cgroup with processes cannot
        enable controllers for its children, and hexe is a process in its own
        cgroup. When nothing else lives there (hexe started in a scope of its
        own), hexe steps into a leaf below and the base is free. No other
        process is ever moved.
        """
        try:
            with open(os.path.join(self.base, "cgroup.procs")) as f:
                pids = {int(w) for w in f.read().split()}
        except OSError:
            return False
        if pids != {os.getpid()}:
            return False
        target = os.path.join(self.parent, SELF_NAME)
        try:
            os.makedirs(target, exist_ok=True)
            self.write(os.path.join(target, "cgroup.procs"), str(os.getpid()))
        except OSError:
            return False
        self.moved_self = target
        return True

    def _busy_reason(self, controller: str, exc: OSError) -> str:
        control = os.path.join(self.base, "cgroup.subtree_control")
        text = reason(f"enable {controller} in", control, exc)
        if exc.errno == errno.EBUSY:
            text += (
                f" (other processes live in {self.base}, and cgroup v2 lets a non-root "
                "cgroup that has processes enable no controllers for its children; "
                f"hexe moves no process but itself: {DELEGATE_HINT})"
            )
        return text

    def create(self, name: str, controllers: Iterable[str]) -> dict[str, str]:
        """Enable ``controllers`` down to a new leaf and make it. The leaf is made even
        when some controller cannot be enabled (``leaves`` is empty if it was not)."""
        failed: dict[str, str] = {}
        wanted = []
        for controller in controllers:
            if controller not in self.hierarchy.controllers:
                failed[controller] = (
                    f"the {controller} controller is not offered to {self.base} "
                    "(not in its cgroup.controllers)"
                )
            else:
                wanted.append(controller)
        for controller in wanted:
            exc = self._enable(self.base, controller)
            if exc is not None and exc.errno == errno.EBUSY and self._leave_base():
                exc = self._enable(self.base, controller)
            if exc is not None:
                failed[controller] = self._busy_reason(controller, exc)
        leaf = self.leaf_path(name)
        try:
            os.makedirs(self.parent, exist_ok=True)
        except OSError as exc:
            self.problem = reason("create", leaf, exc)
            return {**{c: self.problem for c in wanted}, **failed}
        for controller in wanted:
            if controller not in failed:
                exc = self._enable(self.parent, controller)
                if exc is not None:
                    control = os.path.join(self.parent, "cgroup.subtree_control")
                    failed[controller] = reason(f"enable {controller} in", control, exc)
        try:
            self.leaf = self.make_leaf(self.parent, name)
            self.box = self.make_box(self.leaf)
        except OSError as exc:
            self.problem = reason("create", exc.filename or leaf, exc)
            return {**{c: self.problem for c in wanted}, **failed}
        self.controllers = {c for c in wanted if c not in failed}
        return failed

    def set_limits(self, limits: Mapping[str, object]) -> dict[str, str]:
        failed: dict[str, str] = {}
        leaf = self.leaf
        assert leaf is not None, "create() first"
        for limit, value in limits.items():
            if LIMIT_CONTROLLERS[limit] not in self.controllers:
                continue
            problem = self.write_limit(leaf, limit, value, limit_writes)
            if problem:
                failed[limit] = problem
        return failed

    def add_pid(self, pid: int) -> dict[str, str]:
        assert self.box is not None, "create() first"
        path = os.path.join(self.box, "cgroup.procs")
        try:
            self.write(path, str(pid))
        except OSError as exc:
            problem = reason(f"move pid {pid} into", path, exc)
            return {c: problem for c in self.controllers} or {"": problem}
        return {}

    def kill(self, timeout: float = KILL_TIMEOUT) -> list[str]:
        """``cgroup.kill`` when the kernel has it (5.14+), else a SIGKILL loop."""
        problems = []
        deadline = time.monotonic() + timeout
        for leaf in self.leaves:
            kill_file = os.path.join(leaf, "cgroup.kill")
            if os.path.exists(kill_file):
                try:
                    self.write(kill_file, "1")
                except FileNotFoundError:
                    continue
                except OSError:
                    pass  # fall back to signalling one by one
                else:
                    if wait_until_empty(leaf, deadline):
                        continue
            problem = sigkill_until_empty(leaf, deadline)
            if problem:
                problems.append(problem)
        return problems
