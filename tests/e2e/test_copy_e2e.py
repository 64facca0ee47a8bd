"""Copy mode, mouse selections and OSC 52 end to end, with tmux as the outer terminal.

The outer tmux runs with ``set-clipboard on``: an OSC 52 that reaches it
sets its buffer, which ``tmux show-buffer`` on the test's private socket
reads back. So "the outer clipboard got it" is checked on a real terminal.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys

import pytest
from support import wait_for
from support.mux import Mux, prompt_ready

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def send_hex(m: Mux, data: bytes) -> None:
    subprocess.run([*m.tmux, "send-keys", "-t", "0", "-H", *(f"{b:02x}" for b in data)], check=True)


def outer_clipboard(m: Mux) -> Mux:
    """The outer tmux keeps what an OSC 52 sets, in its buffer; one known value first."""
    subprocess.run([*m.tmux, "set", "-g", "set-clipboard", "on"], check=True)
    subprocess.run([*m.tmux, "set-buffer", "outer-unchanged"], check=True)
    return m


def outer_buffer(m: Mux) -> str:
    result = subprocess.run([*m.tmux, "show-buffer"], capture_output=True, text=True)
    return result.stdout


def where(m: Mux, text: str, *, skip: str = "") -> tuple[int, int]:
    """(x, y) of ``text`` on a line that does not hold ``skip`` (the command line)."""
    for y, line in enumerate(m.lines()):
        if text in line and not (skip and skip in line):
            return line.index(text), y
    raise AssertionError(f"{text!r} is not on the screen\n{m.screen()}")


def click(m: Mux, x: int, y: int, times: int = 1) -> None:
    """Press and release the left button; ``times`` clicks in one write, so a
    loaded machine cannot space them past the double-click interval."""
    send_hex(m, f"\x1b[<0;{x + 1};{y + 1}M\x1b[<0;{x + 1};{y + 1}m".encode() * times)


def osc52_command(text: str, end: str = r"\a") -> str:
    encoded = base64.b64encode(text.encode()).decode()
    return rf"printf '\033]52;c;{encoded}{end}'"


def test_double_click_copies_a_word_that_prefix_bracket_pastes(mux):
    m = outer_clipboard(mux())
    prompt_ready(m)
    m.type("echo alpha wordy$((1+1))x gamma")
    m.wait_for("alpha wordy2x gamma")
    x, y = where(m, "wordy2x", skip="echo")
    click(m, x + 2, y, times=2)
    m.wait_for("copied 7 characters")
    wait_for(lambda: outer_buffer(m) == "wordy2x", what="the word in the outer clipboard")
    assert "[0/" not in m.screen()  # the double click left no copy mode behind
    m.type("echo pasted-", enter=False)
    m.prefix("]")
    m.keys("Enter")
    m.wait_for("pasted-wordy2x\n")


def test_triple_click_copies_the_line(mux):
    m = outer_clipboard(mux())
    prompt_ready(m)
    m.type("echo whole $((2*21)) line")
    m.wait_for("whole 42 line\n")
    x, y = where(m, "whole 42 line", skip="echo")
    click(m, x + 7, y, times=3)
    m.wait_for("copied 13 characters")
    wait_for(lambda: outer_buffer(m) == "whole 42 line", what="the line in the outer clipboard")


def test_drag_selects_and_copies_on_release(mux):
    m = outer_clipboard(mux())
    prompt_ready(m)
    m.type("echo one drag$((3*3))me two")
    m.wait_for("one drag9me two")
    x, y = where(m, "drag9me", skip="echo")
    send_hex(m, f"\x1b[<0;{x + 1};{y + 1}M".encode())
    send_hex(m, f"\x1b[<32;{x + 4};{y + 1}M".encode())
    send_hex(m, f"\x1b[<32;{x + 7};{y + 1}M".encode())
    send_hex(m, f"\x1b[<0;{x + 7};{y + 1}m".encode())
    m.wait_for("copied 7 characters")
    wait_for(lambda: outer_buffer(m) == "drag9me", what="the selection in the outer clipboard")


def test_osc52_from_a_program_sets_the_outer_clipboard(mux):
    m = outer_clipboard(mux())
    prompt_ready(m)
    m.type(osc52_command("from-the-pane-42"))
    wait_for(lambda: outer_buffer(m) == "from-the-pane-42", what="the outer tmux's buffer")


def test_osc52_larger_than_the_parsers_pending_limit_arrives_whole(mux, tmp_path):
    m = outer_clipboard(mux())
    prompt_ready(m)
    text = "".join(f"{i:06d}" for i in range(20_000))  # 120 KB: 160 KB of base64
    script = tmp_path / "big.sh"
    script.write_text(osc52_command(text) + "\n")
    m.type(f"sh {script}")
    wait_for(lambda: outer_buffer(m) == text, what="the whole text in the outer buffer")


def test_osc52_from_a_full_profile_pane_is_refused(mux):
    m = outer_clipboard(mux('hexe.defaults { profile = "full" }'))
    prompt_ready(m)
    m.type(osc52_command("from-the-box"))
    m.wait_for('clipboard write (clipboard = "deny") was refused')
    m.type("echo after-$((6*7))")
    m.wait_for("after-42\n")  # the server went on; the request was long handled
    assert outer_buffer(m) == "outer-unchanged"


def test_a_full_pane_with_clipboard_write_may_set_it(mux):
    m = outer_clipboard(mux('hexe.defaults { profile = "full", clipboard = "write" }'))
    prompt_ready(m)
    m.type(osc52_command("allowed-box"))
    wait_for(lambda: outer_buffer(m) == "allowed-box", what="the outer tmux's buffer")


def test_an_osc52_read_request_gets_no_answer(mux, tmp_path):
    """The probe asks for the clipboard, then for the device attributes (DA1),
    which hexe answers: answers come in order, so whatever came before the
    DA1 answer is what the clipboard query got."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os, sys, termios, tty\n"
        "fd = sys.stdin.fileno()\n"
        "old = termios.tcgetattr(fd)\n"
        "tty.setraw(fd)\n"
        "os.write(1, b'\\x1b]52;c;?\\x07\\x1b[c')\n"
        "got = b''\n"
        "while not (got.endswith(b'c') and b'\\x1b[?' in got):\n"
        "    got += os.read(fd, 100)\n"
        "termios.tcsetattr(fd, termios.TCSADRAIN, old)\n"
        "print('\\r\\nreply-before-da1:', repr(got[: got.index(b'\\x1b[?')]))\n"
    )
    m = outer_clipboard(mux())
    prompt_ready(m)
    m.type(f"{sys.executable} {probe}")
    screen = m.wait_for("reply-before-da1:")
    assert "reply-before-da1: b''" in screen
    m.wait_for("a program asked to read the clipboard was refused")
    assert outer_buffer(m) == "outer-unchanged"


