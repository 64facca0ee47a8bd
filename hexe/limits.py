"""Parsing of the value formats the seed defines: sizes, process counts, CPU quotas.

The formats are the contract of ``seed/pod-isolation.md``:

- memory: bytes, or a K/M/G (also T) suffix, binary multiples (``512M``, ``1G``), or ``max``
- pids: a positive integer, or ``max``
- cpu: ``"quota period"`` in microseconds (``"50000 100000"`` is half a core),
  or ``"max period"``, or ``max``

Each parser takes the name the user wrote the setting under, so the error
names it: ``HEXE_CGROUP_MEM_MAX=lots is not a memory size; ...``. Nothing here
touches the kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hexe.errors import SettingError

MEMORY_FORMS = (
    "use bytes (1073741824), a K/M/G/T suffix, binary, with or without B or iB "
    "(512M, 512MB, 512MiB, 1.5G) or max"
)
SIZE_FORMS = (
    "use bytes (134217728) or a K/M/G/T suffix, binary, with or without B or iB "
    "(128M, 128MB, 128MiB, 1G)"
)
PIDS_FORMS = "use a positive whole number (512) or max"
CPU_FORMS = (
    'use "quota period" in microseconds ("50000 100000" is half a core, '
    '"200000 100000" two cores), "max period" or max; '
    "the period is 1000..1000000 and the quota at least 1000"
)

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)

#: Largest values the kernel takes (memory: far below its page-counter limit;
#: pids: PID_MAX_LIMIT on 64-bit; cpu quota: well below the CFS bandwidth maximum).
MEMORY_MAX = 1 << 60
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


def _size(setting: str, value: object, forms: str, *, allow_max: bool) -> int | None:
    if isinstance(value, bool):
        raise SettingError(setting, value, forms, problem="is not a size")
    if isinstance(value, int):
        if value <= 0:
            raise SettingError(setting, value, forms, problem="must be greater than zero")
        return _at_most(setting, value, forms, value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SettingError(setting, value, forms, problem="is not a size")
        if value != int(value) or value <= 0:
            raise SettingError(setting, value, forms, problem="must be a whole number above zero")
        return _at_most(setting, int(value), forms, value)
    if not isinstance(value, str):
        raise SettingError(setting, value, forms, problem="is not a size")
    text = value.strip()
    if allow_max and text.lower() == "max":
        return None
    if text.startswith("-"):
        raise SettingError(setting, value, forms, problem="must be greater than zero")
    m = _SIZE_RE.match(text)
    if not m:
        raise SettingError(setting, value, forms, problem="is not a size")
    number, unit = m.group(1), m.group(2).upper()
    if "." in number and not unit:
        raise SettingError(setting, value, forms, problem="is not a whole number of bytes")
    size = int(float(number) * _UNITS[unit]) if "." in number else int(number) * _UNITS[unit]
    if size <= 0:
        raise SettingError(setting, value, forms, problem="must be greater than zero")
    return _at_most(setting, size, forms, value)


def _at_most(setting: str, size: int, forms: str, shown: object) -> int:
    if size > MEMORY_MAX:
        raise SettingError(setting, shown, forms, problem="is larger than 1 EiB")
    return size


#: The smallest memory limit taken: below it nothing starts (the kernel counts
#: whole pages, and a sandbox's PID 1 and the command need some); docker and
#: podman refuse below 6 MB for the same reason.
MEMORY_MIN = 1 << 20


def parse_memory(setting: str, value: object) -> int | None:
    """Bytes, or None for ``max`` (no limit)."""
    size = _size(setting, value, MEMORY_FORMS, allow_max=True)
    if size is not None and size < MEMORY_MIN:
        raise SettingError(
            setting, value, MEMORY_FORMS,
            problem="is below 1M, the smallest memory limit (nothing starts in less)",
        )
    return size


def parse_size(setting: str, value: object) -> int:
    """A size in bytes that has no ``max`` form (tmpfs sizes)."""
    size = _size(setting, value, SIZE_FORMS, allow_max=False)
    assert size is not None
    return size


def parse_pids(setting: str, value: object) -> int | None:
    """A process count, or None for ``max``."""
    number: int | None = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value == value and abs(value) != float("inf"):
        if value == int(value):
            number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() == "max":
            return None
        if re.fullmatch(r"[-+]?\d+", text):
            number = int(text)
    if number is None:
        raise SettingError(setting, value, PIDS_FORMS, problem="is not a number")
    if number <= 0:
        raise SettingError(setting, value, PIDS_FORMS, problem="must be greater than zero")
    if number > PIDS_MAX:
        raise SettingError(setting, value, PIDS_FORMS, problem=f"is larger than {PIDS_MAX}")
    return number


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


def parse_bool(setting: str, value: object) -> bool:
    """``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case), or a real boolean."""
    forms = "use 1 or 0 (also true/false, yes/no, on/off)"
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    raise SettingError(setting, value, forms, problem="is not a yes/no value")


def format_bytes(size: int | None) -> str:
    """The shortest exact K/M/G form of a size: 536870912 -> 512M."""
    if size is None:
        return "max"
    for unit in ("T", "G", "M", "K"):
        mult = _UNITS[unit]
        if size % mult == 0:
            return f"{size // mult}{unit}"
    return str(size)
