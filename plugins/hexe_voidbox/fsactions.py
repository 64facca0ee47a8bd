"""Filesystem actions (``mounts``) and a custom root (``rootfs``), in the mounts phase.

Runs in the child's mount namespace, after propagation was made private.
Every failure names the action as the user wrote it (``mounts[2]``, with the
file and line) and the step (``bind /srv on /data read-only``).

- ``ro`` / ``rw``: a recursive bind of a host path; ``ro`` then remounts it
  and every mount below it read-only, keeping the flags the kernel locked.
- ``tmpfs``: a fresh tmpfs of the given size.
- ``mask``: a directory gets an empty, read-only tmpfs with mode 000; a file
  gets an empty file with mode 000 bound over it (made in a throwaway tmpfs
  that is detached again).
- ``/dev`` (:func:`make_dev`, every mount namespace and every rootfs): a
  minimal one, as ``bwrap --dev``: a tmpfs with null, zero, full, random,
  urandom and tty bound from the host, the pane's terminal on /dev/console, a
  new devpts instance, ``/dev/shm`` (and ``/dev/mqueue`` with an ipc namespace).
- ``rootfs``: the tree is bound onto itself, gets a fresh ``/tmp``, the
  minimal ``/dev`` and a ``/proc``; the
  actions above are applied inside it; then ``pivot_root`` makes it ``/`` and
  the old root is detached, so nothing of the host's tree stays reachable.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from typing import Any

from hexe.errors import SetupError
from hexe_voidbox import syscalls

COMPONENT = "voidbox isolation"
SECURE = syscalls.MS_NOSUID | syscalls.MS_NODEV
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
    "ptmx": "pts/ptmx",
}
#: Directories a rootfs must have: hexe mounts on them but does not write the tree.
ROOTFS_DIRS = ("proc", "dev", "tmp")


def _fail(step: str, exc: OSError, hint: str | None = None) -> SetupError:
    return SetupError.from_oserror(step, exc, hint=hint, component=COMPONENT)


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None, step: str
) -> None:
    try:
        syscalls.mount(source, target, fstype, flags, data)
    except OSError as exc:
        raise _fail(step, exc) from exc


def _do(step: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except OSError as exc:
        raise _fail(step, exc) from exc


# --------------------------------------------------------------------------
# rootfs
# --------------------------------------------------------------------------


def rootfs_problems(rootfs: str, source: str) -> list[str]:
    """Why ``rootfs`` cannot be used, as sentences naming the setting (parent, before fork)."""
    where = f"rootfs={rootfs} (from {source})"
    accepted = f"use a directory holding a root file system with {', '.join(ROOTFS_DIRS)} in it"
    if not os.path.exists(rootfs):
        return [f"{where} does not exist; {accepted}"]
    if not os.path.isdir(rootfs):
        return [f"{where} is not a directory; {accepted}"]
    missing = [d for d in ROOTFS_DIRS if not os.path.isdir(os.path.join(rootfs, d))]
    if missing:
        return [
            f"{where} has no {', '.join('/' + d for d in missing)} directory; "
            f"create {' '.join(os.path.join(rootfs, d) for d in missing)} (hexe mounts on "
            "them but never writes the tree)"
        ]
    return []


def bind_rootfs(rootfs: str) -> str:
    """Make ``rootfs`` a mount point of its own (pivot_root needs one)."""
    flags = syscalls.MS_BIND | syscalls.MS_REC
    mount(rootfs, rootfs, None, flags, None, f"rootfs {rootfs}: bind onto itself")
    return rootfs.rstrip("/")


def make_dev(root: str, ipc: bool, tmp_size: int, console: int | None = None) -> None:
    """A minimal ``/dev`` in ``root`` ("" for the host's tree), as ``bwrap --dev``.

    A tmpfs with a few host nodes (bound from file descriptors opened before
    it covers the host's /dev), the usual symlinks, a new devpts instance
    (``/dev/ptmx`` its ptmx), a fresh /dev/shm and, with an ipc namespace,
    /dev/mqueue. ``console``: a terminal (the pane's PTY slave) bound onto
    /dev/console, so that ``ttyname()`` finds it (its host /dev/pts/N is not
    there: glibc then scans /dev for the device).
    """
    dev = f"{root}/dev"
    nodes: dict[str, int] = {}
    try:
        for name in DEV_NODES:
            try:
                nodes[name] = os.open(f"/dev/{name}", os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
        if console is not None:
            terminal = _terminal_path(console)
            if terminal is not None:
                nodes["console"] = terminal
        mount(
            "tmpfs",
            dev,
            "tmpfs",
            syscalls.MS_NOSUID | syscalls.MS_NOEXEC,
            "mode=755,size=1m",
            f"mount tmpfs on {dev}",
        )
        for name, fd in nodes.items():
            inside = f"{dev}/{name}"
            shown = "the terminal" if name == "console" else f"/dev/{name}"
            _do(
                f"create {inside}",
                lambda inside=inside: os.close(os.open(inside, os.O_CREAT | os.O_WRONLY, 0o666)),
            )
            source = f"/proc/self/fd/{fd}"
            mount(source, inside, None, syscalls.MS_BIND, None, f"bind {shown} on {inside}")
    finally:
        for fd in nodes.values():
            os.close(fd)
    for name, target in DEV_LINKS.items():
        _do(
            f"symlink {dev}/{name}",
            lambda name=name, target=target: os.symlink(target, f"{dev}/{name}"),
        )
    for sub in ("pts", "shm"):
        _do(f"mkdir {dev}/{sub}", lambda sub=sub: os.mkdir(f"{dev}/{sub}", 0o755))
    mount(
        "devpts",
        f"{dev}/pts",
        "devpts",
        syscalls.MS_NOSUID | syscalls.MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=620",
        f"mount devpts on {dev}/pts",
    )
    mount(
        "tmpfs",
        f"{dev}/shm",
        "tmpfs",
        SECURE,
        f"size={tmp_size},mode=1777",
        f"mount tmpfs on {dev}/shm",
    )
    if ipc:
        _do(f"mkdir {dev}/mqueue", lambda: os.mkdir(f"{dev}/mqueue", 0o755))
        mount(
            "mqueue",
            f"{dev}/mqueue",
            "mqueue",
            SECURE | syscalls.MS_NOEXEC,
            None,
            f"mount mqueue on {dev}/mqueue",
        )


def _terminal_path(fd: int) -> int | None:
    """An ``O_PATH`` descriptor of the terminal ``fd`` by its name, in this mount namespace.

    ``fd`` itself was opened in the parent's mount namespace: the kernel does
    not bind from a mount of another namespace, so the node is looked up again
    by name and checked to be the same device. None when ``fd`` is not a
    terminal or its name does not lead to it.
    """
    try:
        name = os.ttyname(fd)
        found = os.open(name, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return None
    if os.fstat(found).st_rdev != os.fstat(fd).st_rdev:
        os.close(found)
        return None
    return found


def pivot(root: str) -> None:
    """Make ``root`` the root; detach the old one."""
    _do(f"chdir {root}", lambda: os.chdir(root))
    _do(f"pivot_root {root}", lambda: syscalls.pivot_root(".", "."))
    _do("detach the old root", lambda: syscalls.umount2(".", syscalls.MNT_DETACH))
    _do("chdir /", lambda: os.chdir("/"))


# --------------------------------------------------------------------------
# mounts
# --------------------------------------------------------------------------


def source_problems(mounts: Iterable[Any]) -> list[str]:
    """Binds whose host path does not exist (parent, before fork)."""
    out = []
    for spec in mounts:
        if spec.kind in ("ro", "rw") and not os.path.exists(spec.source):
            out.append(
                f"{spec.label}: {spec.kind} {spec.source} does not exist; "
                "a bind takes an existing host path"
            )
    return out


def open_sources(mounts: Iterable[Any]) -> dict[int, int]:
    """Open each bind's host path (``O_PATH``) before anything is mounted.

    A fresh ``/tmp`` or a rootfs would hide a source below it: binding from
    the open file descriptor reaches what the path named on the host.
    Returns {index in mounts: fd}.
    """
    fds: dict[int, int] = {}
    for i, spec in enumerate(mounts):
        if spec.kind in ("ro", "rw"):
            try:
                fds[i] = os.open(spec.source, os.O_PATH | os.O_CLOEXEC)
            except OSError as exc:
                for fd in fds.values():
                    os.close(fd)
                raise SetupError(
                    f"{spec.label} ({spec}): open {spec.source}",
                    exc.errno or 0,
                    exc.strerror or "",
                    component=COMPONENT,
                ) from exc
    return fds


def apply(
    mounts: Iterable[Any],
    root: str,
    readonly: Callable[[list[str], list[str]], None],
    sources: dict[int, int],
) -> None:
    """Apply each action in order, targets inside ``root`` ("" for the host's tree)."""
    for i, spec in enumerate(mounts):
        target = root + spec.target
        what = f"{spec.label} ({spec})"
        try:
            if spec.kind in ("ro", "rw"):
                step = f"bind {spec.source} on {spec.target}"
                source = f"/proc/self/fd/{sources[i]}"
                mount(source, target, None, syscalls.MS_BIND | syscalls.MS_REC, None, step)
                if spec.kind == "ro":
                    readonly([], [target])
            elif spec.kind == "tmpfs":
                mount(
                    "tmpfs",
                    target,
                    "tmpfs",
                    SECURE,
                    f"size={spec.size},mode=755",
                    f"mount tmpfs on {spec.target}",
                )
            else:
                _mask(target, spec.target, root)
        except SetupError as exc:
            raise SetupError(
                f"{what}: {exc.step}",
                exc.errno,
                exc.detail,
                component=COMPONENT,
                hint="a target must exist (in the rootfs, when there is one); "
                "check the path with `hexe config check`",
            ) from exc


def _mask(target: str, shown: str, root: str) -> None:
    info = _do(f"stat {shown}", lambda: os.stat(target))
    ro = syscalls.MS_RDONLY | SECURE | syscalls.MS_NOEXEC
    if stat.S_ISDIR(info.st_mode):
        mount("tmpfs", target, "tmpfs", ro, "size=4k,nr_inodes=1,mode=000", f"mask {shown}")
        return
    # An empty, mode-000 file to bind over it, made in a throwaway tmpfs stacked
    # on a directory the target is not under, and detached again.
    for candidate in ("/tmp", "/dev", "/mnt", "/run"):
        staging = root + candidate
        if os.path.isdir(staging) and not (target + "/").startswith(staging + "/"):
            break
    else:
        raise SetupError(
            f"mask {shown}", 0, "no directory to stage an empty file in", component=COMPONENT
        )
    mount(
        "tmpfs",
        staging,
        "tmpfs",
        SECURE | syscalls.MS_NOEXEC,
        "size=4k,mode=700",
        f"mask {shown}: stage an empty file on {staging}",
    )
    empty = f"{staging}/empty"
    _do(
        f"mask {shown}: create {empty}",
        lambda: os.close(os.open(empty, os.O_CREAT | os.O_WRONLY, 0)),
    )
    mount(empty, target, None, syscalls.MS_BIND, None, f"mask {shown}")
    _do(f"mask {shown}: detach {staging}", lambda: syscalls.umount2(staging, syscalls.MNT_DETACH))
    flags = (
        syscalls.MS_REMOUNT | syscalls.MS_BIND | syscalls.MS_RDONLY | SECURE | syscalls.MS_NOEXEC
    )
    mount(None, target, None, flags, None, f"mask {shown}: remount read-only")
