"""spawn.check knows no feature by name: each requirement of the plan's
isolation must be listed by a loaded plugin (``hexe_spawn_features``), else
the plan is refused (or, for a limit that is not strict, warned about)."""

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


def test_full_requires_every_namespace_no_new_privs_caps_and_seccomp():
    needs = {n.feature for n in iso(profile="full").requirements()}
    assert needs == {"user", "pid", "mount", "net", "uts", "ipc", "cgroup"} | {
        "no_new_privs",
        "caps",
        "seccomp",
    }
    assert iso(profile="none").requirements() == []


def test_a_feature_nobody_lists_refuses_the_plan_naming_where_it_came_from():
    pm = make_plugin_manager(
        ["voidbox"], extra=[("ns", Provides("user", "pid", "no_new_privs", "seccomp"))]
    )
    problems, warnings = check(plan(profile="default"), pm)
    assert problems == [
        "caps (from built-in) is asked for, but no loaded plugin implements it "
        "(is the voidbox plugin disabled?)"
    ]
    assert warnings == []
    problems, _ = check(plan(profile="default"), make_plugin_manager(["voidbox"]))
    assert problems[0].startswith("profile default needs the user namespace, which no loaded")


def test_a_limit_nobody_implements_is_a_warning_unless_limits_are_strict():
    pm = make_plugin_manager(["cgroups"])
    problems, warnings = check(plan(profile="none", memory="1G"), pm)
    text = (
        "memory limit not applied: no loaded plugin implements it "
        "(is the cgroups plugin disabled?)"
    )
    assert (problems, warnings) == ([], [text])
    problems, warnings = check(plan(profile="none", memory="1G", strict=True), pm)
    assert (problems, warnings) == ([text], [])
    assert check(plan(profile="none", memory="1G"), make_plugin_manager()) == ([], [])
