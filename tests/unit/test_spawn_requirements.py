"""spawn.check knows no feature by name: each setting the plan's isolation
asks for (a value other than its default) needs the plugin that declared it
loaded, or one listing the setting in ``hexe_spawn_features``, else the plan
is refused: a plan resolved with a plugin is never carried out without it."""

from __future__ import annotations

from support import iso

from hexe import hookimpl
from hexe.plugin.manager import make_plugin_manager
from hexe.spawn import SpawnPlan, check


class Provides:
    def __init__(self, *features: str) -> None:
        self.features = list(features)

    @hookimpl
    def hexe_spawn_features(self):
        return self.features


def plan(**values: object) -> SpawnPlan:
    return SpawnPlan(argv=("true",), isolation=iso(**values))


def test_full_requires_the_settings_its_profile_decides():
    needs = {n.feature: n.plugin for n in iso(profile="full").requirements()}
    assert needs == dict.fromkeys(
        ("namespaces", "no_new_privs", "caps", "seccomp", "clipboard"), "voidbox"
    )
    assert iso(profile="none").requirements() == []
    assert {n.feature for n in iso(profile="none", memory="1G").requirements()} == {"memory"}


def test_a_setting_whose_plugin_is_not_loaded_refuses_the_plan_naming_where_it_came_from():
    pm = make_plugin_manager(
        ["voidbox"], extra=[("ns", Provides("namespaces", "no_new_privs", "seccomp"))]
    )
    problems, warnings = check(plan(profile="default"), pm)
    assert problems == [
        "caps (from profile default) needs the voidbox plugin, which is not loaded"
    ]
    assert warnings == []
    problems, _ = check(plan(profile="default"), make_plugin_manager(["voidbox"]))
    assert problems[0] == (
        "namespaces (from profile default) needs the voidbox plugin, which is not loaded"
    )


def test_a_limit_whose_plugin_is_not_loaded_refuses_the_plan_strict_or_not():
    pm = make_plugin_manager(["cgroups"])
    text = "memory (from test (memory)) needs the cgroups plugin, which is not loaded"
    assert check(plan(profile="none", memory="1G"), pm) == ([text], [])
    problems, _ = check(plan(profile="none", memory="1G", strict=True), pm)
    assert text in problems
    assert check(plan(profile="none", memory="1G"), make_plugin_manager()) == ([], [])


def test_pwd_is_kept_when_it_names_the_directory_else_set_or_taken_out(tmp_path, monkeypatch):
    """hexe.spawn.child.with_pwd, in the directory entered: a PWD naming it
    through a symlink is kept, a stale or missing one is set, and a relative
    directory (it names nothing) takes PWD out; the mapping given is not
    changed."""
    from hexe.spawn.child import with_pwd

    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(real)
    given = {"PWD": str(tmp_path / "link"), "A": "1"}
    assert with_pwd(given, str(real)) is given
    assert with_pwd({"PWD": str(tmp_path), "A": "1"}, str(real)) == {"PWD": str(real), "A": "1"}
    assert with_pwd({"PWD": "/no/such", "A": "1"}, str(real))["PWD"] == str(real)
    assert with_pwd({"A": "1"}, str(real)) == {"A": "1", "PWD": str(real)}
    stale = {"PWD": str(tmp_path), "A": "1"}
    assert with_pwd(stale, "real") == {"A": "1"} and stale["PWD"] == str(tmp_path)
