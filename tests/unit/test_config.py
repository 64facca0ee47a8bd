"""init.lua: loading, the schema and its error messages, precedence, callbacks, budgets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hexe import hookimpl
from hexe.config import (
    ConfigError,
    load,
    pane_isolation,
    plan_for,
    reload,
    run_exit_callbacks,
    run_pane,
)
from hexe.config.model import PaneSpec, SplitSpec
from hexe.errors import SettingError
from hexe.isolation import InvalidSettings, Layer
from hexe.plugin.manager import make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ENV = {"SHELL": "/bin/sh", "HOME": "/root"}


def lua(text: str, **kw):
    return load("init.lua", source=textwrap.dedent(text), environ=kw.pop("environ", ENV), **kw)


def errors_of(text: str, **kw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        lua(text, **kw)
    return info.value.errors


def flags(**values):
    return Layer.from_flags(values, {k: f"--{k}" for k in values})


# -- where it loads from ---------------------------------------------------------------


def test_no_file_means_builtin_defaults(tmp_path):
    config = load(environ={"XDG_CONFIG_HOME": str(tmp_path), "SHELL": "/bin/zsh"})
    assert config.path is None
    assert [p.path for p in config.panes()] == ["tabs[0].panes[0]"]
    assert plan_for(config, config.panes()[0], {}).argv == ("/bin/zsh",)
    assert pane_isolation(config, config.panes()[0], {}).profile == "default"


def test_xdg_config_home_init_lua_is_found(tmp_path):
    (tmp_path / "hexe").mkdir()
    (tmp_path / "hexe" / "init.lua").write_text('hexe.defaults { profile = "full" }\n')
    config = load(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.path.endswith("hexe/init.lua")
    assert pane_isolation(config, config.panes()[0], {}).profile == "full"


def test_hexe_config_variable_names_the_file(tmp_path):
    path = tmp_path / "other.lua"
    path.write_text('hexe.defaults { profile = "minimal" }\n')
    config = load(environ={"HEXE_CONFIG": str(path), "XDG_CONFIG_HOME": "/nonexistent"})
    assert pane_isolation(config, config.panes()[0], {}).profile == "minimal"


def test_an_explicit_path_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no-such.lua: no such file"):
        load(tmp_path / "no-such.lua", environ={})


def test_shipped_init_lua_is_exactly_the_builtin_defaults():
    shipped = load(ROOT / "config" / "init.lua", environ=ENV)
    builtin = load(environ={**ENV, "XDG_CONFIG_HOME": "/nonexistent"})
    assert shipped.options == builtin.options
    assert shipped.status == builtin.status
    as_data = lambda c: {k: (b.action, b.args) for k, b in c.keys.items()}  # noqa: E731
    assert as_data(shipped) == as_data(builtin)
    assert pane_isolation(shipped, shipped.panes()[0], {}) == pane_isolation(
        builtin, builtin.panes()[0], {}
    )
    assert [p.command for p in shipped.panes()] == [p.command for p in builtin.panes()]


def test_require_loads_modules_from_the_lua_dir_and_os_getenv_works():
    config = load(CONFIGS / "layout.lua", environ={**ENV, "HEXE_TEST_CC": "clang"})
    make = config.find_pane("make")
    assert make.env == {"CC": "clang"}


# -- the layout -------------------------------------------------------------------------


def test_layout_tabs_splits_and_panes_with_depth_first_paths():
    config = load(CONFIGS / "layout.lua", environ=ENV)
    assert [t.name for t in config.tabs] == ["code", "build"]
    root = config.tabs[0].root
    assert isinstance(root, SplitSpec) and root.direction == "right" and root.ratio == 0.6
    assert isinstance(root.children[1], SplitSpec) and root.children[1].direction == "down"
    assert [(p.path, p.name) for p in config.panes()] == [
        ("tabs[0].panes[0]", "editor"),
        ("tabs[0].panes[1]", "untrusted"),
        ("tabs[0].panes[2]", "web"),
        ("tabs[1].panes[0]", "make"),
    ]
    assert config.find_pane("editor").command == ("/bin/sh", "-c", "vi")
    assert config.find_pane("make").command == ("make", "-j4")
    assert config.options.prefix == "C-a" and config.options.scrollback == 5000


def test_effective_plan_of_every_pane_in_a_real_config():
    config = load(CONFIGS / "layout.lua", environ=ENV)
    seen = {}
    for pane in config.panes():
        iso = pane_isolation(config, pane, {})
        seen[pane.name] = (iso.profile, iso.status_text(), iso.get("tmp_size") >> 20)
    assert seen == {
        "editor": ("balanced", "2G", 128),
        "untrusted": ("full", "512M/100p", 128),
        "web": ("sandbox", "2G/50%", 128),
        "make": ("build", "4G", 1024),
    }
    make = pane_isolation(config, config.find_pane("make"), {})
    assert make.get("namespaces") == frozenset({"user", "pid", "mount"})
    assert make.sources["memory"].startswith("pane, profile build (")


# -- precedence: one test per boundary ---------------------------------------------------


PRECEDENCE = """
hexe.defaults { profile = "balanced", memory = "1G", pids = 10 }
hexe.layout { hexe.tab { hexe.pane { name = "p", isolation = { pids = 20 } } } }
"""


def test_init_lua_defaults_beat_builtin():
    config = lua(PRECEDENCE)
    iso = pane_isolation(config, config.find_pane("p"), {})
    assert iso.profile == "balanced"  # built-in is default
    assert iso.sources["profile"].startswith("init.lua (init.lua:2: defaults.profile)")


def test_environment_beats_init_lua_defaults():
    config = lua(PRECEDENCE)
    iso = pane_isolation(config, config.find_pane("p"), {"HEXE_CGROUP_MEM_MAX": "2G"})
    assert iso.get("memory") == 2 << 30
    assert iso.sources["memory"] == "environment (HEXE_CGROUP_MEM_MAX)"


def test_pane_isolation_beats_environment():
    config = lua(PRECEDENCE)
    iso = pane_isolation(config, config.find_pane("p"), {"HEXE_CGROUP_PIDS_MAX": "30"})
    assert iso.get("pids") == 20
    assert iso.sources["pids"].startswith("pane (init.lua:3: tabs[0].panes[0].isolation.pids)")


def test_flags_beat_pane_isolation():
    config = lua(PRECEDENCE)
    iso = pane_isolation(config, config.find_pane("p"), {}, flags(pids="40"))
    assert iso.get("pids") == 40 and iso.sources["pids"] == "flags (--pids)"


def test_a_profile_brings_its_settings_below_the_layer_that_chose_it():
    config = lua(
        """
        hexe.profile("build", { namespaces = {"user"}, tmp_size = "1G", memory = "4G" })
        hexe.defaults { memory = "2G" }
        hexe.layout { hexe.tab { hexe.split {
          hexe.pane { name = "a", isolation = { profile = "build" } },
          hexe.pane { name = "b", isolation = { profile = "build", memory = "3G" } },
        } } }
        """
    )
    a = pane_isolation(config, config.find_pane("a"), {})
    b = pane_isolation(config, config.find_pane("b"), {})
    assert (a.get("memory") >> 30, a.get("tmp_size") >> 30) == (4, 1)  # profile beats lower layers
    assert b.get("memory") >> 30 == 3  # the pane's own value beats its profile's


def test_a_profile_of_yours_with_namespaces_refuses_tiocsti_even_with_seccomp_false():
    config = lua(
        """
        hexe.profile("mine", { namespaces = {"user"}, seccomp = false })
        hexe.profile("open", { namespaces = {"user"}, seccomp = { allow = { "tiocsti" } } })
        hexe.layout { hexe.tab { hexe.split {
          hexe.pane { name = "a", isolation = { profile = "mine" } },
          hexe.pane { name = "b", isolation = { profile = "open" } },
        } } }
        """
    )
    assert pane_isolation(config, config.find_pane("a"), {}).get("seccomp").deny == ("tiocsti",)
    assert not pane_isolation(config, config.find_pane("b"), {}).get("seccomp")


# -- errors are the feature ---------------------------------------------------------------


def test_unknown_keys_are_named_with_path_line_and_a_suggestion():
    errors = errors_of(
        """
        hexe.defaults { memroy = "1G" }
        hexe.options { scrolback = 10 }
        hexe.layout {
          hexe.tab {
            hexe.split {
              hexe.pane { titel = "a" },
              hexe.pane { isolation = { memroy = "512M" } },
            },
          },
        }
        """
    )
    assert errors == [
        "init.lua:2: defaults.memroy is not a setting; did you mean memory?",
        "init.lua:3: options.scrolback is not a setting; did you mean scrollback?",
        "init.lua:7: tabs[0].panes[0].titel is not a setting; did you mean title?",
        "init.lua:8: tabs[0].panes[1].isolation.memroy is not a setting; did you mean memory?",
    ]


def test_every_error_of_a_bad_file_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        load(CONFIGS / "errors.lua", environ=ENV)
    shown = [e.split(": ", 1)[1] for e in info.value.errors]
    assert shown == [
        "defaults.memroy is not a setting; did you mean memory?",
        "defaults.profile=fulll is not a profile; did you mean full? "
        "profiles: none, minimal, default, balanced, full, sandbox, build",
        "options.prefx is not a setting; did you mean prefix?",
        "options.scrollback is 'lots'; use a number of lines (0..1000000)",
        "profiles.full: full is a built-in profile and cannot be redefined",
        "profiles.build.namespaces[2]='mnt' is not a namespace; did you mean mount? "
        "namespaces: user, pid, mount, net, uts, ipc, cgroup",
        "profiles.build.tmp_size=huge is not a size; "
        "use bytes (134217728) or a K/M/G/T suffix, binary, with or without B or iB (128M, 128MB, 128MiB, 1G)",
        "hexe.key prefix %: \"split-rigth\" is not an action; did you mean split-right? "
        "actions: " + ", ".join(__import__("hexe.commands.registry").commands.registry.ACTIONS),
        "hexe.key: \"Lef\" is not a key name (did you mean Left?); keys are a character (%, \", a) "
        "or a name (Up, Enter, F5, Space), with C- M- S- modifiers; "
        '"prefix X" is the prefix key, then X',
        "hexe.on: \"pane_spwan\" is not an event; did you mean pane_spawn? "
        "events: pane_spawn, pane_exit",
        "tabs[0].split.direction='left' is not a direction; use \"right\" (side by side) "
        'or "down" (stacked)',
        'tabs[0].panes[0].command is 7; use a string ("make -j4", run by the shell) '
        'or a list of strings ({"make", "-j4"})',
        "tabs[0].panes[0].title is 5; use a string",
        'tabs[0].panes[1].isolation.cpu=50000 has no period; use "quota period" in '
        'microseconds ("50000 100000" is half a core, "200000 100000" two cores), '
        '"max period" or max; the period is 1000..1000000 and the quota at least 1000',
        "tabs[0].panes[1].isolation.memory=lots is not a size; "
        "use bytes (1073741824), a K/M/G/T suffix, binary, with or without B or iB (512M, 512MB, 512MiB, 1.5G) or max",
        "tabs[0].panes[1].isolation.memroy is not a setting; did you mean memory?",
        "tabs[0].panes[1].isolation.pids=0 must be greater than zero; "
        "use a positive whole number (512) or max",
    ]
    assert all(
        e.startswith(str(CONFIGS / "errors.lua") + ":") or "errors.lua:" in e
        for e in info.value.errors
    )


@pytest.mark.parametrize(
    "text,message",
    [
        (
            'hexe.defaults { profile = "ful" }',
            "defaults.profile=ful is not a profile; did you mean full?",
        ),
        ("hexe.defaults { profile = 3 }", "defaults.profile=3 is not a profile"),
        ('hexe.defaults { memory = "lots" }', "defaults.memory=lots is not a size"),
        ('hexe.defaults { cpu = "50000" }', "defaults.cpu=50000 has no period"),
        ("hexe.defaults { strict = 7 }", "defaults.strict=7 is not a yes/no value"),
        ('hexe.defaults { hostname = "a b" }', "defaults.hostname=a b is not a hostname"),
        ('hexe.defaults "full"', "hexe.defaults takes one table, like hexe.defaults { ... }"),
        ('hexe.defaults { "full" }', "defaults takes named settings only (name = value)"),
        ('hexe.options { mouse = "sometimes" }', "options.mouse=sometimes is not a yes/no value"),
        ('hexe.options { prefix = "C-Nope" }', "options.prefix: \"Nope\" is not a key name"),
        ("hexe.options { scrollback = -1 }", "options.scrollback=-1 is out of range 0..1000000"),
        (
            'hexe.profile("x", { namespaces = "user" })',
            "profiles.x.namespaces is 'user'; use a list",
        ),
        (
            'hexe.profile("x", {})',
            'profiles.x.namespaces is missing; use a list like {"user", "pid"}',
        ),
        (
            'hexe.profile("x", { namespaces = {"pid"}, profile = "full" })',
            "profiles.x.profile is not a setting",
        ),
        (
            'hexe.key("prefix z")',
            'hexe.key takes a key and an action: hexe.key("prefix %", "split-right")',
        ),
        (
            'hexe.key("prefix 1", "select-tab")',
            "hexe.key prefix 1: select-tab takes N, got 0 argument(s)",
        ),
        (
            'hexe.key("prefix 1", "select-tab", "one")',
            "select-tab: n must be a whole number, got \"one\"",
        ),
        ('hexe.key("a b", "zoom")', "hexe.key: \"a b\": a two-key binding starts with prefix"),
        ('hexe.on("pane_spawn", "not a function")', "hexe.on takes an event and a function"),
        (
            'hexe.status { left = { "sesion" } }',
            "status.left[1]='sesion' is not a segment; did you mean session?",
        ),
        ("hexe.status { interval = 0 }", "status.interval is 0; use seconds above 0"),
        ("hexe.layout { hexe.tab { } }", "tabs[0] holds 0 panes or splits; a tab holds one"),
        (
            "hexe.layout { hexe.tab { hexe.split { hexe.pane {} } } }",
            "tabs[0].split holds 1 children; a split holds two",
        ),
        ("hexe.layout { hexe.tab { hexe.tab { } } }", "tabs[0]: a tab cannot hold another tab"),
        ("hexe.layout { 5 }", "tabs[0] is 5; use hexe.tab { ... }"),
        ("hexe.layout {}", "hexe.layout has no tabs"),
        (
            "hexe.layout { hexe.pane { env = { PATH = {} } } }",
            "tabs[0].panes[0].env.PATH is a table; use a string",
        ),
        ('hexe.layout { hexe.pane { command = "" } }', "tabs[0].panes[0].command is empty"),
        (
            "hexe.layout { hexe.pane { isolation = 5 } }",
            "tabs[0].panes[0].isolation is 5; use a table",
        ),
        (
            "hexe.layout { hexe.split { ratio = 2, hexe.pane {}, hexe.pane {} } }",
            "tabs[0].split.ratio=2 is not accepted; use a fraction between 0 and 1",
        ),
        ("local t = {} t.t = t hexe.defaults(t)", "defaults.t contains itself"),
        ("hexe.defaults { [true] = 1 }", "defaults has a key of type bool; keys are names"),
    ],
)
def test_each_bad_value_has_a_message_naming_setting_and_forms(text, message):
    errors = errors_of(text)
    assert any(message in e for e in errors), errors
    assert all(e.startswith("init.lua:1: ") for e in errors), errors


def test_lua_syntax_error_names_file_and_line():
    assert errors_of("hexe.defaults {\n  profile = = 'full'\n}") == [
        "syntax error: init.lua:2: unexpected symbol near '='"
    ]


def test_lua_runtime_error_names_file_and_line():
    assert errors_of("local x = nil\nx.y = 1") == [
        "init.lua:2: attempt to index a nil value (local 'x')"
    ]


def test_unknown_hexe_function_is_a_runtime_error_with_a_did_you_mean():
    assert errors_of("hexe.tabz {}") == [
        "init.lua:1: attempt to call a nil value (field 'tabz'): hexe.tabz does not exist;"
        " did you mean hexe.tab?"
    ]
    assert errors_of("hexe.default { memory = '1G' }") == [
        "init.lua:1: attempt to call a nil value (field 'default'): hexe.default does not exist;"
        " did you mean hexe.defaults?"
    ]
    # another table's missing field is not hexe's: no hint
    assert errors_of('string.formatt("x")') == [
        "init.lua:1: attempt to call a nil value (field 'formatt')"
    ]


def test_a_missing_hexe_function_is_still_nil_for_feature_tests():
    lua("if hexe.greet then hexe.greet() end")  # loads: no error


def test_binding_the_prefix_or_a_key_bound_twice_warns_with_the_line():
    config = load(
        source='hexe.key("C-b", "zoom")\n'
        'hexe.key("prefix z", "zoom")\n'
        'hexe.key("prefix z", "split-down")\n',
        environ=ENV,
    )
    assert [w.split(": ", 1)[0].rsplit(":", 1)[1] for w in config.warnings] == ["1", "3"]
    assert "C-b is the prefix key, so this binding never fires" in config.warnings[0]
    assert "already bound at " in config.warnings[1] and ":2;" in config.warnings[1]
    # a default binding replaced is what init.lua is for: no warning
    assert load(source='hexe.key("prefix %", "zoom")\n', environ=ENV).warnings == ()


def test_a_tab_outside_the_layout_warns_with_its_line():
    config = load(
        source='hexe.defaults { profile = "none" }\n'
        'hexe.tab { name = "lost", hexe.pane { command = "sh" } }\n'
        'hexe.layout { hexe.tab { name = "kept", hexe.pane { command = "sh" } } }\n',
        environ=ENV,
    )
    (warning,) = config.warnings
    assert ":2: hexe.tab outside hexe.layout { ... } does nothing" in warning
    assert [t.name for t in config.tabs] == ["kept"]


def test_python_is_not_reachable_from_lua():
    assert errors_of("python.eval('1')") == [
        "init.lua:1: attempt to index a nil value (global 'python')"
    ]


# -- the budget -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
        "local co = coroutine.create(function() while true do end end) coroutine.resume(co)",
    ],
    ids=["loop", "pcall-loop", "coroutine-wrap", "coroutine-create"],
)
def test_an_endless_loop_is_a_config_error(text):
    (error,) = errors_of(text)
    assert error.endswith("time budget exceeded (an endless loop?)")


def test_a_runaway_table_is_a_config_error(monkeypatch):
    # the real time budget: filling 64 MiB must come first (the run's is smaller)
    monkeypatch.setenv("HEXE_LUA_BUDGET_SCALE", "1")
    (error,) = errors_of("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end")
    assert error == "memory budget of 64 MiB exceeded (a runaway table?)"


def test_an_endless_loop_in_a_callback_refuses_the_spawn():
    config = lua(
        """
        hexe.on("pane_spawn", function(pane) while true do end end)
        """
    )
    with pytest.raises(ConfigError) as info:
        pane_isolation(config, config.panes()[0], {})
    assert info.value.errors == [
        "pane_spawn callback (init.lua:2): init.lua:2: time budget exceeded (an endless loop?)"
    ]


# -- callbacks ----------------------------------------------------------------------------------


def test_pane_spawn_callback_changes_one_panes_profile():
    config = load(CONFIGS / "callback.lua", environ=ENV)
    trusted = pane_isolation(config, config.find_pane("trusted"), {})
    untrusted = pane_isolation(config, config.find_pane("untrusted"), {})
    assert (trusted.profile, untrusted.profile) == ("none", "full")
    assert "pane_spawn callback" in untrusted.sources["profile"]
    assert "callback.lua:4" in untrusted.sources["profile"]


def test_callback_sees_the_effective_settings_and_the_kind():
    config = lua(
        """
        hexe.defaults { memory = "1G" }
        hexe.on("pane_spawn", function(pane)
          if pane.kind == "run" and pane.effective.memory == 1073741824 then
            pane.isolation.pids = 7
          end
        end)
        """
    )
    iso = pane_isolation(config, run_pane(("true",)), {}, kind="run")
    assert iso.get("pids") == 7


def test_a_callback_setting_a_bad_value_is_an_error_naming_the_callback():
    config = lua(
        """
        hexe.on("pane_spawn", function(pane) pane.isolation.memory = "lots" end)
        """
    )
    with pytest.raises(ConfigError) as info:
        pane_isolation(config, config.panes()[0], {})
    assert info.value.errors == [
        "pane_spawn callback (init.lua:2): tabs[0].panes[0].isolation.memory=lots is not a size; "
        "use bytes (1073741824), a K/M/G/T suffix, binary, with or without B or iB (512M, 512MB, 512MiB, 1.5G) or max"
    ]


def test_pane_exit_callback_gets_the_exit_code(tmp_path):
    log = tmp_path / "exit.log"
    config = load(CONFIGS / "callback.lua", environ={**ENV, "HEXE_TEST_EXIT_LOG": str(log)})
    assert run_exit_callbacks(config, config.find_pane("untrusted"), 3) == []
    assert log.read_text() == "untrusted 3\n"


def test_a_failing_exit_callback_is_reported_not_raised():
    config = lua('hexe.on("pane_exit", function(pane, code) error("boom " .. code) end)')
    assert run_exit_callbacks(config, config.panes()[0], 1) == [
        "pane_exit callback (init.lua:1): init.lua:1: boom 1"
    ]


# -- keys ------------------------------------------------------------------------------------


def test_default_bindings_and_overrides():
    config = lua(
        """
        hexe.key("prefix %", "split-down")
        hexe.key("M-Left", "focus-left")
        hexe.key("prefix g", function() end)
        hexe.unbind("prefix z")
        """
    )
    assert config.keys[("prefix", '"')].action == "split-down"
    assert config.keys[("prefix", "%")].action == "split-down"
    assert config.keys[("prefix", "%")].where == "init.lua:2"
    assert config.keys[("M-Left",)].action == "focus-left"
    assert config.keys[("prefix", "g")].is_lua
    assert ("prefix", "z") not in config.keys
    assert config.keys[("prefix", "3")].args == (3,)


def test_unbind_all_removes_every_default():
    config = lua('hexe.unbind("all")\nhexe.key("prefix q", "detach")')
    assert list(config.keys) == [("prefix", "q")]


# -- plugins add Lua API ---------------------------------------------------------------------


class GreeterPlugin:
    """Adds hexe.greeting() and an isolation setting ``greeting``."""

    @hookimpl
    def hexe_config_api(self, api):
        api.add_function("greeting", lambda name: f"hello {name}")

        def parse(label, value):
            if not isinstance(value, str) or not value.startswith("hello"):
                raise SettingError(label, value, 'use a string starting with "hello"')
            return value.upper()

        api.add_setting("greeting", parse)


def test_a_plugin_adds_a_lua_function_and_an_isolation_setting():
    pm = make_plugin_manager(extra=[("greeter", GreeterPlugin())])
    config = lua(
        """
        hexe.defaults { greeting = hexe.greeting("world") }
        hexe.layout { hexe.tab { hexe.pane { name = "p" } } }
        """,
        pm=pm,
    )
    plan = plan_for(config, config.find_pane("p"), {})
    assert plan.extra == {"greeting": "HELLO WORLD"}
    assert plan.isolation.extra == {"greeting": "HELLO WORLD"}


def test_a_plugin_setting_is_validated_by_the_plugin():
    pm = make_plugin_manager(extra=[("greeter", GreeterPlugin())])
    errors = errors_of('hexe.defaults { greeting = "bye" }', pm=pm)
    assert errors == [
        'init.lua:1: defaults.greeting=bye is not accepted; use a string starting with "hello"'
    ]


def test_without_the_plugin_its_setting_is_unknown():
    errors = errors_of('hexe.defaults { greeting = "hello" }')
    assert errors[0].startswith("init.lua:1: defaults.greeting is not a setting")


def test_a_plugin_cannot_take_an_existing_name():
    class Clash:
        @hookimpl
        def hexe_config_api(self, api):
            api.add_function("layout", print)

    pm = make_plugin_manager(extra=[("clash", Clash())])
    with pytest.raises(Exception, match="plugin clash: hexe.layout already exists"):
        lua("", pm=pm)


# -- reload ------------------------------------------------------------------------------------


def test_reload_keeps_the_running_config_when_the_new_one_is_bad(tmp_path):
    path = tmp_path / "init.lua"
    path.write_text('hexe.defaults { profile = "full" }\n')
    running = load(path, environ=ENV)
    path.write_text('hexe.defaults { profile = "fulll" }\n')
    config, error = reload(running, environ=ENV)
    assert config is running
    assert "defaults.profile=fulll is not a profile" in str(error)
    path.write_text('hexe.defaults { profile = "minimal" }\n')
    config, error = reload(running, environ=ENV)
    assert error is None and pane_isolation(config, config.panes()[0], {}).profile == "minimal"


def test_bad_environment_is_reported_with_the_variable_not_as_a_config_error():
    config = lua("")
    with pytest.raises(InvalidSettings, match="HEXE_CGROUP_MEM_MAX=lots is not a size"):
        pane_isolation(config, config.panes()[0], {"HEXE_CGROUP_MEM_MAX": "lots"})


def test_pane_defaults_are_pane_specs():
    assert isinstance(lua("").panes()[0], PaneSpec)


# -- what a config cannot do to hexe --------------------------------------------------------


@pytest.mark.parametrize(
    "text,message",
    [
        ("debug.sethook() while true do end", "attempt to call a nil value (field 'sethook')"),
        ("os.exit(3)", "os.exit is not allowed in init.lua"),
        (
            "setmetatable({}, {__gc = function() while true do end end})",
            "__gc finalizers are not allowed in init.lua",
        ),
        ("error({})", "a Lua error without a message"),
        ("hexe.defaults { memory = 1/0 }", "defaults.memory=inf is not a size"),
        ("hexe.defaults { memory = 0/0 }", "defaults.memory=nan is not a size"),
        ("hexe.defaults { pids = 1e300 }", "defaults.pids=1e+300 is larger than 4194304"),
        ("hexe.defaults(setmetatable({}, {__index = function() while true do end end}))", None),
        ("hexe.defaults(setmetatable({}, {__tostring = function() while true do end end}))", None),
    ],
)
def test_a_config_cannot_hang_kill_or_crash_hexe(text, message):
    if message is None:
        lua(text)  # loads: metamethods are not run while checking
        return
    errors = errors_of(text)
    assert any(message in e for e in errors), errors


def test_lua_print_goes_to_stderr_not_stdout(capfd):
    lua('print("from init.lua")')
    out, err = capfd.readouterr()
    assert out == "" and "from init.lua" in err


def test_python_module_is_not_loadable_from_lua():
    config = lua('hexe.defaults { profile = package.loaded.python and "full" or "none" }')
    assert pane_isolation(config, config.panes()[0], {}).profile == "none"


def test_a_nul_byte_in_a_command_or_the_environment_is_a_config_error():
    errors = errors_of('hexe.layout { hexe.pane { command = "a\\0b", env = { A = "x\\0y" } } }')
    assert any("command contains a NUL byte" in e for e in errors), errors
    assert any("env.A contains a NUL byte" in e for e in errors), errors
