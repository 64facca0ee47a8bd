"""Record what tmux draws for the terminal conformance cases.

Each case's bytes are written by ``cat`` into a pane of a private tmux server
(``tmux -L <socket> -f /dev/null``) of the case's size, with the pane's TTY
in raw mode (``stty raw -opost``: the bytes arrive as they are); then
``capture-pane -p -e`` and the cursor are read. The result goes to
``tests/support/conformance/tmux.json`` (synthetic cases) and
``tests/support/conformance/programs.json`` (real programs, see ``--programs``).

    python3 scripts/conformance_record.py              # the synthetic cases
    python3 scripts/conformance_record.py --programs   # the real programs instead

The test suite imports :func:`tmux_screens` to run a subset live.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "support" / "conformance"


def _tmux(socket: str, *args: str, check: bool = True, scratch: str = "") -> str:
    env = dict(os.environ, TMUX_TMPDIR=scratch) if scratch else None
    env.pop("TMUX", None) if env else None
    done = subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=30,
        env=env,
    )
    return done.stdout


def tmux_version() -> str | None:
    if shutil.which("tmux") is None:
        return None
    return subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()


def tmux_screens(cases: dict[str, tuple[bytes, int, int]], batch: int = 16) -> dict[str, dict]:
    """name -> {"lines": capture-pane -p -e rows, "cursor": [x, y]} for each case."""
    socket = f"hexe-conformance-{os.getpid()}-{time.monotonic_ns()}"
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hexe-conformance-") as scratch:
        env_dir = Path(scratch)
        names = list(cases)

        def tmux(*args: str, check: bool = True) -> str:
            return _tmux(socket, *args, check=check, scratch=scratch)

        try:
            # a session that outlives the cases': the server must not exit
            # (and race the next batch's new-session) when a batch is done
            tmux("new-session", "-d", "-s", "keep", "exec sleep 600")
            for start in range(0, len(names), batch):
                group = names[start : start + batch]
                for i, name in enumerate(group):
                    data, cols, rows = cases[name]
                    path = env_dir / f"{start + i}.bin"
                    path.write_bytes(data)
                    command = (
                        f"stty raw -echo -opost; cat {path}; "
                        f"tmux wait-for -S done{start + i}; exec sleep 600"
                    )
                    tmux(
                        "new-session",
                        "-d",
                        "-s",
                        f"c{start + i}",
                        "-x",
                        str(cols),
                        "-y",
                        str(rows),
                        command,
                    )
                for i, name in enumerate(group):
                    tmux("wait-for", f"done{start + i}")
                    target = f"c{start + i}:"
                    lines = tmux("capture-pane", "-p", "-e", "-t", target)
                    cursor = tmux("display", "-p", "-t", target, "#{cursor_x} #{cursor_y}").split()
                    out[name] = {
                        "lines": lines.split("\n")[: cases[name][2]],
                        "cursor": [int(cursor[0]), int(cursor[1])],
                    }
                    tmux("kill-session", "-t", f"c{start + i}")
        finally:
            tmux("kill-server", check=False)
    return out


_ANSWERS = r"""
import json, os, select, sys, tty
fd = sys.stdin.fileno()
tty.setraw(fd)
answers = {}
for query in json.load(open(sys.argv[1])):
    os.write(1, query.encode())
    ready, _, _ = select.select([fd], [], [], 1.0)
    answers[query] = os.read(fd, 256).decode() if ready else ""
json.dump(answers, open(sys.argv[2], "w"))
os.system("tmux wait-for -S answered")
"""


def tmux_answers(queries: list[str], cols: int = 80, rows: int = 24) -> dict[str, str]:
    """What tmux answers a program for each query ("" for no answer within a second)."""
    socket = f"hexe-conformance-{os.getpid()}-{time.monotonic_ns()}"
    with tempfile.TemporaryDirectory(prefix="hexe-conformance-") as scratch:
        root = Path(scratch)
        (root / "ask.py").write_text(_ANSWERS)
        (root / "queries.json").write_text(json.dumps(queries))
        command = (
            f"{sys.executable} {root / 'ask.py'} {root / 'queries.json'} {root / 'answers.json'};"
            " exec sleep 600"
        )
        try:
            _tmux(socket, "new-session", "-d", "-x", str(cols), "-y", str(rows), command,
                  scratch=scratch)  # fmt: skip
            _tmux(socket, "wait-for", "answered", scratch=scratch)
            return json.loads((root / "answers.json").read_text())
        finally:
            _tmux(socket, "kill-server", check=False, scratch=scratch)


def record_synthetic() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.conformance.cases import CASES

    cases = {name: (text.encode(), cols, rows) for name, (text, cols, rows) in CASES.items()}
    screens = tmux_screens(cases)
    document = {"tmux": tmux_version(), "cases": screens}
    (FIXTURES / "tmux.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(screens)} cases recorded from {document['tmux']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--programs", action="store_true", help="record the real programs (programs.json) instead"
    )
    args = parser.parse_args()
    if tmux_version() is None:
        sys.exit("conformance_record: tmux is not installed (apt-get install tmux)")
    if not args.programs:
        record_synthetic()
    else:
        from conformance_programs import record_programs

        record_programs()


if __name__ == "__main__":
    main()
