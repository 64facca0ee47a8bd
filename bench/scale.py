#!/usr/bin/env python3
"""Scale: many panes in one session and many clients on one, hexe next to tmux in one run.

    python3 bench/scale.py              # 25 tabs x 10 panes, 20 clients, 30 s idle
    python3 bench/scale.py --quick      # 3 tabs x 3 panes, 3 clients, 3 s idle: every row runs
    python3 bench/scale.py --tabs 10 --panes 10 --clients 20 --idle 10

Rows (each hexe / tmux, measured side by side in this run):

- ``create``: seconds to open TABS x PANES panes through the command line
  (``hexe new-tab -P`` / ``split-down -t``, ``tmux new-window`` /
  ``split-window ; select-layout tiled`` as one command sequence), one call
  a pane after another, as a script would, each new tab shown on both
  sides; the command line's start is part of it, as it is for users
  (``--chain``: one call a tab, its commands joined by ``;``, both multiplexers;
  hexe splits the focused pane, the tab's newest);
- ``idle cpu``: CPU time (user + system) of the server and everything below it
  over IDLE seconds while nothing changes, as a % of one core;
- ``pss/pane``: memory of the whole tree (the server, each pane's sandbox
  init, each shell; PSS from ``smaps_rollup``) divided by the number of panes;
- ``echo idle``/``echo flood``: key-to-echo p50 in the focused pane with every
  other pane idle, then with 10 of them (in other tabs) printing as fast as
  they can;
- ``echo clients``: with CLIENTS clients attached to one session (all drained
  by a thread) and a pane beside the focused one printing a line every 10 ms,
  key-to-echo p50 in the first client.

hexe's panes use the default profile (each is a sandbox with its own PID 1)
unless ``--profile`` says otherwise; tmux isolates nothing. Everything it
starts is killed and its scratch directory removed at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mux as bench  # noqa: E402

FLOODERS = 10


@dataclass(frozen=True)
class Size:
    """How big a run is: TABS x PANES panes, CLIENTS clients, IDLE seconds, KEYS echoes."""

    tabs: int
    panes: int  # per tab
    clients: int
    idle: float
    keys: int
    profile: str = "default"  # hexe's, for every pane
    chain: bool = False  # each tab's panes opened by one call


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def pss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


class Cli:
    """The command line of one multiplexer's session: open panes, type into them."""

    def __init__(self, mux: bench.Mux) -> None:
        self.mux = mux
        self.env = mux.env_ if isinstance(mux, bench.Tmux) else mux.env()

    def run(self, *args: str) -> str:
        if isinstance(self.mux, bench.Tmux):
            argv = ["tmux", "-L", self.mux.socket, *args]
        else:
            argv = [*bench.hexe_command(), *args]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, cwd="/")
        if done.returncode:
            raise bench.BenchError(f"{' '.join(argv)}: {done.stderr.strip()[-300:]}")
        return done.stdout.strip()

    def new_tab(self) -> str:
        """A new tab (window), shown: hexe's ``new-tab`` shows it, so tmux's
        ``new-window`` does too (its ``-d`` would leave it undrawn)."""
        if isinstance(self.mux, bench.Tmux):
            return self.run("new-window", "-P", "-F", "#{pane_id}", "-t", "bench")
        return self.run("new-tab", "-s", "bench", "-P")

    def split(self, tab_pane: str) -> str:
        """``tab_pane`` split, in one call: tmux's split and its ``tiled``
        layout (else a tab of ten panes split from one runs out of room) are
        one command sequence, as hexe's split arranges its tab itself."""
        if isinstance(self.mux, bench.Tmux):
            return self.run("split-window", "-d", "-P", "-F", "#{pane_id}", "-t", tab_pane,
                            ";", "select-layout", "-t", tab_pane, "tiled")  # fmt: skip
        return self.run("split-down", "-s", "bench", "-t", tab_pane, "-P")

    def show_first(self, first: str) -> None:
        """Back to the first tab, its first pane focused (the new tabs were shown)."""
        if isinstance(self.mux, bench.Tmux):
            self.run("select-window", "-t", "bench:0", ";", "select-pane", "-t", first)
        else:
            self.run("select-pane", "-s", "bench", first)

    def tab_chained(self, index: int, splits: int) -> list[str]:
        """Tab ``index`` (made unless 0) and ``splits`` splits of it in one call:
        the commands joined by ``;`` (tmux's command sequence, hexe's too)."""
        words: list[str] = []
        if isinstance(self.mux, bench.Tmux):
            window = f"bench:{index}"
            if index:
                words += ["new-window", "-P", "-F", "#{pane_id}", "-t", window, ";"]
            for _ in range(splits):
                words += ["split-window", "-d", "-P", "-F", "#{pane_id}", "-t", window, ";"]
                words += ["select-layout", "-t", window, "tiled", ";"]
        else:
            if index:  # hexe's new-tab shows (focuses) the new tab
                words += ["new-tab", "-s", "bench", "-P", ";"]
            for _ in range(splits):  # the focused pane: the tab's newest
                words += ["split-down", "-s", "bench", "-P", ";"]
        return self.run(*words[:-1]).split()

    def type(self, pane: str, text: str) -> None:
        if isinstance(self.mux, bench.Tmux):
            self.run("send-keys", "-t", pane, text, "Enter")
        else:
            self.run("send-keys", "-s", "bench", "-t", pane, text, "Enter")


