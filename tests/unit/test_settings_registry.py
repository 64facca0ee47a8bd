"""The settings registry: plugins own their settings (issue 14).

A disabled plugin's settings are unknown and the error names the plugin;
the worked example of docs/plugins.md is installed as written and a process
inside the sandbox observes its setting.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest
from support import clean_env, hexe, plugin_site

from hexe import hookimpl
from hexe.errors import HexeError, SettingError
from hexe.isolation import InvalidSettings, Layer, resolve
from hexe.plugin.manager import make_plugin_manager, settings_of
from hexe.plugin.settings import Setting, Settings, default_settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "examples" / "hexe_umask.py"


def example_source() -> str:
    """examples/hexe_umask.py, the file the tests install as a plugin."""
    return EXAMPLE.read_text()


def test_docs_plugins_shows_the_example_plugin_exactly():
    blocks = re.findall(r"```python\n(# hexe_umask\.py\n.*?)```", DOC.read_text(), re.DOTALL)
    assert blocks == [example_source()], "docs/plugins.md shows examples/hexe_umask.py as it is"


# -- unit: the registry ---------------------------------------------------------


def test_builtin_plugins_declare_their_settings():
    registry = default_settings()
    owners = {name: registry[name].plugin for name in registry}
    assert owners["profile"] == "hexe"
    for name in ("memory", "pids", "cpu", "strict"):
        assert owners[name] == "cgroups"
    for name in ("tmp_size", "hostname", "caps", "seccomp", "mounts", "rootfs", "network"):
        assert owners[name] == "voidbox"
    assert owners["clipboard"] == "voidbox"
    assert registry.env_vars() == {
        "HEXE_VOIDBOX_PROFILE": "profile",
        "HEXE_CGROUP_MEM_MAX": "memory",
        "HEXE_CGROUP_PIDS_MAX": "pids",
        "HEXE_CGROUP_CPU_MAX": "cpu",
        "HEXE_CGROUP_STRICT": "strict",
        "HEXE_VOIDBOX_NETWORK": "network",
        "HEXE_VOIDBOX_CLIPBOARD": "clipboard",
    }


def test_a_setting_declared_twice_names_both_plugins():
    registry = Settings()
    registry.add(Setting("memory", str), "cgroups")
    with pytest.raises(HexeError, match="plugin other: isolation setting memory already "):
        registry.add(Setting("memory", str), "other")
    with pytest.raises(HexeError, match="HEXE_X already sets"):
        registry.add(Setting("a", str, env=("HEXE_X",)), "one")
        registry.add(Setting("b", str, env=("HEXE_X",)), "two")


def test_disabled_cgroups_makes_memory_unknown_naming_the_plugin():
    registry = settings_of(make_plugin_manager(["cgroups"], environ={}))
    assert "memory" not in registry and "caps" in registry
    layer = Layer("pane", {"memory": ("1G", "pane.memory")})
    with pytest.raises(InvalidSettings) as info:
        resolve([layer], settings=registry)
    (error,) = info.value.errors
    assert isinstance(error, SettingError)
    assert "pane.memory=1G is a setting of the cgroups plugin, which is disabled" in error.message
    # the variable is not ignored either: refused, naming the plugin
    env = Layer.from_env({"HEXE_CGROUP_MEM_MAX": "1G"}, registry)
    with pytest.raises(InvalidSettings, match="HEXE_CGROUP_MEM_MAX=1G is a setting of the cgroups"):
        resolve([env], settings=registry)
    # a real typo is still a typo
    with pytest.raises(InvalidSettings, match="is not a setting"):
        resolve([Layer("pane", {"memroy": ("1G", "pane.memroy")})], settings=registry)


# -- the CLI: config check, run ----------------------------------------------------


def test_config_check_with_cgroups_disabled_names_the_plugin(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text('hexe.defaults { memory = "1G" }\n')
    env = clean_env(SHELL="/bin/sh")
    assert hexe("config", "check", str(config), env=env).returncode == 0
    result = hexe("--disable-plugin", "cgroups", "config", "check", str(config), env=env)
    assert result.returncode != 0
    assert "defaults.memory is a setting of the cgroups plugin, which is disabled" in (
        result.stdout + result.stderr
    )


def test_config_check_with_cgroups_disabled_claims_no_limit(tmp_path):
    config = tmp_path / "init.lua"
    config.write_text("hexe.layout { hexe.tab { name = 't', hexe.pane { command = 'true' } } }\n")
    env = clean_env(SHELL="/bin/sh")
    shown = hexe("config", "check", str(config), env=env)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^\s+memory\s", shown.stdout, re.MULTILINE)
    result = hexe("--disable-plugin", "cgroups", "config", "check", str(config), env=env)
    assert result.returncode == 0, result.stderr
    for name in ("memory", "pids", "cpu", "strict"):
        assert not re.search(rf"^\s+{name}\s", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^\s+tmp_size\s", result.stdout, re.MULTILINE)


@pytest.mark.kernel
def test_run_with_cgroups_disabled_refuses_the_memory_variable():
    env = clean_env(HEXE_CGROUP_MEM_MAX="1G")
    result = hexe("--disable-plugin", "cgroups", "run", "--profile", "none", "--", "true", env=env)
    assert result.returncode != 0
    assert "HEXE_CGROUP_MEM_MAX=1G is a setting of the cgroups plugin, which is disabled" in (
        result.stderr
    )


# -- the worked example of docs/plugins.md -------------------------------------------------


@pytest.fixture
def umask_env(tmp_path):
    site = plugin_site(tmp_path, "hexe_umask", example_source(), "umask", "hexe-umask")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return clean_env(PYTHONPATH=path, SHELL="/bin/sh")


@pytest.mark.kernel
def test_the_documented_example_plugin_sets_the_umask_inside_the_sandbox(umask_env):
    argv = ("run", "--profile", "default", "--", "sh", "-c", "grep Umask /proc/self/status")
    result = hexe(*argv, env={**umask_env, "HEXE_UMASK": "027"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Umask:", "0027"]
    bad = hexe(*argv, env={**umask_env, "HEXE_UMASK": "9"})
    assert bad.returncode != 0
    assert "HEXE_UMASK=9 is not a umask; use 3 or 4 octal digits" in bad.stderr
    off = hexe("--disable-plugin", "umask", *argv, env={**umask_env, "HEXE_UMASK": "027"})
    assert "HEXE_UMASK=027 is a setting of the umask plugin, which is disabled" in off.stderr
    # its hexe run option (Setting.flag): above the environment, in --help, refused disabled
    flagged = ("run", "--profile", "default", "--umask", "0007", "--", "grep", "Umask",
               "/proc/self/status")  # fmt: skip
    result = hexe(*flagged, env={**umask_env, "HEXE_UMASK": "027"})
    assert result.stdout.split() == ["Umask:", "0007"], result.stderr
    assert "--umask MASK" in hexe("run", "--help", env=umask_env).stdout
    bad = hexe("run", "--umask", "x", "--", "true", env=umask_env)
    assert "--umask=x is not a umask" in bad.stderr
    off = hexe("--disable-plugin", "umask", *flagged, env=umask_env)
    assert off.returncode == 125
    assert "--umask=0007 is a setting of the umask plugin, which is disabled" in off.stderr


@pytest.mark.kernel
def test_the_example_plugin_registers_a_profile_through_hexe_profiles(umask_env):
    argv = ("run", "--profile", "private", "--", "sh", "-c",
            "grep Umask /proc/self/status; echo pid $$; touch /tmp/x && echo fresh")  # fmt: skip
    result = hexe(*argv, env=umask_env)
    assert result.returncode == 0, result.stderr
    # umask from the profile's settings; namespaces (voidbox's setting) too: PID 1's
    # child in a pid namespace, and a fresh /tmp of a mount namespace
    assert result.stdout.split() == ["Umask:", "0077", "pid", "2", "fresh"]
    # the setting's value under a profile it does not own (Setting.profiles)
    full = hexe("run", "--profile", "full", "--", "grep", "Umask", "/proc/self/status",
                env=umask_env)  # fmt: skip
    assert full.stdout.split() == ["Umask:", "0077"], full.stderr
    # a pane's own value beats its profile's
    own = hexe("run", "--profile", "private", "--", "sh", "-c", "umask",
               env={**umask_env, "HEXE_UMASK": "027"})  # fmt: skip
    assert own.stdout.strip() == "0077", "the profile is chosen in flags, above the environment"
    off = hexe("--disable-plugin", "umask", *argv, env=umask_env)
    assert off.returncode == 125
    assert "--profile=private is a profile of the umask plugin, which is disabled" in off.stderr


def test_the_example_profile_is_in_the_registry_with_its_plugin(umask_env, tmp_path):
    result = hexe("config", "check", "--json", str(write_layout(tmp_path)), env=umask_env)
    assert result.returncode == 0, result.stderr
    profiles = json.loads(result.stdout)["profiles"]
    assert profiles["private"]["plugin"] == "umask"
    assert profiles["private"]["namespaces"] == ["user", "pid", "mount"]
    assert profiles["full"]["plugin"] == "voidbox" and profiles["none"]["plugin"] == "hexe"


def write_layout(tmp_path: Path) -> Path:
    config = tmp_path / "init.lua"
    config.write_text("hexe.layout { hexe.tab { name = 't', hexe.pane { command = 'true' } } }\n")
    return config


def test_the_documented_example_plugin_in_config_check(umask_env, tmp_path):
    config = tmp_path / "init.lua"
    config.write_text(
        textwrap.dedent(
            """
            hexe.defaults { umask = "077" }
            hexe.layout { hexe.tab { name = 't', hexe.pane { command = 'true' } } }
            """
        )
    )
    result = hexe("config", "check", str(config), env=umask_env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"umask\s+0077\s+init.lua \(.*defaults.umask\)", result.stdout), result.stdout


def test_the_status_summary_comes_from_the_plugins_that_declare_settings():
    iso = resolve([Layer("pane", {"profile": ("full", "p"), "memory": ("512M", "m")})])
    assert iso.summary() == "full 512M"
    without = settings_of(make_plugin_manager(["cgroups"], environ={}))
    assert iso.summary(without) == "full"


def test_doctor_limit_check_comes_from_the_cgroups_plugin():
    pm = make_plugin_manager(environ={})
    names = {
        impl.plugin_name for impl in pm.hook.hexe_doctor_checks.get_hookimpls()
    }
    assert {"voidbox", "cgroups"} <= names
    import hexe.doctor

    assert not hasattr(hexe.doctor, "limit_checks")
    from hexe_cgroups.doctor import limit_checks

    assert callable(limit_checks)


def test_hexe_settings_of_an_extra_plugin_reach_the_plan_as_extra():
    class Greeting:
        @staticmethod
        def parse(label: str, raw: object) -> str:
            if not isinstance(raw, str):
                raise SettingError(label, raw, "use a string", problem="is not a greeting")
            return raw.upper()

        @hookimpl
        def hexe_settings(self):
            return [Setting("greeting", self.parse, doc="a word", env=("HEXE_GREETING",))]

    registry = settings_of(make_plugin_manager(extra=[("greeting", Greeting())], environ={}))
    assert registry["greeting"].plugin == "greeting"
    iso = resolve([Layer.from_env({"HEXE_GREETING": "hi"}, registry)], settings=registry)
    assert iso.extra == {"greeting": "HI"}
    assert iso.sources["greeting"] == "environment (HEXE_GREETING)"


# -- the example's setting and profile, resolved (no kernel) ---------------------------------


def example_registry():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hexe_umask_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return settings_of(make_plugin_manager(extra=[("umask", module)], environ={}))


def test_a_plugin_profile_and_a_per_profile_value_follow_the_precedence():
    registry = example_registry()
    assert registry.profiles["private"].plugin == "umask"
    assert registry["umask"].plugin == "umask"

    def umask(*layers: Layer) -> tuple[object, str]:
        got = resolve(list(layers), settings=registry)
        return got.get("umask"), got.sources["umask"]

    def layer(name: str, **values: object) -> Layer:
        return Layer(name, {k: (v, f"{name}.{k}") for k, v in values.items()})

    private = resolve([layer("flags", profile="private")], settings=registry)
    assert private.get("namespaces") == frozenset({"user", "pid", "mount"})
    assert private.get("umask") == 0o077
    assert private.sources["umask"] == "flags, profile private (profiles.private.umask)"
    # a setting's value under a profile it does not own is a built-in value...
    assert umask(layer("flags", profile="full")) == (0o077, "built-in")
    assert umask(layer("flags", profile="default")) == (None, "built-in")
    # ...so any layer that sets it wins, even below the layer choosing the profile
    assert umask(layer("defaults", umask="027"), layer("environment", profile="full")) == (
        0o027,
        "defaults (defaults.umask)",
    )
    # a profile's own settings belong to the layer that chooses it, below its values
    assert umask(layer("defaults", umask="027"), layer("pane", profile="private"))[0] == 0o077
    assert umask(layer("pane", profile="private", umask="002"))[0] == 0o002
    # the profile's settings are parsed by their plugins: namespaces is voidbox's
    assert "namespaces" in private.chosen and private.owners["namespaces"] == "voidbox"


def test_a_profile_only_setting_in_a_pane_says_where_it_belongs(tmp_path):
    from hexe.config import ConfigError, load

    config = tmp_path / "init.lua"
    config.write_text('hexe.defaults { namespaces = {"user"} }\n')
    with pytest.raises(ConfigError) as info:
        load(config, environ={}, explicit=True)
    (error,) = info.value.errors
    assert error.endswith(
        "init.lua:1: defaults.namespaces is set by profiles only: define one with "
        'hexe.profile("name", { namespaces = ... }) and choose it with profile = "name"'
    )


def test_hexe_run_help_lists_the_profiles_the_plugins_declare(umask_env):
    plain = hexe("run", "--help", env=clean_env(COLUMNS="400"))
    assert "isolation profile: none, minimal, default, balanced, full, sandbox (env" in plain.stdout
    assert "memory limit: use bytes (1073741824), a K/M/G/T suffix" in plain.stdout
    with_example = hexe("run", "--help", env={**umask_env, "COLUMNS": "400"})
    assert "none, minimal, default, balanced, full, sandbox, private (env" in with_example.stdout


def test_a_setting_says_when_its_value_does_nothing_under_the_profile():
    def notes(**values: object) -> tuple[str, ...]:
        return resolve([Layer("flags", {k: (v, f"--{k}") for k, v in values.items()})]).notes

    assert notes(profile="minimal", hostname="box") == (
        "hostname from flags (--hostname) has no effect: profile minimal has no uts namespace",
    )
    assert notes(profile="full", hostname="box", tmp_size="1G") == ()
    assert notes(profile="minimal") == ()  # only values a layer set
