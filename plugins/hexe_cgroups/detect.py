"""Where this process's cgroups are: the mode (v2, hybrid, v1) and each controller's home.

Reads two files only, both injectable so tests can point at fake text:

- ``/proc/self/mountinfo``: every ``cgroup`` (v1) and ``cgroup2`` mount, its
  mount point, the hierarchy root visible there, and (v1) the controllers in
  its super options.
- ``/proc/self/cgroup``: this process's own cgroup in each hierarchy
  (``4:memory:/process_api/x`` on v1, ``0::/user.slice/...`` on v2).

From those, :func:`detect` builds a :class:`Layout`: for each hierarchy the
directory of our own cgroup (mount point + own path relative to the mount's
root), and on v2 the controllers our own cgroup can hand to children (its
``cgroup.controllers``). Nothing here writes anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hexe_cgroups.driver import PARENT_NAME, SELF_NAME

MOUNTINFO = "/proc/self/mountinfo"
PROC_CGROUP = "/proc/self/cgroup"

#: The controllers hexe's limits use, by limit name.
LIMIT_CONTROLLERS: Mapping[str, str] = MappingProxyType(
    {"memory": "memory", "pids": "pids", "cpu": "cpu"}
)
CONTROLLERS: tuple[str, ...] = ("memory", "pids", "cpu")
SELF_SUFFIX = f"/{PARENT_NAME}/{SELF_NAME}"

#: v1 mount options that are not controller names.
_V1_NON_CONTROLLER_OPTIONS = frozenset(
    {"rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods"}
)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(text: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as ``\\ooo``."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text)


@dataclass(frozen=True)
class CgroupMount:
    """One line of mountinfo for a cgroup filesystem."""

    version: int  # 1 or 2
    mount_point: str
    root: str  # the hierarchy path visible at mount_point ("/" normally)
    options: frozenset[str]  # v1 super options (controllers and name=...); empty on v2


def parse_mountinfo(text: str) -> list[CgroupMount]:
    """The cgroup and cgroup2 mounts in mountinfo ``text``, in order."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype = tail[0]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        options = frozenset(tail[2].split(",")) if fstype == "cgroup" else frozenset()
        mounts.append(
            CgroupMount(
                version=2 if fstype == "cgroup2" else 1,
                mount_point=_unescape(fields[4]),
                root=_unescape(fields[3]),
                options=options,
            )
        )
    return mounts


def v1_mount_controllers(mount: CgroupMount) -> frozenset[str]:
    """The controllers among a v1 mount's options (not ``rw``, ``name=systemd``, ...)."""
    return frozenset(
        o for o in mount.options if o not in _V1_NON_CONTROLLER_OPTIONS and "=" not in o
    )


@dataclass(frozen=True)
class OwnCgroup:
    """One line of /proc/self/cgroup."""

    hierarchy_id: int
    controllers: frozenset[str]  # v1 controllers or name=...; empty for the v2 line
    path: str


def parse_proc_cgroup(text: str) -> list[OwnCgroup]:
    out = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, ctrls, path = parts
        try:
            number = int(hid)
        except ValueError:
            continue
        out.append(OwnCgroup(number, frozenset(c for c in ctrls.split(",") if c), path))
    return out


@dataclass(frozen=True)
class Hierarchy:
    """One cgroup hierarchy as this process sees it.

    ``own_dir`` is the directory of our own cgroup in it, where hexe creates
    ``hexe/<name>``; ``controllers`` are what that cgroup can limit for its
    children (v1: the hierarchy's controllers; v2: ``cgroup.controllers`` of
    our own cgroup).
    """

    version: int
    mount_point: str
    own_path: str
    own_dir: str
    controllers: frozenset[str]


