"""The cgroup limits' value formats: memory sizes, process counts, CPU quotas.

The formats are the contract of ``seed/pod-isolation.md``:

- memory: bytes, or a K/M/G (also T) suffix, binary multiples (``512M``, ``1G``), or ``max``
- pids: a positive integer, or ``max``
- cpu: ``"quota period"`` in microseconds (``"50000 100000"`` is half a core),
  or ``"max period"``, or ``max``

Each parser takes the name the user wrote the setting under, so the error
names it: ``HEXE_CGROUP_MEM_MAX=lots is not a memory size; ...``. The generic
parsers they are built on (sizes, counts, yes/no) live in :mod:`hexe.values`
and are importable from here too. :func:`requested` reads the limits a
resolved isolation asks for. Nothing here touches the kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hexe.errors import SettingError
from hexe.values import (  # noqa: F401 (the generic parsers, importable from here as before)
    SIZE_FORMS,
    SIZE_MAX,
    format_bytes,
    parse_bool,
    parse_bytes,
    parse_count,
    parse_size,
)

MEMORY_FORMS = (
    "use bytes (1073741824), a K/M/G/T suffix, binary, with or without B or iB "
    "(512M, 512MB, 512MiB, 1.5G) or max"
)
PIDS_FORMS = "use a positive whole number (512) or max"
CPU_FORMS = (
    'use "quota period" in microseconds ("50000 100000" is half a core, '
    '"200000 100000" two cores), "max period" or max; '
    "the period is 1000..1000000 and the quota at least 1000"
)

#: Largest values the kernel takes (memory: far below its page-counter limit;
#: pids: PID_MAX_LIMIT on 64-bit; cpu quota: well below the CFS bandwidth maximum).
MEMORY_MAX = SIZE_MAX
PIDS_MAX = 4_194_304
CPU_QUOTA_MAX = 1_000_000_000_000
CPU_PERIOD_MIN = 1_000
CPU_PERIOD_MAX = 1_000_000
CPU_QUOTA_MIN = 1_000
DEFAULT_CPU_PERIOD = 100_000


@dataclass(frozen=True)
class CpuQuota:
    """A CPU bandwidth limit: ``quota`` microseconds per ``period``; quota None = no limit."""

    quota: int | None
    period: int = DEFAULT_CPU_PERIOD

    @property
    def cores(self) -> float | None:
        return None if self.quota is None else self.quota / self.period

    def __str__(self) -> str:
        return f"{'max' if self.quota is None else self.quota} {self.period}"


#: The smallest memory limit taken: below it nothing starts (the kernel counts
#: whole pages, and a sandbox's PID 1 and the command need some); docker and
#: podman refuse below 6 MB for the same reason.
MEMORY_MIN = 1 << 20


def parse_memory(setting: str, value: object) -> int | None:
    """Bytes, or None for ``max`` (no limit)."""
    size = parse_bytes(setting, value, MEMORY_FORMS, allow_max=True)
    if size is not None and size < MEMORY_MIN:
        raise SettingError(
            setting, value, MEMORY_FORMS,
            problem="is below 1M, the smallest memory limit (nothing starts in less)",
        )
    return size


def parse_pids(setting: str, value: object) -> int | None:
    """A process count, or None for ``max``."""
    return parse_count(setting, value, PIDS_FORMS, most=PIDS_MAX)


def parse_cpu(setting: str, value: object) -> CpuQuota:
    """``"quota period"``, ``"max period"`` or ``max``."""
    if not isinstance(value, str):
        raise SettingError(setting, value, CPU_FORMS, problem="is not a CPU quota")
    parts = value.split()
    if len(parts) == 1 and parts[0].lower() == "max":
        return CpuQuota(None, DEFAULT_CPU_PERIOD)
    if len(parts) != 2:
        lone_number = len(parts) == 1 and parts[0].isdigit()
        problem = "has no period" if lone_number else "is not a CPU quota"
        raise SettingError(setting, value, CPU_FORMS, problem=problem)
    quota_text, period_text = parts
    if not re.fullmatch(r"-?\d+", period_text):
        raise SettingError(setting, value, CPU_FORMS, problem="has a period that is not a number")
    period = int(period_text)
    if not CPU_PERIOD_MIN <= period <= CPU_PERIOD_MAX:
        raise SettingError(setting, value, CPU_FORMS, problem="has a period out of range")
    if quota_text.lower() == "max":
        return CpuQuota(None, period)
    if not re.fullmatch(r"-?\d+", quota_text):
        raise SettingError(setting, value, CPU_FORMS, problem="has a quota that is not a number")
    quota = int(quota_text)
    if quota <= 0:
        raise SettingError(setting, value, CPU_FORMS, problem="must have a quota above zero")
    if quota < CPU_QUOTA_MIN:
        raise SettingError(setting, value, CPU_FORMS, problem="has a quota below 1000")
    if quota > CPU_QUOTA_MAX:
        raise SettingError(setting, value, CPU_FORMS, problem=f"has a quota above {CPU_QUOTA_MAX}")
    return CpuQuota(quota, period)


#: The limits of this plugin, in the order they are listed.
LIMITS = ("memory", "pids", "cpu")


def requested(iso: Any) -> dict[str, object]:
    """The limits a resolved isolation actually sets, by name (``memory``, ``pids``, ``cpu``)."""
    out: dict[str, object] = {}
    for name in LIMITS:
        value = iso.get(name)
        if value is None or (isinstance(value, CpuQuota) and value.quota is None):
            continue
        out[name] = value
    return out


def show_count(value: int | None) -> str:
    return "max" if value is None else str(value)


def show_cpu(value: CpuQuota | None) -> str:
    return "max" if value is None or value.quota is None else str(value)
