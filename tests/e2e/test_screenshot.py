"""The README's screenshot script drives a real session and draws what it shows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kernel]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot.py"


@pytest.mark.skipif(not shutil.which("tmux"), reason="the script uses tmux as the terminal")
def test_screenshot_shows_both_panes_and_the_status_line(tmp_path):
    out = tmp_path / "shot.svg"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    svg = out.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for seen in ("hello from", "LOWER_UP", "[main]", "full 512M/100p"):
        assert seen in svg, seen
