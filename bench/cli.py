"""How long a command-line call to a running session takes, next to tmux's and
``python3 -c pass`` (the interpreter's floor), measured round-robin in one run.

    python3 bench/cli.py [--rounds N]

A hexe session and a tmux session are started in private directories (a
private tmux socket), each with two shells; then ``hexe ls``, ``list-panes``,
``send-keys ""``, ``capture-pane`` and an action, ``focus-next``, are timed
against ``tmux ls``, ``list-panes``, ``send-keys ""``, ``capture-pane -p`` and
``select-pane -t :.+``, from spawn to exit. hexe is the ``hexe`` script
installed beside this Python when there is one (what a user types; ``python3
-m hexe`` is timed once more next to it), else ``python3 -m hexe``. The goal
(docs/performance.md): every hexe call within 2x of ``python3 -c pass``.
``bench/run.py``'s ``cli`` rows are ``measure``'s.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mux import (  # noqa: E402
    PYTHON_PASS,
    BenchError,
    _kill_and_wait,
    hexe_command,
    scratch_env,
    timed,
)

#: hexe's commands (after ``hexe``), each with tmux's same one (after ``tmux -S SOCKET``)
COMMANDS = (
    (["ls"], ["ls"]),
    (["list-panes", "-s", "b"], ["list-panes"]),
    (["send-keys", "-s", "b", ""], ["send-keys", ""]),
    (["capture-pane", "-s", "b"], ["capture-pane", "-p"]),
    (["focus-next", "-s", "b"], ["select-pane", "-t", ":.+"]),
)
#: each hexe command's name, with the name of tmux's same command
PAIRS = {f"hexe {h[0]}": f"tmux {t[0]}" for h, t in COMMANDS}


def variants(hexe: list[str], tmux: list[str]) -> dict[str, list[str]]:
    """What is timed, by name: the floor, hexe's commands (and ``python3 -m hexe
    list-panes`` when hexe is a script), tmux's."""
    module = [sys.executable, "-m", "hexe"]
    out = {"python3 -c pass": PYTHON_PASS}
    for h, _ in COMMANDS:
        out[f"hexe {h[0]}"] = [*hexe, *h]
        if h[0] == "list-panes" and hexe != module:
            out["hexe list-panes (-m hexe)"] = [*module, *h]
    for _, t in COMMANDS:
        out[f"tmux {t[0]}"] = [*tmux, *t]
    return out


def _wait_for(path: Path, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} did not start")
        time.sleep(0.05)


def measure(scratch: Path, rounds: int, log: Callable[[str], None] = lambda _: None) -> dict:
    """Seconds of each call from spawn to exit: every variant once a round, one
    further along each round, the first round (a warm-up) dropped."""
    env = scratch_env(scratch)
    outer = ["tmux", "-S", str(scratch / "outer.sock"), "-f", "/dev/null"]
    inner = ["tmux", "-S", str(scratch / "inner.sock"), "-f", "/dev/null"]
    hexe = hexe_command()
    timing = variants(hexe, inner)
    samples: dict[str, list[float]] = {name: [] for name in timing}
    try:
        # hexe's session has a client: `hexe mux` in a detached tmux's pane
        mux = shlex.join([*hexe, "mux", "-s", "b"])
        subprocess.run([*outer, "new-session", "-d", "-x", "100", "-y", "30", mux],
                       env=env, check=True, cwd="/")  # fmt: skip
        subprocess.run([*inner, "new-session", "-d", "-x", "100", "-y", "30"],
                       env=env, check=True, cwd="/")  # fmt: skip
        _wait_for(scratch / "hexe" / "b.sock", "the hexe session")
        timed([*hexe, "split-down", "-s", "b"], env)  # two panes: focus-next moves
        timed([*inner, "split-window", "-d"], env)
        names = list(timing)
        for round_ in range(rounds + 1):
            turn = round_ % len(names)
            for name in names[turn:] + names[:turn]:
                took = timed(timing[name], env)
                if round_:
                    samples[name].append(took)
    finally:
        killed = subprocess.run([*hexe, "kill", "b"], env=env, cwd="/", capture_output=True)
        pid_file = scratch / "hexe" / "b.pid"
        if killed.returncode and pid_file.exists():  # the server does not answer: its pid
            _kill_and_wait(int(pid_file.read_text()))
        subprocess.run([*outer, "kill-server"], env=env, capture_output=True)
        subprocess.run([*inner, "kill-server"], env=env, capture_output=True)
    for name, values in samples.items():
        log(f"cli {name}: {statistics.median(values) * 1000:.1f} ms")
    return {
        "rounds": rounds,
        "hexe": shlex.join(hexe),
        "commands": {name: shlex.join(argv) for name, argv in timing.items()},
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("bench/cli.py: tmux is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hexe-bench-cli-") as scratch_dir:
        try:
            result = measure(Path(scratch_dir), args.rounds)
        except BenchError as exc:
            raise SystemExit(str(exc)) from None
    medians = {k: statistics.median(v) * 1000 for k, v in result["samples"].items()}
    floor = medians["python3 -c pass"]
    python = sys.version.split()[0]
    print(f"CLI calls to a running session, median of {args.rounds} (ms), Python {python}")
    hexe = hexe_command()
    print(f"hexe is {'the script ' + hexe[0] if len(hexe) == 1 else 'python3 -m hexe'}")
    print(f"{'command':<26} {'ms':>8} {'/python -c pass':>16} {'/tmux':>8}")
    for name, ms in medians.items():
        tmux = medians.get(PAIRS.get(name.removesuffix(" (-m hexe)"), ""))
        ratio_tmux = f"{ms / tmux:.1f}x" if tmux else ""
        print(f"{name:<26} {ms:8.1f} {ms / floor:15.2f}x {ratio_tmux:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