def test_a_backtracking_search_is_cut_short_and_the_server_keeps_echoing(mux):
    m = mux()
    prompt_ready(m)
    m.type("yes " + "x" * 110 + "! | head -300")
    m.wait_for("x!\n")
    m.prefix("[")
    m.wait_for(lambda s: re.search(r"\[0/\d+\]", s), what="copy mode")
    m.keys("/")
    m.wait_for("search:")
    m.type("(x+x+)+y", enter=True)
    m.wait_for("search: stopped early")
    m.keys("q")
    m.type("echo still-$((40+2))")
    m.wait_for("still-42\n")


def test_copy_pipe_sends_the_selection_to_a_command(mux, tmp_path):
    out = tmp_path / "piped.txt"
    m = mux()
    prompt_ready(m)
    m.type("echo pipe$((2*4))me")
    m.wait_for("pipe8me\n")
    m.prefix("[")
    m.wait_for(lambda s: re.search(r"\[0/\d+\]", s), what="copy mode")
    m.keys("?")
    m.wait_for("search back:")
    m.type("pipe8me", enter=True)
    m.keys("v", "e")
    result = m.hexe("copy-pipe", f"cat > {out}")
    assert result.returncode == 0, result.stderr
    wait_for(lambda: out.exists() and out.read_text() == "pipe8me", what="the piped text")


def test_set_clipboard_off_keeps_programs_from_the_outer_clipboard(mux):
    m = outer_clipboard(mux("hexe.options { set_clipboard = false }"))
    prompt_ready(m)
    m.type(osc52_command("not-forwarded") + "; echo after-$((6*7))")
    m.wait_for("after-42\n")  # the OSC 52 came first, in the same output
    m.type("echo again-$((6*7))")
    m.wait_for("again-42\n")
    assert outer_buffer(m) == "outer-unchanged"


def test_the_wheel_enters_copy_mode_and_leaves_it_at_the_bottom(mux):
    m = mux()
    prompt_ready(m)
    m.type("for i in $(seq 1 60); do echo wheel-$i; done")
    m.wait_for("wheel-60\n")
    send_hex(m, b"\x1b[<64;10;10M")
    send_hex(m, b"\x1b[<64;10;10M")
    m.wait_for(lambda s: re.search(r"\[6/\d+\]", s), what="scrolled 6 lines")
    send_hex(m, b"\x1b[<65;10;10M")
    m.wait_for(lambda s: re.search(r"\[3/\d+\]", s), what="back 3 lines")
    send_hex(m, b"\x1b[<65;10;10M")
    m.wait_for(lambda s: not re.search(r"\[\d+/\d+\]", s), what="copy mode left")
    m.type("echo typed-$((2+2))")
    m.wait_for("typed-4\n")  # keys reach the shell again


def test_a_click_in_copy_mode_moves_its_cursor_there(mux):
    m = mux()
    prompt_ready(m)
    m.type("echo target-$((3+4))-here")
    m.wait_for("target-7-here\n")
    x, y = where(m, "target-7-here", skip="echo")
    m.prefix("[")
    m.wait_for(lambda s: re.search(r"\[0/\d+\]", s), what="copy mode")
    click(m, x + 7, y)
    wait_for(lambda: m.cursor() == (x + 7, y), what="the cursor under the click")
    m.keys("v", "$", "y")
    m.wait_for("copied 6 characters")  # "7-here": from the click to the end of the line


def test_copy_pipe_is_refused_from_inside_a_sandboxed_pane(mux, tmp_path):
    """copy-pipe runs a command on the host, outside any sandbox: a sandboxed
    pane may not ask for it, even on itself while it has a selection."""
    out, go, done = tmp_path / "from-the-box", tmp_path / "go", tmp_path / "rc"
    m = mux('hexe.defaults { profile = "default" }\n')
    prompt_ready(m)
    m.type(
        f"(while [ ! -e {go} ]; do sleep 0.05; done; "
        f"{sys.executable} -m hexe copy-pipe 'touch {out}' 2>&1; echo $? > {done}) &"
    )
    prompt_ready(m, 2)
    m.prefix("[")
    m.wait_for(lambda s: re.search(r"\[0/\d+\]", s), what="copy mode")
    m.keys("v", "l")  # a selection, held while the pane asks
    go.touch()
    wait_for(lambda: done.exists() and done.read_text().strip(), what="copy-pipe's exit")
    assert done.read_text().strip() == "1"
    m.keys("q")
    m.wait_for("copy-pipe is refused from inside pane 1")
    assert not out.exists()
