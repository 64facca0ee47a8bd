"""Errors a user sees.

Every error hexe shows names what went wrong in the user's words: the setting
and its bad value with the accepted forms, or the setup step with the path and
the errno. Plugins raise these same classes; the core turns them into messages,
exit codes and log events. Nothing here touches the kernel.
"""

from __future__ import annotations

import errno as errno_mod
import os

TYPE_CHECKING = False  # collections.abc imports collections (~2 ms a request): annotations only
if TYPE_CHECKING:
    from collections.abc import Iterable

#: Exit codes of ``hexe run`` (the docker/podman convention).
EXIT_SETUP_FAILED = 125
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """``"did you mean full? "`` for the closest of ``choices``, or ``""``."""
    import difflib  # only to suggest a name: not loaded by every command

    close = difflib.get_close_matches(str(value), list(choices), n=1)
    return f"did you mean {close[0]}? " if close else ""


class HexeError(Exception):
    """Base class for every error hexe reports to the user.

    ``hint`` is an optional second line telling the user what to try next.
    """

    exit_code = EXIT_SETUP_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class SettingError(HexeError):
    """A setting has a value hexe does not accept.

    ``setting`` is the name the user wrote it under (``HEXE_CGROUP_MEM_MAX``,
    ``--memory``, ``panes[2].isolation.memory``), ``value`` the bad value and
    ``accepted`` a short description of the accepted forms.
    """

    def __init__(self, setting: str, value: object, accepted: str, *, problem: str = "") -> None:
        self.setting = setting
        self.value = value
        self.accepted = accepted
        shown = value if isinstance(value, str) else repr(value)
        what = problem or "is not accepted"
        super().__init__(f"{setting}={shown} {what}; {accepted}")


class SpawnRefused(HexeError):
    """The spawn was refused before any process was started.

    Raised in the parent (plan and prepare hooks, parent phases). Nothing the
    user asked to run has executed when this is raised.
    """


class SetupError(HexeError):
    """A step of isolation setup failed.

    Raised by child-phase hooks (after fork, before exec) and carried back to
    the parent over the status pipe. ``step`` says what was being done in the
    words of ``bwrap``'s errors: ``mount tmpfs on /tmp``, ``write /proc/self/uid_map``.
    """

    def __init__(
        self,
        step: str,
        err: int = 0,
        detail: str = "",
        *,
        hint: str | None = None,
        exit_code: int = EXIT_SETUP_FAILED,
        component: str = "",
    ) -> None:
        self.step = step
        self.errno = err
        self.detail = detail or (os.strerror(err) if err else "failed")
        self.exit_code = exit_code
        self.component = component
        prefix = f"{component} failed: " if component else ""
        super().__init__(f"{prefix}{step}: {self.detail}", hint=hint)

    @classmethod
    def from_oserror(
        cls, step: str, exc: OSError, *, hint: str | None = None, component: str = ""
    ) -> SetupError:
        return cls(step, exc.errno or 0, exc.strerror or str(exc), hint=hint, component=component)

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "errno": self.errno,
            "errno_name": errno_mod.errorcode.get(self.errno, ""),
            "detail": self.detail,
            "hint": self.hint,
            "exit_code": self.exit_code,
            "component": self.component,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> SetupError:
        """The error a child reported; without a ``detail`` (hexe-init sends
        the errno alone), the errno's text."""
        err = int(data.get("errno", 0) or 0)  # type: ignore[call-overload]
        detail = str(data.get("detail") or "") or (os.strerror(err) if err else "")
        return cls(
            str(data.get("step", "setup")),
            err,
            detail,
            hint=data.get("hint") or None,  # type: ignore[arg-type]
            exit_code=int(data.get("exit_code", EXIT_SETUP_FAILED)),  # type: ignore[arg-type]
            component=str(data.get("component", "")),
        )


def report(error: HexeError) -> None:
    """Print ``error`` (and its hint) the way every hexe command does, on stderr."""
    import sys

    for line in error.message.splitlines():
        print(f"hexe: {line}", file=sys.stderr)
    if error.hint:
        print(f"hexe: hint: {error.hint}", file=sys.stderr)
