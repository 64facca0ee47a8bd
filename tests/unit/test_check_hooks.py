"""The core names no plugin's settings in ``config check`` and ``hexe run``'s
exit message (issue 14): a third-party plugin answers the same hooks the
built-ins do, and the core uses its answers.

- ``hexe_sandbox_files``: how a path inside the sandbox maps to the host;
  the core looks up a pane's ``cwd`` and command through it.
- ``hexe_check_pane``: a plugin's own problems for a pane (voidbox's binds
  and masks; here, a pane named ``forbidden``).
- ``hexe_explain_exit``: why a command ended (cgroups: its memory limit).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import clean_env, hexe, plugin_site

PLUGIN = '''
"""A third-party plugin: /srv/hexe-seen inside its sandboxes is {root} on the host."""

import os

from hexe import hookimpl

INSIDE = "/srv/hexe-seen"
ROOT = {root!r}


class View:
    def host_path(self, path):
        path = os.path.normpath(path)
        if path == INSIDE or path.startswith(INSIDE + "/"):
            return os.path.join(ROOT, os.path.relpath(path, INSIDE))
        return path


@hookimpl
def hexe_sandbox_files(isolation):
    return View() if os.environ.get("SEEN_MAP") else None


@hookimpl
def hexe_check_pane(pane, isolation):
    if pane.name == "forbidden":
        return [f"{{pane.where}}: {{pane.path}}: the seen plugin forbids this pane"]
    return None


@hookimpl
def hexe_explain_exit(spawn, code):
    if code == 7:
        profile = spawn.plan.isolation.profile
        return f"the seen plugin explains exit {{code}} under profile {{profile}}"
    return None
'''


@pytest.fixture
def seen_env(tmp_path: Path) -> dict[str, str]:
    root = tmp_path / "root"
    root.mkdir()
    tool = root / "tool"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    source = PLUGIN.format(root=str(root))
    site = plugin_site(tmp_path, "hexe_seen", source, "seen", "hexe-seen")
    return clean_env(PYTHONPATH=f"{site}:{clean_env().get('PYTHONPATH', '')}", SHELL="/bin/sh")


def _check(tmp_path: Path, lua: str, env: dict[str, str]) -> tuple[int, str]:
    config = tmp_path / "init.lua"
    config.write_text(textwrap.dedent(lua))
    result = hexe("config", "check", str(config), env=env)
    return result.returncode, result.stderr


LAYOUT = """\
hexe.layout { hexe.tab { hexe.pane {
  command = { "/srv/hexe-seen/tool" }, cwd = "/srv/hexe-seen",
  isolation = { profile = "none" } } } }
"""


def test_config_check_maps_paths_through_the_plugin_that_answers(seen_env, tmp_path):
    code, err = _check(tmp_path, LAYOUT, {**seen_env, "SEEN_MAP": "1"})
    assert code == 0, err
    # no plugin answers: the host's file system, where neither exists
    code, err = _check(tmp_path, LAYOUT, seen_env)
    assert code == 1
    assert "panes[0].cwd=/srv/hexe-seen does not exist" in err, err
    assert "/srv/hexe-seen/tool does not exist; the pane would fail with exit 127" in err, err
    # the plugin disabled: its hooks are not called
    env = {**seen_env, "SEEN_MAP": "1", "HEXE_DISABLE_PLUGINS": "seen"}
    assert _check(tmp_path, LAYOUT, env)[0] == 1


def test_a_missing_program_is_said_to_be_missing_inside_the_sandbox(seen_env, tmp_path):
    lua = LAYOUT.replace("/tool", "/other")
    code, err = _check(tmp_path, lua, {**seen_env, "SEEN_MAP": "1"})
    assert code == 1
    assert "/srv/hexe-seen/other does not exist inside the sandbox" in err, err


def test_config_check_reports_a_plugins_own_problems(seen_env, tmp_path):
    lua = 'hexe.layout { hexe.tab { hexe.pane { name = "forbidden", command = "true" } } }\n'
    code, err = _check(tmp_path, lua, seen_env)
    assert code == 1
    assert err.splitlines()[-1].endswith(
        "init.lua:1: tabs[0].panes[0]: the seen plugin forbids this pane"
    ), err
    assert _check(tmp_path, lua.replace("forbidden", "allowed"), seen_env)[0] == 0


def test_hexe_run_prints_the_plugins_explanation_of_the_exit(seen_env):
    argv = ("run", "--profile", "none", "--", "sh", "-c", "exit 7")
    result = hexe(*argv, env=seen_env)
    assert result.returncode == 7
    assert "hexe: the seen plugin explains exit 7 under profile none\n" in result.stderr
    other = hexe("run", "--profile", "none", "--", "sh", "-c", "exit 6", env=seen_env)
    assert other.returncode == 6 and "seen plugin" not in other.stderr
