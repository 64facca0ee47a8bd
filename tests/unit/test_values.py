"""hexe.values: the generic parsers any setting may use, naming the setting and
what it accepts; the cgroups plugin builds its formats on them (hexe_cgroups.limits)."""

from __future__ import annotations

import pytest
from hexe_cgroups import limits

from hexe import values
from hexe.errors import SettingError


def test_a_plugin_size_setting_names_itself_and_its_forms():
    forms = "use a size like 64M"
    assert values.parse_bytes("cache", "1.5G", forms, allow_max=False) == 3 << 29
    assert values.parse_bytes("cache", "max", forms, allow_max=True) is None
    with pytest.raises(SettingError) as info:
        values.parse_bytes("cache", "max", forms, allow_max=False)
    assert info.value.message == "cache=max is not a size; use a size like 64M"


@pytest.mark.parametrize(
    "raw,problem",
    [("0", "must be greater than zero"), ("11", "is larger than 10"), ("x", "is not a number")],
)
def test_a_count_is_a_whole_number_from_1_to_its_most(raw, problem):
    assert values.parse_count("workers", " 7 ", "use 1..10", most=10) == 7
    assert values.parse_count("workers", "MAX", "use 1..10", most=10) is None
    with pytest.raises(SettingError, match=f"^workers={raw} {problem}; use 1..10$"):
        values.parse_count("workers", raw, "use 1..10", most=10)


def test_the_cgroups_plugin_builds_its_limits_on_the_generic_parsers():
    for name in ("parse_size", "parse_bool", "format_bytes", "SIZE_FORMS"):
        assert getattr(limits, name) is getattr(values, name)
    assert limits.parse_pids("pids", "max") is None
    with pytest.raises(SettingError, match="is larger than 4194304"):
        limits.parse_pids("pids", 4_194_305)
