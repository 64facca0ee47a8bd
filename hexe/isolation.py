"""Profiles and the resolution of a pane's isolation from layered settings.

An :class:`Isolation` is what one pane (or one ``hexe run``) gets: its
namespaces, its limits and the few knobs around them, each value remembered
with the layer it came from so ``hexe config check`` can say why. Layers are
applied lowest first::

    built-in < init.lua defaults < HEXE_* environment < pane isolation < flags

This module only computes; it never touches the kernel. Which plugin applies
what is the spawn protocol's business (``hexe.spawn``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hexe.errors import HexeError, SettingError
from hexe.limits import CpuQuota
from hexe.plugin.settings import Settings, default_settings
from hexe.policy import ORDINARY_CAPS, Caps, MountSpec, Seccomp, resolve_seccomp
from hexe.values import format_bytes, parse_size

#: Every namespace hexe knows, in the order they are listed to users.
NAMESPACES: tuple[str, ...] = ("user", "pid", "mount", "net", "uts", "ipc", "cgroup")


@dataclass(frozen=True)
class Profile:
    """A named set of namespaces, and optionally settings that come with it.

    ``no_new_privs`` is on for every built-in profile that isolates anything
    (the seed says "always enabled"); ``none`` is the one profile that promises
    nothing. Custom profiles (``hexe.profile(...)`` in ``init.lua``) have it
    on unless they say otherwise. ``settings`` maps a setting name to
    ``(raw value, label)``, applied where the profile is chosen (see
    :func:`resolve`).
    """

    name: str
    namespaces: frozenset[str]
    description: str
    builtin: bool = True
    no_new_privs: bool = True
    #: capabilities kept when the pane does not say (None: none dropped)
    caps: frozenset[str] | None = ORDINARY_CAPS
    #: whether the default seccomp filter applies when the pane does not say
    seccomp: bool = False
    settings: Mapping[str, tuple[object, str]] = field(default_factory=dict, compare=False)
    where: str = ""


def _profile(
    name: str, namespaces: Iterable[str], description: str, *, locked: bool = False
) -> Profile:
    """A built-in profile. ``locked`` ones drop every capability and get the seccomp filter."""
    found = frozenset(namespaces)
    caps: frozenset[str] | None = ORDINARY_CAPS if found else None
    if locked:
        caps = frozenset()
    return Profile(name, found, description, no_new_privs=bool(found), caps=caps, seccomp=locked)


#: The seed's five profiles, plus ``sandbox`` from the upstream Zig hexe.
BUILTIN_PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        p.name: p
        for p in (
            _profile("none", (), "no isolation, no limits"),
            _profile("minimal", ("user",), "user namespace only"),
            _profile("default", ("user", "pid"), "user + pid namespaces"),
            _profile("balanced", ("user", "pid", "mount"), "user + pid + mount (fresh /tmp)"),
            _profile("full", NAMESPACES, "all namespaces; no network", locked=True),
            _profile(
                "sandbox",
                ("user", "pid", "mount", "uts", "ipc"),
                "all but net and cgroup: isolated, network kept",
                locked=True,
            ),
        )
    }
)
DEFAULT_PROFILE = "default"
DEFAULT_TMP_SIZE = 128 << 20
DEFAULT_HOSTNAME = "hexe"


@dataclass(frozen=True)
class Limits:
    """cgroup limits; None means no limit."""

    memory: int | None = None
    pids: int | None = None
    cpu: CpuQuota | None = None

    def requested(self) -> dict[str, object]:
        """The limits that are actually set, by name (``memory``, ``pids``, ``cpu``)."""
        out: dict[str, object] = {}
        if self.memory is not None:
            out["memory"] = self.memory
        if self.pids is not None:
            out["pids"] = self.pids
        if self.cpu is not None and self.cpu.quota is not None:
            out["cpu"] = self.cpu
        return out

    def summary(self) -> str:
        """Short form for status bars and logs: ``512M/100p/50%``; empty when unlimited."""
        parts = []
        if self.memory is not None:
            parts.append(format_bytes(self.memory))
        if self.pids is not None:
            parts.append(f"{self.pids}p")
        if self.cpu is not None and self.cpu.cores is not None:
            parts.append(f"{self.cpu.cores * 100:g}%")
        return "/".join(parts)


@dataclass(frozen=True)
class Isolation:
    """The resolved isolation of one process tree. Immutable."""

    profile: str
    namespaces: frozenset[str]
    no_new_privs: bool
    limits: Limits = Limits()
    tmp_size: int = DEFAULT_TMP_SIZE
    hostname: str = DEFAULT_HOSTNAME
    strict_limits: bool = False
    #: capabilities kept (``Caps(None)``: none dropped)
    caps: Caps = Caps(None)
    #: the seccomp filter (empty: none)
    seccomp: Seccomp = Seccomp()
    #: filesystem actions, in order
    mounts: tuple[MountSpec, ...] = ()
    #: the root of the sandbox's file system (None: the host's)
    rootfs: str | None = None
    #: setting name -> where its value came from: ``built-in``, or the layer
    #: name with the user's spelling, ``environment (HEXE_CGROUP_MEM_MAX)``
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: settings added by plugins (``hexe_config_api``), parsed, by name
    extra: Mapping[str, Any] = field(default_factory=dict)

    def value(self, setting: str) -> Any:
        """The resolved value of ``setting`` (a field, or a plugin's ``extra``), or None."""
        if setting == "memory" or setting == "pids" or setting == "cpu":
            return getattr(self.limits, setting)
        if setting == "strict":
            return self.strict_limits
        if setting in FIELDS:
            return getattr(self, setting)
        return self.extra.get(setting)

    def summary(self, settings: Settings | None = None) -> str:
        """``full 512M/100p`` — what a status bar shows: the profile, then the
        ``status`` text of each declared setting that has one (the cgroups
        plugin's limits)."""
        settings = settings if settings is not None else default_settings()
        parts = []
        for name in settings:
            declared = settings[name]
            value = self.value(name)
            if declared.status is not None and value is not None:
                text = declared.status(value)
                if text:
                    parts.append(text)
        limits = "/".join(parts)
        return f"{self.profile} {limits}" if limits else self.profile

    def ordered_namespaces(self) -> list[str]:
        return [ns for ns in NAMESPACES if ns in self.namespaces]

    def requirements(self) -> list[Requirement]:
        """What this isolation asks of the plugins, each as a feature name (as
        plugins list them in ``hexe_spawn_features``) with the sentence for
        when no loaded plugin implements it. The spawn protocol checks them
        without knowing any (:func:`hexe.spawn.check`)."""
        voidbox = "(is the voidbox plugin disabled?)"
        needs = [
            Requirement(
                ns,
                f"profile {self.profile} needs the {ns} namespace, which no loaded plugin "
                f"implements {voidbox}",
            )
            for ns in self.ordered_namespaces()
        ]
        if self.no_new_privs:
            unmet = f"profile {self.profile} needs no_new_privs, which no loaded plugin implements"
            needs.append(Requirement("no_new_privs", unmet))
        asked = {
            "caps": self.caps.keep is not None,
            "seccomp": bool(self.seccomp),
            "mounts": bool(self.mounts),
            "rootfs": self.rootfs is not None,
        }
        for feature, wanted in asked.items():
            if wanted:
                source = self.sources.get(feature, "profile " + self.profile)
                needs.append(
                    Requirement(
                        feature,
                        f"{feature} (from {source}) is asked for, but no loaded plugin "
                        f"implements it {voidbox}",
                    )
                )
        for limit in self.limits.requested():
            needs.append(
                Requirement(
                    limit,
                    f"{limit} limit not applied: no loaded plugin implements it "
                    "(is the cgroups plugin disabled?)",
                    refuse=self.strict_limits,
                )
            )
        return needs


@dataclass(frozen=True)
class Requirement:
    """A feature an :class:`Isolation` needs some loaded plugin to implement.

    ``unmet`` is the sentence when none does; ``refuse`` False makes that a
    warning (a limit that cannot be applied, unless limits are strict).
    """

    feature: str
    unmet: str
    refuse: bool = True


# --------------------------------------------------------------------------
# Settings and layers
# --------------------------------------------------------------------------

HOSTNAME_FORMS = "use 1-64 letters, digits, '-' and '.', not starting with '-' or '.'"
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")


def parse_hostname(setting: str, value: object) -> str:
    if not isinstance(value, str) or not _HOSTNAME_RE.match(value):
        raise SettingError(setting, value, HOSTNAME_FORMS, problem="is not a hostname")
    return value


def parse_tmp_size(setting: str, value: object) -> int:
    return parse_size(setting, value)


#: Settings the resolved :class:`Isolation` has a field for, with the field's
#: default. Which of them exist, how they parse and which variables set them
#: is declared by plugins (``hexe_settings``; see :mod:`hexe.plugin.settings`);
#: a declared setting not listed here reaches the spawn hooks in ``extra``.
FIELDS: Mapping[str, object] = MappingProxyType(
    {
        "memory": None,
        "pids": None,
        "cpu": None,
        "tmp_size": DEFAULT_TMP_SIZE,
        "hostname": DEFAULT_HOSTNAME,
        "strict": False,
        "caps": None,
        "seccomp": None,
        "mounts": (),
        "rootfs": None,
    }
)


@dataclass(frozen=True)
class Layer:
    """One source of settings.

    ``values`` maps a setting name to ``(raw value, label)`` where the label is
    how the user wrote it (``HEXE_CGROUP_MEM_MAX``, ``--memory``), so an error
    names the user's spelling, not ours.
    """

    name: str
    values: Mapping[str, tuple[object, str]]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], settings: Settings | None = None) -> Layer:
        """The ``HEXE_*`` variables of declared settings that are set and not empty.

        A variable of a disabled plugin's setting is kept too, so that
        :func:`resolve` refuses it naming the plugin instead of ignoring it.
        """
        settings = settings if settings is not None else default_settings()
        variables = {**settings.disabled_env_vars(), **settings.env_vars()}
        values = {
            setting: (environ[var], var)
            for var, setting in variables.items()
            if environ.get(var, "").strip() != ""
        }
        return cls("environment", values)

    @classmethod
    def from_flags(cls, flags: Mapping[str, object], labels: Mapping[str, str]) -> Layer:
        """Command-line flags that were given (value not None)."""
        values = {k: (v, labels.get(k, f"--{k}")) for k, v in flags.items() if v is not None}
        return cls("flags", values)


