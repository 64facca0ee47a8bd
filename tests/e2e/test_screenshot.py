"""The README's screenshot script drives a real session and draws what it shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import clean_env, wait_for

pytestmark = [pytest.mark.kernel]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot.py"


@pytest.mark.skipif(not shutil.which("tmux"), reason="the script uses tmux as the terminal")
def test_screenshot_shows_both_panes_and_the_status_line(tmp_path):
    out = tmp_path / "shot.svg"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)],
        env=clean_env(TMPDIR=str(tmp_path)),  # its session's directory in the test's own
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # and nothing of its session runs on: no server, no sandboxed pane
    wait_for(lambda: not _running_under(tmp_path), what=f"the processes of {tmp_path} to end")
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
