#!/usr/bin/env python3
"""The performance suite: hexe mux against tmux, in one run, as a table of ratios.

    python3 bench/run.py            # the full suite (20 MB corpora, 3 rounds): ~5 minutes
    python3 bench/run.py --quick    # tiny sizes: checks that every row runs
    python3 bench/run.py --only throughput,memory --json

Each row runs hexe and tmux on the same work, side by side, and reports the
ratio hexe / tmux of the medians (for throughput, tmux's time over hexe's, so
above 1.00x hexe is faster) with the issue's target. How each row is timed is
in ``bench/mux.py`` and ``bench/README.md``. Exit status: 0 when every row
ran (whether or not its target is met), 1 when one could not run (it says
why), 2 on bad arguments or a missing tmux.

Only measures: everything it starts is killed and its scratch directory
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mux as bench  # noqa: E402

ROWS = ("throughput", "latency", "memory", "spawn", "start")
FULL = {"size": 20 << 20, "repeats": 3, "keys": 300, "panes": 10, "lines": 10_000, "rounds": 10}
QUICK = {"size": 256 << 10, "repeats": 1, "keys": 10, "panes": 2, "lines": 200, "rounds": 1}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


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


def table(results: dict[str, Any]) -> list[list[str]]:
    """Rows of [what, hexe, tmux, ratio, target, met]."""
    rows: list[list[str]] = []

    def add(what, hexe, tmux, ratio, target, met):
        rows.append([what, hexe, tmux, ratio, target, "yes" if met else "NO"])

    if "throughput" in results:
        r = results["throughput"]
        for corpus, goal in (("plain", 1.0), ("colour", 0.5)):
            mb = r["sizes"][corpus] / 1e6
            h = statistics.median(r["samples"][corpus]["hexe"])
            t = statistics.median(r["samples"][corpus]["tmux"])
            ratio = t / h
            add(
                f"throughput {corpus} (MB/s)",
                f"{mb / h:.1f}",
                f"{mb / t:.1f}",
                f"{ratio:.2f}x",
                f">= {goal:.1f}x",
                ratio >= goal,
            )
    if "latency" in results:
        r = results["latency"]["samples"]
        for state in ("idle", "load"):
            h, t = r[state]["hexe"], r[state]["tmux"]
            for name, f, slack in (("p50", statistics.median, 1.0), ("p99", p99, 5.0)):
                hv, tv = f(h) * 1000, f(t) * 1000
                add(
                    f"echo {name} {state} (ms)",
                    f"{hv:.2f}",
                    f"{tv:.2f}",
                    f"{hv - tv:+.2f} ms",
                    f"<= +{slack:.0f} ms",
                    hv - tv <= slack,
                )
    if "memory" in results:
        r = results["memory"]
        h = r["rss_kib"]["hexe"]["full"]
        t = r["rss_kib"]["tmux"]["full"]
        add(
            f"memory {r['panes']}x{r['lines']} lines (MiB)",
            f"{h / 1024:.1f}",
            f"{t / 1024:.1f}",
            f"{h / t:.2f}x",
            "<= 1.0x",
            h <= t,
        )
    if "spawn" in results:
        r = results["spawn"]["samples"]
        h = statistics.median(r["hexe"]) * 1000
        t = statistics.median(r["tmux"]) * 1000
        add(
            "spawn full+limits (ms)",
            f"{h:.1f}",
            f"{t:.1f}",
            f"{h / t:.2f}x",
            "<= 1.5x",
            h <= 1.5 * t,
        )
        if "hexe-cold" in r:
            c = statistics.median(r["hexe-cold"]) * 1000
            rows.append(["  hexe, spawn_ahead off (ms)", f"{c:.1f}", "", f"{c / t:.2f}x", "", ""])
        if "tmux+bwrap" in r:
            b = statistics.median(r["tmux+bwrap"]) * 1000
            rows.append(["  tmux + bwrap shell (ms)", "", f"{b:.1f}", f"{h / b:.2f}x", "", ""])
        else:
            rows.append(["  tmux + bwrap shell", "", "bwrap not installed", "", "", ""])
    if "start" in results:
        r = results["start"]["samples"]
        labels = {"start": "session start to its prompt", "attach": "attach to a drawn screen"}
        for what, label in labels.items():
            h = statistics.median(r["hexe"][what]) * 1000
            t = statistics.median(r["tmux"][what]) * 1000
            add(f"{label} (ms)", f"{h:.1f}", f"{t:.1f}", f"{h / t:.2f}x", "<= 1.5x", h <= 1.5 * t)
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["row", "hexe", "tmux", "hexe/tmux", "target", "met"]
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
    parser.add_argument("--size-mb", type=float, help="corpus size for the throughput row")
    parser.add_argument("--repeats", type=int, help="throughput rounds")
    parser.add_argument("--keys", type=int, help="keys per latency sample set")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = parser.parse_args(argv)
    only = [r.strip() for r in args.only.split(",") if r.strip()]
    unknown = [r for r in only if r not in ROWS]
    if unknown:
        parser.error(f"unknown row {unknown[0]!r}; rows are {', '.join(ROWS)}")
    if not shutil.which("tmux"):
        print("bench: tmux is not installed; every row compares with it", file=sys.stderr)
        return 2
    sizes = dict(QUICK if args.quick else FULL)
    if args.size_mb:
        sizes["size"] = int(args.size_mb * (1 << 20))
    if args.repeats:
        sizes["repeats"] = args.repeats
    if args.keys:
        sizes["keys"] = args.keys

    def log(text: str) -> None:
        if args.verbose:
            print(f"  {text}", file=sys.stderr, flush=True)

    scratch = bench.scratch_dir()
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    try:
        for row in only:
            try:
                if row == "throughput":
                    results[row] = bench.throughput(scratch, sizes["size"], sizes["repeats"], log)
                elif row == "latency":
                    results[row] = bench.latency(scratch, sizes["keys"], log)
                elif row == "memory":
                    results[row] = bench.memory(scratch, sizes["panes"], sizes["lines"], log)
                elif row == "spawn":
                    results[row] = bench.spawn(scratch, sizes["rounds"], log)
                elif row == "start":
                    results[row] = bench.start_attach(scratch, sizes["rounds"], log)
            except Exception as exc:  # noqa: BLE001 - one row failing must not hide the others
                failed[row] = f"{type(exc).__name__}: {exc}"
                log(traceback.format_exc())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = table(results)
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
