"""Value formats of the seed, profiles, and the precedence of layered settings."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hexe_cgroups.limits import (
    CpuQuota,
    format_bytes,
    parse_bool,
    parse_cpu,
    parse_memory,
    parse_pids,
    parse_size,
)
from hexe_voidbox.policy import NAMESPACES

from hexe.errors import SettingError
from hexe.isolation import (
    InvalidSettings,
    Isolation,
    Layer,
    resolve,
)
from hexe.plugin.settings import default_settings

# -- memory ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1073741824", 1 << 30),
        ("1024K", 1 << 20),
        ("512M", 512 << 20),
        ("512m", 512 << 20),
        ("1G", 1 << 30),
        ("4G", 4 << 30),
        ("1.5G", 3 << 29),
        ("2T", 2 << 40),
        ("64MiB", 64 << 20),
        (" 256M ", 256 << 20),
        ("max", None),
        ("MAX", None),
        (536870912, 512 << 20),
    ],
)
def test_memory_accepts_the_seed_forms(text, expected):
    assert parse_memory("HEXE_CGROUP_MEM_MAX", text) == expected


@pytest.mark.parametrize(
    "text,problem",
    [
        ("lots", "is not a size"),
        ("", "is not a size"),
        ("1.5", "is not a whole number of bytes"),
        ("12Q", "is not a size"),
        ("-1G", "must be greater than zero"),
        ("0", "must be greater than zero"),
        ("0M", "must be greater than zero"),
        (0, "must be greater than zero"),
        (True, "is not a size"),
        ([1], "is not a size"),
    ],
)
def test_memory_rejects_bad_values_naming_setting_and_forms(text, problem):
    with pytest.raises(SettingError) as info:
        parse_memory("HEXE_CGROUP_MEM_MAX", text)
    message = str(info.value)
    assert message.startswith("HEXE_CGROUP_MEM_MAX=")
    assert problem in message
    assert "use bytes (1073741824), a K/M/G/T suffix, binary, with or without B or iB (512M, 512MB, 512MiB, 1.5G) or max" in message


# -- pids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected", [("512", 512), (100, 100), ("max", None), (" 7 ", 7), (3.0, 3)]
)
def test_pids_accepts_integers_and_max(value, expected):
    assert parse_pids("HEXE_CGROUP_PIDS_MAX", value) == expected


@pytest.mark.parametrize("value", ["abc", "1.5", "", "-3", "0", 0, -1, True, 2.5])
def test_pids_rejects_everything_else(value):
    with pytest.raises(SettingError) as info:
        parse_pids("--pids", value)
    assert str(info.value).startswith("--pids=")
    assert "use a positive whole number (512) or max" in str(info.value)


# -- cpu ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("50000 100000", CpuQuota(50000, 100000)),
        ("200000 100000", CpuQuota(200000, 100000)),
        ("max 100000", CpuQuota(None, 100000)),
        ("max", CpuQuota(None, 100000)),
        ("  1000   1000 ", CpuQuota(1000, 1000)),
    ],
)
def test_cpu_accepts_quota_period(text, expected):
    assert parse_cpu("HEXE_CGROUP_CPU_MAX", text) == expected


@pytest.mark.parametrize(
    "text,problem",
    [
        ("50000", "has no period"),
        ("fast", "is not a CPU quota"),
        ("1 2 3", "is not a CPU quota"),
        ("0 100000", "must have a quota above zero"),
        ("-5 100000", "must have a quota above zero"),
        ("500 100000", "has a quota below 1000"),
        ("50000 5", "has a period out of range"),
        ("50000 2000000", "has a period out of range"),
        ("50000 x", "has a period that is not a number"),
        ("half 100000", "has a quota that is not a number"),
        (50000, "is not a CPU quota"),
    ],
)
def test_cpu_rejects_bad_quotas(text, problem):
    with pytest.raises(SettingError) as info:
        parse_cpu("HEXE_CGROUP_CPU_MAX", text)
    assert problem in str(info.value)
    assert '"quota period"' in str(info.value)


def test_cpu_quota_cores_and_text():
    assert CpuQuota(50000, 100000).cores == 0.5
    assert str(CpuQuota(None, 100000)) == "max 100000"


@pytest.mark.parametrize(
    "value,expected",
    [("1", True), ("yes", True), ("On", True), ("0", False), ("false", False), (True, True)],
)
def test_bool_forms(value, expected):
    assert parse_bool("HEXE_CGROUP_STRICT", value) is expected


def test_format_bytes_shortest_exact_form():
    assert format_bytes(512 << 20) == "512M"
    assert format_bytes(1 << 30) == "1G"
    assert format_bytes(1536 << 20) == "1536M"
    assert format_bytes(1000) == "1000"
    assert format_bytes(None) == "max"


# -- profiles ------------------------------------------------------------------------


def under(profile: str, setting: str) -> object:
    return resolve([Layer("test", {"profile": (profile, "profile")})]).get(setting)


def test_profiles_are_exactly_the_seeds_plus_sandbox():
    profiles = default_settings().profiles
    assert {name: sorted(under(name, "namespaces")) for name in profiles} == {
        "none": [],
        "minimal": ["user"],
        "default": ["pid", "user"],
        "balanced": ["mount", "pid", "user"],
        "full": sorted(NAMESPACES),
        "sandbox": ["ipc", "mount", "pid", "user", "uts"],
    }


def test_no_new_privs_for_every_profile_but_none():
    assert {n: under(n, "no_new_privs") for n in default_settings().profiles} == {
        "none": False,
        "minimal": True,
        "default": True,
        "balanced": True,
        "full": True,
        "sandbox": True,
    }


# -- precedence ------------------------------------------------------------------------


def env(**values: str) -> Layer:
    return Layer.from_env(values)


def flags(**values: object) -> Layer:
    return Layer.from_flags(values, {k: f"--{k}" for k in values})


def test_nothing_set_gives_the_default_profile_without_limits():
    iso = resolve([])
    assert iso.profile == "default"
    assert [iso.get(k) for k in ("memory", "pids", "cpu")] == [None, None, None]
    assert iso.get("tmp_size") == 128 << 20 and iso.get("hostname") == "hexe"
    assert iso.get("strict") is False
    assert set(iso.sources.values()) == {"built-in"}


def test_environment_beats_builtin():
    iso = resolve([env(HEXE_VOIDBOX_PROFILE="full", HEXE_CGROUP_MEM_MAX="1G")])
    assert iso.profile == "full" and iso.get("memory") == 1 << 30
    assert iso.sources["profile"] == "environment (HEXE_VOIDBOX_PROFILE)"
    assert iso.sources["pids"] == "built-in"


def test_flags_beat_environment():
    iso = resolve(
        [
            env(HEXE_VOIDBOX_PROFILE="full", HEXE_CGROUP_PIDS_MAX="100"),
            flags(profile="none", pids="max"),
        ]
    )
    assert iso.profile == "none"
    assert iso.get("pids") is None
    assert iso.sources["profile"] == "flags (--profile)" and iso.sources["pids"] == "flags (--pids)"


def test_a_bad_lower_layer_is_an_error_even_when_overridden():
    with pytest.raises(InvalidSettings) as info:
        resolve([env(HEXE_CGROUP_MEM_MAX="lots"), flags(memory="1G")])
    assert "HEXE_CGROUP_MEM_MAX=lots" in str(info.value)


def test_all_errors_are_collected():
    with pytest.raises(InvalidSettings) as info:
        resolve([env(HEXE_VOIDBOX_PROFILE="nope", HEXE_CGROUP_CPU_MAX="50000"), flags(pids="x")])
    assert len(info.value.errors) == 3


def test_unknown_profile_is_never_downgraded():
    with pytest.raises(InvalidSettings) as info:
        resolve([env(HEXE_VOIDBOX_PROFILE="ful")])
    assert "HEXE_VOIDBOX_PROFILE=ful is not a profile; did you mean full?" in str(info.value)


def test_strict_from_environment():
    assert resolve([env(HEXE_CGROUP_STRICT="1")]).get("strict") is True


def test_summary_shows_profile_and_limits():
    iso = resolve([flags(profile="full", memory="512M", pids=100, cpu="50000 100000")])
    assert iso.summary() == "full 512M/100p/50%"
    assert resolve([flags(profile="balanced")]).summary() == "balanced"


@pytest.mark.parametrize(
    "parse,value,problem",
    [
        (parse_memory, float("inf"), "is not a size"),
        (parse_memory, float("nan"), "is not a size"),
        (parse_memory, "2000000T", "is larger than 1 EiB"),
        (parse_pids, "99999999999999999999", "is larger than 4194304"),
        (parse_pids, float("nan"), "is not a number"),
        (parse_cpu, "999999999999999999 100000", "has a quota above 1000000000000"),
    ],
)
def test_values_the_kernel_would_refuse_are_refused_here(parse, value, problem):
    with pytest.raises(SettingError, match=problem):
        parse("--x", value)


SIZE_SPELLINGS = ["512M", "512MB", "512MiB", "512m", "512mib", "512 MiB", "524288K", "524288KB"]


@pytest.mark.parametrize("text", SIZE_SPELLINGS)
def test_every_size_setting_reads_every_spelling_the_same(text):
    """memory, tmp_size, a tmpfs mount's size, --memory and HEXE_CGROUP_MEM_MAX: one parser."""
    from hexe_voidbox.policy import parse_mount

    from hexe.config import load, pane_isolation
    from hexe.config.model import PaneSpec
    from hexe.isolation import Layer

    want = 512 << 20
    assert parse_memory("memory", text) == want
    assert parse_size("tmp_size", text) == want
    assert parse_mount("m", {"tmpfs": "/x", "size": text}).size == want
    config = load("init.lua", source=f'hexe.defaults {{ tmp_size = "{text}" }}', environ={})
    pane = PaneSpec(path="p", where="init.lua:1")
    iso = pane_isolation(config, pane, {"HEXE_CGROUP_MEM_MAX": text})
    assert iso.get("memory") == want and iso.get("tmp_size") == want
    flags = Layer.from_flags({"memory": text}, {"memory": "--memory"})
    assert pane_isolation(config, pane, {}, flags).get("memory") == want


