"""The README's screenshot script drives a real session and draws what it shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support import clean_env, wait_for

pytestmark = [pytest.mark.kernel]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot.py"


@pytest.mark.skipif(not shutil.which("tmux"), reason="the script uses tmux as the terminal")
def test_screenshot_shows_both_panes_and_the_status_line(tmp_path):
    out = tmp_path / "shot.svg"
    # its session's directory in a scratch one of the test's own, short: the
    # session's sockets live below it, and a Unix socket path has at most 107
    # bytes (tmp_path under xdist is long)
    scratch = Path(tempfile.mkdtemp(prefix="hxs", dir="/tmp"))
    try:
        result = subprocess.run(
            [sys.executable, str(SCRIPT), str(out)],
            env=clean_env(TMPDIR=str(scratch)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        # and nothing of its session runs on: no server, no sandboxed pane
        wait_for(lambda: not _running_under(scratch), what=f"the processes of {scratch} to end")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    svg = out.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for seen in ("hello from", "LOWER_UP", "[main]", "full 512M/100p"):
        assert seen in svg, seen


def _running_under(base: Path) -> list[int]:
    """Processes whose XDG_RUNTIME_DIR lies under ``base``."""
    marker = f"XDG_RUNTIME_DIR={base}/".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if marker in environ:
            found.append(int(entry))
    return found
