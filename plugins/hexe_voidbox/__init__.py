"""voidbox: namespaces, uid/gid maps, PID 1, mounts, loopback, hostname, no_new_privs.

The built-in isolation plugin, after the seed's "voidbox". It only implements
hooks of ``hexe.plugin.hookspecs``; removing it from the ``hexe`` entry points (or
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
from typing import TYPE_CHECKING, Any

from hexe import hookimpl
from hexe.errors import SetupError, SpawnRefused
from hexe.plugin.settings import Profile, Setting
from hexe_voidbox import caps, fsactions, initbin, model, syscalls
from hexe_voidbox import network as usernet
from hexe_voidbox import seccomp as seccomp_filter
from hexe_voidbox.clipboard import hexe_clipboard_allowed  # noqa: F401 (a hook)
from hexe_voidbox.configcheck import hexe_check_pane, hexe_sandbox_files  # noqa: F401 (hooks)
from hexe_voidbox.model import network_mode
from hexe_voidbox.mounting import (
    COMPONENT,
    HINT_NET,
    HINT_USERNS,
    PROC_READONLY,
    _bind_readonly,
    _bind_texts,
    _fail,
    _lock_mounts,
    _mount,
    _terminal,
)
from hexe_voidbox.policy import NAMESPACES
from hexe_voidbox.syscalls import NAMESPACE_FLAGS

if TYPE_CHECKING:
    from hexe.plugin.check import Check
    from hexe.spawn import Spawn, SpawnPlan


NAME = "voidbox"

#: The early hooks here read only the plan's isolation and name, never its
#: command, environment or directory: a pane server may run them before a
#: pane is asked for (sandboxes prepared ahead, see ``hexe.spawn``).
HEXE_SPAWN_AHEAD = True

def _state(spawn: Any) -> dict[str, Any]:
    return spawn.state.setdefault(NAME, {})


#: Every sandbox with a user and a mount namespace gets a cgroup namespace too (docs/cgroups.md).
HAVE_CGROUP_NS = os.path.exists("/proc/self/ns/cgroup")


def _ns(iso: Any) -> frozenset[str]:
    """The plan's namespaces (the ``namespaces`` setting, decided by the profile)."""
    return iso.get("namespaces") or frozenset()


def _mount_namespace(namespaces: frozenset[str]) -> bool:
    return "mount" in namespaces or "pid" in namespaces


@hookimpl
def hexe_spawn_check(plan: SpawnPlan) -> list[str]:
    iso = plan.isolation
    problems = []
    pids = iso.get("pids")
    if "pid" in _ns(iso) and pids is not None and pids < 2:
        problems.append(
            f"pids={pids} leaves no room for the command: in a pid namespace "
            "hexe's init (PID 1) counts as one process; use at least 2"
        )
    mounts, rootfs = iso.get("mounts", ()), iso.get("rootfs")
    if (mounts or rootfs) and not _mount_namespace(_ns(iso)):
        what = "mounts" if mounts else "rootfs"
        source = iso.sources.get(what, "built-in")
        problems.append(
            f"{what} (from {source}) needs a mount namespace, which profile {iso.profile} "
            "does not have; use a profile with a pid or mount namespace (default, balanced, "
            "full, sandbox)"
        )
    mode = network_mode(iso)
    if mode == "user" and not ("user" in _ns(iso) and _mount_namespace(_ns(iso))):
        problems.append(
            f'network = "user" needs a user and a mount namespace (the sandbox gets its own '
            f"/etc/resolv.conf), which profile {iso.profile} does not have; use default, "
            "balanced, sandbox or full"
        )
    if (iso.get("network_allow") or iso.get("network_lan")) and mode != "user":
        problems.append(
            f'network_allow and network_lan apply to network = "user" only (this pane: {mode})'
        )
    if rootfs:
        problems.extend(fsactions.rootfs_problems(rootfs, iso.sources.get("rootfs", "")))
    problems.extend(fsactions.source_problems(mounts))
    return problems


