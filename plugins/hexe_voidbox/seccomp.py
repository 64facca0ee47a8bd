"""The seccomp filter: built with libseccomp in the parent, loaded in the child.

:func:`compile` runs before fork, in ``hexe_spawn_prepare``: opening
libseccomp (by its soname through :mod:`hexe_voidbox.libseccomp`, else
through pyseccomp, which looks for it with ``ldconfig``) is something a
child between fork and exec must not do, and a rootfs would not have the
library anyway. It has libseccomp generate the BPF program once per distinct
policy (the result is cached: every pane with the same policy shares it) and
keeps it as bytes. The child only calls :func:`load`, in the last setup phase
(``hexe_child_seccomp``), just before the command is executed: it sets
``no_new_privs`` (as libseccomp's own loader does; the kernel requires it for
an unprivileged filter) and hands the ready program to
``prctl(PR_SET_SECCOMP)``, so no library code and no BPF generation run
between fork and exec.

Rules (see ``hexe_voidbox.policy``): each denied syscall answers EPERM (``errno``),
kills the process with SIGSYS (``kill``) or is only logged (``log``).
``tiocsti`` matches ``ioctl`` by its command; ``userns`` matches ``unshare``
and ``clone`` by the ``CLONE_NEWUSER`` flag, and makes ``clone3`` (whose flags
live in memory a filter cannot read) answer ENOSYS, so that libc falls back
to ``clone``. The compat architectures of the machine (i386 and x32 on
x86_64, arm on aarch64) get the same rules, so a 32-bit program cannot walk
around them.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
from typing import Any

from hexe.errors import SpawnRefused
from hexe_voidbox.syscalls import PR_SET_NO_NEW_PRIVS, prctl

TIOCSTI = 0x5412
TIOCLINUX = 0x541C
CLONE_NEWUSER = 0x10000000

HINT_LIBRARY = (
    "the seccomp filter needs libseccomp (Debian/Ubuntu: apt-get install libseccomp2) "
    "and pyseccomp (pip install pyseccomp); or turn the filter off for this pane with "
    'seccomp = { defaults = false, allow = { "tiocsti" } } (the pane may then type '
    "into your terminal), or use profile none"
)


def _library() -> Any:
    """libseccomp through :mod:`hexe_voidbox.libseccomp` (no ``ldconfig`` run), else
    through pyseccomp (its errors are the ones reported)."""
    from hexe_voidbox import libseccomp

    try:
        libseccomp.load()
        return libseccomp
    except OSError:
        pass
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise SpawnRefused(
            f"seccomp filter requested but cannot be built: {exc}", hint=HINT_LIBRARY
        ) from exc
    return pyseccomp


def build(policy: Any) -> Any:
    """A ``pyseccomp.SyscallFilter`` for ``policy`` (a ``policy.Seccomp``), not loaded."""
    sc = _library()
    action = {
        "errno": sc.ERRNO(errno.EPERM),
        "kill": sc.KILL_PROCESS,
        "log": sc.LOG,
    }[policy.action]
    flt = sc.SyscallFilter(sc.ALLOW)
    native = sc.system_arch()
    compat = {
        sc.Arch.X86_64: (sc.Arch.X86, sc.Arch.X32),
        sc.Arch.AARCH64: (sc.Arch.ARM,),
    }.get(native, ())
    for arch in compat:
        try:
            flt.add_arch(arch)
        except OSError:
            pass  # this libseccomp or kernel does not know it: nothing can run as it either

    def rule(act: int, name: str, *args: Any) -> None:
        if sc.resolve_syscall(sc.Arch.NATIVE, name) < 0:
            return  # not a syscall on this architecture (iopl on aarch64): nothing to deny
        try:
            flt.add_rule(act, name, *args)
        except OSError as exc:
            raise SpawnRefused(
                f"seccomp: cannot add the rule for {name}: {exc.strerror}", hint=HINT_LIBRARY
            ) from exc

    for name in policy.deny:
        if name == "tiocsti":
            for cmd in (TIOCSTI, TIOCLINUX):
                rule(action, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, cmd))
        elif name == "userns":
            flag = sc.Arg(0, sc.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)
            rule(action, "unshare", flag)
            rule(action, "clone", flag)
            rule(sc.ERRNO(errno.ENOSYS), "clone3")
        else:
            rule(action, name)
    return flt


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
_BPF_INSTRUCTION = 8  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k


class Program:
    """A generated BPF filter program, ready for the kernel (built in the parent)."""

    def __init__(self, bpf: bytes) -> None:
        if not bpf or len(bpf) % _BPF_INSTRUCTION:
            raise SpawnRefused(
                f"seccomp: libseccomp exported a malformed program ({len(bpf)} bytes)",
                hint=HINT_LIBRARY,
            )
        self.bpf = bpf
        self._buffer = ctypes.create_string_buffer(bpf, len(bpf))
        self._fprog = _SockFprog(len(bpf) // _BPF_INSTRUCTION, ctypes.addressof(self._buffer))
        self.address = ctypes.addressof(self._fprog)

    def __len__(self) -> int:
        """The number of BPF instructions."""
        return len(self.bpf) // _BPF_INSTRUCTION


@functools.lru_cache(maxsize=16)
def compile(policy: Any) -> Program:  # noqa: A001 - the module's verb
    """The BPF program of ``policy`` (a ``policy.Seccomp``), once per distinct policy."""
    flt = build(policy)
    fd = os.memfd_create("hexe-seccomp", os.MFD_CLOEXEC)
    try:
        try:
            flt.export_bpf(_Fd(fd))
        except OSError as exc:
            raise SpawnRefused(
                f"seccomp: cannot export the filter: {exc.strerror}", hint=HINT_LIBRARY
            ) from exc
        size = os.lseek(fd, 0, os.SEEK_END)
        bpf = os.pread(fd, size, 0)
    finally:
        os.close(fd)
    return Program(bpf)


class _Fd:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


def load(program: Program) -> None:
    """Install the program in the calling process (and everything it starts). Raises OSError.

    Only system calls: safe between fork and exec.
    """
    prctl(PR_SET_NO_NEW_PRIVS, 1)  # a filter needs it (or CAP_SYS_ADMIN)
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, program.address)
