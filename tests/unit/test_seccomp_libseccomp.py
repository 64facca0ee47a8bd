"""hexe_voidbox.libseccomp builds the very program pyseccomp builds, for every policy hexe makes."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

pyseccomp = pytest.importorskip("pyseccomp")

from hexe_voidbox import libseccomp, policy, seccomp  # noqa: E402


def _bpf(flt: object) -> bytes:
    fd = os.memfd_create("test-seccomp", os.MFD_CLOEXEC)
    try:
        flt.export_bpf(seccomp._Fd(fd))  # type: ignore[attr-defined]
        return os.pread(fd, os.lseek(fd, 0, os.SEEK_END), 0)
    finally:
        os.close(fd)


def _built_with(library: object, rules: policy.Seccomp, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setattr(seccomp, "_library", lambda: library)
    return _bpf(seccomp.build(rules))


POLICIES = [
    policy.resolve_seccomp(None, profile_default=True, pid_namespace=True, isolating=True),
    policy.resolve_seccomp(None, profile_default=True, pid_namespace=False, isolating=True),
    policy.resolve_seccomp(None, profile_default=False, pid_namespace=True, isolating=True),
    policy.Seccomp(("tiocsti", "userns", "bpf"), "kill"),
    policy.Seccomp(("tiocsti", "mount", "iopl"), "log"),
    policy.Seccomp(("userns",), "errno"),
]


@pytest.mark.parametrize("rules", POLICIES, ids=lambda p: f"{len(p.deny)}-{p.action}")
def test_the_program_is_byte_for_byte_pyseccomps(rules, monkeypatch):
    libseccomp.load()
    ours = _built_with(libseccomp, rules, monkeypatch)
    theirs = _built_with(pyseccomp, rules, monkeypatch)
    assert len(ours) > 8 * len(rules.deny)
    assert ours == theirs


def test_compile_uses_the_direct_binding_and_never_imports_pyseccomp():
    code = (
        "import sys\n"
        "from hexe_voidbox import policy, seccomp\n"
        "rules = policy.resolve_seccomp(None, True, True, True)\n"
        "program = seccomp.compile(rules)\n"
        "assert len(program) > 20, len(program)\n"
        "print('pyseccomp' in sys.modules, 'ctypes.util' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_a_rule_libseccomp_refuses_raises_the_oserror_pyseccomp_raises():
    errors = []
    for library in (libseccomp, pyseccomp):
        flt = library.SyscallFilter(library.ALLOW)
        with pytest.raises(OSError) as caught:  # no syscall has an argument 9
            flt.add_rule(library.ERRNO(errno.EPERM), "ioctl", library.Arg(9, 7, 1, 1))
        errors.append((caught.value.errno, caught.value.strerror))
    assert errors[0] == errors[1]
    assert errors[0][0] == errno.EINVAL
