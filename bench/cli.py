"""How long a command-line call to a running session takes, next to tmux's and
``python3 -c pass`` (the interpreter's floor), measured round-robin in one run.

    python3 bench/cli.py [--rounds N]

A hexe session and a tmux session are started in private directories (a
private tmux socket), each with one shell; then ``hexe list-panes``,
``send-keys`` and ``capture-pane`` are timed against
``tmux list-panes``, ``send-keys`` and ``capture-pane -p``, from spawn to
exit. hexe is the ``hexe`` script installed beside this Python when there is
one (what a user types; ``python3 -m hexe`` is timed once more next to it),
else ``python3 -m hexe``. The goal (docs/performance.md): every hexe call within 2x of
``python3 -c pass``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mux import hexe_command  # noqa: E402


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-300:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("bench/cli.py: tmux is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hexe-bench-cli-") as scratch_dir:
        scratch = Path(scratch_dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEXE_", "TMUX"))}
        env.update(XDG_RUNTIME_DIR=str(scratch), XDG_STATE_HOME=str(scratch), HOME=str(scratch))
        outer = ["tmux", "-S", str(scratch / "outer.sock"), "-f", "/dev/null"]
        inner = ["tmux", "-S", str(scratch / "inner.sock"), "-f", "/dev/null"]
        module = [sys.executable, "-m", "hexe"]
        hexe = hexe_command()
        mux = " ".join([*hexe, "mux", "-s", "b"])
        subprocess.run([*outer, "new-session", "-d", "-x", "100", "-y", "30", mux],
                       env=env, check=True, cwd="/")  # fmt: skip
        subprocess.run([*inner, "new-session", "-d", "-x", "100", "-y", "30"],
                       env=env, check=True, cwd="/")  # fmt: skip
        deadline = time.monotonic() + 30
        while not (scratch / "hexe" / "b.sock").exists():
            if time.monotonic() > deadline:
                raise SystemExit("the hexe session did not start")
            time.sleep(0.05)
        variants = {
            "python3 -c pass": [sys.executable, "-c", "pass"],
            "hexe list-panes": [*hexe, "list-panes", "-s", "b"],
            **({"hexe list-panes (-m hexe)": [*module, "list-panes", "-s", "b"]}
               if hexe != module else {}),  # fmt: skip
            "hexe send-keys": [*hexe, "send-keys", "-s", "b", ""],
            "hexe capture-pane": [*hexe, "capture-pane", "-s", "b"],
            "tmux list-panes": [*inner, "list-panes"],
            "tmux send-keys": [*inner, "send-keys", ""],
            "tmux capture-pane": [*inner, "capture-pane", "-p"],
        }
        samples: dict[str, list[float]] = {k: [] for k in variants}
        try:
            for _ in range(args.rounds + 1):  # the first round warms up
                for name, argv in variants.items():
                    samples[name].append(timed(argv, env))
        finally:
            subprocess.run([*hexe, "kill", "b"], env=env, cwd="/", capture_output=True)
            subprocess.run([*outer, "kill-server"], env=env, capture_output=True)
            subprocess.run([*inner, "kill-server"], env=env, capture_output=True)
    medians = {k: statistics.median(v[1:]) * 1000 for k, v in samples.items()}
    floor = medians["python3 -c pass"]
    python = sys.version.split()[0]
    print(f"CLI calls to a running session, median of {args.rounds} (ms), Python {python}")
    print(f"hexe is {'the script ' + hexe[0] if hexe != module else 'python3 -m hexe'}")
    print(f"{'command':<26} {'ms':>8} {'/python -c pass':>16} {'/tmux':>8}")
    for name, ms in medians.items():
        verb = name.split(" ")[1] if name.startswith("hexe") else ""
        tmux = medians.get(f"tmux {verb}") if verb else None
        ratio_tmux = f"{ms / tmux:.1f}x" if tmux else ""
        print(f"{name:<26} {ms:8.1f} {ms / floor:15.2f}x {ratio_tmux:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
