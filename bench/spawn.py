#!/usr/bin/env python3
"""How long hexe takes to start ``true``, per profile, next to bwrap and unshare.

Each profile is measured two ways:

- **in-process**: what a pane server pays. Resolve the settings, build a
  ``SpawnPlan``, ``hexe.spawn.run(plan, pm)``, ``.wait()``; timed from before
  the plan is built to after the wait. The plugin manager is built once, and
  hexe logs at ``info`` to a scratch file, as the CLI does.
- **hexe run**: what a user at a shell pays. ``hexe run --profile P -- true``
  as a subprocess, timed from spawn to reap (Python start-up included).

Next to them, in the same run: ``bwrap --unshare-all ...`` (when installed)
and ``unshare -Urpf --mount-proc``. Every round runs every variant once, in a
rotating order, so machine noise hits all of them alike; warm-up rounds come
first and are discarded. Medians and p90s are in milliseconds; ratios are of
medians.

Run ``python3 bench/spawn.py`` (``--quick`` for a smoke run, ``--json`` for
scripts, ``--json-file PATH`` to keep the JSON document while reading the
table). Exit status: 0 when every hexe variant ran, 1 when one failed (its row
says why), 2 when the benchmark itself cannot start. Limits that cannot be
applied (no cgroup delegation, not root, the cgroups plugin missing) are
warnings, printed once at the end, not failures.

``run_row`` is ``bench/run.py``'s ``run`` row: ``hexe run --profile full``
against this Python exec'ing bwrap, with the interpreter's floors beside them.

This script only measures: it changes nothing in hexe, and its log and scratch
files live in a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mux import PYTHON_PASS, PYTHON_PLUGGY, BenchError, hexe_command, scratch_env  # noqa: E402

#: The issue's target: ``full`` with every limit, compared with bwrap.
TARGET_FLAGS: Mapping[str, str] = {
    "profile": "full",
    "memory": "256M",
    "pids": "128",
    "cpu": "100000 100000",
}
TARGET_ROW = "full+limits"
TARGET_RATIO = 1.0
BWRAP_ARGS = (
    "--unshare-all",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
    "--",
)
UNSHARE_ARGS = ("-Urpf", "--mount-proc")
#: ``hexe run``'s goal: within this of Python's start plus bwrap's
#: sandbox, measured as one process: this interpreter starting (same site,
#: same ``.pth`` files) and exec'ing bwrap.
RUN_TARGET_ROW = "full"
RUN_TARGET_RATIO = 1.5
EXEC_ARGV = "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"
BWRAP_INSTALL = "apt-get install -y bubblewrap"
DEFAULT_ITERATIONS = 25
DEFAULT_WARMUP = 2
QUICK_ITERATIONS = 3
QUICK_WARMUP = 1
WARNING_PREFIX = "hexe: warning: "


class VariantFailed(Exception):
    """One run of a variant did not exit 0; the message says what it printed."""


@dataclass
class Variant:
    """One thing being timed. ``run_once`` returns seconds or raises VariantFailed."""

    key: str
    kind: str  # "in-process", "hexe run" or "reference"
    row: str
    command: str
    run_once: Callable[[], float]
    samples: list[float] = field(default_factory=list)
    warnings: set[str] = field(default_factory=set)
    error: str | None = None

    def median_ms(self) -> float | None:
        return statistics.median(self.samples) * 1000 if self.samples and not self.error else None

    def p90_ms(self) -> float | None:
        if not self.samples or self.error:
            return None
        ordered = sorted(self.samples)
        return ordered[math.ceil(0.9 * len(ordered)) - 1] * 1000


# --------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------


def bench_rows(profiles: Sequence[str]) -> list[tuple[str, Mapping[str, str]]]:
    """(row name, ``hexe run`` flags): every profile, then the target row."""
    return [(name, {"profile": name}) for name in profiles] + [(TARGET_ROW, TARGET_FLAGS)]


def subprocess_runner(
    argv: Sequence[str],
    env: Mapping[str, str],
    stderr_path: Path,
    on_warning: Callable[[str], None],
) -> Callable[[], float]:
    """Time ``argv`` from posix_spawn to reap; stdin/stdout are /dev/null, stderr a file.

    posix_spawn (vfork underneath) costs the same whatever the size of this
    process, so every subprocess variant pays the same launch overhead. After
    each run (untimed), ``hexe: warning:`` lines go to ``on_warning`` with the
    child's pid replaced by ``<pid>``, so one warning per run reads as one.
    """
    argv = list(argv)
    env = dict(env)

    def run_once() -> float:
        stderr_fd = os.open(
            stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600
        )
        offset = os.lseek(stderr_fd, 0, os.SEEK_END)
        file_actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, stderr_fd, 2),
        ]
        try:
            t0 = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, env, file_actions=file_actions)
            _, status = os.waitpid(pid, 0)
            elapsed = time.perf_counter() - t0
        except OSError as exc:
            raise VariantFailed(f"cannot start {argv[0]}: {exc.strerror}") from exc
        finally:
            os.close(stderr_fd)
        with open(stderr_path, "rb") as f:
            f.seek(offset)
            said = f.read().decode(errors="replace").strip().splitlines()
        other = []
        for line in said:
            if line.startswith(WARNING_PREFIX):
                on_warning(
                    re.sub(rf"(?<![0-9]){pid}(?![0-9])", "<pid>", line[len(WARNING_PREFIX) :])
                )
            else:
                other.append(line)
        if status != 0:
            raise VariantFailed(
                f"{_describe_status(status)}: {' / '.join(other[-3:]) or 'no output'}"
            )
        return elapsed

    return run_once


def in_process_runner(
    flags: Mapping[str, str],
    pm: Any,
    true: str,
    env: Mapping[str, str],
    on_warning: Callable[[str], None],
) -> Callable[[], float]:
    """Time resolve -> SpawnPlan -> hexe.spawn.run -> wait, in this process."""
    from hexe import spawn as spawn_mod
    from hexe.errors import HexeError
    from hexe.isolation import Layer, resolve

    layer = Layer("flags", {name: (value, f"--{name}") for name, value in flags.items()})
    env = dict(env)

    def run_once() -> float:
        t0 = time.perf_counter()
        try:
            plan = spawn_mod.SpawnPlan(argv=(true,), isolation=resolve([layer]), env=env)

            def warned(text: str, name: str = plan.name) -> None:
                on_warning(text.replace(name, "<spawn>"))  # one warning per spawn reads as one

            child = spawn_mod.run(plan, pm, on_warning=warned)
            status = child.wait()
        except HexeError as exc:
            raise VariantFailed(f"{type(exc).__name__}: {exc.message}") from exc
        except OSError as exc:  # fork or pipe failed: hexe's bug or a full machine
            raise VariantFailed(f"OSError: {exc}") from exc
        elapsed = time.perf_counter() - t0
        if status != 0:
            raise VariantFailed(_describe_status(status))
        return elapsed

    return run_once


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


#: the ``hexe`` script beside this Python when it runs this Python (what a
#: user types), else ``python3 -m hexe``
hexe_cli = hexe_command


def bytecode_cached() -> bool:
    """Whether ``hexe run``'s modules have cached bytecode (else each run compiles them)."""
    import importlib.util

    import hexe.cli
    import hexe.cli.parser
    import hexe.run

    return all(
        Path(importlib.util.cache_from_source(m.__file__)).exists()
        for m in (hexe.cli, hexe.cli.parser, hexe.run)
    )


