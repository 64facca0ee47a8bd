"""The spawn benchmark still runs: ``bench/spawn.py --quick`` exits 0 and prints its table.

A smoke test only. It never looks at the numbers: wall-clock times depend on
the machine and its load, and a test that asserts them fails for the wrong
reasons.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import clean_env

from hexe.isolation import BUILTIN_PROFILES

pytestmark = pytest.mark.kernel

BENCH = Path(__file__).resolve().parent.parent / "bench" / "spawn.py"
ROWS = [*BUILTIN_PROFILES, "full+limits"]


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), "--quick", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )


def test_quick_bench_prints_a_row_per_profile():
    result = run_bench()
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    first_cells = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    for row in ROWS:
        assert row in first_cells, f"no row for {row}:\n{result.stdout}"
    assert "in-process / bwrap" in result.stdout


def test_quick_bench_json_has_every_profile():
    result = run_bench("--json", "--iterations", "1", "--warmup", "0")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    report = json.loads(result.stdout)
    assert [row["profile"] for row in report["rows"]] == ROWS
