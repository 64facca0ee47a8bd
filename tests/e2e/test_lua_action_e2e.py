"""``hexe.action`` end to end: a key function's actions reach a real pane."""

from __future__ import annotations

import shutil

import pytest
from support.mux import prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_a_key_function_splits_and_types_into_the_new_pane(mux):
    m = mux(
        'hexe.key("prefix g", function(ctx)\n'
        '  hexe.action("split-right")\n'
        '  hexe.action("send-keys", "echo acted-$((6*7))", "Enter")\n'
        "end)\n"
    )
    prompt_ready(m)
    m.prefix("g")
    screen = m.wait_for("acted-42")
    assert "│" in screen  # split, and the keys went to the new (focused) pane
    assert all(line.find("acted-42") > 55 for line in screen.splitlines() if "acted-42" in line)
