"""voidbox: namespaces, uid/gid maps, PID 1, mounts, loopback, hostname, no_new_privs.

The built-in isolation plugin, after the seed's "voidbox". It only implements
hooks of ``hexe.hookspecs``; removing it from the ``hexe`` entry points (or
``HEXE_DISABLE_PLUGINS=voidbox``) makes every isolating profile refuse to
start rather than run unisolated.

What each phase does, for the namespaces in the plan:

- namespaces: one ``unshare()`` of all of them, plus a cgroup namespace
  whenever there are a user and a mount namespace (rooted at the cgroup the
  child just joined, and owned by a user namespace the command leaves for a
  nested one: no cgroup mount inside). A pid namespace without a
  mount namespace gets a private mount namespace anyway, used only to mount
  its own ``/proc`` (otherwise ``ps`` would show the host).
- userns: ``setgroups`` deny, then ``0 <uid> 1`` in ``uid_map`` and
  ``gid_map``: the caller's ids become root inside; ``user.max_cgroup_namespaces``
  0, so nothing inside makes a cgroup namespace (docs/cgroups.md).
- pid1: fork; the child is PID 1 of the new pid namespace.
- handover: after every setup step, PID 1 executes ``hexe-init``
  (:mod:`hexe_voidbox.initbin`, a small static C program), which reads the
  command, starts it as PID 2, reaps orphans, forwards signals, and ends the
  sandbox when its owner's lifeline closes (the owner was killed): the
  sandbox's PID 1 holds nothing of the server that forked it, and is not
  dumpable.
- mounts: propagation private (recursive), a fresh tmpfs ``/tmp`` and a
  minimal ``/dev`` (mount namespace: :func:`hexe_voidbox.fsactions.make_dev`,
  the pane's terminal on ``/dev/console``; ``/dev/mqueue`` with an ipc
  namespace), a fresh ``/proc`` (pid namespace), ``/sys`` read-only (a fresh
  sysfs with a network namespace).
- network: ``lo`` up. Nothing else exists in the new namespace.
- hostname: ``sethostname`` to the plan's hostname (``hexe``).
- security: a nested user and mount namespace that locks the mounts,
  ``PR_SET_NO_NEW_PRIVS``, then (``trylast``, after other plugins' security
  hooks) the capability drop (:mod:`hexe_voidbox.caps`).
- seccomp: the BPF program generated in the parent (:mod:`hexe_voidbox.seccomp`,
  once per distinct policy) is loaded, the last thing before the command is
  executed.

Filesystem actions (``mounts``) and ``rootfs`` are part of the mounts phase
(:mod:`hexe_voidbox.fsactions`).
"""

from __future__ import annotations

import os
from typing import Any

from hexe import hookimpl
from hexe.errors import SetupError, SpawnRefused
from hexe_voidbox import caps, fsactions, initbin, syscalls
from hexe_voidbox import seccomp as seccomp_filter
from hexe_voidbox.syscalls import NAMESPACE_FLAGS

COMPONENT = "voidbox isolation"
NAME = "voidbox"

#: The early hooks here read only the plan's isolation and name, never its
#: command, environment or directory: a pane server may run them before a
#: pane is asked for (sandboxes prepared ahead, see ``hexe.spawn``).
HEXE_SPAWN_AHEAD = True

HINT_USERNS = (
    "user namespaces may be disabled or restricted: check `sysctl user.max_user_namespaces` "
    "(must be above 0), kernel.unprivileged_userns_clone and "
    "kernel.apparmor_restrict_unprivileged_userns; run `hexe doctor`, "
    "or try a lower profile (HEXE_VOIDBOX_PROFILE=minimal)"
)
HINT_MOUNT = (
    "the kernel refused a mount inside the sandbox (a container host may forbid it); "
    "run `hexe doctor`, or try HEXE_VOIDBOX_PROFILE=minimal (no mount or pid namespace)"
)
HINT_NET = "run `hexe doctor`, or use a profile without a network namespace (balanced, sandbox)"


