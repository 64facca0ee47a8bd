"""A command that only talks to a session's server loads neither the plugins
nor the log (structlog, pyte): most of such a call's time was imports."""

from __future__ import annotations

import json
import subprocess
import sys

from support import clean_env

PROBE = """
import json, sys
from hexe.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ["structlog", "pyte", "hexe.plugin.manager", "hexe.spawn", "hexe.terminal", "lupa",
         "hexe.isolation", "hexe.policy"]
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def run(tmp_path, *args: str) -> dict:
    env = clean_env(XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
        cwd="/", timeout=60,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_session_commands_load_no_plugins_and_no_log(tmp_path):
    for args in (["ls"], ["list-panes", "-s", "nope"], ["capture-pane", "-s", "nope"],
                 ["send-keys", "-s", "nope", "x"]):  # fmt: skip
        seen = run(tmp_path, *args)
        assert seen["code"] == 1, (args, seen)  # no such session: a clear error, exit 1
        assert seen["loaded"] == [], (args, seen)


def test_a_command_that_needs_plugins_still_loads_them(tmp_path):
    seen = run(tmp_path, "plugins")
    assert seen["code"] == 0 and "hexe.plugin.manager" in seen["loaded"]


def test_a_parser_built_for_one_command_parses_it_as_the_whole_one():
    from hexe.cli import build_parser

    for argv in (["list-panes", "-s", "w", "--json"], ["capture-pane", "-t", "3", "-e", "-S", "-"],
                 ["swap-pane", "-U"], ["join-pane", "-t", "2", "1", "right"],
                 ["send-keys", "-t", "4", "ls", "Enter"], ["switchc", "-t", "other"]):  # fmt: skip
        whole = build_parser().parse_args(argv)
        one = build_parser(lean=True, only=argv[0]).parse_args(argv)
        assert vars(one) == vars(whole), argv


def test_attach_loads_no_plugins(tmp_path):
    """An attach joins a server that has its plugins: it loads none (~15 ms)."""
    seen = run(tmp_path, "attach", "nope")
    assert seen["code"] == 1, seen  # no such session
    assert "hexe.plugin.manager" not in seen["loaded"], seen
