"""hexe-landlock: Landlock rules per pane, as a third-party hexe plugin.

Uses only hexe's documented plugin API: ``hexe.hookimpl``, the hooks of
``hexe/plugin/hookspecs.py``, ``hexe.errors.SettingError`` / ``SetupError`` and
``hexe.doctor.Check``. The Landlock syscalls are called with ctypes.

The setting (``hexe.defaults``, a pane's ``isolation``, a profile)::

    landlock = {
      write = { "/tmp", "~/src" },          -- required
      read = { "/usr", "/etc" },            -- optional
      tcp = { bind = { 8080 }, connect = { 443 } },   -- optional, ABI 4+
      scope = true,                         -- optional, ABI 6+
    }

- ``write``: the only trees where files may be written, truncated, made,
  renamed or removed, and where device ioctls are allowed (ABI 5+).
- ``read`` (optional): when given, reading, listing and executing are
  restricted as well, to these trees and the ``write`` ones.
- ``tcp`` (optional): ``bind`` and/or ``connect``, each a list of TCP ports;
  a key that is given restricts that operation to its ports (``{}``: none).
- ``scope``: signals and abstract unix sockets may not reach processes
  outside the pane's Landlock domain. Default: on when the kernel has it
  (ABI 6+); ``true`` refuses to run on an older kernel; ``false`` turns it off.

Whatever the ABI, every filesystem right the kernel knows is handled, and:

- writing (and device ioctls on) ``/dev/null``, ``/dev/zero``, ``/dev/full``
  and ``/dev/tty`` is always allowed;
- ``/dev/pts`` is neither readable nor writable unless a ``write`` tree holds
  it, nor are the other terminals of ``/dev`` (consoles, ``/dev/vcs*``,
  ``/dev/console``): they cannot be read or typed into. The pane's own terminal
  is already open (fds 0-2, which Landlock does not re-check) and may also
  be reopened by its name, through a rule on that one file;
- without ``read``, everything else stays readable: each entry of ``/`` and
  of ``/dev`` (but those terminals) gets a read rule.

Phases: ``hexe_config_api`` adds the setting; ``hexe_spawn_check`` refuses a
plan that asks for what this kernel's ABI lacks (never run unprotected);
``hexe_child_security`` (after voidbox's ``no_new_privs``, before its
capability drop) builds the ruleset and restricts the process, paths being
resolved inside the sandbox (after a rootfs, its paths); ``hexe_doctor_checks``
reports the ABI and what it can restrict.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from dataclasses import dataclass

from hexe import hookimpl
from hexe.errors import SettingError, SetupError

NAME = "landlock"

#: Its hooks read only ``plan.extra["landlock"]`` and the attached terminal,
#: never the command, its environment or directory: hexe may run them in a
#: sandbox prepared before the pane is asked for (``hexe.spawn.ahead_refused``).
HEXE_SPAWN_AHEAD = True
COMPONENT = "landlock"

SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_RULE_NET_PORT = 2
PR_SET_NO_NEW_PRIVS = 38

#: The newest ABI whose rights this plugin knows (ABI 7 added audit logging only).
KNOWN_ABI = 7

# filesystem rights (include/uapi/linux/landlock.h)
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
IOCTL_DEV = 1 << 15  # ABI 5
# network rights (ABI 4)
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
# scopes (ABI 6)
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

READ_RIGHTS = EXECUTE | READ_FILE | READ_DIR
#: rights a rule on a file (not a directory) may carry
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
#: what the always-writable devices and the pane's own terminal get
DEVICE_RIGHTS = READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV

ALWAYS_WRITABLE = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty")
ALWAYS_READABLE = ("/proc",)
PTS = "/dev/pts"

FORMS = (
    'use { write = { "/path", ... } } and optionally read = { "/path", ... }, '
    "tcp = { bind = { port, ... }, connect = { port, ... } }, scope = true|false; "
    'paths are absolute ("~" is your home), ports 0..65535'
)


def fs_rights(abi: int) -> int:
    """Every filesystem right the kernel's ABI ``abi`` knows."""
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def write_rights(abi: int) -> int:
    """The rights of a ``write`` tree: every filesystem right but reading and executing."""
    return fs_rights(abi) & ~READ_RIGHTS


def restrictable(abi: int) -> str:
    """What ABI ``abi`` lets this plugin restrict, for ``hexe doctor``."""
    parts = ["writes", "reads"]
    if abi >= 2:
        parts.append("renames/links across trees")
    if abi >= 3:
        parts.append("truncate")
    if abi >= 4:
        parts.append("tcp bind/connect")
    if abi >= 5:
        parts.append("device ioctls")
    if abi >= 6:
        parts.append("signals and abstract unix sockets")
    return ", ".join(parts)


