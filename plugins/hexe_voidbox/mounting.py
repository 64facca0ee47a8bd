"""Mount helpers of the voidbox plugin: read-only binds, the nested namespace that
locks the mounts, files of the sandbox's own; and the plugin's error helpers.

Child side only (between fork and exec): no threads, no logging; failures
are :class:`hexe.errors.SetupError` naming the step.
"""

from __future__ import annotations

import os
from typing import Any

from hexe.errors import SetupError
from hexe_voidbox import syscalls

COMPONENT = "voidbox isolation"

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


def _lock_mounts(drop: tuple[int, int] | None = None) -> None:
    """Enter a nested user and mount namespace, so the sandbox cannot undo the setup.

    Root in the sandbox holds CAP_SYS_ADMIN over the mount namespace its user
    namespace owns, so it could unmount the read-only /proc/sys or remount
    /sys read-write. Mounts copied into a mount namespace owned by a less
    privileged (nested) user namespace are locked by the kernel: they can no
    longer be unmounted one by one nor have read-only, nosuid, nodev or
    noexec removed. Root inside the nested namespace is the same uid; it
    keeps creating mounts of its own, but no longer administers the pid,
    network and uts namespaces (lo is already up, the hostname already set).

    ``drop``: when hexe runs as host root and the sandbox drops every
    capability, root of the nested namespace is that unprivileged host id
    instead (mapped in the outer namespace by :class:`_Mapper`).
    """
    inner = 0
    if drop is not None:
        try:
            os.setgroups([])
            os.setresgid(drop[1], drop[1], drop[1])
            os.setresuid(drop[0], drop[0], drop[0])
            syscalls.set_dumpable(True)  # /proc/self/*_map must stay ours to write
        except OSError as exc:
            raise _fail(f"switch to the unprivileged id {drop[0]}:{drop[1]}", exc) from exc
        inner = drop[0]
    try:
        syscalls.unshare(syscalls.CLONE_NEWUSER | syscalls.CLONE_NEWNS)
    except OSError as exc:
        raise _fail("unshare(user, mount) to lock the mounts", exc, HINT_USERNS) from exc
    for path, text in (
        ("/proc/self/setgroups", "deny"),
        ("/proc/self/uid_map", f"0 {inner} 1\n"),
        ("/proc/self/gid_map", f"0 {drop[1] if drop else 0} 1\n"),
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


#: Where the files :func:`_bind_texts` binds are written first, on a tmpfs
#: stacked for a moment over a directory every root has.
STAGING = "/tmp"


def _bind_texts(files: dict[str, str]) -> None:
    """Bind files holding these texts over their paths, read-only.

    They are written on a small tmpfs mounted over /tmp for a moment, bound
    into place, and the tmpfs is detached again: only the binds keep it.
    """
    wanted = {t: text for t, text in files.items() if os.path.lexists(t)}
    if not wanted:
        return  # a root file system without them: nothing to hide
    try:
        syscalls.mount("tmpfs", STAGING, "tmpfs", 0, "size=64k,mode=0755")
    except OSError as exc:
        raise _fail(f"stage the sandbox's own {', '.join(wanted)}", exc, HINT_NET) from exc
    try:
        for target, text in wanted.items():
            staged = os.path.join(STAGING, os.path.basename(target))
            with open(staged, "w") as f:
                f.write(text)
            real = os.path.realpath(target)
            try:
                syscalls.mount(staged, real, None, syscalls.MS_BIND, None)
                syscalls.mount(
                    None, real, None,
                    syscalls.MS_BIND | syscalls.MS_REMOUNT | syscalls.MS_RDONLY, None,
                )
            except OSError as exc:
                raise _fail(f"bind the sandbox's own {target}", exc, HINT_NET) from exc
    finally:
        syscalls.umount2(STAGING, syscalls.MNT_DETACH)