@hookimpl
def hexe_settings() -> list[Setting]:
    """The sandbox's settings (:mod:`hexe_voidbox.model`)."""
    return model.settings()


@hookimpl
def hexe_profiles() -> list[Profile]:
    """minimal, default, balanced, full and sandbox (:mod:`hexe_voidbox.model`)."""
    return model.profiles()


@hookimpl
def hexe_spawn_features() -> list[str]:
    """Every setting of this plugin (a plan asking for one needs it loaded)."""
    return [setting.name for setting in model.settings()]


#: The host id root inside maps to, when hexe runs as host root and the
#: sandbox drops every capability (full, sandbox): nobody/nogroup, unless
#: /etc/subuid and /etc/subgid give root a range (its first id is used).
UNPRIVILEGED_ID = 65534


def _subordinate_id(path: str) -> int | None:
    """The first id of root's range in /etc/subuid or /etc/subgid, if any."""
    try:
        with open(path) as f:
            for line in f:
                fields = line.strip().split(":")
                if len(fields) == 3 and fields[0] in ("root", "0") and fields[1].isdigit():
                    return int(fields[1])
    except OSError:
        pass
    return None


def unprivileged_root(iso: Any) -> tuple[int, int] | None:
    """The (uid, gid) root inside maps to instead of host root, or None.

    Only when hexe runs as host root, the sandbox has a user namespace and it
    drops every capability (``full``, ``sandbox``, or any profile with
    ``caps = {}``): root inside is then an unprivileged host id, so it has no
    power over host files but what a mount makes writable. Profiles that keep
    capabilities keep mapping the caller (root), as documented.
    """
    if os.geteuid() != 0 or "user" not in _ns(iso) or not _mount_namespace(_ns(iso)):
        return None  # the switch happens with the nested namespace that locks the mounts
    kept = iso.get("caps")
    if kept is None or kept.keep is None or kept.keep:
        return None
    uid = _subordinate_id("/etc/subuid")
    gid = _subordinate_id("/etc/subgid")
    ids = (UNPRIVILEGED_ID if uid is None else uid, UNPRIVILEGED_ID if gid is None else gid)
    if not (_mapped("/proc/self/uid_map", ids[0]) and _mapped("/proc/self/gid_map", ids[1])):
        return None  # hexe's "root" is itself root of a user namespace without that id
    return ids


def _mapped(path: str, wanted: int) -> bool:
    """Whether id ``wanted`` exists in this process's user namespace."""
    try:
        with open(path) as f:
            for line in f:
                inside, _outside, count = (int(v) for v in line.split())
                if inside <= wanted < inside + count:
                    return True
    except (OSError, ValueError):
        return False
    return False


