"""The caps/seccomp/mounts/rootfs settings as computed, before anything runs."""

from __future__ import annotations

import pytest
from hexe_voidbox.policy import (
    DEFAULT_DENY,
    ORDINARY_CAPS,
    PTRACE_RULES,
    parse_mounts,
    resolve_seccomp,
)

from hexe.errors import SettingError
from hexe.isolation import Layer, resolve


def iso(**values):
    return resolve([Layer("pane", {k: (v, f"pane.{k}") for k, v in values.items()})])


def test_profiles_carry_their_capability_and_filter_defaults():
    assert iso(profile="none").get("caps").keep is None and not iso(profile="none").get("seccomp")
    assert iso(profile="balanced").get("caps").keep == ORDINARY_CAPS
    for profile in ("minimal", "default", "balanced"):
        assert iso(profile=profile).get("seccomp").deny == ("tiocsti",)
    for profile in ("full", "sandbox"):
        assert iso(profile=profile).get("caps").keep == frozenset()
        assert iso(profile=profile).get("seccomp").deny == tuple(DEFAULT_DENY)


def test_ptrace_is_denied_only_without_a_pid_namespace():
    assert set(PTRACE_RULES) <= set(resolve_seccomp(None, True, pid_namespace=False).deny)
    assert not set(PTRACE_RULES) & set(resolve_seccomp(None, True, pid_namespace=True).deny)


def test_deny_and_allow_change_the_default_list_and_action_applies_to_all():
    got = iso(profile="full", seccomp={"deny": ["uname"], "allow": ["userns"], "action": "kill"})
    assert "uname" in got.get("seccomp").deny and "userns" not in got.get("seccomp").deny
    assert got.get("seccomp").action == "kill"
    assert iso(profile="balanced", seccomp=True).get("seccomp").deny == tuple(DEFAULT_DENY)
    assert iso(profile="full", seccomp=False).get("seccomp").deny == ("tiocsti",)


def test_only_an_explicit_allow_lifts_the_terminal_injection_rule():
    assert not iso(profile="full", seccomp={"defaults": False, "allow": ["tiocsti"]}).get("seccomp")
    assert not iso(profile="minimal", seccomp={"allow": ["tiocsti"]}).get("seccomp")
    assert "tiocsti" in iso(profile="default", seccomp={"allow": ["bpf"]}).get("seccomp").deny
    assert str(iso(profile="balanced").get("seccomp")) == "deny tiocsti (1 rule, errno)"


def test_home_is_expanded_and_targets_default_to_the_source(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    (spec,) = parse_mounts("m", [{"ro": "~/src"}])
    assert (spec.kind, spec.source, spec.target) == ("ro", "/home/someone/src", "/home/someone/src")


@pytest.mark.parametrize(
    "value, fragment",
    [
        ([{"ro": "/a", "rw": "/b"}], "names 2 actions"),
        ([{"tmpfs": "/x", "size": "lots"}], "m[1].size=lots"),
        ([{"mask": "/"}], "the root cannot be replaced here"),
        ([{"ro": "/a", "too": "/b"}], 'm[1].too="/b" is not a setting; did you mean to?'),
    ],
)
def test_bad_mount_specs_name_the_entry(value, fragment):
    with pytest.raises(SettingError) as err:
        parse_mounts("m", value)
    assert fragment in err.value.message