@dataclass(frozen=True)
class Rules:
    """The parsed setting.

    ``read`` None: reads not restricted. ``bind``/``connect`` None: that TCP
    operation not restricted. ``scope`` None: scoped when the kernel can.
    """

    write: tuple[str, ...]
    read: tuple[str, ...] | None
    label: str = ""
    bind: tuple[int, ...] | None = None
    connect: tuple[int, ...] | None = None
    scope: bool | None = None

    def __str__(self) -> str:
        text = "write " + " ".join(self.write)
        if self.read is not None:
            text += "; read " + " ".join(self.read)
        if self.bind is not None:
            text += "; tcp bind " + " ".join(map(str, self.bind))
        if self.connect is not None:
            text += "; tcp connect " + " ".join(map(str, self.connect))
        if self.scope is not None:
            text += f"; scope {'on' if self.scope else 'off'}"
        return text

    def min_abi(self) -> tuple[int, str] | None:
        """The ABI the setting needs beyond 1, with the part that needs it."""
        if self.scope:
            return 6, "scope = true (signals, abstract unix sockets)"
        if self.bind is not None or self.connect is not None:
            return 4, "tcp"
        return None


def _list(label: str, value: object) -> list:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, dict) and not value:
        value = []
    if not isinstance(value, list):
        raise SettingError(label, value, FORMS)
    return value


def _paths(label: str, value: object) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(_list(label, value), 1):
        path = os.path.expanduser(item) if isinstance(item, str) else item
        if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
            raise SettingError(f"{label}[{i}]", item, FORMS, problem="is not an absolute path")
        out.append(os.path.normpath(path))
    return tuple(out)


def _ports(label: str, value: object) -> tuple[int, ...]:
    out = []
    for i, item in enumerate(_list(label, value), 1):
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 65535:
            raise SettingError(f"{label}[{i}]", item, FORMS, problem="is not a TCP port")
        out.append(item)
    return tuple(out)


def parse(label: str, value: object) -> Rules:
    if not isinstance(value, dict):
        raise SettingError(label, value, FORMS)
    for key in value:
        if key not in ("write", "read", "tcp", "scope"):
            raise SettingError(f"{label}.{key}", value[key], FORMS, problem="is not a setting")
    if "write" not in value:
        raise SettingError(label, value, FORMS, problem="has no write list")
    read = _paths(f"{label}.read", value["read"]) if "read" in value else None
    bind = connect = None
    if "tcp" in value:
        tcp = value["tcp"]
        if not isinstance(tcp, dict):
            raise SettingError(f"{label}.tcp", tcp, FORMS)
        for key in tcp:
            if key not in ("bind", "connect"):
                raise SettingError(
                    f"{label}.tcp.{key}", tcp[key], FORMS, problem="is not a setting"
                )
        if "bind" in tcp:
            bind = _ports(f"{label}.tcp.bind", tcp["bind"])
        if "connect" in tcp:
            connect = _ports(f"{label}.tcp.connect", tcp["connect"])
    scope = value.get("scope")
    if scope is not None and not isinstance(scope, bool):
        raise SettingError(f"{label}.scope", scope, FORMS, problem="is not true or false")
    return Rules(_paths(f"{label}.write", value["write"]), read, label, bind, connect, scope)


# --------------------------------------------------------------------------
# The syscalls
# --------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),  # ABI 4
        ("scoped", ctypes.c_uint64),  # ABI 6
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def abi_version() -> int:
    """The kernel's Landlock ABI (1, 2, ...), or 0 when there is none (or it is disabled)."""
    result = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION
    )
    return max(int(result), 0)


def _fail(step: str, err: int | None = None, hint: str | None = None) -> SetupError:
    err = ctypes.get_errno() if err is None else err
    return SetupError(step, err, hint=hint, component=COMPONENT)


def _is_terminal(st: os.stat_result) -> bool:
    """A terminal device or a console's screen: pty slaves (majors 136-143), BSD
    ptys (2, 3), virtual consoles and serial lines (4), /dev/console (5:1) and
    the consoles' screens (/dev/vcs*, 7)."""
    if not stat.S_ISCHR(st.st_mode):
        return False
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    return major in (2, 3, 4, 7) or 136 <= major <= 143 or (major, minor) == (5, 1)


