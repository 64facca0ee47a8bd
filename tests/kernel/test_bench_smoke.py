"""The benchmarks still run: ``bench/spawn.py --quick`` and ``bench/run.py --quick``
exit 0 and give their tables (as JSON), ``run.py``'s with every row of round 2's
targets; tests/unit/test_bench_table.py checks the table's arithmetic.

A smoke test only. It never compares the numbers (only that there are some):
wall-clock times depend on the machine and its load, and a test that asserts
them fails for the wrong reasons.
"""

from __future__ import annotations

import json
import re
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
#: the suite's rows (``--only``'s names): the default run has them all
ROW_KEYS = ["throughput", "latency", "memory", "spawn", "start", "run", "cli", "scale"]
#: rows with a number for hexe and for its reference (tmux, or python3 -c pass for cli)
SUITE_ROWS = [
    "throughput plain (MB/s)",
    "throughput colour (MB/s)",
    "  plain: a Python loop only reading the PTY (MB/s)",
    "  colour: a Python loop only reading the PTY (MB/s)",
    "echo p50 idle (ms)",
    "echo p99 idle (ms)",
    "echo p50 load (ms)",
    "echo p99 load (ms)",
    "spawn full+limits, prepared (ms)",
    "session start to its prompt (ms)",
    "  python3 -c pass vs tmux start (ms)",
    "  python3 -c 'import pluggy' vs tmux start (ms)",
    "attach to a drawn screen (ms)",
    "  python3 -c pass vs tmux attach (ms)",
    *(
        f"cli hexe {command} vs python3 -c pass (ms)"
        for command in ("ls", "list-panes", "send-keys", "capture-pane", "focus-next")
    ),
    "  python3 -c pass vs tmux per pane (ms)",
    "scale PSS per pane, whole tree (MiB)",
    "scale echo p50, others idle (ms)",
]
#: the same, named by the suite's sizes
SIZED_ROWS = [
    r"memory \d+x\d+ lines \(MiB\)",
    r"scale create \d+ panes, one call a pane \(s\)",
    r"scale echo p50, \d+ flooding \(ms\)",
    r"scale echo p50, \d+ clients \(ms\)",
]
#: rows whose reference is bwrap's (without it they say so)
BWRAP_ROWS = [
    "spawn full+limits, from scratch vs tmux+bwrap (ms)",
    "hexe run --profile full vs python3+bwrap (ms)",
    "  python3 -c pass vs python3+bwrap (ms)",
    "  python3 -c 'import pluggy' vs python3+bwrap (ms)",
]
#: informative rows with tmux's number only (hexe's is the line above)
TMUX_ROWS = [
    "  tmux ls (ms)",
    "  tmux list-panes (ms)",
    "  tmux send-keys '' (ms)",
    "  tmux capture-pane -p (ms)",
    "  tmux select-pane -t :.+ (ms)",
]
IDLE_CPU_ROW = r"scale idle CPU, \d+ panes \(% of a core\)"


def named(rows: dict[str, list[str]], pattern: str) -> list[str]:
    """The one row whose name matches ``pattern``."""
    found = [row for name, row in rows.items() if re.fullmatch(pattern, name)]
    assert len(found) == 1, f"{len(found)} rows match {pattern!r}: {sorted(rows)}"
    return found[0]


@pytest.mark.skipif(not shutil.which("tmux"), reason="the suite compares with tmux")
def test_quick_suite_runs_every_row_against_its_reference(tmp_path):
    """``bench/run.py --quick``: every row ran, hexe and its reference each gave a number."""
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
    assert sorted(report["results"]) == sorted(ROW_KEYS)
    rows = {row[0]: row for row in report["table"]}
    with_bwrap = bool(shutil.which("bwrap"))
    for name in SUITE_ROWS + (BWRAP_ROWS if with_bwrap else []):
        assert name in rows, f"no row {name!r}: {sorted(rows)}"
        assert float(rows[name][1]) > 0 and float(rows[name][2]) > 0, rows[name]
    for pattern in SIZED_ROWS:
        row = named(rows, pattern)
        assert float(row[1]) > 0 and float(row[2]) > 0, row
    if not with_bwrap:  # the rows are there, and not met
        for name in BWRAP_ROWS[:2]:
            assert rows[name][2] == "bwrap not installed" and rows[name][5] == "NO", rows[name]
    for name in TMUX_ROWS:
        assert name in rows, f"no row {name!r}: {sorted(rows)}"
        assert float(rows[name][2]) > 0, rows[name]
    idle = named(rows, IDLE_CPU_ROW)
    assert float(idle[1]) >= 0 and float(idle[2]) >= 0, idle
    for row in rows.values():  # a target's row says whether it was met; no other does
        assert row[5] in (("yes", "NO") if row[4] else ("",)), row
