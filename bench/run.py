#!/usr/bin/env python3
"""The performance suite: hexe against its references, in one run, as a table of ratios.

    python3 bench/run.py            # the full suite, every row at full size: ~3 minutes
    python3 bench/run.py --quick    # tiny sizes: checks that every row runs
    python3 bench/run.py --only throughput,memory --json

Each row runs hexe and its reference on the same work, side by side, and
reports the ratio hexe / reference of the medians (for throughput, the
reference's time over hexe's, so above 1.00x hexe is faster; for echo, the
difference in ms) with round 2's target. The reference is tmux (a private
server, no isolation) in every row but these:

- ``spawn``, from scratch: tmux splitting into a shell under bwrap;
- ``run``: ``hexe run --profile full -- true`` against this Python exec'ing
  bwrap (``python3 -c 'import os, sys; os.execv(...)' bwrap --unshare-all
  ... -- true``, bench/spawn.py's reference);
- ``cli``: each call to a running session against ``python3 -c pass`` (this
  Python: the floor of any call), tmux's same call beside it;
- ``scale``'s idle CPU: an absolute target (< 0.5% of a core), tmux's shown.

Indented lines are informative (no target): ``python3 -c pass`` (and
``import pluggy``) measured in the same run, the interpreter's floor that
any Python client pays; the same ``cat`` read by a Python loop that does
nothing else, what the PTY's 4 KiB reads allow before any parsing; and
tmux's calls beside hexe's in ``cli``. How each
row is timed is in ``bench/mux.py``, ``cli.py``, ``scale.py``, ``spawn.py``
and ``bench/README.md``. Exit status: 0 when every row ran (whether or not
its target is met; ``run`` and the split from scratch without bwrap say
"bwrap not installed" and are not met), 1 when one could not run (it says
why), 2 on bad arguments or a missing tmux.

Only measures: everything it starts is killed and its scratch directory
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli  # noqa: E402
import mux as bench  # noqa: E402
import scale  # noqa: E402
import spawn as spawn_bench  # noqa: E402

ROWS = ("throughput", "latency", "memory", "spawn", "start", "run", "cli", "scale")
FULL = {
    "size": 20 << 20, "repeats": 3, "keys": 300, "panes": 10, "lines": 10_000, "rounds": 10,
    "run_rounds": 20, "cli_rounds": 20, **{f"scale_{k}": v for k, v in scale.FULL.items()},
}  # fmt: skip
QUICK = {
    "size": 256 << 10, "repeats": 1, "keys": 10, "panes": 2, "lines": 200, "rounds": 1,
    "run_rounds": 3, "cli_rounds": 2, **{f"scale_{k}": v for k, v in scale.QUICK.items()},
}  # fmt: skip
#: ``python3 -c pass`` runs timed beside the scale row's
SCALE_FLOOR_RUNS = 20


def positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: ``kind`` of the text, above zero."""

    def read(text: str) -> Any:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not above zero")
        return value

    read.__name__ = kind.__name__  # argparse names the type in its message
    return read


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def ms(values: list[float]) -> float:
    """The median of samples in seconds, in milliseconds."""
    return statistics.median(values) * 1000


def versions() -> dict[str, str]:
    def out(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "missing"

    try:
        from hexe import __version__ as hexe_version
    except ImportError:
        hexe_version = "?"
    git = out("git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short", "HEAD")
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "hexe": f"{hexe_version} ({git})",
        "tmux": out("tmux", "-V"),
        "bwrap": out("bwrap", "--version") if shutil.which("bwrap") else "not installed",
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cpu": f"{cpu} x{len(__import__('os').sched_getaffinity(0))}",
    }


# --------------------------------------------------------------------------
# Measuring: each row in its own scratch directory
# --------------------------------------------------------------------------


