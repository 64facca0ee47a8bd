"""Generic value parsers: sizes in bytes, whole-number counts, yes/no.

Any setting may use them, whoever declares it (the core, a built-in plugin
or a third-party one): each takes the name the user wrote the setting under
and what the setting accepts, so the error names both:
``HEXE_CGROUP_MEM_MAX=lots is not a memory size; use ...``. Nothing here knows
a particular setting; the cgroups plugin builds its limits' formats on
them (``hexe_cgroups.limits``).
"""

from __future__ import annotations

import re

from hexe.errors import SettingError

SIZE_FORMS = (
    "use bytes (134217728) or a K/M/G/T suffix, binary, with or without B or iB "
    "(128M, 128MB, 128MiB, 1G)"
)
BOOL_FORMS = "use 1 or 0 (also true/false, yes/no, on/off)"

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)

#: The largest size taken (far below the kernel's page-counter limit).
SIZE_MAX = 1 << 60


def parse_bytes(setting: str, value: object, forms: str, *, allow_max: bool) -> int | None:
    """A size in bytes above zero: a whole number, or text with a K/M/G/T suffix
    (binary; ``B``/``iB`` optional; ``1.5G``); ``max`` gives None when
    ``allow_max``. ``forms`` is what the error says is accepted."""
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
    size = int(float(number) * UNITS[unit]) if "." in number else int(number) * UNITS[unit]
    if size <= 0:
        raise SettingError(setting, value, forms, problem="must be greater than zero")
    return _at_most(setting, size, forms, value)


def _at_most(setting: str, size: int, forms: str, shown: object) -> int:
    if size > SIZE_MAX:
        raise SettingError(setting, shown, forms, problem="is larger than 1 EiB")
    return size


def parse_size(setting: str, value: object) -> int:
    """A size in bytes that has no ``max`` form (tmpfs sizes)."""
    size = parse_bytes(setting, value, SIZE_FORMS, allow_max=False)
    assert size is not None
    return size


def parse_count(setting: str, value: object, forms: str, *, most: int) -> int | None:
    """A whole number from 1 to ``most`` (a number, or text like ``"512"``), or
    None for ``max``."""
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
        raise SettingError(setting, value, forms, problem="is not a number")
    if number <= 0:
        raise SettingError(setting, value, forms, problem="must be greater than zero")
    if number > most:
        raise SettingError(setting, value, forms, problem=f"is larger than {most}")
    return number


def parse_bool(setting: str, value: object) -> bool:
    """``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case), or a real boolean."""
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
    raise SettingError(setting, value, BOOL_FORMS, problem="is not a yes/no value")


def format_bytes(size: int | None) -> str:
    """The shortest exact K/M/G form of a size: 536870912 -> 512M (None: ``max``)."""
    if size is None:
        return "max"
    for unit in ("T", "G", "M", "K"):
        mult = UNITS[unit]
        if size % mult == 0:
            return f"{size // mult}{unit}"
    return str(size)