def open_mux(kind: str, scratch: Path, profile: str) -> bench.Mux:
    if kind == "hexe":
        # bench.Hexe writes `profile = "none"`; a later defaults call wins
        return bench._open("hexe", scratch, config=f'hexe.defaults {{ profile = "{profile}" }}\n')
    return bench._open("tmux", scratch)


def many_panes(kind: str, scratch: Path, args: Size, log: Callable[[str], None]) -> dict:
    """The create, idle CPU, PSS and echo (idle, flood: every sample) rows of ``kind``."""
    mux = open_mux(kind, scratch, args.profile)
    out: dict[str, float | list[float]] = {}
    try:
        cli = Cli(mux)
        first = "%0" if kind == "tmux" else "1"
        panes = [first]
        start = time.perf_counter()
        assert mux.term is not None
        for t in range(args.tabs):
            if args.chain:
                panes += cli.tab_chained(t, args.panes - 1)
                mux.term.drain()
                continue
            tab_first = first if t == 0 else cli.new_tab()
            if t:
                panes.append(tab_first)
            for _ in range(args.panes - 1):
                panes.append(cli.split(tab_first))
                # the attached client reads as a terminal would: a client that
                # reads nothing for 30 s is dropped (hexe's client_timeout)
                mux.term.drain()
            mux.term.drain()
        out["create"] = time.perf_counter() - start
        cli.show_first(first)
        log(f"{kind}: {len(panes)} panes in {out['create']:.1f} s")
        assert mux.term is not None
        # every pane's shell is up before measuring memory and idle CPU
        deadline = time.monotonic() + 120
        server = mux.server_pid()
        while True:
            shells = [p for p in tree(server) if _comm(p) == "sh"]
            if len(shells) >= len(panes) or time.monotonic() > deadline:
                break
            mux.term.drain(0.2)
        out["shells"] = len(shells)
        mux.term.drain(1.0)
        pids = tree(server)
        out["pss_kib"] = pss_kib(pids)
        out["server_pss_kib"] = pss_kib([server])
        out["shells_pss_kib"] = pss_kib([p for p in pids if _comm(p) == "sh"])
        out["processes"] = len(pids)
        before = cpu_ticks(pids)
        t0 = time.perf_counter()
        mux.term.drain(args.idle)
        ticks = cpu_ticks(tree(server)) - before
        out["idle_cpu_pct"] = 100.0 * ticks / os.sysconf("SC_CLK_TCK") / (time.perf_counter() - t0)
        rest = out["pss_kib"] - out["server_pss_kib"] - out["shells_pss_kib"]
        log(f"{kind}: PSS {out['pss_kib'] / 1024:.1f} MiB (server "
            f"{out['server_pss_kib'] / 1024:.1f}, shells {out['shells_pss_kib'] / 1024:.1f}, "
            f"the rest {rest / 1024:.1f}), idle CPU {out['idle_cpu_pct']:.2f}%")  # fmt: skip
        rnd = random.Random(7)
        out["echo_idle"] = bench._echo_samples(mux, args.keys, rnd)
        flood = scratch / "flood.sh"
        chunk = scratch / "flood.txt"
        stop = scratch / f"flood-{kind}.stop"
        chunk.write_bytes((b"0123456789 " * 18 + b"\n") * 512)
        flood.write_text(f'while [ ! -e "$1" ]; do cat {chunk}; done\n')
        flooders = [p for p in panes[args.panes :]][:FLOODERS]  # not in the focused tab
        for pane in flooders:
            cli.type(pane, f"sh {flood} {stop}")
        mux.term.drain(1.0)
        try:
            out["echo_flood"] = bench._echo_samples(mux, args.keys, rnd)
        finally:
            stop.touch()
        out["flooders"] = len(flooders)
        idle_ms, flood_ms = (statistics.median(out[k]) * 1e3 for k in ("echo_idle", "echo_flood"))
        log(f"{kind}: echo p50 idle {idle_ms:.2f} ms, {len(flooders)} flooding {flood_ms:.2f} ms")
        out["panes"] = len(panes)
    finally:
        mux.close()
    return out


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def many_clients(kind: str, scratch: Path, args: Size, log: Callable[[str], None]) -> list[float]:
    """Key-to-echo seconds (every sample) in the first of CLIENTS clients of ``kind``."""
    mux = open_mux(kind, scratch, args.profile)
    extra: list[bench.Terminal] = []
    stop = threading.Event()
    ticker = scratch / "ticker.sh"
    ticker.write_text("i=0; while :; do i=$((i+1)); echo line $i; sleep 0.01; done\n")
    try:
        cli = Cli(mux)
        first = "%0" if kind == "tmux" else "1"
        other = cli.split(first)
        if kind == "hexe":
            cli.run("select-pane", "-s", "bench", first)
        else:
            cli.run("select-pane", "-t", first)
        cli.type(other, f"sh {ticker}")
        attach = (
            ["tmux", "-L", mux.socket, "attach", "-t", "bench"]
            if isinstance(mux, bench.Tmux)
            else [*bench.hexe_command(), "attach", "bench"]
        )
        env = mux.env_ if isinstance(mux, bench.Tmux) else mux.env()
        if kind == "hexe":
            env["HEXE_CONFIG"] = str(mux.scratch / "init.lua")
        for _ in range(args.clients - 1):
            extra.append(bench.Terminal(attach, env, str(scratch)))

        def drain() -> None:
            while not stop.is_set():
                for term in extra:
                    try:
                        term.drain()
                    except bench.BenchError:
                        pass
                time.sleep(0.002)

        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        assert mux.term is not None
        mux.term.drain(1.5)
        samples = bench._echo_samples(mux, args.keys, random.Random(9))
        log(f"{kind}: {args.clients} clients, echo p50 {statistics.median(samples) * 1e3:.2f} ms")
        return samples
    finally:
        stop.set()
        for term in extra:
            term.close()
        mux.close()


