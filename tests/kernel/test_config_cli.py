"""init.lua from the command line: ``hexe config check`` and ``hexe run`` honouring the config."""

from __future__ import annotations

import json
import re
import socket
import textwrap
import uuid
from pathlib import Path

import pytest
from support import clean_env, hexe, plugin_site

pytestmark = pytest.mark.kernel

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
HOST = socket.gethostname()


def test_config_check_prints_every_panes_effective_settings_and_their_layers():
    result = hexe("config", "check", str(CONFIGS / "layout.lua"), env=clean_env(SHELL="/bin/sh"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"config: {CONFIGS / 'layout.lua'}" in out
    assert 'tabs[0].panes[1] "untrusted"  (' in out
    block = out.split('"untrusted"')[1].split("tabs[0].panes[2]")[0]
    assert re.search(
        r"profile +full +pane \(.*layout.lua:19: tabs\[0\].panes\[1\].isolation.profile", block
    )
    assert re.search(r"memory +512M +pane \(", block)
    assert re.search(r"pids +100 +pane \(", block)
    namespaces = r"namespaces +user pid mount net uts ipc cgroup +from the profile \(full\)\n"
    assert re.search(namespaces, block)
    make = out.split('"make"')[1]
    assert re.search(r"memory +4G +pane, profile build \(", make)
    assert re.search(r"tmp_size +1G +pane, profile build \(", make)


def test_config_check_shows_the_environment_layer():
    env = clean_env(SHELL="/bin/sh", HEXE_CGROUP_PIDS_MAX="77")
    out = hexe("config", "check", str(CONFIGS / "layout.lua"), env=env).stdout
    editor = out.split('"editor"')[1].split("tabs[0].panes[1]")[0]
    assert re.search(r"pids +77 +environment \(HEXE_CGROUP_PIDS_MAX\)", editor)


def test_config_check_prints_every_error_and_exits_1():
    result = hexe("config", "check", str(CONFIGS / "errors.lua"))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 17
    assert all(line.startswith(f"config error: {CONFIGS / 'errors.lua'}:") for line in lines)
    assert result.stdout == ""


def test_config_check_json():
    result = hexe("config", "check", "--json", str(CONFIGS / "layout.lua"))
    report = json.loads(result.stdout)
    panes = [p for tab in report["tabs"] for p in tab["panes"]]
    assert [p["name"] for p in panes] == ["editor", "untrusted", "web", "make"]
    rows = {r["setting"]: r for r in panes[1]["isolation"]}
    assert rows["profile"]["value"] == "full" and rows["pids"]["value"] == "100"


def test_config_check_with_no_file_shows_the_builtin_defaults(tmp_path):
    result = hexe("config", "check", env=clean_env(XDG_CONFIG_HOME=str(tmp_path)))
    assert result.returncode == 0
    assert "config: none found; built-in defaults" in result.stdout
    assert re.search(r"profile +default +built-in", result.stdout)


def test_run_refuses_to_start_with_a_bad_config(tmp_path):
    marker = tmp_path / "ran"
    env = clean_env(HEXE_CONFIG=str(CONFIGS / "errors.lua"))
    result = hexe("run", "--", "touch", str(marker), env=env)
    assert result.returncode == 125
    assert result.stderr.startswith(f"hexe: config error: {CONFIGS / 'errors.lua'}:1: ")
    assert not marker.exists()


# -- the callback that boxes one pane in, honoured by real spawns ----------------------------


def run_pane(name: str, *extra: str, env: dict | None = None):
    return hexe(
        "--config", str(CONFIGS / "callback.lua"), "run", "--pane", name, *extra, env=clean_env(env)
    )


def test_callback_boxes_in_the_untrusted_pane_only():
    assert run_pane("untrusted").stdout.strip() == "hexe"
    assert run_pane("trusted").stdout.strip() == HOST


def test_callback_applies_to_hexe_run_commands_too():
    result = hexe("--config", str(CONFIGS / "callback.lua"), "run", "--", "hostname")
    assert result.stdout.strip() == "hexe"


def test_a_command_given_with_pane_replaces_the_panes_command():
    result = run_pane("untrusted", "--", "sh", "-c", "echo $$")
    assert result.stdout.strip() == "2"


def test_flags_beat_what_the_callback_set():
    assert run_pane("untrusted", "--profile", "none").stdout.strip() == HOST


def test_environment_does_not_beat_the_pane_layer():
    result = run_pane("untrusted", env={"HEXE_VOIDBOX_PROFILE": "none"})
    assert result.stdout.strip() == "hexe"


def test_pane_exit_callback_runs_after_hexe_run(tmp_path):
    log = tmp_path / "exit.log"
    result = run_pane("untrusted", "--", "sh", "-c", "exit 3", env={"HEXE_TEST_EXIT_LOG": str(log)})
    assert result.returncode == 3
    assert log.read_text() == "untrusted 3\n"


def test_unknown_pane_is_an_error_listing_the_panes():
    result = run_pane("nope")
    assert result.returncode == 125
    assert "--pane nope: no such pane; panes: trusted, untrusted" in result.stderr


# -- a plugin's Lua setting reaches its spawn hooks inside the sandbox ---------------------------

PLUGIN = textwrap.dedent(
    '''
    """Adds the isolation setting `stamp`: a file the child writes from inside the sandbox."""
    import os

    from hexe import hookimpl
    from hexe.errors import SettingError


    @hookimpl
    def hexe_config_api(api):
        def parse(label, value):
            if not isinstance(value, str) or not value.startswith("/var/tmp/"):
                raise SettingError(label, value, "use a path under /var/tmp/")
            return value

        api.add_setting("stamp", parse)
        api.add_function("stamp_dir", lambda: "/var/tmp")


    @hookimpl(trylast=True)
    def hexe_child_security(spawn):
        path = spawn.plan.extra.get("stamp")
        if path:
            with open(path, "w") as f:
                f.write(f"pid={os.getpid()} uid={os.getuid()}")
    '''
)


def test_a_plugin_setting_from_init_lua_reaches_the_child_phase(tmp_path):
    site = plugin_site(tmp_path, "hexe_stamp", PLUGIN, "stamp", "hexe-stamp")
    stamp = Path("/var/tmp") / f"hexe-stamp-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "init.lua"
    config.write_text(f'hexe.defaults {{ stamp = hexe.stamp_dir() .. "/{stamp.name}" }}\n')
    env = clean_env(PYTHONPATH=str(site), HEXE_CONFIG=str(config))
    try:
        result = hexe("run", "--profile", "full", "--", "true", env=env)
        assert result.returncode == 0, result.stderr
        assert stamp.read_text() == "pid=1 uid=0"
    finally:
        stamp.unlink(missing_ok=True)
    config.write_text('hexe.defaults { stamp = "/etc/x" }\n')
    result = hexe("run", "--", "true", env=env)
    assert result.returncode == 125
    assert "defaults.stamp=/etc/x is not accepted; use a path under /var/tmp/" in result.stderr


# -- what would fail at spawn -------------------------------------------------------------


def _check(tmp_path: Path, lua: str, *flags: str) -> tuple[int, str, str]:
    config = tmp_path / "init.lua"
    config.write_text(textwrap.dedent(lua))
    result = hexe("config", "check", *flags, str(config), env=clean_env(SHELL="/bin/sh"))
    return result.returncode, result.stdout, result.stderr


def test_config_check_reports_what_would_fail_at_spawn_with_file_and_line(tmp_path):
    code, out, err = _check(
        tmp_path,
        """\
        hexe.layout {
          hexe.tab { hexe.pane { command = "hexe-no-such-editor --flag" } },
          hexe.tab { hexe.pane { command = { "sh" }, cwd = "/nonexistent-hexe-dir" } },
          hexe.tab { hexe.pane { isolation = { profile = "full",
            mounts = { { ro = "/nonexistent-hexe-src", to = "/data" } } } } },
          hexe.tab { hexe.pane { isolation = { profile = "full",
            mounts = { { mask = "/nonexistent-hexe-secret" } } } } },
          hexe.tab { hexe.pane { command = "echo fine; ls" } },
        }
        """,
    )
    assert code == 1 and out == ""
    # the path may be shortened (".../init.lua") in messages: compare from its name on
    lines = ["init.lua:" + line.split("init.lua:", 1)[1] for line in err.splitlines()]
    assert all(line.startswith("config error: ") for line in err.splitlines()), err
    assert lines == [
        "init.lua:2: tabs[0].panes[0].command: hexe-no-such-editor is not found"
        + lines[0].split("is not found", 1)[1],
        "init.lua:3: tabs[1].panes[0].cwd=/nonexistent-hexe-dir does not exist",
        "init.lua:4: tabs[2].panes[0].isolation.mounts[1] "
        "(ro /nonexistent-hexe-src to /data): the source /nonexistent-hexe-src does not exist",
        "init.lua:6: tabs[3].panes[0].isolation.mounts[1] "
        "(mask /nonexistent-hexe-secret): /nonexistent-hexe-secret does not exist, so the pane "
        "would fail to start; create it or remove the mask",
    ], err
    assert "the pane would fail with exit 127" in lines[0]


def test_config_check_sees_the_path_as_the_sandbox_will(tmp_path):
    """A program under /tmp is there for a `none` pane and gone for a `balanced` one
    (a fresh /tmp): the check says so, and a real spawn agrees."""
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\necho tool-ran\n")
    tool.chmod(0o755)
    lua = f'hexe.layout {{ hexe.tab {{ hexe.pane {{ command = {{ "{tool}" }}, '
    code, _, err = _check(tmp_path, lua + 'isolation = { profile = "none" } } } }\n')
    assert code == 0, err
    code, _, err = _check(tmp_path, lua + 'isolation = { profile = "balanced" } } } }\n')
    assert code == 1 and f"{tool} does not exist inside the sandbox" in err, err
    assert hexe("run", "--profile", "none", "--", str(tool)).stdout == "tool-ran\n"
    assert hexe("run", "--profile", "balanced", "--", str(tool)).returncode == 127


def test_config_check_json_prints_errors_as_json_too(tmp_path):
    code, out, _ = _check(
        tmp_path,
        'hexe.defaults { memroy = "1G" }\n'
        'hexe.layout { hexe.tab { hexe.pane { cwd = "/nonexistent-hexe-dir" } } }\n',
        "--json",
    )
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    (error,) = report["errors"]
    assert error["file"].endswith("init.lua") and error["line"] == 1
    assert error["message"] == "defaults.memroy is not a setting; did you mean memory?"
    code, out, _ = _check(
        tmp_path,
        'hexe.layout { hexe.tab { hexe.pane { cwd = "/nonexistent-hexe-dir" } } }\n',
        "--json",
    )
    assert code == 1
    (error,) = json.loads(out)["errors"]
    assert error["line"] == 1 and "cwd=/nonexistent-hexe-dir does not exist" in error["message"]
    code, out, _ = _check(tmp_path, "hexe.options { }\nhexe.defaults { profile = = }\n", "--json")
    assert code == 1
    (error,) = json.loads(out)["errors"]  # Lua's own syntax error: file and line too
    assert error["file"].endswith("init.lua") and error["line"] == 2
    assert error["message"] == "syntax error: unexpected symbol near '='"
