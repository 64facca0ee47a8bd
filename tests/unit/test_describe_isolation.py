"""``hexe_describe_isolation``: what ``list-panes --json`` shows of a pane's
isolation beyond the profile comes from the plugins that apply it."""

from __future__ import annotations

from types import SimpleNamespace

from support import iso

from hexe import hookimpl
from hexe.plugin.manager import make_plugin_manager
from hexe.spawn import SpawnPlan


def described(pm, plan, spawn) -> dict:
    out: dict = {}
    for entries in pm.hook.hexe_describe_isolation(plan=plan, spawn=spawn):
        out.update(entries or {})
    return out


def test_cgroups_describes_its_limits_and_cgroups_voidbox_its_namespaces_and_network():
    plan = SpawnPlan(argv=("true",), isolation=iso(profile="none", memory="64M", pids=50))
    spawn = SimpleNamespace(facts={"cgroup": "/sys/fs/cgroup/x", "network": "user"})
    got = described(make_plugin_manager(environ={}), plan, spawn)
    assert got == {
        "memory_max": 64 << 20,
        "pids_max": 50,
        "cpu_max": None,
        "cgroups": ["/sys/fs/cgroup/x"],
        "namespaces": [],
        "no_new_privs": False,
        "network": "user",
        "network_allow": [],
    }
    full = SpawnPlan(argv=("true",), isolation=iso(profile="full"))
    got = described(make_plugin_manager(environ={}), full, None)
    assert got["namespaces"] == ["user", "pid", "mount", "net", "uts", "ipc", "cgroup"]
    assert got["no_new_privs"] is True
    assert described(make_plugin_manager(environ={}), plan, None)["cgroups"] == []


def test_a_disabled_plugin_describes_nothing_and_a_third_party_one_adds_its_own():
    class Stamp:
        @hookimpl
        def hexe_describe_isolation(self, plan, spawn):
            return {"stamp": plan.argv[0]}

    pm = make_plugin_manager(["cgroups", "voidbox"], extra=[("stamp", Stamp())], environ={})
    plan = SpawnPlan(argv=("true",), isolation=iso(profile="none"))
    assert described(pm, plan, SimpleNamespace(facts={})) == {"stamp": "true"}
