"""What plugins return to checks: ``Check``, one finding of ``hexe doctor``
(``hexe_doctor_checks``), and ``SandboxFiles``, a sandbox's view of the file
system for ``hexe config check`` (``hexe_sandbox_files``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Check:
    """One finding. ``ok`` None means information, not a pass or a failure."""

    group: str
    name: str
    ok: bool | None
    detail: str
    hint: str = ""


class SandboxFiles(Protocol):
    """The file system as a sandbox will see it (``hexe_sandbox_files``)."""

    def host_path(self, path: str) -> str | None:
        """Where ``path`` (inside the sandbox) is on the host; None when the sandbox hides it."""
