"""The resolution of a pane's isolation from layered settings, knowing none of them.

An :class:`Isolation` is what one pane (or one ``hexe run``) gets: a profile
name and the value of every declared setting (namespaces, limits, ...: what
plugins declare, see :mod:`hexe.plugin.settings`), each remembered with the
layer it came from so ``hexe config check`` can say why. Layers are applied
lowest first::

    built-in < init.lua defaults < HEXE_* environment < pane isolation < flags

The built-in value of a setting is what its plugin says it is under the
chosen profile (``Setting.profiles``), else its default. Plugins read values
with :meth:`Isolation.get`. This module only computes; it never touches the
kernel. Which plugin applies what is the spawn protocol's business
(``hexe.spawn``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hexe.errors import HexeError, SettingError
from hexe.plugin.settings import (
    DEFAULT_PROFILE,
    Profile,
    Resolving,
    Settings,
    default_settings,
)

__all__ = [
    "DEFAULT_PROFILE",
    "InvalidSettings",
    "Isolation",
    "Layer",
    "Profile",
    "Requirement",
    "parse_setting",
    "resolve",
]


@dataclass(frozen=True)
class Isolation:
    """The resolved isolation of one process tree. Immutable.

    ``values`` holds every declared setting's value (read them with
    :meth:`get`), ``sources`` where each came from: ``built-in``, or the
    layer name with the user's spelling, ``environment (HEXE_CGROUP_MEM_MAX)``.
    ``chosen`` names the settings some layer (or the profile's own settings)
    set.
    """

    profile: str
    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    chosen: frozenset[str] = field(default_factory=frozenset, compare=False)
    #: setting name -> the plugin that declared it (filled by :func:`resolve`)
    owners: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: setting name -> its default (filled by :func:`resolve`)
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: sentences about values a layer set that have no effect (``Setting.inert``)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def get(self, setting: str, default: Any = None) -> Any:
        """The resolved value of ``setting``; ``default`` when no loaded plugin declares it."""
        return self.values.get(setting, default)

    def value(self, setting: str) -> Any:
        """The resolved value of ``setting``, or None."""
        return self.values.get(setting)

    @property
    def extra(self) -> Mapping[str, Any]:
        """The parsed values of the settings a layer set (what ``plan.extra`` carries)."""
        return MappingProxyType({k: v for k, v in self.values.items() if k in self.chosen})

    def status_text(self, settings: Settings | None = None) -> str:
        """``512M/100p``: the ``status`` text of each declared setting that has
        one and a value (the cgroups plugin's limits); empty when none."""
        settings = settings if settings is not None else default_settings()
        parts = []
        for name in settings:
            declared = settings[name]
            value = self.value(name)
            if declared.status is not None and value is not None:
                text = declared.status(value)
                if text:
                    parts.append(text)
        return "/".join(parts)

    def summary(self, settings: Settings | None = None) -> str:
        """``full 512M/100p`` — what a status bar shows: the profile, then
        :meth:`status_text`."""
        limits = self.status_text(settings)
        return f"{self.profile} {limits}" if limits else self.profile

    def requirements(self) -> list[Requirement]:
        """What this isolation asks of the plugins: each setting whose value is
        not its default, with the plugin that declared it. The spawn protocol
        checks that the plugin (or one listing the setting in
        ``hexe_spawn_features``) is loaded (:func:`hexe.spawn.check`)."""
        needs = []
        for name, value in self.values.items():
            plugin = self.owners.get(name)
            if plugin is None or value == self.defaults.get(name):
                continue
            source = self.sources.get(name, "built-in")
            source = f"profile {self.profile}" if source == "built-in" else source
            needs.append(
                Requirement(
                    name,
                    f"{name} (from {source}) needs the {plugin} plugin, which is not loaded",
                    plugin,
                )
            )
        return needs


@dataclass(frozen=True)
class Requirement:
    """A setting an :class:`Isolation` needs its plugin (``plugin``) to apply.

    ``unmet`` is the sentence when neither that plugin nor one listing
    ``feature`` in ``hexe_spawn_features`` is loaded.
    """

    feature: str
    unmet: str
    plugin: str = ""


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


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


def resolve(
    layers: Iterable[Layer],
    profiles: Mapping[str, Profile] | None = None,
    settings: Settings | None = None,
) -> Isolation:
    """Fold ``layers`` (lowest precedence first) into an :class:`Isolation`.

    A profile chosen in a layer brings its own settings into that layer, below
    the layer's explicit values: ``profile = "build"`` in a pane acts as if the
    pane had written the build profile's ``tmp_size``, unless it wrote its own.
    A setting no layer sets gets its value under the profile
    (``Setting.profiles``), else its default; then each setting's ``finish``
    may compute its final value from the others.

    Every value is parsed even when a higher layer overrides it: a typo in
    ``HEXE_CGROUP_MEM_MAX`` is an error even under ``--memory``. All errors are
    collected and raised together as :class:`InvalidSettings`.
    ``settings`` is the registry of declared settings and profiles (default:
    every plugin's); ``profiles`` the profile table (default: the registry's).
    """
    settings = settings if settings is not None else default_settings()
    profiles = profiles if profiles is not None else settings.profiles
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

    given = False
    for layer in layers:
        picked = layer.values.get("profile")
        given = given or picked is not None
        if picked is not None and isinstance(picked[0], str) and picked[0] in profiles:
            profile = profiles[picked[0]]
            if profile.settings:
                apply(f"{layer.name}, profile {profile.name}", profile.layer_values())
        apply(layer.name, layer.values)
    if not given:  # the default profile is a plugin's too (voidbox's "default")
        try:
            chosen["profile"] = parse_setting(
                "profile", DEFAULT_PROFILE, "profile", profiles, settings
            )
        except SettingError as exc:
            errors.append(exc)
    if errors:
        raise InvalidSettings(errors)
    sources.setdefault("profile", "built-in")
    profile = chosen.pop("profile")
    assert isinstance(profile, Profile)

    values: dict[str, Any] = {}
    under_profile: dict[str, Any] = {}
    for name in settings:
        declared = settings[name]
        if name == "profile":
            continue
        if profile.name in declared.profiles:
            label = f"{name} of profile {profile.name}"
            under_profile[name] = declared.parse(label, declared.profiles[profile.name])
        if name in chosen:
            values[name] = chosen[name]
            continue
        sources.setdefault(name, "built-in")
        values[name] = under_profile[name] if name in under_profile else declared.default
    resolving = Resolving(profile.name, MappingProxyType(dict(values)), chosen, under_profile)
    notes = []
    for name in settings:
        inert = settings[name].inert
        reason = inert(values[name], resolving) if inert and name in chosen else None
        if reason:
            notes.append(f"{name} from {sources[name]} has no effect: {reason}")
    for name in settings:
        finish = settings[name].finish
        if finish is not None and name in values:
            values[name] = finish(values[name], resolving)
    return _interned(
        Isolation(
            profile=profile.name,
            values=MappingProxyType(values),
            sources=MappingProxyType(dict(sources)),
            chosen=frozenset(n for n in chosen if n in values),
            owners=MappingProxyType({name: settings[name].plugin for name in values}),
            defaults=MappingProxyType({name: settings[name].default for name in values}),
            notes=tuple(notes),
        )
    )


#: resolved isolations by their whole content: the panes of one profile (same
#: config, same environment) hold one instance, not four mappings and parsed
#: values of their own (~3 KiB a pane). An Isolation is immutable.
_INTERNED: dict[tuple[Any, ...], Isolation] = {}
_INTERNED_LIMIT = 256


def _typed(value: Any) -> Any:
    """``value`` with the type of it and of what it holds (a tuple's, a set's,
    a dict's items): ``(True,)`` and ``(1,)`` are equal, and must not be one."""
    kind = type(value)
    if kind is tuple or kind is list:
        return (kind, tuple(map(_typed, value)))
    if kind is frozenset or kind is set:
        return (kind, frozenset(map(_typed, value)))
    if kind is dict or isinstance(value, MappingProxyType):
        return (kind, tuple((k, _typed(v)) for k, v in value.items()))
    return (kind, value)


def _interned(isolation: Isolation) -> Isolation:
    """The instance already made with the same content (each value of the same
    type too), else ``isolation``, kept; one holding an unhashable value is
    not kept."""
    try:
        key = (
            isolation.profile,
            tuple((k, _typed(v)) for k, v in isolation.values.items()),
            tuple(isolation.sources.items()),
            isolation.chosen,
            tuple(isolation.owners.items()),
            tuple((k, _typed(v)) for k, v in isolation.defaults.items()),
            isolation.notes,
        )
        found = _INTERNED.get(key)
    except TypeError:  # a plugin's value that cannot be hashed
        return isolation
    if found is None:
        if len(_INTERNED) >= _INTERNED_LIMIT:  # per-pane settings: a bound
            _INTERNED.clear()
        found = _INTERNED[key] = isolation
    return found


def parse_setting(
    setting: str,
    raw: object,
    label: str,
    profiles: Mapping[str, Profile] | None = None,
    settings: Settings | None = None,
) -> Any:
    """Parse one isolation setting; raises :class:`SettingError` naming ``label``.

    A setting (or profile) no loaded plugin declares is refused; when a
    disabled plugin declares it, the error names that plugin.
    """
    settings = settings if settings is not None else default_settings()
    if setting == "profile":
        profiles = profiles if profiles is not None else settings.profiles
        if not isinstance(raw, str) or raw not in profiles:
            raise settings.unknown_profile(label, raw, profiles)
        return profiles[raw]
    declared = settings.get(setting)
    if declared is None:
        raise settings.unknown(setting, label, raw)
    return declared.parse(label, raw)
