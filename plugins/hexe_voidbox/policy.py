"""Namespaces, capabilities, seccomp, filesystem actions and rootfs: what a pane asks for.

The parsed forms of the voidbox plugin's settings (``namespaces``, ``caps``,
``seccomp``, ``mounts``, ``rootfs``, ``hostname``, ``tmp_size``) and their
accepted forms; :mod:`hexe_voidbox.model` declares them, with the profiles.
This only computes: it never touches the kernel (the plugin's hooks apply
what is decided here). Syscall names are
checked against libseccomp's table for this machine when the library is
there; without it, any well-formed name passes here and the spawn is refused
later, since the filter could not be loaded anyway.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hexe.errors import SettingError, did_you_mean
from hexe.values import format_bytes, parse_size

# --------------------------------------------------------------------------
# Namespaces, hostname, /tmp
# --------------------------------------------------------------------------

#: Every namespace voidbox knows, in the order they are listed to users.
NAMESPACES: tuple[str, ...] = ("user", "pid", "mount", "net", "uts", "ipc", "cgroup")
NAMESPACES_FORMS = f"namespaces: {', '.join(NAMESPACES)}"
NAMESPACES_MISSING = 'use a list like {"user", "pid"}'


def _refused(label: str, value: object, accepted: str, text: str) -> SettingError:
    """A SettingError whose message is ``text`` (for the table forms of ``init.lua``)."""
    error = SettingError(label, value, accepted)
    error.message = text
    error.args = (text,)
    return error


def parse_namespaces(label: str, value: object) -> frozenset[str]:
    """A list of namespace names (``{"user", "pid"}``)."""
    if isinstance(value, dict) and not value:
        value = []
    if not isinstance(value, list | tuple | frozenset | set):
        shown = repr(value) if isinstance(value, str) else _show(value)
        text = f"{label} is {shown}; use a list of {NAMESPACES_FORMS}"
        raise _refused(label, value, NAMESPACES_FORMS, text)
    found = set()
    for i, name in enumerate(value, start=1):
        if name not in NAMESPACES:
            hint = did_you_mean(str(name), NAMESPACES)
            shown = repr(name) if isinstance(name, str) else str(name)
            text = f"{label}[{i}]={shown} is not a namespace; {hint}{NAMESPACES_FORMS}"
            raise _refused(f"{label}[{i}]", name, NAMESPACES_FORMS, text)
        found.add(name)
    return frozenset(found)


def show_namespaces(namespaces: frozenset[str]) -> str:
    return " ".join(ns for ns in NAMESPACES if ns in namespaces) or "-"


HOSTNAME_FORMS = "use 1-64 letters, digits, '-' and '.', not starting with '-' or '.'"
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")
DEFAULT_TMP_SIZE = 128 << 20
DEFAULT_HOSTNAME = "hexe"


def parse_hostname(setting: str, value: object) -> str:
    if not isinstance(value, str) or not _HOSTNAME_RE.match(value):
        raise SettingError(setting, value, HOSTNAME_FORMS, problem="is not a hostname")
    return value


def parse_tmp_size(setting: str, value: object) -> int:
    return parse_size(setting, value)


def show_tmp_size(size: int) -> str:
    return format_bytes(size)


# --------------------------------------------------------------------------
# Capabilities
# --------------------------------------------------------------------------

#: Capability names, lower case without ``CAP_``; the index is the number.
CAPABILITIES: tuple[str, ...] = (
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
)

#: What ``minimal``, ``default`` and ``balanced`` keep: Docker's default set,
#: the capabilities a root shell uses for ordinary file and process work.
#: Gone: sys_admin (mounts, namespaces' knobs), net_admin, sys_ptrace,
#: sys_module, bpf, perfmon and the rest.
ORDINARY_CAPS: frozenset[str] = frozenset(
    {
        "chown",
        "dac_override",
        "fowner",
        "fsetid",
        "kill",
        "setgid",
        "setuid",
        "setpcap",
        "net_bind_service",
        "net_raw",
        "sys_chroot",
        "mknod",
        "audit_write",
        "setfcap",
    }
)

CAPS_FORMS = (
    'use { keep = { "net_bind_service", ... } } (every other capability is dropped), '
    '{ keep = {} } to drop all, or { keep = "all" } to drop none'
)


@dataclass(frozen=True)
class Caps:
    """The capabilities kept; ``keep`` None means none are dropped."""

    keep: frozenset[str] | None

    def mask(self) -> int:
        """The kept set as a bit mask (every bit when nothing is dropped)."""
        if self.keep is None:
            return (1 << len(CAPABILITIES)) - 1
        return sum(1 << CAPABILITIES.index(name) for name in self.keep)

    def __str__(self) -> str:
        if self.keep is None:
            return "all kept"
        if not self.keep:
            return "all dropped"
        return "keep " + " ".join(n for n in CAPABILITIES if n in self.keep)


def capability_name(label: str, value: object) -> str:
    """``"CAP_SYS_ADMIN"``, ``"sys_admin"`` -> ``"sys_admin"``; else a SettingError."""
    if isinstance(value, str):
        name = value.strip().lower()
        name = name[4:] if name.startswith("cap_") else name
        if name in CAPABILITIES:
            return name
    hint = did_you_mean(str(value).lower().removeprefix("cap_"), CAPABILITIES)
    raise SettingError(
        label,
        value,
        f"{hint}capabilities: {', '.join(CAPABILITIES)}",
        problem="is not a capability",
    )


def parse_caps(label: str, value: object) -> Caps:
    if not isinstance(value, dict) or set(value) - {"keep"} or "keep" not in value:
        if isinstance(value, dict):
            for key in value:
                if key != "keep":
                    raise SettingError(
                        f"{label}.{key}", value[key], CAPS_FORMS, problem="is not a setting"
                    )
        raise SettingError(label, _show(value), CAPS_FORMS)
    keep = value["keep"]
    if keep == "all":
        return Caps(None)
    if isinstance(keep, dict) and not keep:
        keep = []
    if not isinstance(keep, list):
        raise SettingError(f"{label}.keep", _show(keep), CAPS_FORMS)
    return Caps(frozenset(capability_name(f"{label}.keep[{i}]", v) for i, v in enumerate(keep, 1)))


# --------------------------------------------------------------------------
# seccomp
# --------------------------------------------------------------------------

#: Rules that are not one syscall: ``tiocsti`` is ``ioctl(TIOCSTI)`` and
#: ``ioctl(TIOCLINUX)`` (typing into the terminal hexe runs in); ``userns`` is
#: ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` (``clone3`` answers ENOSYS,
#: so libc falls back to ``clone``, whose flags a filter can read).
SPECIAL_RULES: Mapping[str, str] = {
    "tiocsti": "ioctl TIOCSTI/TIOCLINUX: typing into the terminal outside the sandbox",
    "userns": "new user namespaces (unshare/clone with CLONE_NEWUSER; clone3 gets ENOSYS)",
}

#: The default filter of ``sandbox`` and ``full``: syscalls a shell session
#: never needs and an escape often does, with the reason for each.
DEFAULT_DENY: Mapping[str, str] = {
    "init_module": "load a kernel module",
    "finit_module": "load a kernel module",
    "delete_module": "unload a kernel module",
    "kexec_load": "boot another kernel",
    "kexec_file_load": "boot another kernel",
    "reboot": "reboot or halt",
    "bpf": "load eBPF programs",
    "perf_event_open": "kernel profiling; a long history of exploits",
    "userfaultfd": "stalls the kernel in page faults, a common exploit aid",
    "keyctl": "the kernel keyring is not namespaced",
    "add_key": "the kernel keyring is not namespaced",
    "request_key": "the kernel keyring is not namespaced",
    "io_uring_setup": "io_uring operations bypass this filter",
    "io_uring_enter": "io_uring operations bypass this filter",
    "io_uring_register": "io_uring operations bypass this filter",
    "open_by_handle_at": "opens host files by handle (the 'shocker' escape)",
    "swapon": "host swap",
    "swapoff": "host swap",
    "acct": "host process accounting",
    "iopl": "raw port I/O",
    "ioperm": "raw port I/O",
    "syslog": "the host's kernel log",
    **SPECIAL_RULES,
}

#: Denied as well when the sandbox has no pid namespace of its own, so that
#: host processes of the same user cannot be traced or read.
PTRACE_RULES: tuple[str, ...] = ("ptrace", "process_vm_readv", "process_vm_writev")

SECCOMP_ACTIONS: Mapping[str, str] = {
    "errno": "the call fails with EPERM",
    "kill": "the process is killed with SIGSYS",
    "log": "the call is allowed and logged by the kernel (audit)",
}

SECCOMP_FORMS = (
    "use true (the default filter), false (no filter) or "
    '{ deny = { "name", ... }, allow = { "name", ... }, action = "errno"|"kill"|"log", '
    "defaults = true|false }"
)

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class SeccompRequest:
    """The ``seccomp`` setting as written: ``defaults`` None means the profile's choice."""

    defaults: bool | None = None
    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    action: str = "errno"

    def __str__(self) -> str:
        parts = []
        if self.defaults is not None:
            parts.append(f"defaults={'yes' if self.defaults else 'no'}")
        if self.deny:
            parts.append("deny " + " ".join(self.deny))
        if self.allow:
            parts.append("allow " + " ".join(self.allow))
        parts.append(f"action={self.action}")
        return " ".join(parts)