def _fail(step: str, exc: OSError, hint: str | None = None) -> SetupError:
    return SetupError.from_oserror(step, exc, hint=hint, component=COMPONENT)


def _state(spawn: Any) -> dict[str, Any]:
    return spawn.state.setdefault(NAME, {})


#: Every sandbox with a user and a mount namespace gets a cgroup namespace too (docs/cgroups.md).
HAVE_CGROUP_NS = os.path.exists("/proc/self/ns/cgroup")


def _mount_namespace(namespaces: frozenset[str]) -> bool:
    return "mount" in namespaces or "pid" in namespaces


@hookimpl
def hexe_spawn_check(plan: Any) -> list[str]:
    iso = plan.isolation
    problems = []
    if "pid" in iso.namespaces and iso.limits.pids is not None and iso.limits.pids < 2:
        problems.append(
            f"pids={iso.limits.pids} leaves no room for the command: in a pid namespace "
            "hexe's init (PID 1) counts as one process; use at least 2"
        )
    if (iso.mounts or iso.rootfs) and not _mount_namespace(iso.namespaces):
        what = "mounts" if iso.mounts else "rootfs"
        source = iso.sources.get(what, "built-in")
        problems.append(
            f"{what} (from {source}) needs a mount namespace, which profile {iso.profile} "
            "does not have; use a profile with a pid or mount namespace (default, balanced, "
            "full, sandbox)"
        )
    if iso.rootfs:
        problems.extend(fsactions.rootfs_problems(iso.rootfs, iso.sources.get("rootfs", "")))
    problems.extend(fsactions.source_problems(iso.mounts))
    return problems


@hookimpl
def hexe_spawn_features() -> list[str]:
    return [*NAMESPACE_FLAGS, "no_new_privs", "caps", "seccomp", "mounts", "rootfs"]


@hookimpl
def hexe_spawn_prepare(spawn: Any) -> None:
    if "pid" in spawn.plan.isolation.namespaces:
        try:
            fd = initbin.open_init()
        except (initbin.InitUnavailable, OSError) as exc:
            raise SpawnRefused(
                f"profile {spawn.plan.isolation.profile} needs a pid namespace, whose PID 1 is "
                f"hexe-init: {exc}",
                hint="run `hexe doctor`",
            ) from exc
        spawn.child_fds.add(fd)
        _state(spawn)["init_fd"] = fd
    elif "user" in spawn.plan.isolation.namespaces:
        _state(spawn)["owner"] = os.getpid()
    policy = spawn.plan.isolation.seccomp
    if policy:
        _state(spawn)["seccomp"] = seccomp_filter.compile(policy)
        spawn.facts["seccomp"] = f"{len(policy.deny)} rules, {policy.action}"


@hookimpl
def hexe_child_namespaces(spawn: Any) -> None:
    namespaces = spawn.plan.isolation.namespaces
    if not namespaces:
        return
    state = _state(spawn)
    state["uid"], state["gid"] = os.geteuid(), os.getegid()
    flags = 0
    for name in namespaces:
        flags |= NAMESPACE_FLAGS[name]
    if _mount_namespace(namespaces):
        flags |= syscalls.CLONE_NEWNS
    if "user" in namespaces and _mount_namespace(namespaces) and HAVE_CGROUP_NS:
        # Rooted where the cgroups plugin's join just put us (the box below the
        # limits) and owned by this user namespace, which the command leaves for
        # a nested one (_lock_mounts): it may not mount cgroupfs here at all.
        flags |= syscalls.CLONE_NEWCGROUP
    shown = ", ".join(spawn.plan.isolation.ordered_namespaces())
    try:
        syscalls.unshare(flags)
    except OSError as exc:
        raise _fail(f"unshare({shown})", exc, HINT_USERNS) from exc