@dataclass(frozen=True)
class Layout:
    """The cgroup layout of this machine, from this process's point of view.

    ``mode`` is ``v2`` (only cgroup2 with controllers), ``hybrid`` (cgroup2 and
    v1 controller hierarchies), ``v1`` (only v1) or ``none``. ``v1`` maps each
    v1 controller to its hierarchy (``cpu`` and ``cpuacct`` share one when they
    are co-mounted). ``problems`` explain hierarchies that were found but
    cannot be used (our cgroup is outside the mounted subtree).
    """

    mode: str
    v2: Hierarchy | None = None
    v1: Mapping[str, Hierarchy] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def offers(self, version: int, controller: str) -> bool:
        if version == 2:
            return self.v2 is not None and controller in self.v2.controllers
        return controller in self.v1

    def where(self, controller: str) -> Hierarchy | None:
        """The hierarchy that offers ``controller``, v2 first."""
        if self.offers(2, controller):
            return self.v2
        return self.v1.get(controller)

    def choose(self, controllers: Iterable[str]) -> str | None:
        """The driver for ``controllers``: ``v2``, ``v1`` or None when no hierarchy exists.

        v2 when the cgroup2 hierarchy offers every one of them (so an empty
        set picks v2 whenever cgroup2 is mounted), else v1 when the v1
        hierarchies offer them all, else whichever offers more (v2 on a tie);
        the rest are unavailable. A controller lives in one hierarchy at a
        time, so on a hybrid host this never splits one spawn across both.
        """
        wanted = set(controllers)
        on_v2 = {c for c in wanted if self.offers(2, c)}
        on_v1 = {c for c in wanted if self.offers(1, c)}
        if self.v2 is not None and on_v2 == wanted:
            return "v2"
        if self.v1 and on_v1 == wanted:
            return "v1"
        if self.v2 is None and not self.v1:
            return None
        if self.v2 is not None and (len(on_v2) >= len(on_v1) or not self.v1):
            return "v2"
        return "v1"


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _relative_dir(mount: CgroupMount, own_path: str) -> str | None:
    """The directory of ``own_path`` under ``mount``, or None if the mount does not reach it."""
    root = mount.root.rstrip("/") or "/"
    if root == "/":
        rel = own_path.lstrip("/")
    elif own_path == root or own_path.startswith(root + "/"):
        rel = own_path[len(root) :].lstrip("/")
    else:
        return None
    if rel.startswith(".."):  # outside our cgroup namespace root
        return None
    return os.path.join(mount.mount_point, rel) if rel else mount.mount_point


def _v2_controllers(own_dir: str) -> frozenset[str]:
    try:
        return frozenset(_read(os.path.join(own_dir, "cgroup.controllers")).split())
    except OSError:
        return frozenset()


def detect(mountinfo: str = MOUNTINFO, proc_cgroup: str = PROC_CGROUP) -> Layout:
    """Read ``mountinfo`` and ``proc_cgroup`` (paths) and describe the cgroup layout."""
    try:
        mounts = parse_mountinfo(_read(mountinfo))
    except OSError as exc:
        return Layout("none", problems=(f"cannot read {mountinfo}: {exc.strerror}",))
    try:
        own = parse_proc_cgroup(_read(proc_cgroup))
    except OSError as exc:
        return Layout("none", problems=(f"cannot read {proc_cgroup}: {exc.strerror}",))
    return layout_from(mounts, own)


def layout_from(mounts: list[CgroupMount], own: list[OwnCgroup]) -> Layout:
    problems: list[str] = []
    v2: Hierarchy | None = None
    v2_line = next((o for o in own if o.hierarchy_id == 0 and not o.controllers), None)
    if v2_line is not None:
        for mount in (m for m in mounts if m.version == 2):
            own_dir = _relative_dir(mount, v2_line.path)
            if own_dir is None:
                problems.append(
                    f"cgroup2 at {mount.mount_point} does not contain our cgroup {v2_line.path}"
                )
                continue
            own_path = v2_line.path
            if own_path.rstrip("/").endswith(SELF_SUFFIX):
                # hexe moved itself into <base>/hexe/.self (see v2.py): <base> is ours
                own_path = own_path.rstrip("/")[: -len(SELF_SUFFIX)] or "/"
                own_dir = os.path.dirname(os.path.dirname(own_dir))
            v2 = Hierarchy(2, mount.mount_point, own_path, own_dir, _v2_controllers(own_dir))
            break
    v1: dict[str, Hierarchy] = {}
    for line in own:
        if line.hierarchy_id == 0 or not line.controllers:
            continue
        controllers = frozenset(c for c in line.controllers if not c.startswith("name="))
        if not controllers:
            continue  # a named hierarchy (name=systemd) limits nothing
        for mount in (m for m in mounts if m.version == 1):
            if not line.controllers <= mount.options:
                continue
            own_dir = _relative_dir(mount, line.path)
            if own_dir is None:
                problems.append(
                    f"cgroup v1 {','.join(sorted(controllers))} at {mount.mount_point} "
                    f"does not contain our cgroup {line.path}"
                )
                continue
            hierarchy = Hierarchy(1, mount.mount_point, line.path, own_dir, controllers)
            for controller in controllers:
                v1.setdefault(controller, hierarchy)
            break
    v1_controllers = bool(v1) or any(m.version == 1 and v1_mount_controllers(m) for m in mounts)
    has_v2 = v2 is not None or any(m.version == 2 for m in mounts)
    if has_v2 and v1_controllers:
        mode = "hybrid"
    elif has_v2:
        mode = "v2"
    elif v1_controllers:
        mode = "v1"
    else:
        mode = "none"
    return Layout(mode, v2, MappingProxyType(v1), tuple(problems))