class InvalidSettings(HexeError):
    """One or more settings were refused. ``errors`` keeps each one."""

    def __init__(self, errors: list[HexeError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.message for e in errors))


def unknown_profile_error(
    label: str, name: object, profiles: Mapping[str, Profile]
) -> SettingError:
    names = ", ".join(profiles)
    accepted = f"profiles: {names}"
    if isinstance(name, str):
        close = difflib.get_close_matches(name.lower(), list(profiles), n=1)
        if close:
            accepted = f"did you mean {close[0]}? {accepted}"
    return SettingError(label, name, accepted, problem="is not a profile")


def resolve(
    layers: Iterable[Layer],
    profiles: Mapping[str, Profile] = BUILTIN_PROFILES,
    settings: Settings | None = None,
) -> Isolation:
    """Fold ``layers`` (lowest precedence first) into an :class:`Isolation`.

    A profile chosen in a layer brings its own settings into that layer, below
    the layer's explicit values: ``profile = "build"`` in a pane acts as if the
    pane had written the build profile's ``tmp_size``, unless it wrote its own.

    Every value is parsed even when a higher layer overrides it: a typo in
    ``HEXE_CGROUP_MEM_MAX`` is an error even under ``--memory``. All errors are
    collected and raised together as :class:`InvalidSettings`.
    ``settings`` is the registry of declared settings (default: every
    plugin's); the parsed values of those :class:`Isolation` has no field for
    end up in :attr:`Isolation.extra`.
    """
    settings = settings if settings is not None else default_settings()
    chosen: dict[str, object] = {}
    sources: dict[str, str] = {}
    errors: list[HexeError] = []

    def apply(layer_name: str, values: Mapping[str, tuple[object, str]]) -> None:
        for setting, (raw, label) in values.items():
            try:
                value = parse_setting(setting, raw, label, profiles, settings)
            except SettingError as exc:
                errors.append(exc)
                continue
            chosen[setting] = value
            sources[setting] = f"{layer_name} ({label})"

    for layer in layers:
        picked = layer.values.get("profile")
        if picked is not None and isinstance(picked[0], str) and picked[0] in profiles:
            profile = profiles[picked[0]]
            if profile.settings:
                apply(f"{layer.name}, profile {profile.name}", profile.settings)
        apply(layer.name, layer.values)
    if errors:
        raise InvalidSettings(errors)

    def get(setting: str, default: object) -> object:
        if setting in chosen:
            return chosen[setting]
        sources.setdefault(setting, "built-in")
        declared = settings.get(setting)
        return declared.default if declared is not None and setting in FIELDS else default

    profile = get("profile", profiles[DEFAULT_PROFILE])
    assert isinstance(profile, Profile)
    limits = Limits(
        memory=get("memory", None),  # type: ignore[arg-type]
        pids=get("pids", None),  # type: ignore[arg-type]
        cpu=get("cpu", None),  # type: ignore[arg-type]
    )
    extra = {
        name: chosen[name]
        for name in settings
        if name in chosen and name not in FIELDS and name != "profile"
    }
    caps = get("caps", None)
    if caps is None:
        caps = Caps(profile.caps)
    seccomp = resolve_seccomp(
        get("seccomp", None),  # type: ignore[arg-type]
        profile.seccomp,
        "pid" in profile.namespaces,
        isolating=bool(profile.namespaces),
    )
    return Isolation(
        profile=profile.name,
        namespaces=profile.namespaces,
        no_new_privs=profile.no_new_privs,
        limits=limits,
        tmp_size=get("tmp_size", DEFAULT_TMP_SIZE),  # type: ignore[arg-type]
        hostname=get("hostname", DEFAULT_HOSTNAME),  # type: ignore[arg-type]
        strict_limits=get("strict", False),  # type: ignore[arg-type]
        caps=caps,  # type: ignore[arg-type]
        seccomp=seccomp,
        mounts=get("mounts", ()),  # type: ignore[arg-type]
        rootfs=get("rootfs", None),  # type: ignore[arg-type]
        sources=MappingProxyType(dict(sources)),
        extra=MappingProxyType(extra),
    )


def parse_setting(
    setting: str,
    raw: object,
    label: str,
    profiles: Mapping[str, Profile] = BUILTIN_PROFILES,
    settings: Settings | None = None,
) -> Any:
    """Parse one isolation setting; raises :class:`SettingError` naming ``label``.

    A setting no loaded plugin declares is refused; when a disabled plugin
    declares it, the error names that plugin.
    """
    if setting == "profile":
        if not isinstance(raw, str) or raw not in profiles:
            raise unknown_profile_error(label, raw, profiles)
        return profiles[raw]
    settings = settings if settings is not None else default_settings()
    declared = settings.get(setting)
    if declared is None:
        raise settings.unknown(setting, label, raw)
    return declared.parse(label, raw)