def test_the_same_isolation_resolved_twice_is_one_instance():
    """The panes of a profile share their resolved isolation (~3 KiB a pane at
    250 panes); any difference, a value's type included, makes another."""
    import hexe.isolation as isolation

    def of(values: dict) -> Isolation:
        return resolve([Layer("test", {k: (v, k) for k, v in values.items()})])

    a, b = of({"profile": "full"}), of({"profile": "full"})
    assert a is b
    assert of({"profile": "full", "memory": "64M"}) is not a
    assert of({"profile": "full", "hostname": "x"}).get("hostname") == "x"
    assert of({"profile": "full"}).get("hostname") != "x"
    assert isolation._interned(replace(a)) is a  # equal content
    for _ in range(isolation._INTERNED_LIMIT + 5):  # bounded
        isolation._interned(replace(a, notes=(str(object()),)))
    assert len(isolation._INTERNED) <= isolation._INTERNED_LIMIT
    unhashable = replace(a, values={**a.values, "x": []})
    assert isolation._interned(unhashable) is unhashable
    assert isolation._interned(replace(a, values={**a.values, "strict": 1})) is not a
    one, true = (replace(a, values={**a.values, "x": v}) for v in ((1,), (True,)))
    assert isolation._interned(one) is one and isolation._interned(true) is true
    assert isolation._interned(replace(one)) is one
