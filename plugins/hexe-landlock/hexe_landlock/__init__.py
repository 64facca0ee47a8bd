"""hexe-landlock: Landlock filesystem rules per pane, as a third-party hexe plugin.

Uses only hexe's documented plugin API: ``hexe.hookimpl``, the hooks of
``hexe/hookspecs.py``, ``hexe.errors.SettingError`` / ``SetupError`` and
``hexe.doctor.Check``. The Landlock syscalls are called with ctypes.

The setting (``hexe.defaults``, a pane's ``isolation``, a profile)::

    landlock = { write = { "/tmp", "~/src" }, read = { "/usr", "/etc" } }

- ``write``: the only trees where files may be written, truncated, made,
  renamed or removed (and read, when reads are restricted too).
- ``read`` (optional): when given, reading and executing are restricted as
  well, to these trees and the ``write`` ones.

Always allowed on top (a shell needs them): writing ``/dev/null``,
``/dev/zero``, ``/dev/full``, ``/dev/tty`` and ``/dev/pts``; with ``read``,
reading ``/dev`` and ``/proc``.

Phases: ``hexe_config_api`` adds the setting; ``hexe_spawn_check`` refuses a
plan that asks for Landlock on a kernel without it (never run unprotected);
``hexe_child_security`` (after voidbox's ``no_new_privs``, before its
capability drop) builds the ruleset and restricts the process, paths being
resolved inside the sandbox (after a rootfs, its paths); ``hexe_doctor_checks``
reports the ABI.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

from hexe import hookimpl
from hexe.errors import SettingError, SetupError

NAME = "landlock"

#: Its hooks read only ``plan.extra["landlock"]``, never the command, its
#: environment or directory: hexe may run them in a sandbox prepared before
#: the pane is asked for (``hexe.spawn.ahead_refused``).
HEXE_SPAWN_AHEAD = True
COMPONENT = "landlock"

SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3

READ_RIGHTS = EXECUTE | READ_FILE | READ_DIR
#: rights a rule on a file (not a directory) may carry
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE

ALWAYS_WRITABLE = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts")
ALWAYS_READABLE = ("/dev", "/proc")

FORMS = (
    'use { write = { "/path", ... } } and optionally read = { "/path", ... }; '
    'paths are absolute ("~" is your home)'
)


def write_rights(abi: int) -> int:
    rights = WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG
    rights |= MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    return rights


@dataclass(frozen=True)
class Rules:
    """The parsed setting: trees writable, trees readable (None: reads not restricted)."""

    write: tuple[str, ...]
    read: tuple[str, ...] | None
    label: str = ""

    def __str__(self) -> str:
        text = "write " + " ".join(self.write)
        if self.read is not None:
            text += "; read " + " ".join(self.read)
        return text


def _paths(label: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, dict) and not value:
        value = []
    if not isinstance(value, list):
        raise SettingError(label, value, FORMS)
    out = []
    for i, item in enumerate(value, 1):
        path = os.path.expanduser(item) if isinstance(item, str) else item
        if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
            raise SettingError(f"{label}[{i}]", item, FORMS, problem="is not an absolute path")
        out.append(os.path.normpath(path))
    return tuple(out)


def parse(label: str, value: object) -> Rules:
    if not isinstance(value, dict):
        raise SettingError(label, value, FORMS)
    for key in value:
        if key not in ("write", "read"):
            raise SettingError(f"{label}.{key}", value[key], FORMS, problem="is not a setting")
    if "write" not in value:
        raise SettingError(label, value, FORMS, problem="has no write list")
    read = _paths(f"{label}.read", value["read"]) if "read" in value else None
    return Rules(_paths(f"{label}.write", value["write"]), read, label)


# --------------------------------------------------------------------------
# The syscalls
# --------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI (1, 2, ...), or 0 when there is none (or it is disabled)."""
    result = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION
    )
    return max(int(result), 0)


def _fail(step: str, err: int | None = None, hint: str | None = None) -> SetupError:
    err = ctypes.get_errno() if err is None else err
    return SetupError(step, err, hint=hint, component=COMPONENT)


def restrict(rules: Rules, abi: int) -> None:
    """Build the ruleset for ``rules`` and restrict the calling process. Raises SetupError."""
    handled = write_rights(abi) | (READ_RIGHTS if rules.read is not None else 0)
    grants: list[tuple[str, int]] = [(p, handled) for p in rules.write]
    grants += [(p, write_rights(abi) & ~REFER) for p in ALWAYS_WRITABLE if os.path.exists(p)]
    if rules.read is not None:
        grants += [(p, READ_RIGHTS) for p in rules.read]
        grants += [(p, READ_RIGHTS) for p in ALWAYS_READABLE if os.path.exists(p)]
    attr = _RulesetAttr(handled)
    ruleset = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0
    )
    if ruleset < 0:
        raise _fail(
            "landlock_create_ruleset", hint="run `hexe doctor`: is Landlock enabled (lsm=)?"
        )
    try:
        for path, rights in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError as exc:
                raise _fail(f"open {path} for a rule ({rules.label})", exc.errno) from exc
            try:
                if not os.path.isdir(f"/proc/self/fd/{fd}"):
                    rights &= FILE_RIGHTS
                rule = _PathBeneath(rights & handled, fd)
                if (
                    _libc.syscall(
                        SYS_LANDLOCK_ADD_RULE,
                        ruleset,
                        LANDLOCK_RULE_PATH_BENEATH,
                        ctypes.byref(rule),
                        0,
                    )
                    != 0
                ):
                    raise _fail(f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        # Landlock needs no_new_privs (or CAP_SYS_ADMIN); voidbox sets it for every
        # isolating profile, and it is set here for "none" too
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise _fail("landlock_restrict_self")
    finally:
        os.close(ruleset)


# --------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------


@hookimpl
def hexe_config_api(api):
    api.add_setting(NAME, parse)


@hookimpl
def hexe_spawn_features():
    return [NAME]


@hookimpl
def hexe_spawn_check(plan):
    rules = plan.extra.get(NAME)
    if rules is None:
        return []
    abi = abi_version()
    if abi < 1:
        return [
            f"{rules.label or NAME} asks for Landlock, which this kernel does not offer "
            "(Linux 5.13+ with landlock in the lsm= boot list); refusing to run without it"
        ]
    return []


@hookimpl
def hexe_spawn_prepare(spawn):
    if spawn.plan.extra.get(NAME) is not None:
        spawn.state[NAME] = {"abi": abi_version()}
        spawn.facts["landlock_abi"] = spawn.state[NAME]["abi"]


@hookimpl
def hexe_child_security(spawn):
    rules = spawn.plan.extra.get(NAME)
    if rules is None:
        return
    restrict(rules, spawn.state[NAME]["abi"])


@hookimpl
def hexe_doctor_checks():
    from hexe.doctor import Check

    abi = abi_version()
    if abi >= 1:
        return [
            Check("landlock", "abi", True, f"Landlock ABI {abi}: landlock rules can be applied")
        ]
    return [
        Check(
            "landlock",
            "abi",
            False,
            "Landlock is not available: panes that ask for landlock rules are refused",
            "Linux 5.13+ with landlock in the lsm= boot parameter",
        )
    ]