def _entries(directory: str, skip_dev: int | None) -> list[str]:
    """The entries of ``directory``, but terminals and those on the filesystem
    ``skip_dev`` (a devpts)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    out = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.stat(path)
        except OSError:
            continue  # a dangling link: nothing to read
        if (skip_dev is not None and st.st_dev == skip_dev) or _is_terminal(st):
            continue
        out.append(path)
    return out


def _readable_everywhere_but_terminals() -> list[str]:
    """Each entry of ``/`` and of ``/dev``, but ``/dev/pts`` (anything on a devpts)
    and the other terminals of ``/dev`` (``/dev/tty`` is granted on its own)."""
    try:
        pts_dev: int | None = os.stat(PTS).st_dev
    except OSError:
        pts_dev = None
    out = [p for p in _entries("/", pts_dev) if p != "/dev"]
    return out + _entries("/dev", pts_dev)


def _own_terminal_fds() -> list[int]:
    """Fds 0-2 that are a terminal, one per terminal: the pane's own terminal."""
    seen: set[tuple[int, int]] = set()
    fds = []
    for fd in (0, 1, 2):
        try:
            if not os.isatty(fd):
                continue
            st = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            fds.append(fd)
    return fds


def _add_path_rule(ruleset: int, fd: int, rights: int, what: str, required: bool = True) -> None:
    """Allow ``rights`` beneath ``fd``. An implicit rule (not ``required``) on a file
    Landlock takes no rule for (a pipe, a socket: EBADFD) is left out: nothing to allow."""
    if rights == 0:
        return
    rule = _PathBeneath(rights, fd)
    if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                     ctypes.byref(rule), 0) != 0:  # fmt: skip
        err = ctypes.get_errno()
        if not required and err == errno.EBADFD:
            return
        raise _fail(f"landlock_add_rule {what}", err)


def _add_port_rule(ruleset: int, port: int, rights: int) -> None:
    if rights == 0:
        return
    rule = _NetPort(rights, port)
    if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_NET_PORT,
                     ctypes.byref(rule), 0) != 0:  # fmt: skip
        raise _fail(f"landlock_add_rule tcp port {port}")


def restrict(rules: Rules, abi: int) -> None:
    """Build the ruleset for ``rules`` and restrict the calling process. Raises SetupError."""
    every = fs_rights(abi)
    # reads are always handled (READ_FILE at least), so that /dev/pts can be left out
    handled = every if rules.read is not None else every & ~(EXECUTE | READ_DIR)
    # (path, rights, required): a required path that cannot be opened is an error
    grants: list[tuple[str, int, bool]] = [(p, handled, True) for p in rules.write]
    grants += [(p, DEVICE_RIGHTS, False) for p in ALWAYS_WRITABLE]
    if rules.read is None:
        grants += [(p, READ_FILE, False) for p in _readable_everywhere_but_terminals()]
    else:
        grants += [(p, READ_RIGHTS, True) for p in rules.read]
        grants += [(p, READ_RIGHTS, False) for p in ALWAYS_READABLE]
        grants += [("/dev", READ_DIR, False)]
        grants += [(p, READ_RIGHTS, False) for p in _readable_everywhere_but_terminals()
                   if p.startswith("/dev/")]  # fmt: skip
    net = 0
    if abi >= 4:
        net = (NET_BIND_TCP if rules.bind is not None else 0) | (
            NET_CONNECT_TCP if rules.connect is not None else 0
        )
    scoped = 0
    if abi >= 6 and rules.scope is not False:
        scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    attr = _RulesetAttr(handled, net, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0
    )
    if ruleset < 0:
        raise _fail(
            "landlock_create_ruleset", hint="run `hexe doctor`: is Landlock enabled (lsm=)?"
        )
    try:
        for path, rights, required in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError as exc:
                if not required:
                    continue  # not there: nothing to allow
                raise _fail(f"open {path} for a rule ({rules.label})", exc.errno) from exc
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    rights &= FILE_RIGHTS
                _add_path_rule(ruleset, fd, rights & handled, path, required)
            finally:
                os.close(fd)
        # the pane's own terminal, reopened by its /dev/pts name (tty, ssh, gpg):
        # a rule on that one file, through the open fd itself
        for fd in _own_terminal_fds():
            _add_path_rule(ruleset, fd, DEVICE_RIGHTS & handled, f"terminal fd {fd}", False)
        for port in rules.bind or ():
            _add_port_rule(ruleset, port, NET_BIND_TCP & net)
        for port in rules.connect or ():
            _add_port_rule(ruleset, port, NET_CONNECT_TCP & net)
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
    needs = rules.min_abi()
    if needs is not None and abi < needs[0]:
        return [
            f"{rules.label or NAME}: {needs[1]} needs Landlock ABI {needs[0]}, and this kernel "
            f"has ABI {abi}; refusing to run without it (remove it, or run `hexe doctor`)"
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
        known = "" if abi <= KNOWN_ABI else f" (this plugin knows up to ABI {KNOWN_ABI})"
        detail = f"Landlock ABI {abi}{known}: landlock rules can restrict {restrictable(abi)}"
        return [Check("landlock", "abi", True, detail)]
    return [
        Check(
            "landlock",
            "abi",
            False,
            "Landlock is not available: panes that ask for landlock rules are refused",
            "Linux 5.13+ with landlock in the lsm= boot parameter",
        )
    ]