@hookimpl
def hexe_child_userns(spawn: Any) -> None:
    if "user" not in spawn.plan.isolation.namespaces:
        return
    state = _state(spawn)
    for path, text in (
        ("/proc/self/setgroups", "deny"),
        ("/proc/self/uid_map", f"0 {state['uid']} 1\n"),
        ("/proc/self/gid_map", f"0 {state['gid']} 1\n"),
    ):
        try:
            syscalls.write_file(path, text)
        except OSError as exc:
            raise _fail(f"write {path}", exc, HINT_USERNS) from exc
    _no_cgroup_namespaces(spawn)


#: This user namespace's limit on cgroup namespaces, for it and every one below.
MAX_CGROUP_NS = "/proc/sys/user/max_cgroup_namespaces"


def _no_cgroup_namespaces(spawn: Any) -> None:
    """Let nothing inside make a cgroup namespace (docs/cgroups.md).

    A cgroup namespace of its own would let root inside mount the cgroup
    filesystem rooted at its cgroup in every hierarchy, which is hexe's own
    (or the host's root) wherever no limit put it in a box. The limit is
    per user namespace and checked up the chain, so a nested one cannot
    raise it. A read-only /proc/sys (some containers) gets a warning.
    """
    try:
        syscalls.write_file(MAX_CGROUP_NS, "0")
    except FileNotFoundError:
        return  # no cgroup namespaces in this kernel
    except OSError as exc:
        spawn.warn(
            f"cgroup namespaces not refused inside: cannot write 0 to {MAX_CGROUP_NS}: "
            f"{exc.strerror}; a cgroup mounted from inside may reach hexe's own cgroup"
        )


@hookimpl
def hexe_child_pid1(spawn: Any) -> int | None:
    if "pid" not in spawn.plan.isolation.namespaces:
        return None
    try:
        pid = os.fork()
    except OSError as exc:
        raise _fail("fork into the pid namespace", exc, HINT_USERNS) from exc
    if pid == 0:
        _state(spawn)["pid1"] = True
    return pid


@hookimpl
def hexe_child_mounts(spawn: Any) -> None:
    iso = spawn.plan.isolation
    namespaces = iso.namespaces
    if not _mount_namespace(namespaces):
        return
    _mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE, None, "make / private")
    secure = syscalls.MS_NOSUID | syscalls.MS_NODEV
    sources = fsactions.open_sources(iso.mounts)
    root = fsactions.bind_rootfs(iso.rootfs) if iso.rootfs else ""
    if "mount" in namespaces or root:
        tmp = f"{root}/tmp"
        _mount(
            "tmpfs", tmp, "tmpfs", secure, f"size={iso.tmp_size},mode=1777", f"mount tmpfs on {tmp}"
        )
    if "mount" in namespaces or root:
        fsactions.make_dev(root, "ipc" in namespaces, iso.tmp_size, _terminal(spawn))
    proc = f"{root}/proc"
    if "pid" in namespaces:
        _mount("proc", proc, "proc", secure | syscalls.MS_NOEXEC, None, f"mount proc on {proc}")
    elif root:
        _mount(
            "/proc", proc, None, syscalls.MS_BIND | syscalls.MS_REC, None, f"bind /proc on {proc}"
        )
    fsactions.apply(iso.mounts, root, _bind_readonly, sources)
    for fd in sources.values():
        os.close(fd)
    if root:
        fsactions.pivot(root)
    # The kernel's knobs are not namespaced: a sandbox whose root is the host's
    # root could otherwise write /proc/sys/kernel/core_pattern, or raise its own
    # cgroup limits through /sys/fs/cgroup. Read-only, as bwrap does. A rootfs
    # has no /sys of the host at all.
    # With a network namespace of its own, a fresh sysfs (read-only) shows only
    # the sandbox's interfaces; the host's /sys would list the host's.
    sys_tree = ["/sys"] if os.path.isdir("/sys") and not root else []
    if sys_tree and "net" in namespaces:
        flags = secure | syscalls.MS_NOEXEC | syscalls.MS_RDONLY
        _mount("sysfs", "/sys", "sysfs", flags, None, "mount sysfs on /sys (network namespace)")
        sys_tree = []
    _bind_readonly([p for p in PROC_READONLY if os.path.exists(p)], sys_tree)