def scale_row(scratch: Path, sizes: dict[str, Any], log: Callable[[str], None]) -> dict:
    """``bench/scale.py``'s rows, then ``python3 -c pass`` timed next to them."""
    size = {k.removeprefix("scale_"): v for k, v in sizes.items() if k.startswith("scale_")}
    result = scale.measure(scratch, scale.Size(**size), log)
    env = bench.Mux("python", scratch).env()  # the environment of the rows' calls
    result["python"] = [bench.timed(bench.PYTHON_PASS, env) for _ in range(SCALE_FLOOR_RUNS)]
    log(f"scale python3 -c pass: {ms(result['python']):.1f} ms")
    return result


MEASURE: dict[str, Callable[[Path, dict[str, Any], Callable[[str], None]], dict]] = {
    "throughput": lambda d, s, log: bench.throughput(d, s["size"], s["repeats"], log),
    "latency": lambda d, s, log: bench.latency(d, s["keys"], log),
    "memory": lambda d, s, log: bench.memory(d, s["panes"], s["lines"], log),
    "spawn": lambda d, s, log: bench.spawn(d, s["rounds"], log),
    "start": lambda d, s, log: bench.start_attach(d, s["rounds"], log),
    "run": lambda d, s, log: spawn_bench.run_row(d, s["run_rounds"], log),
    "cli": lambda d, s, log: cli.measure(d, s["cli_rounds"], log),
    "scale": scale_row,
}


# --------------------------------------------------------------------------
# The table: [what, hexe, reference, ratio, target, met] a line
# --------------------------------------------------------------------------


def line(
    what: str, hexe: str, ref: str, ratio: str = "", target: str = "", met: bool | None = None
) -> list[str]:
    """A line of the table; ``met`` None: informative, no target."""
    return [what, hexe, ref, ratio, target, "" if met is None else "yes" if met else "NO"]


def times(what: str, h: float, ref: float, goal: float | None, digits: int = 1) -> list[str]:
    """hexe's value against the reference's: their ratio, at most ``goal`` (None: no target)."""
    ratio = h / ref
    return line(
        what, f"{h:.{digits}f}", f"{ref:.{digits}f}", f"{ratio:.2f}x",
        f"<= {goal:.1f}x" if goal else "", ratio <= goal if goal else None,
    )  # fmt: skip


def margin(what: str, h: float, ref: float, slack: float) -> list[str]:
    """hexe's milliseconds against the reference's: their difference, at most ``slack``."""
    return line(what, f"{h:.2f}", f"{ref:.2f}", f"{h - ref:+.2f} ms", f"<= +{slack:g} ms",
                h - ref <= slack)  # fmt: skip


def no_bwrap(what: str, h: float, goal: float) -> list[str]:
    """A row whose reference needs bwrap, when it is not installed: not met."""
    return line(what, f"{h:.1f}", "bwrap not installed", "", f"<= {goal:.1f}x", False)


def throughput_lines(r: dict) -> list[list[str]]:
    out = []
    for corpus, goal in (("plain", 1.5), ("colour", 1.2)):
        mb = r["sizes"][corpus] / 1e6
        h = statistics.median(r["samples"][corpus]["hexe"])
        t = statistics.median(r["samples"][corpus]["tmux"])
        out.append(line(f"throughput {corpus} (MB/s)", f"{mb / h:.1f}", f"{mb / t:.1f}",
                        f"{t / h:.2f}x", f">= {goal:.1f}x", t / h >= goal))  # fmt: skip
        if r["samples"][corpus].get("reader"):
            p = statistics.median(r["samples"][corpus]["reader"])
            what = f"  {corpus}: a Python loop only reading the PTY (MB/s)"
            out.append(line(what, f"{mb / p:.1f}", f"{mb / t:.1f}", f"{t / p:.2f}x"))
    return out


def latency_lines(r: dict) -> list[list[str]]:
    out = []
    for state in ("idle", "load"):
        h, t = r["samples"][state]["hexe"], r["samples"][state]["tmux"]
        for name, f, slack in (("p50", statistics.median, 0.3), ("p99", p99, 1.0)):
            out.append(margin(f"echo {name} {state} (ms)", f(h) * 1000, f(t) * 1000, slack))
    return out


