"""The few libseccomp calls the filter is built with, bound by ctypes without pyseccomp.

Importing pyseccomp costs a ``hexe run`` 8-10 ms: it imports ``ctypes.util``
(with ``shutil`` and ``subprocess``) and runs ``ldconfig -p`` twice
(``find_library("c")`` and ``find_library("seccomp")``), while generating the
program itself takes a third of a millisecond. This module opens
libseccomp by its soname instead (the dynamic loader finds it through its own
cache, as ``find_library`` would) and offers the subset of pyseccomp's API that
:func:`hexe_voidbox.seccomp.build` uses, with the same names and values, so
the same code builds the same program with either (a unit test compares the
bytes of every profile's program built both ways).

When the library cannot be opened by that name, :func:`load` raises OSError
and :mod:`hexe_voidbox.seccomp` falls back to pyseccomp, whose errors (and
hints) are the ones a user saw before.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

#: The sonames tried, newest first (libseccomp 2.x has kept its ABI since 2012).
SONAMES = ("libseccomp.so.2",)

KILL_PROCESS = 0x80000000
LOG = 0x7FFC0000
ALLOW = 0x7FFF0000
MASKED_EQ = 7


def ERRNO(x: int) -> int:  # noqa: N802 - pyseccomp's name
    return 0x00050000 | (x & 0x0000FFFF)


_AUDIT_ARCH_64BIT = 0x80000000
_AUDIT_ARCH_LE = 0x40000000


class Arch:
    """The architecture tokens (``AUDIT_ARCH_*``) hexe names."""

    NATIVE = 0
    X86 = 3 | _AUDIT_ARCH_LE
    X86_64 = 62 | _AUDIT_ARCH_64BIT | _AUDIT_ARCH_LE
    X32 = 62 | _AUDIT_ARCH_LE
    ARM = 40 | _AUDIT_ARCH_LE
    AARCH64 = 183 | _AUDIT_ARCH_64BIT | _AUDIT_ARCH_LE


class _ArgCmp(ctypes.Structure):
    """``struct scmp_arg_cmp``."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


class Arg:
    """A comparison of one syscall argument (pyseccomp's ``Arg``)."""

    def __init__(self, arg: int, op: int, data_a: int, data_b: int = 0) -> None:
        self.arg, self.op, self.data_a, self.data_b = arg, op, data_a, data_b


_lib: Any = None


def load() -> Any:
    """Open libseccomp (once) and declare the functions used. Raises OSError."""
    global _lib
    if _lib is not None:
        return _lib
    problem: OSError | None = None
    for soname in SONAMES:
        try:
            lib = ctypes.CDLL(soname)
            break
        except OSError as exc:
            problem = exc
    else:
        assert problem is not None
        raise problem
    lib.seccomp_init.argtypes = (ctypes.c_uint32,)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_release.argtypes = (ctypes.c_void_p,)
    lib.seccomp_release.restype = None
    lib.seccomp_arch_add.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
    lib.seccomp_arch_add.restype = ctypes.c_int
    lib.seccomp_arch_native.argtypes = ()
    lib.seccomp_arch_native.restype = ctypes.c_uint32
    lib.seccomp_syscall_resolve_name_arch.argtypes = (ctypes.c_uint32, ctypes.c_char_p)
    lib.seccomp_syscall_resolve_name_arch.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = (
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_void_p,
    )
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
    lib.seccomp_export_bpf.restype = ctypes.c_int
    _lib = lib
    return lib


def _check(result: int) -> None:
    if result < 0:
        raise OSError(-result, os.strerror(-result))


def system_arch() -> int:
    return int(load().seccomp_arch_native())


def resolve_syscall(arch: int, name: str) -> int:
    """The syscall number of ``name`` on ``arch``; negative when it has none there."""
    return int(load().seccomp_syscall_resolve_name_arch(arch, name.encode()))


class SyscallFilter:
    """A libseccomp filter context (pyseccomp's ``SyscallFilter``, the calls hexe makes)."""

    def __init__(self, defaction: int) -> None:
        self._lib = load()
        self._ctx = self._lib.seccomp_init(defaction)
        if not self._ctx:
            raise OSError(22, os.strerror(22))  # as pyseccomp: EINVAL (or ENOMEM)

    def __del__(self) -> None:
        ctx, self._ctx = getattr(self, "_ctx", None), None
        if ctx:
            self._lib.seccomp_release(ctx)

    def add_arch(self, arch: int) -> None:
        _check(self._lib.seccomp_arch_add(self._ctx, arch))

    def add_rule(self, action: int, syscall: str, *args: Arg) -> None:
        if len(args) > 6:
            raise ValueError("Too many arguments")
        number = resolve_syscall(Arch.NATIVE, syscall)
        array = (_ArgCmp * len(args))()
        for i, arg in enumerate(args):
            array[i].arg, array[i].op = arg.arg, arg.op
            array[i].datum_a, array[i].datum_b = arg.data_a, arg.data_b
        _check(self._lib.seccomp_rule_add_array(self._ctx, action, number, len(args), array))

    def export_bpf(self, file: Any) -> None:
        _check(self._lib.seccomp_export_bpf(self._ctx, file.fileno()))
