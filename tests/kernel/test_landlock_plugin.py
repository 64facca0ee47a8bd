"""The third-party Landlock plugin (plugins/hexe-landlock), installed with pip.

It is installed once per module with ``pip install --target`` into a
temporary directory (from a copy of its source, so no build files land in
the tree) and found through its ``hexe`` entry point with PYTHONPATH: exactly
how hexe finds any pip-installed plugin, without touching the machine's
site-packages. Then each test runs a pane with Landlock rules and checks, from
inside, what may be written and read.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest
from support import hexe, install_plugin_once, landlock_abi

pytestmark = pytest.mark.kernel

SOURCE = Path(__file__).resolve().parents[2] / "plugins" / "hexe-landlock"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock (Linux 5.13+, landlock in lsm=)")
    return install_plugin_once(tmp_path_factory)


@pytest.fixture
def outside():
    """A file path outside the allowed trees (and outside /tmp, which balanced replaces)."""
    path = Path("/var/tmp") / f"hexe-landlock-{uuid.uuid4().hex[:8]}"
    yield path
    path.unlink(missing_ok=True)


def pane_config(tmp_path: Path, landlock: str) -> Path:
    config = tmp_path / "init.lua"
    config.write_text(
        textwrap.dedent(
            f"""
            hexe.layout {{ hexe.tab {{ hexe.pane {{ name = "boxed",
              isolation = {{ profile = "balanced", landlock = {landlock} }} }} }} }}
            """
        )
    )
    return config


def test_a_write_outside_the_allowed_paths_is_refused_inside_the_pane(env, tmp_path, outside):
    config = pane_config(tmp_path, '{ write = { "/tmp" } }')
    script = f"echo in > /tmp/allowed && cat /tmp/allowed; echo out > {outside}; echo > /dev/null"
    result = hexe(
        "--config", str(config), "run", "--pane", "boxed", "--", "sh", "-c", script, env=env
    )
    assert result.stdout == "in\n", result.stderr
    assert f"cannot create {outside}: Permission denied" in result.stderr
    assert not outside.exists()
    # the control: the same pane without the plugin's rule writes there
    plain = tmp_path / "plain.lua"
    plain.write_text('hexe.layout { hexe.tab { hexe.pane { name = "boxed" } } }')
    # (only the write outside: this pane's /tmp is the host's)
    control = f"echo out > {outside}"
    result = hexe(
        "--config", str(plain), "run", "--pane", "boxed", "--", "sh", "-c", control, env=env
    )
    assert outside.read_text() == "out\n"


def test_read_rules_restrict_reading_too(env, tmp_path, outside):
    outside.write_text("host secret\n")
    config = pane_config(
        tmp_path, '{ write = { "/tmp" }, read = { "/usr", "/bin", "/lib", "/lib64", "/etc" } }'
    )
    script = f"cat /etc/hostname >/dev/null && echo etc-ok; cat {outside}"
    result = hexe(
        "--config", str(config), "run", "--pane", "boxed", "--", "sh", "-c", script, env=env
    )
    assert result.stdout == "etc-ok\n"
    assert f"{outside}: Permission denied" in result.stderr


def test_hexe_plugins_lists_it_and_doctor_reports_its_check(env):
    listed = hexe("plugins", env=env).stdout
    assert "landlock  (hexe_landlock; hexe-landlock 0.1.0; third-party)" in listed
    report = json.loads(hexe("doctor", "--json", env=env).stdout)
    check = next(c for c in report["checks"] if c["group"] == "landlock")
    assert check["ok"] is True and check["detail"].startswith("Landlock ABI ")


def test_a_bad_landlock_setting_names_it(env, tmp_path):
    config = pane_config(tmp_path, '{ wirte = { "/tmp" } }')
    result = hexe("--config", str(config), "config", "check", env=env)
    assert result.returncode == 1
    assert "tabs[0].panes[0].isolation.landlock.wirte" in result.stderr
    assert "is not a setting" in result.stderr


@pytest.mark.parametrize(
    "landlock, named, problem",
    [
        (
            '{ write = { "/tmp" }, tcp = { connect = { 70000 } } }',
            "landlock.tcp.connect[1]",
            "is not a TCP port",
        ),
        (
            '{ write = { "/tmp" }, tcp = { bnid = { 80 } } }',
            "landlock.tcp.bnid",
            "is not a setting",
        ),
        ('{ write = { "/tmp" }, scope = "yes" }', "landlock.scope", "is not true or false"),
        ('{ write = { "tmp" } }', "landlock.write[1]", "is not an absolute path"),
    ],
)
def test_a_bad_tcp_scope_or_path_value_names_it(env, tmp_path, landlock, named, problem):
    config = pane_config(tmp_path, landlock)
    result = hexe("--config", str(config), "config", "check", env=env)
    assert result.returncode == 1
    assert f"tabs[0].panes[0].isolation.{named}" in result.stderr, result.stderr
    assert problem in result.stderr


@pytest.fixture
def plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(SOURCE))
    import hexe_landlock

    return hexe_landlock


@pytest.mark.parametrize(
    "setting, abi, refused",
    [
        ({"write": ["/tmp"], "tcp": {"connect": [443]}}, 3, "tcp needs Landlock ABI 4"),
        ({"write": ["/tmp"], "tcp": {"connect": [443]}}, 4, None),
        (
            {"write": ["/tmp"], "scope": True},
            5,
            "scope = true (signals, abstract unix sockets) needs Landlock ABI 6",
        ),
        ({"write": ["/tmp"]}, 5, None),  # scope by default: applied where the kernel has it
        ({"write": ["/tmp"]}, 0, "which this kernel does not offer"),
    ],
)
def test_a_setting_the_kernels_abi_cannot_enforce_is_refused(
    plugin, monkeypatch, setting, abi, refused
):
    """What the ABI lacks is refused, never run without (the ABI is the only thing
    faked here: what each ABI enforces is tested from inside in test_security_landlock)."""
    from types import SimpleNamespace

    monkeypatch.setattr(plugin, "abi_version", lambda: abi)
    plan = SimpleNamespace(extra={"landlock": plugin.parse("isolation.landlock", setting)})
    problems = plugin.hexe_spawn_check(plan=plan)
    if refused is None:
        assert problems == []
    else:
        assert len(problems) == 1 and refused in problems[0], problems
        assert problems[0].startswith("isolation.landlock")