def _terminal(spawn: Any) -> int | None:
    """The pane's PTY slave, or the caller's terminal (``hexe run``): bound onto /dev/console."""
    if spawn.terminal_fd is not None:
        return spawn.terminal_fd
    return 0 if os.isatty(0) else None


#: Parts of a fresh /proc that change the host, made read-only (bwrap's list).
PROC_READONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")
_LOCKABLE = {
    "nosuid": syscalls.MS_NOSUID,
    "nodev": syscalls.MS_NODEV,
    "noexec": syscalls.MS_NOEXEC,
    "noatime": 0x400,
    "nodiratime": 0x800,
    "relatime": 0x200000,
}


def _bind_readonly(paths: list[str], trees: list[str]) -> None:
    """Bind each path onto itself, each tree recursively, and remount all read-only.

    A remount inside a user namespace must keep the flags the mount was
    locked with (nosuid, nodev, noexec, atime): they are read from mountinfo
    (once, after all the binds).
    """
    for path in paths:
        _mount(path, path, None, syscalls.MS_BIND, None, f"bind {path} read-only")
    for tree in trees:
        _mount(tree, tree, None, syscalls.MS_BIND | syscalls.MS_REC, None, f"bind {tree} read-only")
    entries = _mountinfo()  # read once, after all the binds
    chosen = {path: None for path in paths}
    for tree in trees:
        chosen.update(_subtree(tree, entries))
    found = {point: options for _id, _parent, point, options in entries}  # last one wins
    for target in chosen:
        keep = 0
        for option in found.get(target, ()):
            keep |= _LOCKABLE.get(option, 0)
        remount = syscalls.MS_REMOUNT | syscalls.MS_BIND | syscalls.MS_RDONLY | keep
        _mount(None, target, None, remount, None, f"remount {target} read-only")


def _mountinfo() -> list[tuple[str, str, str, list[str]]]:
    """(mount id, parent id, mount point, per-mount options) of the calling process's mounts."""
    entries = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].replace("\\040", " ")
            entries.append((fields[0], fields[1], point, fields[5].split(",")))
    return entries


def _subtree(top: str, entries: list[tuple[str, str, str, list[str]]]) -> dict[str, None]:
    """Mount points of the topmost mount at ``top`` and of every mount below it.

    Mounts that the new one covers (shadowed, still listed in mountinfo) are
    not in its subtree: found by mount and parent ids, not by path prefix.
    """
    tops = [mount_id for mount_id, _parent, point, _options in entries if point == top]
    if not tops:
        return {}
    ids = {tops[-1]}
    out = {top: None}
    for mount_id, parent, point, _options in entries:  # children are listed after their parents
        if parent in ids and mount_id not in ids:
            ids.add(mount_id)
            out[point] = None
    return out


def _lock_mounts() -> None:
    """Enter a nested user and mount namespace, so the sandbox cannot undo the setup.

    Root in the sandbox holds CAP_SYS_ADMIN over the mount namespace its user
    namespace owns, so it could unmount the read-only /proc/sys or remount
    /sys read-write. Mounts copied into a mount namespace owned by a less
    privileged (nested) user namespace are locked by the kernel: they can no
    longer be unmounted one by one nor have read-only, nosuid, nodev or
    noexec removed. Root inside the nested namespace is the same uid; it
    keeps creating mounts of its own, but no longer administers the pid,
    network and uts namespaces (lo is already up, the hostname already set).
    """
    try:
        syscalls.unshare(syscalls.CLONE_NEWUSER | syscalls.CLONE_NEWNS)
    except OSError as exc:
        raise _fail("unshare(user, mount) to lock the mounts", exc, HINT_USERNS) from exc
    for path, text in (
        ("/proc/self/setgroups", "deny"),
        ("/proc/self/uid_map", "0 0 1\n"),
        ("/proc/self/gid_map", "0 0 1\n"),
    ):
        try:
            syscalls.write_file(path, text)
        except OSError as exc:
            raise _fail(f"write {path} (nested user namespace)", exc, HINT_USERNS) from exc


