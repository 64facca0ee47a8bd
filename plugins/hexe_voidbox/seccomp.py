"""The seccomp filter: built with libseccomp (pyseccomp) in the parent, loaded in the child.

:func:`build` runs before fork, in ``hexe_spawn_prepare``: importing
pyseccomp looks for libseccomp (which may run ``ldconfig``), something a
child between fork and exec must not do, and a rootfs would not have the
library anyway. The child only calls :meth:`load`, in the last setup phase
(``hexe_child_seccomp``), just before the command is executed. libseccomp
sets ``no_new_privs`` itself when loading, as the kernel requires for an
unprivileged filter.

Rules (see ``hexe.policy``): each denied syscall answers EPERM (``errno``),
kills the process with SIGSYS (``kill``) or is only logged (``log``).
``tiocsti`` matches ``ioctl`` by its command; ``userns`` matches ``unshare``
and ``clone`` by the ``CLONE_NEWUSER`` flag, and makes ``clone3`` (whose flags
live in memory a filter cannot read) answer ENOSYS, so that libc falls back
to ``clone``. The compat architectures of the machine (i386 and x32 on
x86_64, arm on aarch64) get the same rules, so a 32-bit program cannot walk
around them.
"""

from __future__ import annotations

import errno
from typing import Any

from hexe.errors import SpawnRefused

TIOCSTI = 0x5412
TIOCLINUX = 0x541C
CLONE_NEWUSER = 0x10000000

HINT_LIBRARY = (
    "the seccomp filter needs libseccomp (Debian/Ubuntu: apt-get install libseccomp2) "
    "and pyseccomp (pip install pyseccomp); or turn the filter off for this pane "
    "with seccomp = false"
)


def _library() -> Any:
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise SpawnRefused(
            f"seccomp filter requested but cannot be built: {exc}", hint=HINT_LIBRARY
        ) from exc
    return pyseccomp


def build(policy: Any) -> Any:
    """A ``pyseccomp.SyscallFilter`` for ``policy`` (a ``hexe.policy.Seccomp``), not loaded."""
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


def load(flt: Any) -> None:
    """Install the filter in the calling process (and everything it starts). Raises OSError."""
    flt.load()
