"""The core names no plugin's settings in ``config check`` and ``hexe run``'s
exit message (issue 14): a third-party plugin answers the hooks the built-ins
answer, and the core uses its answers. The plugin is the example of
docs/plugins.md (``# hexe_overlay.py``), installed as written:

- ``hexe_sandbox_files``: how a path inside the sandbox maps to the host;
  the core looks up a pane's ``cwd`` and command through it.
- ``hexe_check_pane``: a plugin's own problems for a pane (voidbox's binds
  and masks; here, an ``overlay`` that is not a directory).
- ``hexe_explain_exit``: why a command ended (cgroups: its memory limit;
  here, a SIGSYS).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from support import clean_env, hexe, plugin_site

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"


def overlay_source() -> str:
    (block,) = re.findall(r"```python\n(# hexe_overlay\.py\n.*?)```", DOC.read_text(), re.S)
    return block


@pytest.fixture
def overlay_env(tmp_path: Path) -> dict[str, str]:
    site = plugin_site(tmp_path, "hexe_overlay", overlay_source(), "overlay", "hexe-overlay")
    path = ":".join(p for p in (str(site), clean_env().get("PYTHONPATH", "")) if p)
    return clean_env(PYTHONPATH=path, SHELL="/bin/sh")


@pytest.fixture
def top(tmp_path: Path) -> Path:
    """The overlay: a host directory with a program and a directory in it,
    /srv/tool and /srv/hexe-sub inside."""
    top = tmp_path / "top"
    (top / "hexe-sub").mkdir(parents=True)
    tool = top / "tool"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    return top


def _check(tmp_path: Path, lua: str, env: dict[str, str]) -> tuple[int, str]:
    config = tmp_path / "init.lua"
    config.write_text(textwrap.dedent(lua))
    result = hexe("config", "check", str(config), env=env)
    return result.returncode, result.stderr


def _layout(command: str, overlay: Path | None) -> str:
    setting = f'overlay = "{overlay}", ' if overlay is not None else ""
    return (
        f'hexe.layout {{ hexe.tab {{ hexe.pane {{ command = {{ "{command}" }},'
        f' cwd = "/srv/hexe-sub", isolation = {{ {setting}profile = "none" }} }} }} }}\n'
    )


def test_config_check_maps_paths_through_the_plugin_that_answers(overlay_env, top, tmp_path):
    code, err = _check(tmp_path, _layout("/srv/tool", top), overlay_env)
    assert code == 0, err
    # no plugin answers (no overlay set): the host's /srv, where neither exists
    code, err = _check(tmp_path, _layout("/srv/tool", None), overlay_env)
    assert code == 1
    assert "tabs[0].panes[0].cwd=/srv/hexe-sub does not exist\n" in err, err
    assert "/srv/tool does not exist; the pane would fail with exit 127" in err, err
    assert "inside the sandbox" not in err


def test_a_missing_program_is_said_to_be_missing_inside_the_sandbox(overlay_env, top, tmp_path):
    code, err = _check(tmp_path, _layout("/srv/other", top), overlay_env)
    assert code == 1
    assert "tabs[0].panes[0].command: /srv/other does not exist inside the sandbox" in err, err
    assert "cwd" not in err  # /srv/hexe-sub is in the overlay


def test_config_check_reports_a_plugins_own_problems(overlay_env, tmp_path):
    missing = tmp_path / "missing"
    code, err = _check(tmp_path, _layout("/bin/true", missing), overlay_env)
    assert code == 1
    assert f"init.lua:1: overlay={missing} is not a directory" in err, err


def test_hexe_run_prints_the_plugins_explanation_of_the_exit(overlay_env):
    result = hexe("run", "--profile", "none", "--", "sh", "-c", "kill -SYS $$", env=overlay_env)
    assert result.returncode == 128 + 31
    explained = "hexe: the command was killed by its seccomp filter (SIGSYS)\n"
    assert explained in result.stderr, result.stderr
    other = hexe("run", "--profile", "none", "--", "sh", "-c", "kill -9 $$", env=overlay_env)
    assert other.returncode == 137 and "seccomp" not in other.stderr