#: Modules ``hexe run`` imports whose cost the reference shares when the
#: interpreter's own start (``site`` and its ``.pth`` files) loads them already.
SHARED_START_MODULES = (
    "typing", "re", "enum", "collections", "contextlib", "pathlib", "inspect",
    "dataclasses", "importlib.util", "shutil", "tempfile", "zipfile",
)  # fmt: skip


def site_preloads() -> dict[str, Any]:
    """What this interpreter's ``site`` loads before ``-c pass`` runs, and what it costs.

    A ``.pth`` file that imports (an editable install's finder, a tool's
    hook) loads modules that ``hexe run`` needs too; the reference
    ``python3 -c pass`` then pays for them, and hexe run's ratio is lower
    than in a clean virtual environment."""
    code = "import sys; print(' '.join(sorted(sys.modules)))"
    loaded: list[set[str]] = []
    for flags in ([], ["-S"]):
        out = subprocess.run(
            [sys.executable, *flags, "-c", code], capture_output=True, text=True, check=False
        ).stdout
        loaded.append(set(out.split()))
    extra = loaded[0] - loaded[1]
    times: dict[str, list[float]] = {"site": [], "no site": []}
    for _ in range(7):
        for name, flags in (("site", []), ("no site", ["-S"])):
            start = time.perf_counter()
            subprocess.run([sys.executable, *flags, "-c", "pass"], check=False)
            times[name].append(time.perf_counter() - start)
    return {
        "modules": len(extra),
        "shared": [m for m in SHARED_START_MODULES if m in extra],
        "site_ms": round(
            (statistics.median(times["site"]) - statistics.median(times["no site"])) * 1000, 1
        ),
    }


