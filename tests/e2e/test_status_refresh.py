"""The status line, kept between frames, still shows every change in a real session.

The render plugin draws the status line again only when what it is made of
changed (``plugins/hexe_render``: the view's fields, the clock's minute; a
plugin's or a Lua function's segment is asked again on every frame but a
key's echo). Each test changes one thing in a live session — the focused
pane's title, the tab list, the focused pane's isolation, a plugin's
segment, the clock's minute — while keys are typed (echo frames), and waits
for the status line of the client's terminal (tmux) to show it.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time

import pytest
from support import plugin_site, wait_for
from support.mux import Mux, ok, prompt_ready

pytestmark = pytest.mark.e2e

NONE_CONFIG = 'hexe.defaults { profile = "none" }\n'


def status(m: Mux) -> str:
    return m.screen().rstrip("\n").split("\n")[-1]


def _typed(m: Mux, text: str) -> None:
    """Keys typed at the prompt, one echo frame each, then erased (C-u)."""
    for ch in text:
        m.type(ch, enter=False)
    m.keys("C-u")


def test_a_title_set_by_the_program_shows_on_the_status_line(mux):
    m = mux(NONE_CONFIG + 'hexe.status { left = { "session", "tabs" }, right = { "title" } }\n')
    prompt_ready(m)
    ok(m.hexe("rename-tab", "-s", "t", "fixed"))  # the tab's name no longer follows the title
    m.wait_for(lambda s: "0:fixed*" in status(m), what="the tab's own name")
    _typed(m, "abc")
    m.type("printf '\\033]2;first-%s\\007' $((40+2))")
    m.wait_for(lambda s: '"first-42"' in status(m), what="the first title")
    _typed(m, "xyz")
    m.type("printf '\\033]2;second-%s\\007' $((40+3))")
    m.wait_for(lambda s: '"second-43"' in status(m), what="the second title")


def test_a_new_tab_and_a_renamed_one_show_on_the_status_line(mux):
    m = mux(NONE_CONFIG)
    prompt_ready(m)
    _typed(m, "abc")
    ok(m.hexe("new-tab", "-s", "t"))
    m.wait_for(lambda s: "1:sh*" in status(m), what="the second tab")
    prompt_ready(m)
    _typed(m, "def")
    ok(m.hexe("rename-tab", "-s", "t", "renamed"))
    m.wait_for(lambda s: "1:renamed*" in status(m), what="the renamed tab")
    _typed(m, "ghi")
    ok(m.hexe("select-tab", "-s", "t", "0"))
    m.wait_for(lambda s: "0:sh* 1:renamed " in status(m), what="the first tab shown again")


def test_the_focused_panes_isolation_shows_on_the_status_line(mux):
    m = mux(
        'hexe.status { left = { "session" }, right = { "isolation" } }\n'
        'hexe.layout { hexe.tab { hexe.split { direction = "right",'
        ' hexe.pane { isolation = { profile = "none" } },'
        ' hexe.pane { isolation = { profile = "default", pids = 77 } } } } }\n'
    )
    prompt_ready(m, 2)
    wait_for(lambda: "77" not in status(m), what="the first pane's (none) isolation")
    _typed(m, "abc")
    m.prefix("o")  # the next pane: default, with its pids limit
    m.wait_for(lambda s: "default" in status(m) and "77" in status(m), what="default's text")
    _typed(m, "abc")
    m.prefix("o")
    m.wait_for(lambda s: "default" not in status(m), what="none's text again")


SEGMENT_PLUGIN = textwrap.dedent(
    '''
    """A segment whose text is a file's content: changed from outside."""
    import os

    from hexe import hookimpl

    @hookimpl
    def hexe_status_segments():
        return ["weather"]

    @hookimpl
    def hexe_status_segment(name, view):
        if name != "weather":
            return None
        try:
            with open(os.environ["WEATHER_FILE"]) as f:
                return "weather:" + f.read().strip()
        except OSError:
            return "weather:?"
    '''
)


def test_a_plugins_segment_shows_its_new_text(mux, tmp_path, monkeypatch):
    site = plugin_site(tmp_path, "hexe_weather", SEGMENT_PLUGIN, "weather", "hexe-weather")
    weather = tmp_path / "weather.txt"
    weather.write_text("sunny")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.setenv("WEATHER_FILE", str(weather))
    m = mux(NONE_CONFIG + 'hexe.status { right = { "weather", "title" }, interval = 0.2 }\n')
    prompt_ready(m)
    m.wait_for(lambda s: "weather:sunny" in status(m), what="the plugin's first text")
    weather.write_text("rain")
    _typed(m, "abc")
    m.wait_for(lambda s: "weather:rain" in status(m), what="the plugin's new text")
    # while the session is idle too (the status line's interval)
    weather.write_text("snow")
    m.wait_for(lambda s: "weather:snow" in status(m), what="the text changed while idle")


@pytest.mark.slow
def test_the_clock_shows_the_new_minute(mux):
    m = mux(NONE_CONFIG + 'hexe.status { left = { "session" }, right = { "clock" } }\n')
    prompt_ready(m)
    _typed(m, "abc")  # the clock drawn in echo frames, and kept between them
    first = status(m).split()[-1]
    assert len(first) == 5 and first[2] == ":", status(m)  # HH:MM at the end of the line

    # the minute turns within 60 s; keys typed as it turns do not hold the old
    # one. Until its last two seconds nothing is done (a tmux call a poll for a
    # minute cost seconds of CPU in the suite)
    wait_for(lambda: time.time() % 60 >= 58, timeout=65, what="the minute's last seconds")

    def turned() -> bool:
        _typed(m, "z")
        return status(m).split()[-1] != first

    try:
        wait_for(turned, timeout=20, what="the clock's next minute")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {first!r} at {time.strftime('%H:%M:%S')}\n{_alive_or_not(m)}"
            f"\n--- screen ---\n{m.screen()}\n--- hexe log ---\n{m.log_tail(60)}"
        ) from None
    assert status(m).split()[-1] == _minute_now()


def _minute_now() -> str:
    """HH:MM from the precise clock: ``time.strftime`` given no time reads a
    coarse one that shows the old minute for a few ms after it turned."""
    return time.strftime("%H:%M", time.localtime(time.time()))


def _alive_or_not(m: Mux) -> str:
    """Whether the server still answers and echoes, and its state (a failure's clues)."""
    pid = m.server_pid()
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as f:
            state += " in " + f.read()
    except OSError as exc:
        state = str(exc)
    m.type("marker-typed", enter=False)
    try:
        m.wait_for("marker-typed", timeout=5)
        echo = "keys echo"
    except AssertionError:
        echo = "keys do not echo"
    answer = m.hexe("list-panes", "-s", m.session, timeout=10)
    subprocess.run([*m.tmux, "resize-window", "-t", "0", "-x", "119"], check=False)
    try:
        m.wait_for(lambda s: status(m).endswith(_minute_now()), timeout=5)
        redrawn = "a whole frame shows the new minute"
    except AssertionError:
        redrawn = "a whole frame still shows the old minute"
    return (
        f"server {pid}: {state}; {echo}; list-panes: {answer.returncode} "
        f"{answer.stderr.strip()}; {redrawn}"
    )
