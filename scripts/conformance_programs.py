"""Record real programs' output for the conformance suite (``programs.json``).

Each program runs on a PTY of a fixed size (``TERM=xterm-256color``) in a
scratch directory, driven by keys sent when its output has been quiet for a
moment; every byte it writes is kept, and it is killed after its last key
(full-screen programs are recorded while still showing their screen). Then
the bytes are played into tmux (``conformance_record.tmux_screens``) and its
screen is stored beside them.
Fixtures stay small: sizes of 40x12 and short files.

    python3 scripts/conformance_record.py --programs
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from conformance_record import FIXTURES, ROOT, tmux_screens, tmux_version

sys.path.insert(0, str(ROOT))
from hexe.terminal import PaneScreen  # noqa: E402

COLS, ROWS = 40, 12

CURSES_MENU = r"""
import curses
def main(w):
    curses.start_color(); curses.use_default_colors()
    curses.init_pair(1, curses.COLOR_BLACK, curses.COLOR_CYAN)
    items = ["Open", "Save", "Quit"]
    for k in range(2):
        w.erase(); w.box(); w.addstr(0, 2, " Menu ", curses.A_BOLD)
        for i, item in enumerate(items):
            w.addstr(2 + i, 4, item, curses.color_pair(1) if i == k else curses.A_NORMAL)
        w.refresh(); w.getch()
curses.wrapper(main)
"""

PROGRESS = r"""
import sys
for i in range(0, 101, 10):
    sys.stdout.write("\r[" + "#" * (i // 5) + "." * (20 - i // 5) + f"] {i:3d}%")
    sys.stdout.flush()
sys.stdout.write("\r\ndone\r\n")
"""


def _setup(scratch: Path) -> None:
    (scratch / "notes.txt").write_text(
        "".join(f"line {i:03d} of the notes file\n" for i in range(60))
    )
    for name in ("日本語.txt", "données.md", "emoji-😀.txt", "plain.txt", "漢字ディレクトリ"):
        (scratch / "files" / name).parent.mkdir(exist_ok=True)
        if "." in name:
            (scratch / "files" / name).write_text("x\n")
        else:
            (scratch / "files" / name).mkdir()
    git = ["git", "-C", str(scratch / "repo"), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(scratch / "repo")], check=True)
    for i in range(4):
        (scratch / "repo" / f"f{i}").write_text(str(i))
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-qm", f"commit {i}"], check=True)
        if i == 1:
            subprocess.run([*git, "checkout", "-qb", "side"], check=True)
        if i == 2:
            subprocess.run([*git, "checkout", "-q", "master"], check=True)
    subprocess.run([*git, "merge", "-q", "--no-edit", "side"], check=True)


PROGRAMS: dict[str, tuple[list[str], list[bytes]]] = {
    "ls --color": (["ls", "--color=always", "-F", "/usr/lib/python3.11/json"], []),
    "wide-character file listing": (["ls", "-1", "--color=always", "files"], []),
    "git log --graph --color": (
        ["git", "-C", "repo", "log", "--graph", "--color=always", "--oneline", "--all"],
        [],
    ),
    "CR progress bar": (["python3", "-c", PROGRESS], []),
    "curses menu": (["python3", "-c", CURSES_MENU], [b"j"]),
    "less": (["less", "notes.txt"], [b" ", b"/of the\r"]),
    "vim editing and scrolling": (
        ["vim", "-u", "NONE", "-N", "-i", "NONE", "notes.txt"],
        [b"10Gdd", "Oinserted 日本 line\x1b".encode(), b"\x06", b"G"],
    ),
    "top": (["top", "-b", "-n", "1", "-w", "40"], []),
}


#: vttest menus whose screens can be checked as text: each screen (up to
#: "Push <RETURN>") becomes a fixture, the bytes up to it fed at 80x24.
VTTEST_MENUS = {"1": 6, "2": 14, "3": 3, "8": 9, "9": 6}


def _run_vttest(menu: str, screens: int, cwd: Path) -> tuple[bytes, list[int]]:
    """vttest's menu ``menu``: its output, and where each of its first
    ``screens`` screens is complete (the offset before the key that leaves it)."""
    ends: list[int] = []
    keys = [f"{menu}\r".encode()] + [b"\r"] * screens
    out = _run(["vttest"], keys, cwd, 80, 24, ends, answer=True)
    return out, ends[1:]


def _run(
    argv: list[str],
    keys: list[bytes],
    cwd: Path,
    cols: int = COLS,
    rows: int = ROWS,
    ends: list[int] | None = None,
    answer: bool = False,
) -> bytes:
    """The program's output; ``ends`` gets the offset before each key;
    ``answer``: its queries (DA, DSR) are answered by a hexe pane screen, as
    vttest needs (else it takes the first key for the answer)."""
    screen = PaneScreen(cols, rows) if answer else None
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        env.pop("TMUX", None)
        env["COLUMNS"], env["LINES"] = str(cols), str(rows)
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    out = bytearray()
    pending = list(keys)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.4)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if screen is not None:
                screen.feed(chunk)
                reply = screen.take_responses()
                if reply:
                    os.write(fd, reply)
        elif pending:
            if ends is not None:
                ends.append(len(out))
            os.write(fd, pending.pop(0))
        elif not keys:
            continue
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return bytes(out)


def record_programs() -> None:
    with tempfile.TemporaryDirectory(prefix="hexe-programs-") as scratch:
        root = Path(scratch)
        _setup(root)
        recorded = {name: _run(argv, keys, root) for name, (argv, keys) in PROGRAMS.items()}
        vttest = {menu: _run_vttest(menu, count, root) for menu, count in VTTEST_MENUS.items()}
    sizes = {name: (COLS, ROWS) for name in recorded}
    cut = {}
    for menu, (data, ends) in vttest.items():
        for i, end in enumerate(ends):
            name = f"vttest {menu}.{i + 1}"
            cut[name] = (menu, end)
            recorded[name] = data[:end]
            sizes[name] = (80, 24)
    screens = tmux_screens({name: (data, *sizes[name]) for name, data in recorded.items()})
    fixtures = {}
    for name, data in recorded.items():
        fixture = {"size": list(sizes[name])}
        if name in cut:  # a prefix of one recording of its menu
            fixture["run"], fixture["end"] = cut[name]
        else:
            fixture["hex"] = data.hex()
        fixture["lines"], fixture["cursor"] = screens[name]["lines"], screens[name]["cursor"]
        fixtures[name] = fixture
    document = {
        "tmux": tmux_version(),
        "runs": {f"{menu}": data.hex() for menu, (data, _) in vttest.items()},
        "programs": fixtures,
    }
    (FIXTURES / "programs.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    )
    for name, data in recorded.items():
        print(f"{name}: {len(data)} bytes")