def memory_lines(r: dict) -> list[list[str]]:
    h, t = (r["rss_kib"][kind]["full"] / 1024 for kind in ("hexe", "tmux"))
    return [times(f"memory {r['panes']}x{r['lines']} lines (MiB)", h, t, 0.5)]


def spawn_lines(r: dict) -> list[list[str]]:
    s = r["samples"]
    prepared = times("spawn full+limits, prepared (ms)", ms(s["hexe"]), ms(s["tmux"]), 1.0)
    what = "spawn full+limits, from scratch vs tmux+bwrap (ms)"
    if "tmux+bwrap" not in s:
        return [prepared, no_bwrap(what, ms(s["hexe-cold"]), 1.5)]
    return [prepared, times(what, ms(s["hexe-cold"]), ms(s["tmux+bwrap"]), 1.5)]


def start_lines(r: dict) -> list[list[str]]:
    s, floor = r["samples"], ms(r["python"])
    out = []
    labels = {"start": "session start to its prompt", "attach": "attach to a drawn screen"}
    for what, label in labels.items():
        t = ms(s["tmux"][what])
        out.append(times(f"{label} (ms)", ms(s["hexe"][what]), t, 1.5))
        out.append(times(f"  python3 -c pass vs tmux {what} (ms)", floor, t, None))
        if what == "start" and r.get("pluggy"):  # a session's server runs the plugins
            out.append(times("  python3 -c 'import pluggy' vs tmux start (ms)",
                             ms(r["pluggy"]), t, None))  # fmt: skip
    return out


def run_lines(r: dict) -> list[list[str]]:
    s = r["samples"]
    what = "hexe run --profile full vs python3+bwrap (ms)"
    floors = ("python3 -c pass", "python3 -c 'import pluggy'")
    if "python3+bwrap" not in s:
        return [no_bwrap(what, ms(s["hexe run"]), spawn_bench.RUN_TARGET_RATIO)] + [
            line(f"  {name} (ms)", f"{ms(s[name]):.1f}", "bwrap not installed") for name in floors
        ]
    ref = ms(s["python3+bwrap"])
    return [times(what, ms(s["hexe run"]), ref, spawn_bench.RUN_TARGET_RATIO)] + [
        times(f"  {name} vs python3+bwrap (ms)", ms(s[name]), ref, None) for name in floors
    ]


def cli_lines(r: dict) -> list[list[str]]:
    s, floor = r["samples"], ms(r["samples"]["python3 -c pass"])
    out = []
    for hexe_args, tmux_args in cli.COMMANDS:
        h, t = ms(s[f"hexe {hexe_args[0]}"]), ms(s[f"tmux {tmux_args[0]}"])
        out.append(times(f"cli hexe {hexe_args[0]} vs python3 -c pass (ms)", h, floor, 2.0))
        tmux = shlex.join(["tmux", *tmux_args])
        out.append(line(f"  {tmux} (ms)", "", f"{t:.1f}", f"{h / t:.2f}x"))
    return out


def scale_lines(r: dict) -> list[list[str]]:
    h, t = r["panes"]["hexe"], r["panes"]["tmux"]
    n = h["panes"]
    per_pane = t["create"] / (n - 1) * 1000  # the first pane is the session's
    h_cpu, t_cpu = h["idle_cpu_pct"], t["idle_cpu_pct"]
    hc, tc = r["clients"]["hexe"], r["clients"]["tmux"]
    return [
        times(f"scale create {n} panes, one call a pane (s)", h["create"], t["create"], 1.5, 2),
        times("  python3 -c pass vs tmux per pane (ms)", ms(r["python"]), per_pane, None),
        line(f"scale idle CPU, {n} panes (% of a core)", f"{h_cpu:.2f}", f"{t_cpu:.2f}",
             f"{h_cpu - t_cpu:+.2f} %", "< 0.5%", h_cpu < 0.5),
        times("scale PSS per pane, whole tree (MiB)", h["pss_kib"] / n / 1024,
              t["pss_kib"] / n / 1024, 1.5, 2),
        margin("scale echo p50, others idle (ms)", ms(h["echo_idle"]), ms(t["echo_idle"]), 0.5),
        margin(f"scale echo p50, {h['flooders']} flooding (ms)", ms(h["echo_flood"]),
               ms(t["echo_flood"]), 1.0),
        margin(f"scale echo p50, {r['size']['clients']} clients (ms)", ms(hc), ms(tc), 1.0),
    ] + [
        line(f"  only {shells} of {kind}'s {n} shells ran when measured", "", "")
        for kind, shells in ((k, r["panes"][k]["shells"]) for k in ("hexe", "tmux"))
        if shells < n
    ]  # fmt: skip


