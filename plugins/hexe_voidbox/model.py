"""What the voidbox plugin declares: its profiles and its settings.

Through the same public API a third-party plugin uses (``hexe_profiles`` and
``hexe_settings``, :mod:`hexe.plugin.settings`): the profiles of
``seed/pod-isolation.md`` (``minimal``, ``default``, ``balanced``, ``full``;
``none`` is the core's: every setting at its default) plus ``sandbox`` from the
upstream Zig hexe, and the settings each of them decides: ``namespaces``,
``no_new_privs``, ``caps``, ``seccomp``, then ``tmp_size``, ``hostname``,
``mounts``, ``rootfs``, ``network`` and ``clipboard``. The hooks that apply
them read the resolved values with ``plan.isolation.get(name)``.
"""

from __future__ import annotations

from typing import Any

from hexe.errors import SettingError
from hexe.plugin.settings import Flag, Profile, Resolving, Setting
from hexe.values import parse_bool
from hexe_voidbox import clipboard
from hexe_voidbox import network as usernet
from hexe_voidbox.policy import (
    DEFAULT_HOSTNAME,
    DEFAULT_TMP_SIZE,
    NAMESPACES,
    NAMESPACES_MISSING,
    ORDINARY_CAPS,
    Caps,
    Seccomp,
    SeccompRequest,
    parse_caps,
    parse_hostname,
    parse_mounts,
    parse_namespaces,
    parse_rootfs,
    parse_seccomp,
    parse_tmp_size,
    resolve_seccomp,
    show_namespaces,
    show_tmp_size,
    summary_of,
)

#: The core's profile without isolation (every setting at its default).
NONE = "none"

#: The profiles, with their namespaces; ``locked`` ones drop every capability
#: and get the default seccomp filter.
PROFILES: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "minimal": (("user",), "user namespace only", False),
    "default": (("user", "pid"), "user + pid namespaces", False),
    "balanced": (("user", "pid", "mount"), "user + pid + mount (fresh /tmp)", False),
    "full": (NAMESPACES, "all namespaces; no network", True),
    "sandbox": (
        ("user", "pid", "mount", "uts", "ipc"),
        "all but net and cgroup: isolated, network kept",
        True,
    ),
}
LOCKED = tuple(name for name, (_, _, locked) in PROFILES.items() if locked)


def profiles() -> list[Profile]:
    return [Profile(name, description) for name, (_, description, _) in PROFILES.items()]


def _finish_no_new_privs(value: bool, resolving: Resolving) -> bool:
    """On for every profile but ``none`` (the seed: "always enabled"), unless a layer says."""
    if "no_new_privs" in resolving.chosen:
        return value
    return resolving.profile != NONE


def _finish_caps(value: Caps, resolving: Resolving) -> Caps:
    """Unset and not decided by the profile: the ordinary set when isolating, else all kept."""
    if "caps" in resolving.chosen or resolving.profile_default("caps") is not None:
        return value
    return Caps(ORDINARY_CAPS) if resolving.get("namespaces") else Caps(None)


def _finish_seccomp(value: SeccompRequest | Seccomp, resolving: Resolving) -> Seccomp:
    """The filter from the profile's default and the ``seccomp`` request (see policy)."""
    wanted = resolving.profile_default("seccomp")
    namespaces = resolving.get("namespaces") or frozenset()
    request = value if isinstance(value, SeccompRequest) else None
    return resolve_seccomp(
        request,
        bool(wanted is not None and wanted.defaults),
        "pid" in namespaces,
        isolating=bool(namespaces),
    )


def _parse_network(setting: str, value: object) -> str:
    if not isinstance(value, str) or value not in usernet.MODES:
        raise SettingError(
            setting, value, 'use "host" (the host\'s network), "loopback" (only lo) or '
            '"user" (a network of its own through pasta)', problem="is not a network mode",
        )
    return value


