"""The cgroup v1 driver: one leaf per controller hierarchy, legacy limit files.

Where: in each hierarchy a limit needs (``memory``, ``pids``, ``cpu`` — the
latter often co-mounted as ``cpu,cpuacct``), ``<own cgroup there>/hexe/<name>``
holds the limits and its child ``box`` the processes. Co-mounted controllers
share one leaf. v1 has no no-internal-processes rule and no
``subtree_control``: a new cgroup has every controller of its hierarchy.
Every v1 limit here is hierarchical (pids and cfs quotas always; memory
with ``memory.use_hierarchy``, always 1 since Linux 5.11 and set to 1 here
before ``box`` is made where it reads 0), so what ``box`` sets for itself
cannot lift the limits of ``<name>``.

Files:

- memory: ``memory.limit_in_bytes``, then ``memory.memsw.limit_in_bytes``
  (memory + swap) to the same value when swap accounting exists, so the
  limit cannot be escaped into swap. The kernel insists memsw >= limit at
  every moment, so a finite limit is written limit first, and "no limit"
  (-1) memsw first.
- pids: ``pids.max`` (a number or ``max``).
- cpu: ``cpu.cfs_period_us`` then ``cpu.cfs_quota_us`` (-1 for no limit).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from hexe_cgroups.detect import LIMIT_CONTROLLERS, Hierarchy
from hexe_cgroups.driver import BOX_NAME, PARENT_NAME, Driver, reason, safe_name

MEMSW = "memory.memsw.limit_in_bytes"


def limit_writes(
    limit: str, value: object, present: Callable[[str], bool] = lambda _: True
) -> list[tuple[str, str]]:
    """The (file, value) writes for one limit, in order. ``present(file)`` says if an
    optional file exists. ``value`` None means no limit."""
    if limit == "memory":
        text = "-1" if value is None else str(value)
        writes = [("memory.limit_in_bytes", text)]
        if present(MEMSW):
            if value is None:
                writes.insert(0, (MEMSW, text))  # raise memsw first: memsw >= limit
            else:
                writes.append((MEMSW, text))  # lower the limit first: memsw >= limit
        return writes
    if limit == "pids":
        return [("pids.max", "max" if value is None else str(value))]
    if limit == "cpu":
        quota = getattr(value, "quota", None)
        period = getattr(value, "period", 100_000)
        return [
            ("cpu.cfs_period_us", str(period)),
            ("cpu.cfs_quota_us", "-1" if quota is None else str(quota)),
        ]
    raise ValueError(f"unknown limit {limit}")


class V1Driver(Driver):
    version = "v1"

    def __init__(self, hierarchies: Mapping[str, Hierarchy]) -> None:
        super().__init__()
        #: controller -> its hierarchy (only the controllers v1 offers here)
        self.hierarchies = dict(hierarchies)
        #: controller -> the leaf that serves it
        self.leaf_of: dict[str, str] = {}
        #: leaf -> the box below it that the processes join
        self.box_of: dict[str, str] = {}

    def leaf_path(self, controller: str, name: str) -> str:
        own_dir = self.hierarchies[controller].own_dir
        return os.path.join(own_dir, PARENT_NAME, safe_name(name))

    def create(self, name: str, controllers: Iterable[str]) -> dict[str, str]:
        """Make a leaf in each hierarchy of ``controllers`` (once per co-mounted group)."""
        failed: dict[str, str] = {}
        made: dict[str, tuple[str | None, str]] = {}  # own_dir -> (leaf, why not)
        for controller in controllers:
            hierarchy = self.hierarchies.get(controller)
            if hierarchy is None:
                failed[controller] = f"no cgroup v1 hierarchy has the {controller} controller"
                continue
            if hierarchy.own_dir not in made:
                parent = os.path.join(hierarchy.own_dir, PARENT_NAME)
                try:
                    leaf = self.make_leaf(parent, name)
                except OSError as exc:
                    problem = reason("create", self.leaf_path(controller, name), exc)
                    made[hierarchy.own_dir] = (None, problem)
                    self.problem = self.problem or problem
                else:
                    problem = self._hierarchical(leaf) or self._box(leaf)
                    made[hierarchy.own_dir] = (None if problem else leaf, problem or "")
                    self.problem = self.problem or problem
            leaf, problem = made[hierarchy.own_dir]
            if leaf is None:
                failed[controller] = problem
            else:
                self.leaf_of[controller] = leaf
        return failed

    def _hierarchical(self, leaf: str) -> str | None:
        """Make a memory leaf's limit hold for its children (``memory.use_hierarchy``)."""
        path = os.path.join(leaf, "memory.use_hierarchy")
        try:
            with open(path) as f:
                if f.read().strip() != "0":
                    return None
            self.write(path, "1")
        except FileNotFoundError:
            return None  # not a memory hierarchy, or a kernel that is always hierarchical
        except OSError as exc:
            return reason("write 1 to", path, exc)
        return None

    def _box(self, leaf: str) -> str | None:
        try:
            self.box_of[leaf] = self.make_box(leaf)
        except OSError as exc:
            return reason("create", os.path.join(leaf, BOX_NAME), exc)
        return None

    def set_limits(self, limits: Mapping[str, object]) -> dict[str, str]:
        failed: dict[str, str] = {}
        for limit, value in limits.items():
            leaf = self.leaf_of.get(LIMIT_CONTROLLERS[limit])
            if leaf is None:
                continue
            problem = self.write_limit(leaf, limit, value, limit_writes)
            if problem:
                failed[limit] = problem
        return failed

    def join_self(self) -> dict[str, str]:
        """Move the calling (single-threaded) process into every box: ``0`` to ``tasks``.

        A thread that moves itself skips the kernel's global threadgroup lock
        (``cgroup_procs_write_start``), which writing a pid to ``cgroup.procs``
        takes; that lock's RCU grace period is most of the cost of a spawn.
        """
        return self._place("tasks", "0", "move this process into")

    def add_pid(self, pid: int) -> dict[str, str]:
        return self._place("cgroup.procs", str(pid), f"move pid {pid} into")

    def _place(self, filename: str, value: str, action: str) -> dict[str, str]:
        failed: dict[str, str] = {}
        for leaf, box in self.box_of.items():
            path = os.path.join(box, filename)
            try:
                self.write(path, value)
            except OSError as exc:
                problem = reason(action, path, exc)
                for controller, its_leaf in self.leaf_of.items():
                    if its_leaf == leaf:
                        failed[controller] = problem
        return failed