@hookimpl
def hexe_spawn_prepare(spawn: Spawn) -> None:
    drop = unprivileged_root(spawn.plan.isolation)
    iso = spawn.plan.isolation
    if (
        drop is None
        and os.geteuid() == 0
        and "user" in _ns(iso)
        and _mount_namespace(_ns(iso))
        and iso.get("caps") is not None
        and iso.get("caps").keep == frozenset()
    ):
        spawn.warn(
            f"profile {iso.profile}: root inside stays root of hexe's own user namespace: "
            f"id {UNPRIVILEGED_ID} is not mapped in it, so there is no unprivileged id to map to"
        )
    if drop is not None:
        _state(spawn)["drop_to"] = drop
        spawn.facts["root_maps_to"] = f"{drop[0]}:{drop[1]}"
        if spawn.terminal_fd is not None:
            # the pane's own terminal: root inside may reopen it (/dev/console, ttyname)
            os.fchown(spawn.terminal_fd, drop[0], drop[1])
    spawn.facts["namespaces"] = [ns for ns in NAMESPACES if ns in _ns(iso)]
    if "pid" in _ns(spawn.plan.isolation):
        spawn.handover = SetupError(
            "start the command",
            0,
            "the sandbox's PID 1 was killed before the command started",
            hint="a memory limit that small leaves no room for hexe's init (about 10 MiB); "
            "raise --memory / HEXE_CGROUP_MEM_MAX",
            component=COMPONENT,
        )
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
    elif "user" in _ns(spawn.plan.isolation):
        _state(spawn)["owner"] = os.getpid()
    mode = network_mode(spawn.plan.isolation)
    spawn.facts["network"] = mode
    if mode == "user":
        pasta = usernet.find_pasta()
        if pasta is None:
            raise SpawnRefused(
                'network = "user" needs pasta, which is not installed',
                hint=usernet.PACKAGE_HINT + '; or choose network = "loopback" or "host"',
            )
        iso = spawn.plan.isolation
        allowed = iso.get("network_allow")
        _state(spawn)["pasta"] = (pasta, tuple(allowed or ()))
        if allowed:
            spawn.facts["network_allow"] = [str(a) for a in allowed]
        if not iso.get("network_lan"):
            _state(spawn)["unreachable"] = usernet.routes(
                (*usernet.PRIVATE_RANGES, *(f"{a}/32" for a in usernet.host_addresses()))
            )
    policy = spawn.plan.isolation.get("seccomp")
    if policy:
        _state(spawn)["seccomp"] = seccomp_filter.compile(policy)
        spawn.facts["seccomp"] = f"{len(policy.deny)} rules, {policy.action}"


@hookimpl
def hexe_child_namespaces(spawn: Spawn) -> None:
    namespaces = _ns(spawn.plan.isolation)
    if not namespaces:
        return
    state = _state(spawn)
    state["uid"], state["gid"] = os.geteuid(), os.getegid()
    flags = 0
    for name in namespaces:
        flags |= NAMESPACE_FLAGS[name]
    if network_mode(spawn.plan.isolation) == "host":
        flags &= ~syscalls.CLONE_NEWNET
    else:
        flags |= syscalls.CLONE_NEWNET
    if "pasta" in state:
        pasta, allowed = state["pasta"]
        try:
            state["net_helper"] = usernet.start_helper(pasta, allowed, os.geteuid())
        except OSError as exc:
            raise _fail("fork the helper that runs pasta", exc) from exc
    if _mount_namespace(namespaces):
        flags |= syscalls.CLONE_NEWNS
    if "user" in namespaces and _mount_namespace(namespaces) and HAVE_CGROUP_NS:
        # Rooted where the cgroups plugin's join just put us (the box below the
        # limits) and owned by this user namespace, which the command leaves for
        # a nested one (_lock_mounts): it may not mount cgroupfs here at all.
        flags |= syscalls.CLONE_NEWCGROUP
    shown = ", ".join(ns for ns in NAMESPACES if ns in namespaces)
    mapper = _start_mapper(state["drop_to"]) if "drop_to" in state else None
    try:
        syscalls.unshare(flags)
    except OSError as exc:
        if mapper is not None:
            mapper.cancel()
        raise _fail(f"unshare({shown})", exc, HINT_USERNS) from exc
    if mapper is not None:
        mapper.map_now()


class _Mapper:
    """A helper process, forked before ``unshare``, that stays in hexe's own user
    namespace with its capabilities and writes the new namespace's maps: both
    root and the unprivileged id (a process can only map its own id itself).
    """

    def __init__(self, pid: int, go: int, done: int) -> None:
        self.pid, self.go, self.done = pid, go, done

    def map_now(self) -> None:
        os.write(self.go, b"1")
        os.close(self.go)
        _, status = os.waitpid(self.pid, 0)
        message = os.read(self.done, 4096).decode(errors="replace")
        os.close(self.done)
        if status != 0:
            raise SetupError(
                "write the user namespace's maps", 0, message or f"helper status {status}",
                hint=HINT_USERNS, component=COMPONENT,
            )

    def cancel(self) -> None:
        os.close(self.go)
        os.close(self.done)
        os.waitpid(self.pid, 0)


