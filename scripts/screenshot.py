#!/usr/bin/env python3
"""Make docs/screenshot.svg from a real ``hexe mux`` session.

A private tmux server (its own socket, no config) is the outer terminal:
hexe runs inside it with a demo ``init.lua`` (a ``balanced`` pane next to a
``full`` one with limits), commands are typed into both panes, and the screen
is captured with its colours (``capture-pane -e``) and drawn as SVG text. Run
it again whenever the look changes; nothing outside a temporary directory is
touched.

    python3 scripts/screenshot.py [OUT.svg]
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLS, ROWS = 100, 12
CONFIG = """
hexe.options { shell = "/bin/sh" }
hexe.layout {
  hexe.tab { name = "code",
    hexe.split { direction = "right",
      hexe.pane { isolation = { profile = "balanced" } },
      hexe.pane { name = "untrusted", isolation = { profile = "full", memory = "512M", pids = 100 } },
    },
  },
  hexe.tab { name = "logs", hexe.pane { } },
}
"""
LEFT = "echo hello from $(hostname)"
RIGHT = "hostname; ls /proc | grep '^[0-9]' | xargs; ip -br link | awk '{print $1, $NF}'"

#: xterm's 16 colours
PALETTE = [
    "#000000",
    "#cd0000",
    "#00cd00",
    "#cdcd00",
    "#0000ee",
    "#cd00cd",
    "#00cdcd",
    "#e5e5e5",
    "#7f7f7f",
    "#ff0000",
    "#00ff00",
    "#ffff00",
    "#5c5cff",
    "#ff00ff",
    "#00ffff",
    "#ffffff",
]
FG, BG = "#d0d0d0", "#1c1c1c"


def colour256(n: int) -> str:
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (v, v, v)


def parse(line: str) -> list[tuple[str, dict]]:
    """Split one captured line into (text, style) runs."""
    runs: list[tuple[str, dict]] = []
    style: dict = {}
    for part in re.split(r"(\x1b\[[0-9;:]*m)", line):
        if not part.startswith("\x1b["):
            if part:
                runs.append((part, dict(style)))
            continue
        params = [int(p or 0) for p in re.split("[;:]", part[2:-1])] or [0]
        i = 0
        while i < len(params):
            p = params[i]
            if p == 0:
                style = {}
            elif p == 1:
                style["bold"] = True
            elif p == 7:
                style["reverse"] = True
            elif 30 <= p <= 37 or 90 <= p <= 97:
                style["fg"] = PALETTE[p - 30 if p < 90 else p - 82]
            elif 40 <= p <= 47 or 100 <= p <= 107:
                style["bg"] = PALETTE[p - 40 if p < 100 else p - 92]
            elif p in (38, 48) and i + 2 < len(params) and params[i + 1] == 5:
                style["fg" if p == 38 else "bg"] = colour256(params[i + 2])
                i += 2
            elif p in (38, 48) and i + 4 < len(params) and params[i + 1] == 2:
                style["fg" if p == 38 else "bg"] = "#%02x%02x%02x" % tuple(params[i + 2 : i + 5])
                i += 4
            elif p == 39:
                style.pop("fg", None)
            elif p == 49:
                style.pop("bg", None)
            i += 1
    return runs


def svg(lines: list[str]) -> str:
    cw, ch = 8.4, 17
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{COLS * cw + 20:.0f}" '
        f'height="{ROWS * ch + 20}" font-family="DejaVu Sans Mono, Menlo, monospace" '
        'font-size="14">',
        f'<rect width="100%" height="100%" rx="6" fill="{BG}"/>',
    ]
    for y, line in enumerate(lines[:ROWS]):
        x = 0
        for text, style in parse(line):
            fg, bg = style.get("fg", FG), style.get("bg")
            if style.get("reverse"):
                fg, bg = bg or BG, fg
            px, py = 10 + x * cw, 10 + y * ch
            if bg:
                out.append(
                    f'<rect x="{px:.1f}" y="{py}" width="{len(text) * cw:.1f}" height="{ch}" '
                    f'fill="{bg}"/>'
                )
            if text.strip():
                weight = ' font-weight="bold"' if style.get("bold") else ""
                out.append(
                    f'<text x="{px:.1f}" y="{py + 13}" fill="{fg}"{weight} '
                    f'xml:space="preserve">{html.escape(text)}</text>'
                )
            x += len(text)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    out = Path(
        sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "docs/screenshot.svg"
    )
    if not shutil.which("tmux"):
        print("screenshot: tmux is needed as the outer terminal", file=sys.stderr)
        return 1
    base = Path(tempfile.mkdtemp(prefix="hexe-shot-"))
    sock = base / "tmux.sock"
    tmux = ["tmux", "-S", str(sock), "-f", "/dev/null"]
    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(base / "run"),
        "XDG_STATE_HOME": str(base),
        "XDG_CONFIG_HOME": str(base),
        "HEXE_CONFIG": str(base / "init.lua"),
        "HOME": str(base),
        "PS1": "$ ",
        "ENV": "",
    }
    try:
        (base / "run").mkdir(mode=0o700)
        (base / "init.lua").write_text(CONFIG)
        command = f"{sys.executable} -m hexe mux --session main"
        subprocess.run(
            [*tmux, "new-session", "-d", "-x", str(COLS), "-y", str(ROWS), command],
            env=env,
            check=True,
            cwd="/",  # "/" is in every sandbox
        )

        def screen(escapes: bool = False) -> str:
            args = [*tmux, "capture-pane", "-p", "-t", "0"] + (["-e"] if escapes else [])
            return subprocess.run(args, capture_output=True, text=True).stdout

        def wait(text: str, seconds: float = 15) -> None:
            deadline = time.monotonic() + seconds
            while text not in screen():
                if time.monotonic() > deadline:
                    raise SystemExit(f"screenshot: {text!r} never appeared:\n{screen()}")
                time.sleep(0.05)

        def keys(*k: str) -> None:
            subprocess.run([*tmux, "send-keys", "-t", "0", *k], check=True)

        wait("[main]")
        keys("C-b", "Left")
        keys(LEFT, "Enter")
        wait("hello from")
        keys("C-b", "Right")
        keys(RIGHT, "Enter")
        wait("LOWER_UP>")
        out.write_text(svg(screen(escapes=True).split("\n")))
        print(out)
        return 0
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        # the session outlives its terminal (that is what hexe is for): end it
        # too, or its server and sandboxes run on with their sockets removed
        subprocess.run(
            [sys.executable, "-m", "hexe", "kill", "main"],
            env=env,
            capture_output=True,
            timeout=30,
            cwd="/",
        )
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