LINES: dict[str, Callable[[dict], list[list[str]]]] = {
    "throughput": throughput_lines,
    "latency": latency_lines,
    "memory": memory_lines,
    "spawn": spawn_lines,
    "start": start_lines,
    "run": run_lines,
    "cli": cli_lines,
    "scale": scale_lines,
}


def table(results: dict[str, Any], failed: dict[str, str] | None = None) -> list[list[str]]:
    """Lines of [what, hexe, reference, ratio, target, met], in the rows' order. A
    row whose lines cannot be made of its samples is told in ``failed`` instead."""
    out: list[list[str]] = []
    for row in ROWS:
        if row in results:
            try:
                out += LINES[row](results[row])
            except (KeyError, ValueError, ZeroDivisionError, statistics.StatisticsError) as exc:
                if failed is None:
                    raise
                failed[row] = f"its table: {type(exc).__name__}: {exc}"
    return out


def print_table(rows: list[list[str]]) -> None:
    header = ["row", "hexe", "reference", "ratio", "target", "met"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=False))
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", default=",".join(ROWS), help=f"comma-separated: {','.join(ROWS)}")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--size-mb", type=positive(float), help="corpus size for the throughput row"
    )
    parser.add_argument("--repeats", type=positive(int), help="throughput rounds")
    parser.add_argument("--keys", type=positive(int), help="keys per latency sample set")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = parser.parse_args(argv)
    only = list(dict.fromkeys(r.strip() for r in args.only.split(",") if r.strip()))
    unknown = [r for r in only if r not in ROWS]
    if unknown:
        parser.error(f"unknown row {unknown[0]!r}; rows are {', '.join(ROWS)}")
    if not shutil.which("tmux"):
        print("bench: tmux is not installed; the rows compare with it", file=sys.stderr)
        return 2
    sizes = dict(QUICK if args.quick else FULL)
    if args.size_mb is not None:
        sizes["size"] = int(args.size_mb * (1 << 20))
    if args.repeats is not None:
        sizes["repeats"] = args.repeats
    if args.keys is not None:
        sizes["keys"] = args.keys

    def log(text: str) -> None:
        if args.verbose:
            print(f"  {text}", file=sys.stderr, flush=True)

    scratch = bench.scratch_dir()
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    try:
        for row in only:
            where = scratch / row
            where.mkdir(mode=0o700)
            try:
                results[row] = MEASURE[row](where, sizes, log)
            except Exception as exc:  # noqa: BLE001 - one row failing must not hide the others
                failed[row] = f"{type(exc).__name__}: {exc}"
                log(traceback.format_exc())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = table(results, failed)
    if args.json:
        print(
            json.dumps(
                {
                    "versions": versions(),
                    "sizes": sizes,
                    "results": results,
                    "table": rows,
                    "failed": failed,
                },
                indent=1,
            )
        )
    else:
        info = versions()
        print(" ".join(f"{k}={v}" for k, v in info.items()))
        print(
            f"sizes: {' '.join(f'{k}={v}' for k, v in sizes.items())}"
            + (" (--quick: the numbers mean little)" if args.quick else "")
        )
        print_table(rows)
        for row, why in failed.items():
            print(f"failed: {row}: {why}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
