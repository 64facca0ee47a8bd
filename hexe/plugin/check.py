"""``Check``: one finding of ``hexe doctor``, as plugins return them (``hexe_doctor_checks``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One finding. ``ok`` None means information, not a pass or a failure."""

    group: str
    name: str
    ok: bool | None
    detail: str
    hint: str = ""
