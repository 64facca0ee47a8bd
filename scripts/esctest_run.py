"""Run esctest2 (Dickey and Nachman's automatic xterm conformance suite) against
hexe's pane screen.

esctest writes control sequences and reads the screen back through queries
(DECRQCRA checksums, DSR, window reports), so it needs a terminal that
answers them. Here that terminal is a :class:`hexe.terminal.PaneScreen` of
80x25 with DECRQCRA answers switched on (they are off in hexe's panes): the
suite runs on a PTY, its output is fed to the screen and the screen's
answers are written back, as a pane's would be. The multiplexer around the
screen adds nothing esctest can see.

    python3 scripts/esctest_run.py ESCTEST_DIR [--include REGEX] [--summary FILE]

ESCTEST_DIR is a checkout of https://github.com/ThomasDickey/esctest2 (its
``esctest`` directory is run). The summary lists passes, failures and the
failures esctest itself marks as known xterm bugs.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hexe.terminal import PaneScreen  # noqa: E402


def run(esctest: Path, include: str, log: Path, timeout: float) -> str:
    screen = PaneScreen(80, 25, answer_checksums=True)
    argv = [
        sys.executable, str(esctest / "esctest.py"), "--expected-terminal=xterm",
        "--xterm-checksum=400", f"--include={include}", f"--logfile={log}",
        f"--timeout={timeout}", "--no-print-logs", "--max-vt-level=5",
    ]  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(esctest)
        os.execv(sys.executable, argv)
    output = bytearray()
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        output += data[-4096:]
        screen.feed(data)
        answer = screen.take_responses()
        if answer:
            os.write(fd, answer)
    os.waitpid(pid, 0)
    return log.read_text(errors="replace") if log.exists() else output.decode(errors="replace")


def summarize(text: str) -> dict[str, list[str]]:
    """Test names by outcome, from esctest's log."""
    outcome: dict[str, list[str]] = {"passed": [], "failed": [], "known": [], "skipped": []}
    current = None
    for line in text.splitlines():
        started = re.search(r"Run test: (\S+)", line)
        if started:
            current = started[1]
        elif current and "Passed." in line:
            outcome["passed"].append(current)
            current = None
        elif current and "Fails as expected" in line:
            outcome["known"].append(current)
            current = None
        elif current and "Skipped because" in line:
            outcome["skipped"].append(current)
            current = None
        elif current and "FAILED" in line:
            outcome["failed"].append(current)
            current = None
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("esctest", type=Path, help="a checkout of esctest2")
    parser.add_argument("--include", default=".*", help="regex of test names")
    parser.add_argument("--timeout", type=float, default=0.2, help="esctest's read timeout")
    parser.add_argument("--summary", type=Path, help="write the outcome per test here")
    args = parser.parse_args()
    esctest = args.esctest / "esctest" if (args.esctest / "esctest").is_dir() else args.esctest
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"esctest-{os.getpid()}.log"
    started = time.monotonic()
    try:
        text = run(esctest, args.include, log, args.timeout)
    finally:
        log.unlink(missing_ok=True)
    outcome = summarize(text)
    lines = [f"{k}: {len(v)}" for k, v in outcome.items()]
    lines.append(f"seconds: {time.monotonic() - started:.0f}")
    for key in ("failed", "known", "passed"):
        lines += [f"{key} {name}" for name in outcome[key]]
    report = "\n".join(lines) + "\n"
    if args.summary:
        args.summary.write_text(report)
    print(report, end="")


if __name__ == "__main__":
    main()