@dataclass(frozen=True)
class Seccomp:
    """The resolved filter: the rules denied and what a denied call gets."""

    deny: tuple[str, ...] = ()
    action: str = "errno"

    def __bool__(self) -> bool:
        return bool(self.deny)

    def __str__(self) -> str:
        if not self.deny:
            return "off"
        default = [n for n in DEFAULT_DENY if n in self.deny]
        extra = [n for n in self.deny if n not in DEFAULT_DENY]
        if len(default) * 2 > len(DEFAULT_DENY):
            missing = [n for n in DEFAULT_DENY if n not in self.deny]
            text = "default filter"
            text += f" without {' '.join(missing)}" if missing else ""
            text += f" + {' '.join(extra)}" if extra else ""
        else:
            text = "deny " + " ".join(self.deny)
        rules = f"{len(self.deny)} rule{'' if len(self.deny) == 1 else 's'}"
        return f"{text} ({rules}, {self.action})"


@functools.lru_cache(maxsize=1)
def known_syscalls() -> frozenset[str] | None:
    """Syscall names of this machine's architecture, from libseccomp; None without it."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError):
        return None
    names = set()
    for number in range(0, 1024):
        try:
            names.add(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, number).decode())
        except (ValueError, UnicodeDecodeError):
            continue
    return frozenset(names)


def syscall_name(label: str, value: object) -> str:
    known = known_syscalls()
    if isinstance(value, str):
        name = value.strip().lower()
        if name in SPECIAL_RULES:
            return name
        if known is None and _NAME_RE.match(name):
            return name
        if known is not None and name in known:
            return name
    choices = sorted({*(known or ()), *SPECIAL_RULES})
    hint = did_you_mean(str(value).lower(), choices)
    raise SettingError(
        label,
        value,
        f"{hint}use a syscall name of this machine (man 2 syscalls), "
        f"or {' or '.join(SPECIAL_RULES)}",
        problem="is not a syscall",
    )


def _names(label: str, value: object) -> tuple[str, ...]:
    if isinstance(value, dict) and not value:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SettingError(label, _show(value), 'use a list of syscall names, like { "bpf" }')
    out: list[str] = []
    for i, item in enumerate(value, 1):
        name = syscall_name(f"{label}[{i}]", item)
        if name not in out:
            out.append(name)
    return tuple(out)


def parse_seccomp(label: str, value: object) -> SeccompRequest:
    if isinstance(value, bool):
        return SeccompRequest(defaults=value)
    if not isinstance(value, dict):
        raise SettingError(label, _show(value), SECCOMP_FORMS)
    fields: dict[str, object] = {}
    for key, item in value.items():
        where = f"{label}.{key}"
        if key in ("deny", "allow"):
            fields[key] = _names(where, item)
        elif key == "action":
            if item not in SECCOMP_ACTIONS:
                hint = did_you_mean(str(item), SECCOMP_ACTIONS)
                forms = ", ".join(f'"{a}" ({why})' for a, why in SECCOMP_ACTIONS.items())
                raise SettingError(where, item, f"{hint}use {forms}", problem="is not an action")
            fields[key] = item
        elif key == "defaults":
            if not isinstance(item, bool):
                raise SettingError(
                    where, _show(item), "use true (start from the default filter) or false"
                )
            fields[key] = item
        else:
            hint = did_you_mean(str(key), ("deny", "allow", "action", "defaults"))
            raise SettingError(
                where, _show(item), f"{hint}{SECCOMP_FORMS}", problem="is not a setting"
            )
    return SeccompRequest(**fields)  # type: ignore[arg-type]


def resolve_seccomp(
    request: SeccompRequest | None,
    profile_default: bool,
    pid_namespace: bool,
    isolating: bool = False,
) -> Seccomp:
    """The filter a process gets from its profile's default and the ``seccomp`` setting.

    ``isolating`` (every profile with a namespace, i.e. all but ``none``): the
    ``tiocsti`` rule is always there, even with ``seccomp = false``; only
    ``allow = { "tiocsti" }`` lifts it.
    """
    request = request or SeccompRequest()
    use_defaults = profile_default if request.defaults is None else request.defaults
    deny: list[str] = []
    if use_defaults:
        deny.extend(DEFAULT_DENY)
        if not pid_namespace:
            deny.extend(PTRACE_RULES)
    if isolating and "tiocsti" not in deny:
        deny.append("tiocsti")
    deny.extend(n for n in request.deny if n not in deny)
    allowed = set(request.allow)
    return Seccomp(tuple(n for n in deny if n not in allowed), request.action)


# --------------------------------------------------------------------------
# Filesystem actions and rootfs
# --------------------------------------------------------------------------

MOUNT_KINDS: Mapping[str, str] = {
    "ro": "bind a host path read-only",
    "rw": "bind a host path read-write",
    "tmpfs": "a fresh, empty tmpfs",
    "mask": "hide a path: an empty, unreadable file or directory",
}
MOUNT_FORMS = (
    'use a list of tables: { ro = "/path" } or { ro = "/src", to = "/dst" } (read-only bind; '
    '"~" is your home), { rw = "/src", to = "/dst" } (read-write bind), '
    '{ tmpfs = "/path", size = "64M" }, { mask = "/path" } (empty and unreadable)'
)


@dataclass(frozen=True)
class MountSpec:
    """One filesystem action: ``kind`` (ro, rw, tmpfs, mask), paths, tmpfs size."""

    kind: str
    target: str
    source: str | None = None
    size: int | None = None
    label: str = ""

    def __str__(self) -> str:
        if self.kind in ("ro", "rw"):
            to = "" if self.source == self.target else f" to {self.target}"
            return f"{self.kind} {self.source}{to}"
        if self.kind == "tmpfs":
            return f"tmpfs {self.target} {format_bytes(self.size)}"
        return f"{self.kind} {self.target}"


def _path(label: str, value: object, *, home: bool) -> str:
    if isinstance(value, str) and value and "\0" not in value:
        path = os.path.expanduser(value) if home else value
        if path.startswith("/"):
            return os.path.normpath(path)
    raise SettingError(
        label,
        _show(value),
        "use an absolute path" + (' ("~" and "~/..." are your home)' if home else ""),
        problem="is not a path",
    )


def parse_mount(label: str, value: object) -> MountSpec:
    if not isinstance(value, dict):
        raise SettingError(label, _show(value), MOUNT_FORMS)
    kinds = [k for k in value if k in MOUNT_KINDS]
    if len(kinds) != 1:
        what = "names no action" if not kinds else f"names {len(kinds)} actions"
        raise SettingError(label, _show(value), MOUNT_FORMS, problem=what)
    kind = kinds[0]
    allowed = (
        {kind, "to"} if kind in ("ro", "rw") else {kind, "size"} if kind == "tmpfs" else {kind}
    )
    for key in value:
        if key not in allowed:
            hint = did_you_mean(str(key), sorted(allowed))
            raise SettingError(
                f"{label}.{key}",
                _show(value[key]),
                f"{hint}a {kind} action takes: {', '.join(sorted(allowed))}",
                problem="is not a setting",
            )
    path = _path(f"{label}.{kind}", value[kind], home=True)
    if kind in ("ro", "rw"):
        target = _path(f"{label}.to", value["to"], home=False) if "to" in value else path
        spec = MountSpec(kind, target, source=path, label=label)
    elif kind == "tmpfs":
        size = parse_size(f"{label}.size", value.get("size", "64M"))
        spec = MountSpec(kind, path, size=size, label=label)
    else:
        spec = MountSpec(kind, path, label=label)
    if spec.target == "/":
        raise SettingError(
            label, _show(value), 'the root cannot be replaced here; use rootfs = "/path"'
        )
    return spec


def parse_mounts(label: str, value: object) -> tuple[MountSpec, ...]:
    if isinstance(value, dict) and not value:
        return ()
    if isinstance(value, dict):  # one action written without the list around it
        raise SettingError(label, _show(value), MOUNT_FORMS, problem="is not a list")
    if not isinstance(value, list):
        raise SettingError(label, _show(value), MOUNT_FORMS)
    return tuple(parse_mount(f"{label}[{i}]", item) for i, item in enumerate(value, 1))


def parse_rootfs(label: str, value: object) -> str | None:
    if value is False or value == "":
        return None
    path = _path(label, value, home=True)
    if path == "/":
        return None
    return path


def _show(value: object) -> object:
    """A value as the user wrote it, for messages: Lua tables as tables."""
    if isinstance(value, dict | list) and not value:
        return "{}"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_show(v)!s}" for k, v in value.items())
        return f"{{ {inner} }}"
    if isinstance(value, list):
        return "{ " + ", ".join(str(_show(v)) for v in value) + " }"
    if isinstance(value, str):
        return f'"{value}"'
    return value


def summary_of(items: Iterable[object]) -> str:
    return "; ".join(str(i) for i in items) or "-"
