"""The sandbox's PID 1, ``hexe-init``: a small static C program (``init.c``).

A sandbox's PID 1 is started by exec, so it holds nothing of the process that
made it (the session server holds every pane's screen). This module finds the
built program, builds it when it is missing, and opens it once per process:
the child executes it from that descriptor (``fexecve``), which works after
``pivot_root`` into a rootfs and inside any mount namespace.

Where the program lives, first found wins:

1. ``_bin/hexe-init-<digest>`` beside this file (built by ``python3 -m
   hexe_voidbox`` at install time, or by the first spawn when the
   package directory is writable);
2. ``$XDG_CACHE_HOME/hexe/hexe-init-<digest>`` (``~/.cache``).

``<digest>`` is the SHA-256 of ``init.c`` (its first 16 hex digits), so an
upgraded hexe never runs an old init. Building needs a C compiler (``cc``)
and, for a static program, the C library's static archive (Debian:
``libc6-dev``); without ``-static`` it is linked dynamically, which fails only
in a ``rootfs`` without a C library.

Trust: the program is as trusted as hexe's own Python files. A sandbox that a
user gives write access to hexe's install or cache directory could replace
it for hexe processes started later, as it could replace hexe's code; a
running server keeps the sealed copy it made at its first sandbox.
"""

from __future__ import annotations

import fcntl
import os
import sys
from typing import Any

#: the program's C source; paths here are strings (pathlib, with the
#: ``urllib.parse`` it imports, is ~3 ms of a ``hexe run``)
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "init.c")
NAME = "hexe-init"

_fd: int | None = None

#: How ``init.c`` is compiled, the first that builds and runs wins: without
#: the C library (x86-64 only; a few KiB of memory per sandbox instead of ~70),
#: static, dynamic.
NOLIBC = [
    "-DHEXE_NOLIBC", "-nostdlib", "-static", "-ffreestanding", "-fno-builtin",
    "-fno-stack-protector", "-fno-pie", "-no-pie", "-fno-asynchronous-unwind-tables",
]  # fmt: skip
VARIANTS = ([NOLIBC] if os.uname().machine == "x86_64" else []) + [["-static"], []]
#: what the program exits with when called without its arguments
EXIT_WITHOUT_ARGUMENTS = 125


class InitUnavailable(Exception):
    """hexe-init is not built and cannot be built here: the message says why and what to do."""


def digest() -> str:
    with open(SOURCE, "rb") as f:
        return _sha256(f.read()).hexdigest()[:16]


def _sha256(data: bytes) -> Any:
    """SHA-256 without ``hashlib`` (which loads OpenSSL: ~2 ms of every ``hexe run``)."""
    try:
        from _sha256 import sha256  # CPython 3.11's built-in module
    except ImportError:  # pragma: no cover - other versions and interpreters
        from hashlib import sha256
    return sha256(data)


def candidates() -> list[str]:
    """Where the built program may be, in the order they are tried."""
    name = f"{NAME}-{digest()}"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [os.path.join(os.path.dirname(SOURCE), "_bin", name), os.path.join(cache, "hexe", name)]


def find() -> str | None:
    for path in candidates():
        if os.access(path, os.X_OK):
            return path
    return None


def build(target: str | os.PathLike[str]) -> str:
    """Compile ``init.c`` into ``target`` (atomically: a temporary file, then rename)."""
    import shutil
    import subprocess
    import tempfile

    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise InitUnavailable(
            "hexe-init, the sandbox's PID 1, is not built and no C compiler was found; "
            "install one (Debian/Ubuntu: apt-get install gcc libc6-dev) or build it where one "
            "is: python3 -m hexe_voidbox"
        )
    target = os.fspath(target)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    errors = []
    for flags in VARIANTS:
        fd, tmp = tempfile.mkstemp(prefix=f".{NAME}-", dir=os.path.dirname(target))
        os.close(fd)
        argv = [compiler, "-Os", "-Wall", *flags, "-o", tmp, SOURCE]
        try:
            result = subprocess.run(argv, capture_output=True, text=True)
            problem = result.stderr.strip()[-400:]
            if result.returncode == 0:
                os.chmod(tmp, 0o755)
                problem = _runs(_read(tmp))
                if problem is None:
                    os.rename(tmp, target)
                    return target
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        errors.append(f"{' '.join(argv)}: {problem}")
    raise InitUnavailable("hexe-init could not be built:\n" + "\n".join(errors))


def _runs(program: bytes) -> str | None:
    """Why ``program`` is not a working hexe-init, or None: called without its
    three descriptors it must exit 125 at once. Run from memory, as sandboxes
    run it, so a build directory mounted ``noexec`` does not matter."""
    import subprocess

    fd = _memory_file("hexe-init-check", program, 0)
    try:
        try:
            ran = subprocess.run(
                [f"/proc/self/fd/{fd}"], pass_fds=(fd,), capture_output=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the program built does not run: {exc}"
    finally:
        os.close(fd)
    if ran.returncode != EXIT_WITHOUT_ARGUMENTS:
        return f"the program built exits {ran.returncode} instead of {EXIT_WITHOUT_ARGUMENTS}"
    return None


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def ensure() -> str:
    """The built program, building it where a directory is writable."""
    found = find()
    if found is not None:
        return found
    problems = []
    for path in candidates():
        try:
            return build(path)
        except OSError as exc:  # a read-only install: try the next place
            problems.append(f"{os.path.dirname(path)}: {exc.strerror or exc}")
    raise InitUnavailable("hexe-init could not be written: " + "; ".join(problems))


MFD_EXEC = 0x10  # Linux 6.3+: executable even where vm.memfd_noexec asks otherwise


def _memory_file(name: str, data: bytes, flags: int) -> int:
    """A memory file (``memfd_create`` with ``flags``) holding ``data``, executable."""
    try:
        fd = os.memfd_create(name, flags | MFD_EXEC)
    except OSError:  # before Linux 6.3 the flag is unknown, and not needed
        fd = os.memfd_create(name, flags)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return fd


def open_init() -> int:
    """A sealed in-memory copy of the built program, made once per process
    (close-on-exec), to execute with ``fexecve``.

    In memory, because the file is then the same for every sandbox of this
    process whatever happens to the one on disk (the copy is sealed: it can
    no longer be written, grown or shrunk), it runs inside any mount
    namespace and after ``pivot_root``, and Landlock rules, which restrict
    executing by path, do not apply to a file that has none (a Landlock
    ``read`` list need not name hexe's install).
    """
    global _fd
    if _fd is None:
        fd = _memory_file("hexe-init", _read(ensure()), os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        seals = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
        _fd = fd
    return _fd


def main() -> int:
    try:
        path = ensure()
    except InitUnavailable as exc:
        print(f"hexe: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def command_pid(pid: int) -> int | None:
    """The command ``hexe-init`` started, when ``pid`` (a host pid) is a
    sandbox's ``hexe-init``: its first child; else None. Reads ``/proc``."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() != NAME:
                return None
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
    except OSError:
        return None
    return int(children[0]) if children else None