def _start_mapper(drop: tuple[int, int]) -> _Mapper:
    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    done_r, done_w = os.pipe2(os.O_CLOEXEC)
    target = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        raise _fail("fork the helper that writes the uid map", exc) from exc
    if pid == 0:  # pragma: no cover - the helper
        code = 1
        try:
            os.close(go_w)
            os.close(done_r)
            if os.read(go_r, 1) == b"1":
                uid, gid = drop
                for name, text in (
                    ("uid_map", f"0 0 1\n{uid} {uid} 1\n"),
                    ("gid_map", f"0 0 1\n{gid} {gid} 1\n"),
                ):
                    syscalls.write_file(f"/proc/{target}/{name}", text)
                code = 0
        except OSError as exc:
            os.write(done_w, f"{exc.filename or ''}: {exc.strerror}".encode())
        finally:
            os._exit(code)
    os.close(go_r)
    os.close(done_w)
    return _Mapper(pid, go_w, done_r)


@hookimpl
def hexe_child_userns(spawn: Spawn) -> None:
    if "user" not in _ns(spawn.plan.isolation):
        return
    state = _state(spawn)
    writes = (
        ("/proc/self/setgroups", "deny"),
        ("/proc/self/uid_map", f"0 {state['uid']} 1\n"),
        ("/proc/self/gid_map", f"0 {state['gid']} 1\n"),
    )
    if "drop_to" in state:
        writes = ()  # the helper mapped root and the unprivileged id (_Mapper)
    for path, text in writes:
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
def hexe_child_pid1(spawn: Spawn) -> int | None:
    if "pid" not in _ns(spawn.plan.isolation):
        return None
    try:
        pid = os.fork()
    except OSError as exc:
        raise _fail("fork into the pid namespace", exc, HINT_USERNS) from exc
    if pid == 0:
        _state(spawn)["pid1"] = True
    elif "net_helper" in _state(spawn):
        _state(spawn)["net_helper"].target(pid)  # pasta serves the namespace PID 1 holds
    return pid


@hookimpl
def hexe_child_mounts(spawn: Spawn) -> None:
    iso = spawn.plan.isolation
    namespaces = _ns(iso)
    if not _mount_namespace(namespaces):
        return
    _mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE, None, "make / private")
    secure = syscalls.MS_NOSUID | syscalls.MS_NODEV
    mounts, rootfs, tmp_size = iso.get("mounts", ()), iso.get("rootfs"), iso.get("tmp_size")
    sources = fsactions.open_sources(mounts)
    root = fsactions.bind_rootfs(rootfs) if rootfs else ""
    if "mount" in namespaces or root:
        tmp = f"{root}/tmp"
        _mount(
            "tmpfs", tmp, "tmpfs", secure, f"size={tmp_size},mode=1777", f"mount tmpfs on {tmp}"
        )
    if "mount" in namespaces or root:
        fsactions.make_dev(root, "ipc" in namespaces, tmp_size, _terminal(spawn))
    proc = f"{root}/proc"
    if "pid" in namespaces:
        _mount("proc", proc, "proc", secure | syscalls.MS_NOEXEC, None, f"mount proc on {proc}")
    elif root:
        _mount(
            "/proc", proc, None, syscalls.MS_BIND | syscalls.MS_REC, None, f"bind /proc on {proc}"
        )
    fsactions.apply(mounts, root, _bind_readonly, sources)
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
    if sys_tree and network_mode(iso) != "host":
        flags = secure | syscalls.MS_NOEXEC | syscalls.MS_RDONLY
        _mount("sysfs", "/sys", "sysfs", flags, None, "mount sysfs on /sys (network namespace)")
        sys_tree = []
    _bind_readonly([p for p in PROC_READONLY if os.path.exists(p)], sys_tree)