def cli_flags(flags: Mapping[str, str]) -> list[str]:
    out = []
    for name, value in flags.items():
        out += [f"--{name}", value]
    return out


def bench_environment() -> dict[str, str]:
    """This environment without the HEXE_* settings, so the flags alone decide."""
    from hexe.plugin.settings import default_settings

    variables = default_settings().env_vars()
    return {k: v for k, v in os.environ.items() if k not in variables}


def tool_version(path: str | None) -> str | None:
    """``bubblewrap 0.8.0 (/usr/bin/bwrap)``, or None when the tool is not installed."""
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        said = (out.stdout or out.stderr).strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        said = []
    return f"{said[0] if said else 'unknown version'} ({path})"


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def reap_strays() -> None:
    """Reap orphans re-parented to us (we are a subreaper once a pid namespace ran)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def measure(variants: list[Variant], iterations: int, warmup: int, progress: bool) -> None:
    """Round-robin: each round runs every live variant once, starting one further along."""
    total = warmup + iterations
    for round_no in range(total):
        if progress:
            print(f"\rround {round_no + 1}/{total}", end="", file=sys.stderr, flush=True)
        start = round_no % len(variants)
        for variant in variants[start:] + variants[:start]:
            if variant.error:
                continue
            try:
                elapsed = variant.run_once()
            except VariantFailed as exc:
                variant.error = str(exc)
                continue
            finally:
                reap_strays()
            if round_no >= warmup:
                variant.samples.append(elapsed)
    if progress:
        print("\r" + " " * 20 + "\r", end="", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def fmt_ms(variant: Variant | None) -> str:
    if variant is None:
        return "-"
    if variant.error:
        return "failed"
    median, p90 = variant.median_ms(), variant.p90_ms()
    if median is None or p90 is None:
        return "-"
    return f"{median:.2f} ({p90:.2f})"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def render_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _reference(v):
    """A reference row (bwrap, unshare, python+bwrap) for the JSON report; None if not run."""
    if v is None:
        return None
    return {
        "command": v.command,
        "median_ms": v.median_ms(),
        "p90_ms": v.p90_ms(),
        "n": len(v.samples),
        "error": v.error,
        "samples_ms": [round(s * 1000, 4) for s in v.samples],
    }


def build_report(
    rows: Sequence[tuple[str, Mapping[str, str]]],
    variants: list[Variant],
    meta: dict[str, Any],
    bwrap: Variant | None,
    unshare: Variant | None,
) -> dict[str, Any]:
    by_key = {v.key: v for v in variants}
    refs = {
        "bwrap": bwrap.median_ms() if bwrap else None,
        "unshare": unshare.median_ms() if unshare else None,
    }
    report_rows = []
    for name, flags in rows:
        row: dict[str, Any] = {"profile": name, "flags": dict(flags)}
        for kind, key in (("in_process", f"api:{name}"), ("hexe_run", f"cli:{name}")):
            v = by_key[key]
            row[kind] = {
                "median_ms": v.median_ms(),
                "p90_ms": v.p90_ms(),
                "n": len(v.samples),
                "error": v.error,
                "vs_bwrap": ratio(v.median_ms(), refs["bwrap"]),
                "vs_unshare": ratio(v.median_ms(), refs["unshare"]),
                "warnings": sorted(v.warnings),
                "samples_ms": [round(s * 1000, 4) for s in v.samples],
            }
        report_rows.append(row)
    references = {
        "bwrap": _reference(bwrap),
        "unshare": _reference(unshare),
    }
    py_bwrap = by_key.get("python+bwrap")
    references["python+bwrap"] = _reference(py_bwrap)
    run_variant = by_key.get(f"cli:{RUN_TARGET_ROW}")
    run_ratio = ratio(
        run_variant.median_ms() if run_variant else None,
        py_bwrap.median_ms() if py_bwrap else None,
    )
    target_variant = by_key[f"api:{TARGET_ROW}"]
    target_ratio = ratio(target_variant.median_ms(), refs["bwrap"])
    warnings: dict[str, list[str]] = {}
    for v in variants:
        for text in sorted(v.warnings):
            warnings.setdefault(text, []).append(v.key)
    return {
        "meta": meta,
        "rows": report_rows,
        "references": references,
        "target": {
            "row": TARGET_ROW,
            "ratio_vs_bwrap": target_ratio,
            "max_ratio": TARGET_RATIO,
            "met": None if target_ratio is None else target_ratio <= TARGET_RATIO,
            "warnings": sorted(target_variant.warnings),
        },
        "run_target": {
            "row": RUN_TARGET_ROW,
            "ratio_vs_python_bwrap": run_ratio,
            "max_ratio": RUN_TARGET_RATIO,
            "met": None if run_ratio is None else run_ratio <= RUN_TARGET_RATIO,
        },
        "warnings": warnings,
    }


def print_report(report: dict[str, Any], variants: list[Variant]) -> None:
    meta = report["meta"]
    by_key = {v.key: v for v in variants}
    has_bwrap = (
        report["references"]["bwrap"] is not None and not report["references"]["bwrap"]["error"]
    )
    has_unshare = (
        report["references"]["unshare"] is not None and not report["references"]["unshare"]["error"]
    )

    print(
        f"hexe spawn benchmark: {meta['true']}, {meta['iterations']} rounds "
        f"(+{meta['warmup']} warm-up), {meta['variants']} variants round-robin"
    )
    print(
        f"hexe {meta['hexe_version']} ({meta['hexe_path']}), Python {meta['python']}, "
        f"Linux {meta['kernel']}, {meta['cpus']} CPUs, uid {meta['uid']}"
    )
    print(f"hexe run: {meta['hexe_cli']}")
    print(
        f"bwrap: {meta['bwrap'] or 'not installed'}; unshare: {meta['unshare'] or 'not installed'}"
    )
    print()
    print("median (p90) in ms; ratios are of medians")
    header = ["profile", "in-process"]
    if has_bwrap:
        header.append("/bwrap")
    if has_unshare:
        header.append("/unshare")
    header.append("hexe run")
    if has_bwrap:
        header.append("/bwrap")
    if has_unshare:
        header.append("/unshare")
    table_rows = []
    for row in report["rows"]:
        cells = [row["profile"]]
        for kind, key in (("in_process", "api"), ("hexe_run", "cli")):
            cells.append(fmt_ms(by_key[f"{key}:{row['profile']}"]))
            if has_bwrap:
                cells.append(fmt_ratio(row[kind]["vs_bwrap"]))
            if has_unshare:
                cells.append(fmt_ratio(row[kind]["vs_unshare"]))
        table_rows.append(cells)
    for line in render_table(header, table_rows):
        print(line)
    print(f"  {TARGET_ROW}: {' '.join(shlex.quote(arg) for arg in cli_flags(TARGET_FLAGS))}")
    print()
    ref_rows = []
    for name in ("bwrap", "python+bwrap", "unshare"):
        ref = report["references"].get(name)
        if ref is not None:
            ref_rows.append(
                [
                    ref["command"],
                    "failed" if ref["error"] else f"{ref['median_ms']:.2f} ({ref['p90_ms']:.2f})",
                ]
            )
    if ref_rows:
        for line in render_table(["reference", "ms"], ref_rows):
            print(line)
    if report["references"]["bwrap"] is None:
        print(
            f"bwrap is not installed, so its columns are left out; install it with: {BWRAP_INSTALL}"
        )

    failures = [v for v in variants if v.error]
    if failures:
        print()
        print("failed (dropped after the first failure):")
        for v in failures:
            print(f"  {v.key}: {v.error}")
    if report["warnings"]:
        print()
        print("warnings (each printed once, with the variants that got it):")
        for text, keys in report["warnings"].items():
            print(f"  {text}  [{', '.join(keys)}]")

    print()
    target = report["target"]
    if target["ratio_vs_bwrap"] is None:
        why = "bwrap not measured" if not has_bwrap else f"{TARGET_ROW} in-process failed"
        print(f"{TARGET_ROW} in-process / bwrap = n/a ({why}) (target <= {TARGET_RATIO:.1f}x)")
    else:
        verdict = "met" if target["met"] else "NOT met"
        line = (
            f"{TARGET_ROW} in-process / bwrap = {target['ratio_vs_bwrap']:.2f}x "
            f"(target <= {TARGET_RATIO:.1f}x): {verdict}"
        )
        if target["warnings"]:
            line += "; hexe warned for this variant (see warnings): what it skipped is not timed"
        print(line)
    run_target = report["run_target"]
    if run_target["ratio_vs_python_bwrap"] is not None:
        verdict = "met" if run_target["met"] else "NOT met"
        print(
            f"hexe run --profile {RUN_TARGET_ROW} / (python3 start + bwrap) = "
            f"{run_target['ratio_vs_python_bwrap']:.2f}x (target <= {RUN_TARGET_RATIO:.1f}x): "
            f"{verdict}"
        )
    site = meta.get("site")
    if site and site["shared"]:
        print(
            f"note: this python3's start (site, its .pth files) loads {site['modules']} modules "
            f"in {site['site_ms']:.0f} ms, hexe run's {', '.join(site['shared'])} among them: "
            "the reference pays for them too, so the ratio is lower here than in a clean "
            "virtual environment (bench/README.md)"
        )
    if not meta.get("bytecode_cached", True):
        print(
            "note: hexe's modules have no cached bytecode here (PYTHONDONTWRITEBYTECODE?): "
            "every hexe run compiles them; run python3 -m compileall on the checkout first"
        )


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/spawn.py",
        description=(
            "Median time to spawn `true` under each hexe profile, in-process and via "
            "`hexe run`, next to bwrap and unshare, measured round-robin in one run."
        ),
    )
    parser.add_argument(
        "--iterations",
        type=int,
        metavar="N",
        help=f"measured rounds (default {DEFAULT_ITERATIONS})",
    )
    parser.add_argument(
        "--warmup", type=int, metavar="N", help=f"discarded rounds first (default {DEFAULT_WARMUP})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_ITERATIONS} rounds, {QUICK_WARMUP} warm-up; numbers mean little",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead of the table"
    )
    parser.add_argument(
        "--json-file",
        metavar="PATH",
        type=Path,
        help="also write the JSON document to PATH (the table is printed as usual)",
    )
    args = parser.parse_args(argv)
    if args.iterations is None:
        args.iterations = QUICK_ITERATIONS if args.quick else DEFAULT_ITERATIONS
    if args.warmup is None:
        args.warmup = QUICK_WARMUP if args.quick else DEFAULT_WARMUP
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be at least 1 and --warmup at least 0")
    return args


def make_variants(
    rows: Sequence[tuple[str, Mapping[str, str]]],
    pm: Any,
    true: str,
    env: Mapping[str, str],
    scratch: Path,
) -> tuple[list[Variant], Variant | None, Variant | None]:
    """Two variants per row (in-process, hexe run), then bwrap and unshare if installed."""
    cli = [*hexe_cli(), "--log-file", str(scratch / "hexe-run.log"), "run"]
    variants: list[Variant] = []
    for name, flags in rows:
        api_warnings: set[str] = set()
        run_api = in_process_runner(flags, pm, true, env, api_warnings.add)
        variants.append(
            Variant(
                f"api:{name}",
                "in-process",
                name,
                f"hexe.spawn.run ({name})",
                run_api,
                warnings=api_warnings,
            )
        )
        cli_warnings: set[str] = set()
        argv = [*cli, *cli_flags(flags), "--", true]
        run_cli = subprocess_runner(argv, env, scratch / f"cli-{name}.stderr", cli_warnings.add)
        variants.append(
            Variant(
                f"cli:{name}", "hexe run", name, shlex.join(argv), run_cli, warnings=cli_warnings
            )
        )
    references: dict[str, Variant | None] = {}
    for tool, args in (("bwrap", BWRAP_ARGS), ("unshare", UNSHARE_ARGS)):
        path = shutil.which(tool)
        if path is None:
            references[tool] = None
            continue
        tool_warnings: set[str] = set()
        run_tool = subprocess_runner(
            [path, *args, true], env, scratch / f"{tool}.stderr", tool_warnings.add
        )
        references[tool] = Variant(
            tool,
            "reference",
            tool,
            shlex.join([tool, *args, "true"]),
            run_tool,
            warnings=tool_warnings,
        )
        variants.append(references[tool])
        if tool == "bwrap":
            py_warnings: set[str] = set()
            argv = [sys.executable, "-c", EXEC_ARGV, path, *args, true]
            run_py = subprocess_runner(argv, env, scratch / "py-bwrap.stderr", py_warnings.add)
            variants.append(
                Variant(
                    "python+bwrap",
                    "reference",
                    "python+bwrap",
                    shlex.join(["python3", "-c", "os.execv(bwrap ...)", *args, "true"]),
                    run_py,
                    warnings=py_warnings,
                )
            )
    return variants, references["bwrap"], references["unshare"]


NETWORK_FLAGS: Mapping[str, str] = {"profile": "full", "network": "user"}
#: Inside bwrap: wait (spinning) until pasta gave the namespace its route, then run
WAIT_FOR_PASTA = "while ! grep -q '^eth0' /proc/net/route; do :; done; exec \"$0\""


def bwrap_pasta_runner(
    bwrap: str, pasta: str, true: str, env: Mapping[str, str]
) -> Callable[[], float]:
    """bwrap's sandbox given a network by pasta the way hexe does it: pasta attached
    to the namespace of bwrap's child (its pid from ``--info-fd``), the command
    run once the interface is up, pasta ended after. Timed from start to exit."""
    from hexe_voidbox import network

    env = dict(env)
    bwrap_args = [a for a in BWRAP_ARGS if a != "--"]

    def run_once() -> float:
        info_r, info_w = os.pipe()
        t0 = time.perf_counter()
        box = subprocess.Popen(
            [bwrap, "--info-fd", str(info_w), *bwrap_args, "--",
             "/bin/sh", "-c", WAIT_FOR_PASTA, true],
            env=env, pass_fds=(info_w,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        os.close(info_w)
        data = b""
        while b"}" not in data:
            chunk = os.read(info_r, 4096)
            if not chunk:
                break
            data += chunk
        os.close(info_r)
        try:
            child = json.loads(data.decode())["child-pid"]
        except (ValueError, KeyError) as exc:
            box.kill()
            raise VariantFailed(f"bwrap --info-fd said {data!r}") from exc
        argv = network.pasta_argv(pasta, child, (), os.geteuid())
        helper = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # wait for the box, or for pasta to give up first: the box would then
        # spin forever waiting for its interface (pidfds: no polling delay)
        box_fd, helper_fd = os.pidfd_open(box.pid), os.pidfd_open(helper.pid)
        try:
            while box.poll() is None:
                ready = select.select([box_fd, helper_fd], [], [])[0]
                if box_fd not in ready and helper.poll() is not None and box.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)  # the box's PID 1: all of it ends
                    box.kill()
                    box.wait()
                    raise VariantFailed(
                        f"pasta exited ({helper.returncode}) before the box had its interface"
                    )
        finally:
            os.close(box_fd)
            os.close(helper_fd)
        status = box.returncode
        elapsed = time.perf_counter() - t0
        helper.terminate()
        helper.wait()
        if status != 0:
            raise VariantFailed(
                f"exit {status}: {box.stderr.read().decode()[-200:] if box.stderr else ''}"
            )
        if box.stderr:
            box.stderr.close()
        return elapsed

    return run_once


def network_variants(true: str, env: Mapping[str, str], scratch: Path) -> list[Variant]:
    """``hexe run --network user`` next to bwrap + pasta, when both are installed."""
    bwrap, pasta = shutil.which("bwrap"), shutil.which("pasta")
    if bwrap is None or pasta is None:
        return []
    cli = [*hexe_cli(), "--log-file", str(scratch / "hexe-run.log"), "run"]
    argv = [*cli, *cli_flags(NETWORK_FLAGS), "--", true]
    return [
        Variant(
            "cli:network-user", "network", "full+network=user", shlex.join(argv),
            subprocess_runner(argv, env, scratch / "cli-network.stderr", lambda _: None),
        ),
        Variant(
            "bwrap+pasta", "network", "bwrap+pasta", f"bwrap ... + {pasta} (as hexe runs it)",
            bwrap_pasta_runner(bwrap, pasta, true, env),
        ),
    ]  # fmt: skip


def print_network(variants: list[Variant]) -> None:
    by_key = {v.key: v for v in variants if v.kind == "network"}
    if not by_key:
        print("network = user: not measured (needs bwrap and pasta installed)")
        return
    hexe_v, ref = by_key["cli:network-user"], by_key["bwrap+pasta"]
    r = ratio(hexe_v.median_ms(), ref.median_ms())
    print(
        f"network = user: hexe run --profile full --network user {fmt_ms(hexe_v)} ms, "
        f"bwrap + pasta {fmt_ms(ref)} ms: {fmt_ratio(r)}"
        + (f" (failed: {hexe_v.error or ref.error})" if hexe_v.error or ref.error else "")
    )


def run_row(scratch: Path, rounds: int, log: Callable[[str], None]) -> dict:
    """``bench/run.py``'s ``run`` row, in seconds: ``hexe run --profile full --
    true`` and its reference, this Python exec'ing bwrap (``python3+bwrap``,
    when bwrap is installed), beside two floors of any ``hexe run``: ``python3
    -c pass`` and ``python3 -c "import pluggy"`` (hexe's plugins are pluggy
    plugins). Round-robin in a rotating order, a warm-up round dropped; HOME
    and the XDG directories in ``scratch``, no ``HEXE_*`` settings."""
    found = shutil.which("true")
    true = os.path.realpath(found) if found else "/bin/true"
    env = scratch_env(scratch)
    commands = {
        "hexe run": [*hexe_cli(), "run", "--profile", "full", "--", true],
        "python3 -c pass": PYTHON_PASS,
        "python3 -c 'import pluggy'": PYTHON_PLUGGY,
    }
    bwrap = shutil.which("bwrap")
    if bwrap:
        commands["python3+bwrap"] = [sys.executable, "-c", EXEC_ARGV, bwrap, *BWRAP_ARGS, true]
    warnings: set[str] = set()
    variants = [
        Variant(name, "run", name, shlex.join(argv),
                subprocess_runner(argv, env, scratch / f"run-{i}.stderr", warnings.add))
        for i, (name, argv) in enumerate(commands.items())
    ]  # fmt: skip
    measure(variants, rounds, 1, progress=False)
    for v in variants:
        if v.error:
            raise BenchError(f"{v.command}: {v.error}")
        log(f"run {v.key}: {v.median_ms():.1f} ms")
    return {
        "samples": {v.key: v.samples for v in variants},
        "commands": {v.key: v.command for v in variants},
        "bwrap": bwrap,
        "warnings": sorted(warnings),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import hexe
        from hexe import log as hexe_log
        from hexe.errors import HexeError
        from hexe.plugin.manager import make_plugin_manager
        from hexe.plugin.settings import default_settings
    except ImportError as exc:
        print(
            f"bench/spawn.py: cannot import hexe ({exc}); install it: pip install -e .",
            file=sys.stderr,
        )
        return 2
    found = shutil.which("true")
    true = os.path.realpath(found) if found else None  # a symlink into /tmp would vanish
    if true is None:
        print("bench/spawn.py: no `true` on PATH", file=sys.stderr)
        return 2
    env = bench_environment()
    rows = bench_rows(list(default_settings().profiles))

    with tempfile.TemporaryDirectory(prefix="hexe-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        # The in-process path logs like a pane server would: info, to a file.
        hexe_log.configure("info", scratch / "in-process.log")
        try:
            pm = make_plugin_manager(environ=env)
        except HexeError as exc:
            print(f"bench/spawn.py: {exc.message}", file=sys.stderr)
            return 2
        variants, bwrap, unshare = make_variants(rows, pm, true, env, scratch)
        variants += network_variants(true, env, scratch)
        if not args.json:
            print(
                f"measuring {len(variants)} variants x {args.warmup + args.iterations} rounds",
                file=sys.stderr,
                flush=True,
            )
        gc.collect()
        measure(variants, args.iterations, args.warmup, progress=sys.stderr.isatty())
        hexe_log.configure("error", os.devnull)  # close the scratch log before it is removed

    bwrap_path, unshare_path = shutil.which("bwrap"), shutil.which("unshare")
    meta = {
        "true": true,
        "iterations": args.iterations,
        "warmup": args.warmup,
        "variants": len(variants),
        "hexe_version": hexe.__version__,
        "hexe_path": str(Path(hexe.__file__).parent),
        "hexe_cli": shlex.join(hexe_cli()),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "uid": os.getuid(),
        "bwrap": tool_version(bwrap_path),
        "unshare": tool_version(unshare_path),
        "bwrap_install": None if bwrap_path else BWRAP_INSTALL,
        "bytecode_cached": bytecode_cached(),
        "site": site_preloads(),
    }
    report = build_report(rows, variants, meta, bwrap, unshare)
    report["network"] = {
        v.key: {"median_ms": v.median_ms(), "error": v.error}
        for v in variants
        if v.kind == "network"
    }
    if args.json_file is not None:
        args.json_file.write_text(json.dumps(report, indent=2) + "\n")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, variants)
        print_network(variants)
    hexe_failed = any(v.error for v in variants if v.kind not in ("reference", "network"))
    return 1 if hexe_failed else 0


if __name__ == "__main__":
    sys.exit(main())
