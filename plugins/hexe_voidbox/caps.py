"""Dropping capabilities: bounding, ambient, effective, permitted and inheritable.

Runs in the child, in the security phase (voidbox's ``trylast``
implementation), after the nested user namespace that locks the mounts and
after ``no_new_privs``. Inside a user namespace the command is root, so
``execve`` would give it every capability still in the bounding set: the
bounding set is what really limits it, and is cut first. Then ambient
capabilities are cleared and the process's own sets cut to the kept ones, so
hexe's init (PID 1) holds no more than the command.
"""

from __future__ import annotations

import ctypes
import os

from hexe_voidbox.syscalls import _libc

PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_libc.capget.argtypes = [ctypes.POINTER(_Header), ctypes.POINTER(_Data)]
_libc.capset.argtypes = [ctypes.POINTER(_Header), ctypes.POINTER(_Data)]


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 40


#: The highest capability this kernel knows, read once in the parent (a
#: rootfs has no /proc/sys of the host by the time the child drops).
LAST_CAP = _last_cap()


class CapFailure(OSError):
    """A capability call failed; ``step`` names it (``prctl(PR_CAPBSET_DROP, 21)``)."""

    def __init__(self, step: str, err: int) -> None:
        super().__init__(err, os.strerror(err))
        self.step = step


def _error(step: str) -> CapFailure:
    return CapFailure(step, ctypes.get_errno())


def drop(keep_mask: int) -> None:
    """Keep only the capabilities in ``keep_mask`` (bit N = capability N). Raises CapFailure."""
    for cap in range(LAST_CAP + 1):
        if keep_mask & (1 << cap):
            continue
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise _error(f"prctl(PR_CAPBSET_DROP, {cap})")
    # ambient capabilities need kernel 4.3; EINVAL before that means there are none
    if _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0:
        if ctypes.get_errno() != 22:
            raise _error("prctl(PR_CAP_AMBIENT_CLEAR_ALL)")
    header = _Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        raise _error("capget")
    for i in (0, 1):
        part = (keep_mask >> (32 * i)) & 0xFFFFFFFF
        data[i].effective &= part
        data[i].permitted &= part
        data[i].inheritable &= part
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise _error("capset")