@hookimpl
def hexe_child_network(spawn: Spawn) -> None:
    if network_mode(spawn.plan.isolation) == "host":
        return
    try:
        syscalls.interface_up("lo")
    except OSError as exc:
        raise _fail("bring up lo", exc, HINT_NET) from exc
    state = _state(spawn)
    helper = state.get("net_helper")
    if helper is None:
        return
    if "pid1" not in state:
        helper.target(os.getpid())
    try:
        helper.wait_ready()
    except RuntimeError as exc:
        raise SetupError(
            "start pasta (network = user)", 0, str(exc), hint=usernet.PACKAGE_HINT,
            component=COMPONENT,
        ) from exc
    try:
        usernet.add_unreachable(state.get("unreachable", ()))
    except OSError as exc:
        raise _fail("block the private ranges (unreachable routes)", exc, HINT_NET) from exc
    iso = spawn.plan.isolation
    hostname = iso.get("hostname") if "uts" in _ns(iso) else os.uname().nodename
    _bind_texts(
        {"/etc/resolv.conf": usernet.resolv_conf(), "/etc/hosts": usernet.hosts(hostname)}
    )


@hookimpl
def hexe_child_hostname(spawn: Spawn) -> None:
    iso = spawn.plan.isolation
    if "uts" not in _ns(iso):
        return
    try:
        syscalls.sethostname(iso.get("hostname"))
    except OSError as exc:
        raise _fail(f"sethostname {iso.get('hostname')}", exc) from exc


@hookimpl
def hexe_child_security(spawn: Spawn) -> None:
    owner = _state(spawn).get("owner")
    if owner is not None:  # a user namespace without an init: die with the owner directly
        try:
            syscalls.set_parent_death_signal(9)
        except OSError as exc:
            raise _fail("prctl(PR_SET_PDEATHSIG)", exc) from exc
        if os.getppid() != owner:
            raise SetupError("die with the owner", 0, "hexe, which started the sandbox, is gone")
    namespaces = _ns(spawn.plan.isolation)
    if "user" in namespaces and _mount_namespace(namespaces):
        _lock_mounts(_state(spawn).get("drop_to"))
    if not spawn.plan.isolation.get("no_new_privs"):
        return
    try:
        syscalls.set_no_new_privs()
    except OSError as exc:
        raise _fail("prctl(PR_SET_NO_NEW_PRIVS)", exc) from exc


@hookimpl(trylast=True, specname="hexe_child_security")
def drop_capabilities(spawn: Any) -> None:
    """After every other security hook: cut the capabilities to the kept ones."""
    kept = spawn.plan.isolation.get("caps")
    if kept is None or kept.keep is None:
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
def hexe_child_seccomp(spawn: Spawn) -> None:
    flt = _state(spawn).get("seccomp")
    if flt is None:
        return
    try:
        seccomp_filter.load(flt)
    except OSError as exc:
        raise _fail("load the seccomp filter", exc) from exc


@hookimpl
def hexe_child_handover(spawn: Spawn) -> bool | None:
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
def hexe_describe_isolation(plan: SpawnPlan, spawn: Spawn | None) -> dict[str, object]:
    """The namespaces and no_new_privs, and for a pane with a network its mode and
    the ports it may reach, for ``list-panes``."""
    iso = plan.isolation
    out: dict[str, object] = {
        "namespaces": [ns for ns in NAMESPACES if ns in _ns(iso)],
        "no_new_privs": bool(iso.get("no_new_privs")),
    }
    if spawn is not None and "network" in spawn.facts:
        facts = spawn.facts
        out.update(network=facts["network"], network_allow=facts.get("network_allow", []))
    return out


@hookimpl
def hexe_command_pid(spawn: Spawn) -> int | None:
    """Under ``hexe-init`` (the sandbox's PID 1), the command is its first child."""
    return initbin.command_pid(spawn.pid) if spawn.pid is not None else None


@hookimpl
def hexe_doctor_checks() -> list[Check]:
    from hexe_voidbox.doctor import checks

    return checks()