#: the full run's size (the command line's defaults) and ``--quick``'s
FULL = {"tabs": 25, "panes": 10, "clients": 20, "idle": 30.0, "keys": 100}
QUICK = {"tabs": 3, "panes": 3, "clients": 3, "idle": 3.0, "keys": 10}


def measure(scratch: Path, size: Size, log: Callable[[str], None]) -> dict:
    """Every row, hexe then tmux: ``panes`` (create, idle CPU, PSS, the echo
    samples with the others idle and flooding) and ``clients`` (the echo samples
    with CLIENTS clients attached)."""
    kinds = ("hexe", "tmux")
    many = {kind: many_panes(kind, scratch, size, log) for kind in kinds}
    attached = {kind: many_clients(kind, scratch, size, log) for kind in kinds}
    return {"size": asdict(size), "panes": many, "clients": attached}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=FULL["tabs"])
    parser.add_argument("--panes", type=int, default=FULL["panes"], help="panes per tab")
    parser.add_argument("--clients", type=int, default=FULL["clients"])
    parser.add_argument(
        "--idle", type=float, default=FULL["idle"], help="seconds of idle CPU measured"
    )
    parser.add_argument("--keys", type=int, default=FULL["keys"], help="echo samples per row")
    parser.add_argument("--profile", default="default", help="hexe's profile for every pane")
    parser.add_argument(
        "--chain",
        action="store_true",
        help="open each tab's panes with one command-line call (commands joined by ';')",
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.tabs, args.panes, args.idle, args.keys = (
            QUICK[k] for k in ("tabs", "panes", "idle", "keys")
        )
        args.clients = min(args.clients, QUICK["clients"])
    if shutil.which("tmux") is None:
        print("bench/scale.py: tmux is not installed", file=sys.stderr)
        return 2

    def log(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    scratch = bench.scratch_dir()
    try:
        size = Size(args.tabs, args.panes, args.clients, args.idle, args.keys, args.profile,
                    args.chain)  # fmt: skip
        result = measure(scratch, size, log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    h, t = result["panes"]["hexe"], result["panes"]["tmux"]
    clients = result["clients"]
    n = h["panes"]
    print(f"scale: {args.tabs} tabs x {args.panes} panes = {n} panes, hexe profile "
          f"{args.profile}; {args.clients} clients; python {sys.version.split()[0]}")  # fmt: skip
    print(f"{'row':34} {'hexe':>10} {'tmux':>10} {'ratio':>10}")

    def row(name: str, hv: float, tv: float, unit: str, diff: bool = False) -> None:
        rel = f"{(hv - tv):+.2f} {unit}" if diff else f"{hv / tv:.2f}x" if tv else "-"
        print(f"{name:34} {hv:>10.2f} {tv:>10.2f} {rel:>10}")

    def p50_ms(samples: list[float]) -> float:
        return statistics.median(samples) * 1e3

    how = "one call a tab" if args.chain else "one call a pane"
    row(f"create {n} panes, {how} (s)", h["create"], t["create"], "s")
    row("idle CPU (% of a core)", h["idle_cpu_pct"], t["idle_cpu_pct"], "%", diff=True)
    row("PSS per pane, whole tree (MiB)", h["pss_kib"] / n / 1024, t["pss_kib"] / n / 1024, "MiB")
    row("echo p50, others idle (ms)", p50_ms(h["echo_idle"]), p50_ms(t["echo_idle"]), "ms",
        diff=True)  # fmt: skip
    row(f"echo p50, {h['flooders']} flooding (ms)", p50_ms(h["echo_flood"]),
        p50_ms(t["echo_flood"]), "ms", diff=True)  # fmt: skip
    row(f"echo p50, {args.clients} clients (ms)", p50_ms(clients["hexe"]),
        p50_ms(clients["tmux"]), "ms", diff=True)  # fmt: skip
    if h["shells"] < n:
        print(f"note: only {h['shells']} of hexe's {n} shells were running when measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