def _mount(
    source: str | None,
    target: str,
    fstype: str | None,
    flags: int,
    data: str | None,
    step: str = "",
) -> None:
    try:
        syscalls.mount(source, target, fstype, flags, data)
    except OSError as exc:
        raise _fail(step or f"mount {fstype} on {target}", exc, HINT_MOUNT) from exc


@hookimpl
def hexe_child_network(spawn: Any) -> None:
    if "net" not in spawn.plan.isolation.namespaces:
        return
    try:
        syscalls.interface_up("lo")
    except OSError as exc:
        raise _fail("bring up lo", exc, HINT_NET) from exc


@hookimpl
def hexe_child_hostname(spawn: Any) -> None:
    iso = spawn.plan.isolation
    if "uts" not in iso.namespaces:
        return
    try:
        syscalls.sethostname(iso.hostname)
    except OSError as exc:
        raise _fail(f"sethostname {iso.hostname}", exc) from exc


@hookimpl
def hexe_child_security(spawn: Any) -> None:
    owner = _state(spawn).get("owner")
    if owner is not None:  # a user namespace without an init: die with the owner directly
        try:
            syscalls.set_parent_death_signal(9)
        except OSError as exc:
            raise _fail("prctl(PR_SET_PDEATHSIG)", exc) from exc
        if os.getppid() != owner:
            raise SetupError("die with the owner", 0, "hexe, which started the sandbox, is gone")
    namespaces = spawn.plan.isolation.namespaces
    if "user" in namespaces and _mount_namespace(namespaces):
        _lock_mounts()
    if not spawn.plan.isolation.no_new_privs:
        return
    try:
        syscalls.set_no_new_privs()
    except OSError as exc:
        raise _fail("prctl(PR_SET_NO_NEW_PRIVS)", exc) from exc


@hookimpl(trylast=True, specname="hexe_child_security")
def drop_capabilities(spawn: Any) -> None:
    """After every other security hook: cut the capabilities to the kept ones."""
    kept = spawn.plan.isolation.caps
    if kept.keep is None:
        return
    try:
        caps.drop(kept.mask())
    except caps.CapFailure as exc:
        raise SetupError(
            f"drop capabilities: {exc.step}",
            exc.errno or 0,
            exc.strerror or "",
            hint="dropping the bounding set needs CAP_SETPCAP: outside a user namespace "
            "(profile none) only root can; use a profile with a user namespace",
            component=COMPONENT,
        ) from exc


@hookimpl
def hexe_child_seccomp(spawn: Any) -> None:
    flt = _state(spawn).get("seccomp")
    if flt is None:
        return
    try:
        seccomp_filter.load(flt)
    except OSError as exc:
        raise _fail("load the seccomp filter", exc) from exc


@hookimpl
def hexe_child_handover(spawn: Any) -> bool | None:
    """PID 1 becomes ``hexe-init`` by exec, which reads and starts the command.

    Every setup step has run (the restrictions hold for the init and so for
    the command); the exec leaves nothing of the owner's memory in the
    sandbox before any of its code runs. A sandbox prepared ahead execs now
    too: the init itself waits for the command.
    """
    state = _state(spawn)
    if not state.get("pid1"):
        return None
    from hexe.spawn import reset_signals

    go = spawn.command_fd()
    fds = [spawn.lifeline_fd, spawn.child_status_fd, go]
    if any(fd is None for fd in fds):
        raise SetupError("start hexe-init", 0, "no lifeline or status pipe", component=COMPONENT)
    reset_signals()
    try:
        for fd in fds:
            os.set_inheritable(fd, True)
        os.execve(state["init_fd"], ["hexe-init", *map(str, fds)], {})
    except OSError as exc:
        raise _fail(
            "execute hexe-init",
            exc,
            "a Landlock or seccomp rule may forbid executing hexe's init; `hexe doctor` "
            "shows where it is",
        ) from exc


@hookimpl
def hexe_doctor_checks() -> list[Any]:
    from hexe_voidbox.doctor import checks

    return checks()
