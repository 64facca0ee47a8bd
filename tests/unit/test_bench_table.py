"""``bench/run.py``'s table: each goal's ratio, target and "met", worked out of
made-up samples (the smoke test in tests/kernel only checks that the suite
runs and gives numbers)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def run():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def by_name(lines: list[list[str]]) -> dict[str, list[str]]:
    names = [line[0] for line in lines]
    assert len(names) == len(set(names)), f"a line named twice: {names}"
    return {line[0]: line[1:] for line in lines}


def test_throughput_is_the_reference_s_time_over_hexe_s_against_its_goal(run):
    r = {
        "sizes": {"plain": 8_000_000, "colour": 8_000_000},
        "samples": {
            "plain": {"hexe": [1.0, 1.0, 9.0], "tmux": [1.6, 1.6, 0.1], "reader": [0.5]},
            "colour": {"hexe": [1.0], "tmux": [1.1], "reader": [0.4]},
        },
    }
    lines = by_name(run.throughput_lines(r))
    assert lines["throughput plain (MB/s)"] == ["8.0", "5.0", "1.60x", ">= 1.5x", "yes"]
    assert lines["throughput colour (MB/s)"] == ["8.0", "7.3", "1.10x", ">= 1.2x", "NO"]
    reader = lines["  plain: a Python loop only reading the PTY (MB/s)"]
    assert reader == ["16.0", "5.0", "3.20x", "", ""]


def test_echo_is_a_difference_in_milliseconds_p50_and_p99(run):
    idle_h = [0.0005] * 99 + [0.003]
    idle_t = [0.0003] * 100
    r = {
        "samples": {
            "idle": {"hexe": idle_h, "tmux": idle_t},
            "load": {"hexe": idle_t, "tmux": idle_h},
        }
    }
    lines = by_name(run.latency_lines(r))
    assert lines["echo p50 idle (ms)"] == ["0.50", "0.30", "+0.20 ms", "<= +0.3 ms", "yes"]
    assert lines["echo p99 idle (ms)"] == ["0.50", "0.30", "+0.20 ms", "<= +1 ms", "yes"]
    assert lines["echo p50 load (ms)"][-1] == "yes"
    idle_h[-2:] = [0.003, 0.003]  # the 99th percentile now falls on a slow key
    lines = by_name(run.latency_lines(r))
    assert lines["echo p99 idle (ms)"] == ["3.00", "0.30", "+2.70 ms", "<= +1 ms", "NO"]


def test_a_split_from_scratch_without_bwrap_is_said_and_not_met(run):
    samples = {"hexe": [0.003], "tmux": [0.004], "hexe-cold": [0.02]}
    prepared, scratch = run.spawn_lines({"samples": samples})
    assert prepared[1:] == ["3.0", "4.0", "0.75x", "<= 1.0x", "yes"]
    assert scratch[2] == "bwrap not installed" and scratch[5] == "NO"
    samples["tmux+bwrap"] = [0.01]
    _, scratch = run.spawn_lines({"samples": samples})
    assert scratch[1:] == ["20.0", "10.0", "2.00x", "<= 1.5x", "NO"]


def test_hexe_run_against_python_and_bwrap_with_its_floors(run):
    samples = {
        "hexe run": [0.060],
        "python3+bwrap": [0.015],
        "python3 -c pass": [0.010],
        "python3 -c 'import pluggy'": [0.033],
    }
    lines = by_name(run.run_lines({"samples": samples}))
    assert lines["hexe run --profile full vs python3+bwrap (ms)"] == [
        "60.0", "15.0", "4.00x", "<= 1.5x", "NO",
    ]  # fmt: skip
    floor = lines["  python3 -c 'import pluggy' vs python3+bwrap (ms)"]
    assert floor == ["33.0", "15.0", "2.20x", "", ""]


def test_start_and_attach_with_the_floors_of_a_client_and_a_server(run):
    r = {
        "samples": {
            "hexe": {"start": [0.120], "attach": [0.020]},
            "tmux": {"start": [0.016], "attach": [0.008]},
        },
        "python": [0.012],
        "pluggy": [0.036],
    }
    lines = by_name(run.start_lines(r))
    assert lines["session start to its prompt (ms)"] == ["120.0", "16.0", "7.50x", "<= 1.5x", "NO"]
    assert lines["  python3 -c pass vs tmux attach (ms)"][:3] == ["12.0", "8.0", "1.50x"]
    assert lines["  python3 -c 'import pluggy' vs tmux start (ms)"][:3] == ["36.0", "16.0", "2.25x"]


def test_each_cli_call_against_the_interpreter_s_start(run):
    import cli

    samples = {"python3 -c pass": [0.010]}
    for hexe_args, tmux_args in cli.COMMANDS:
        samples[f"hexe {hexe_args[0]}"] = [0.015]
        samples[f"tmux {tmux_args[0]}"] = [0.003]
    samples["hexe send-keys"] = [0.021]
    lines = by_name(run.cli_lines({"samples": samples}))
    assert lines["cli hexe ls vs python3 -c pass (ms)"] == [
        "15.0",
        "10.0",
        "1.50x",
        "<= 2.0x",
        "yes",
    ]
    assert lines["cli hexe send-keys vs python3 -c pass (ms)"][-2:] == ["<= 2.0x", "NO"]
    assert lines["  tmux send-keys '' (ms)"][:3] == ["", "3.0", "7.00x"]


def test_scale_rows_and_a_note_when_shells_were_missing(run):
    def panes(create: float, pss: int, shells: int, echo: float) -> dict:
        return {
            "panes": 11, "shells": shells, "create": create, "pss_kib": pss, "idle_cpu_pct": 0.1,
            "echo_idle": [echo], "echo_flood": [echo], "flooders": 10,
        }  # fmt: skip

    r = {
        "size": {"clients": 20},
        "panes": {
            "hexe": panes(0.3, 11 * 1024, 11, 0.0012),
            "tmux": panes(0.1, 11 * 512, 11, 0.001),
        },
        "clients": {"hexe": [0.0013], "tmux": [0.0003]},
        "python": [0.012],
    }
    lines = by_name(run.scale_lines(r))
    assert lines["scale create 11 panes, one call a pane (s)"] == [
        "0.30",
        "0.10",
        "3.00x",
        "<= 1.5x",
        "NO",
    ]
    # tmux's time a pane: its calls made 10 of the 11 (the first is the session's)
    assert lines["  python3 -c pass vs tmux per pane (ms)"][:3] == ["12.0", "10.0", "1.20x"]
    assert lines["scale idle CPU, 11 panes (% of a core)"][-2:] == ["< 0.5%", "yes"]
    assert lines["scale PSS per pane, whole tree (MiB)"][2:] == ["2.00x", "<= 1.5x", "NO"]
    assert lines["scale echo p50, others idle (ms)"][2:] == ["+0.20 ms", "<= +0.5 ms", "yes"]
    assert lines["scale echo p50, 20 clients (ms)"][2:] == ["+1.00 ms", "<= +1 ms", "yes"]
    assert not any("shells ran" in name for name in lines)
    r["panes"]["hexe"]["shells"] = 9
    lines = by_name(run.scale_lines(r))
    assert "  only 9 of hexe's 11 shells ran when measured" in lines


def test_a_row_whose_lines_cannot_be_made_fails_alone(run):
    results = {
        "memory": {
            "panes": 10,
            "lines": 100,
            "rss_kib": {"hexe": {"full": 450}, "tmux": {"full": 1000}},
        },
        "spawn": {"samples": {"hexe": [], "tmux": [0.004], "hexe-cold": [0.02]}},
    }
    failed: dict[str, str] = {}
    lines = by_name(run.table(results, failed))
    assert lines["memory 10x100 lines (MiB)"][2:] == ["0.45x", "<= 0.5x", "yes"]
    assert list(failed) == ["spawn"] and "StatisticsError" in failed["spawn"]
