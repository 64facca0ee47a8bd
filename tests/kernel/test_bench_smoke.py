"""The benchmarks still run: ``bench/spawn.py --quick`` and ``bench/run.py --quick``
exit 0 and print their tables.

A smoke test only. It never compares the numbers (only that there are some):
wall-clock times depend on the machine and its load, and a test that asserts
them fails for the wrong reasons.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support import clean_env, wait_for

from hexe.plugin.settings import default_settings

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "spawn.py"
ROWS = [*default_settings().profiles, "full+limits"]


def run_bench(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), "--quick", *args],
        env=clean_env(TMPDIR=str(tmp)),  # its scratch directories in the test's own
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )


def test_quick_bench_prints_a_row_per_profile_and_its_json_has_every_profile(tmp_path):
    """One run (the bench takes seconds): the table, and the same report as JSON."""
    report_file = tmp_path / "report.json"
    result = run_bench(
        tmp_path, "--iterations", "1", "--warmup", "0", "--json-file", str(report_file)
    )  # rows, not numbers
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    first_cells = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    for row in ROWS:
        assert row in first_cells, f"no row for {row}:\n{result.stdout}"
    assert "in-process / bwrap" in result.stdout
    report = json.loads(report_file.read_text())
    assert [row["profile"] for row in report["rows"]] == ROWS


SUITE = Path(__file__).resolve().parents[2] / "bench" / "run.py"
SUITE_ROWS = [
    "throughput plain (MB/s)",
    "throughput colour (MB/s)",
    "echo p50 idle (ms)",
    "echo p99 idle (ms)",
    "echo p50 load (ms)",
    "echo p99 load (ms)",
    "spawn full+limits (ms)",
    "session start to its prompt (ms)",
    "attach to a drawn screen (ms)",
]


@pytest.mark.skipif(not shutil.which("tmux"), reason="the suite compares with tmux")
def test_quick_suite_runs_every_row_against_tmux(tmp_path):
    """``bench/run.py --quick``: every row ran, hexe and tmux each gave a number."""
    # a short scratch directory: the sessions' sockets live below it, and a Unix
    # socket path has at most 107 bytes (the test's tmp_path under xdist is long)
    scratch = Path(tempfile.mkdtemp(prefix="hb", dir="/tmp"))
    try:
        result = subprocess.run(
            [sys.executable, str(SUITE), "--quick", "--json"],
            env=clean_env(TMPDIR=str(scratch)),
            capture_output=True,
            text=True,
            timeout=300,
            cwd="/",
        )
    finally:

        def removed() -> bool:  # a server's last words may land in it as it goes
            shutil.rmtree(scratch, ignore_errors=True)
            return not scratch.exists()

        wait_for(removed, timeout=10, what=f"{scratch} to be removed")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    report = json.loads(result.stdout)
    assert report["failed"] == {}
    rows = {row[0]: row for row in report["table"]}
    for name in SUITE_ROWS:
        assert name in rows, f"no row {name!r}: {sorted(rows)}"
        assert float(rows[name][1]) > 0 and float(rows[name][2]) > 0, rows[name]
    assert any(name.startswith("memory ") for name in rows)
