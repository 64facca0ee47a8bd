"""How ``hexe-init`` is built and what an idle one costs.

On x86-64 it is built without the C library (``-DHEXE_NOLIBC``): an idle init
then keeps ~12 KiB of memory of its own instead of ~70 KiB (a static C
library's data, relocations and heap). Elsewhere, or when that build fails or
the program it makes does not run, the static build and then the dynamic one
are used. These tests build real programs with the real compiler and run a
real sandbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import hexe_voidbox.initbin as initbin
import pytest
from support import clean_env, sandbox_init, wait_for

from hexe.errors import SetupError

X86_64 = os.uname().machine == "x86_64"
needs_cc = pytest.mark.skipif(
    not (os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")),
    reason="no C compiler: hexe-init cannot be built here",
)


def _anonymous_kib(pid: int) -> int:
    """Memory of the process's own: its anonymous pages (the program's code is
    a memory file that every init of an owner maps, not counted here)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1])
    raise AssertionError(f"no Anonymous for {pid}")


@needs_cc
@pytest.mark.skipif(not X86_64, reason="hexe-init is built without the C library on x86-64 only")
def test_x86_64_gets_the_init_built_without_the_c_library():
    built = initbin.ensure()
    size = os.stat(built).st_size
    # a static C library alone is ~700 KiB; the program without one ~15 KiB
    assert size < 64 * 1024, f"{built}: {size} bytes, the C library's build"


@needs_cc
@pytest.mark.skipif(not X86_64, reason="hexe-init is built without the C library on x86-64 only")
def test_an_idle_sandbox_init_keeps_little_memory_of_its_own(tmp_path):
    ready = tmp_path / "ready"
    run = subprocess.Popen(
        [sys.executable, "-m", "hexe", "run", "--profile", "default", "--", "sh", "-c",
         f"echo > {ready}; exec sleep 60"],
        env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/",
    )  # fmt: skip
    try:
        wait_for(lambda: ready.exists() or run.poll() is not None, what="the command to start")
        assert run.poll() is None, run.communicate()
        init = sandbox_init(run.pid)
        # measured 12 KiB (a page of data, two of stack) once the init gave back
        # the command's message, just after it started the command; the C
        # library's build held 60-70 KiB
        seen: list[int] = []

        def small() -> bool:
            seen.append(_anonymous_kib(init))
            return seen[-1] <= 24

        try:
            wait_for(small, timeout=10, what="the idle init's memory")
        except AssertionError:
            raise AssertionError(f"hexe-init {init} holds {seen[-1]} KiB of its own") from None
    finally:
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=30)


def _wrapper(tmp_path: Path, body: str) -> str:
    """A C compiler that is ``body`` (sh) in front of the real one."""
    real = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    script = tmp_path / "cc"
    script.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\n{body}\nexec {real} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@needs_cc
def test_a_variant_that_does_not_build_falls_back_to_the_next(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", _wrapper(tmp_path, 'case "$*" in *HEXE_NOLIBC*) exit 1;; esac'))
    built = initbin.build(tmp_path / "out" / "hexe-init")
    assert subprocess.run([str(built)]).returncode == 125
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == (2 if X86_64 else 1), calls  # the first that built and ran won
    assert "-static" in calls[-1] and "HEXE_NOLIBC" not in calls[-1]
    if X86_64:
        assert "HEXE_NOLIBC" in calls[0]


@needs_cc
def test_a_variant_whose_program_does_not_run_is_not_used(tmp_path, monkeypatch):
    # the "compiler" makes a program that exits 0 without its arguments: refused
    fake = (
        'case "$*" in *HEXE_NOLIBC*|*-static*)\n'
        '  out=$(echo "$*" | sed "s/.*-o \\([^ ]*\\).*/\\1/")\n'
        '  printf "#!/bin/sh\\nexit 0\\n" > "$out"; exit 0;;\n'
        "esac"
    )
    monkeypatch.setenv("CC", _wrapper(tmp_path, fake))
    built = initbin.build(tmp_path / "out" / "hexe-init")
    assert subprocess.run([str(built)]).returncode == 125
    calls = (tmp_path / "calls").read_text().splitlines()
    assert "-static" not in calls[-1] and "HEXE_NOLIBC" not in calls[-1]  # the dynamic link


def test_a_reported_error_without_its_text_gets_the_errnos():
    error = SetupError.from_dict(
        {"step": "exec nosuch", "errno": 2, "detail": "", "exit_code": 127}
    )
    assert error.detail == "No such file or directory"
    assert error.exit_code == 127
    kept = SetupError.from_dict({"step": "x", "errno": 2, "detail": "its own words"})
    assert kept.detail == "its own words"