def _parse_network_allow(setting: str, value: object) -> usernet.AllowList:
    forms = 'use host loopback services as "127.0.0.1:PORT", a string or a list of them'
    items: list[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif hasattr(value, "items"):  # a Lua array as a table
        pairs = sorted(value.items(), key=lambda kv: str(kv[0]))  # type: ignore[union-attr]
        items = [v for _, v in pairs]
    else:
        raise SettingError(setting, value, forms, problem="is not an address list")
    allowed = []
    for item in items:
        try:
            allowed.append(usernet.parse_allowed(setting, str(item)))
        except ValueError as exc:
            raise SettingError(setting, item, forms, problem=str(exc).split(": ", 1)[-1]) from None
    return usernet.AllowList(allowed)


def network_mode(iso: Any) -> str:
    """host, loopback or user: the setting, else what the profile's namespaces give."""
    mode = iso.get("network")
    if mode:
        return str(mode)
    return "loopback" if "net" in iso.get("namespaces", ()) else "host"


def _needs(namespace: str) -> Any:
    """A setting's ``inert``: it does nothing without ``namespace``."""

    def inert(value: object, resolving: Resolving) -> str | None:
        if namespace in (resolving.get("namespaces") or ()):
            return None
        return f"profile {resolving.profile} has no {namespace} namespace"

    return inert


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def settings() -> list[Setting]:
    """The sandbox's settings; the first four are what a profile decides."""
    return [
        Setting(
            "namespaces",
            parse_namespaces,
            doc="the namespaces of the profile: user, pid, mount, net, uts, ipc, cgroup",
            default=frozenset(),
            show=show_namespaces,
            effective=lambda found: [ns for ns in NAMESPACES if ns in found],
            profiles={name: list(ns) for name, (ns, _, _) in PROFILES.items()},
            profile_only=True,
            missing=NAMESPACES_MISSING,
        ),
        Setting(
            "no_new_privs",
            parse_bool,
            doc="PR_SET_NO_NEW_PRIVS: on for every profile but none",
            default=False,
            show=_yes_no,
            finish=_finish_no_new_privs,
            profile_only=True,
        ),
        Setting(
            "tmp_size",
            parse_tmp_size,
            doc="size of the fresh /tmp of a mount namespace (128M)",
            default=DEFAULT_TMP_SIZE,
            show=show_tmp_size,
            inert=_needs("mount"),
            flag=Flag("--tmp-size", "SIZE", "size of the fresh /tmp (default 128M)"),
        ),
        Setting(
            "hostname",
            parse_hostname,
            doc="hostname inside a UTS namespace",
            default=DEFAULT_HOSTNAME,
            inert=_needs("uts"),
            flag=Flag("--hostname", "NAME", "hostname inside a uts namespace (default hexe)"),
        ),
        Setting(
            "caps",
            parse_caps,
            doc='capabilities kept: a list like {"net_bind_service"}',
            default=Caps(None),
            show=str,
            effective=lambda caps: None if caps.keep is None else sorted(caps.keep),
            profiles={name: {"keep": []} for name in LOCKED},
            finish=_finish_caps,
        ),
        Setting(
            "seccomp",
            parse_seccomp,
            doc="syscall filter: default, none, or a deny list",
            default=Seccomp(),
            show=str,
            effective=lambda found: list(found.deny),
            profiles={name: True for name in LOCKED},
            finish=_finish_seccomp,
        ),
        Setting(
            "mounts",
            parse_mounts,
            doc="filesystem actions: binds, tmpfs, hidden",
            default=(),
            show=summary_of,
        ),
        Setting("rootfs", parse_rootfs, doc="a directory to use as the sandbox's root"),
        Setting(
            "network",
            _parse_network,
            doc='host, loopback or user (a network of its own through pasta); unset: the profile',
            env=("HEXE_VOIDBOX_NETWORK",),
            flag=Flag(
                "--network",
                "MODE",
                "host (the host's network), loopback (only lo) or user (a network of its own "
                "through pasta: the internet, not the host's loopback nor the LAN)",
            ),
        ),
        Setting(
            "network_allow",
            _parse_network_allow,
            doc='network = "user": host services on 127.0.0.1 to reach, {"127.0.0.1:5432"}',
            flag=Flag(
                "--network-allow",
                "ADDR:PORT",
                "with --network user: a host loopback service to reach, as 127.0.0.1:5432 "
                "(repeatable)",
                repeat=True,
            ),
        ),
        Setting(
            "network_lan",
            parse_bool,
            doc='network = "user": true lets the private ranges (the LAN) be reached',
            flag=Flag(
                "--network-lan",
                help="with --network user: let the private ranges (the LAN) be reached",
                switch=True,
            ),
        ),
        clipboard.SETTING,
    ]
