"""The settings registry: every isolation setting, declared by whoever provides it.

A plugin declares its settings through the ``hexe_settings`` hook (or
``api.add_setting`` in ``hexe_config_api``)::

    from hexe import hookimpl
    from hexe.plugin.settings import Setting

    @hookimpl
    def hexe_settings():
        return [Setting("greeting", parse_greeting, doc="what the sandbox says",
                        env=("HEXE_GREETING",))]

and its profiles through ``hexe_profiles``::

    @hookimpl
    def hexe_profiles():
        return [Profile("quiet", "user + pid, a greeting", {"namespaces": ["user", "pid"]})]

A setting says its value under each profile (``Setting.profiles``), a
profile may set any setting (``Profile.settings``). The config loader,
``hexe config check``, the ``HEXE_*`` environment layer, the profile table
and the messages for unknown settings are all built from the registry: the
core lists no isolation setting by hand except ``profile``, and no profile
but ``none`` (every setting at its built-in default). The built-in
``voidbox`` plugin declares the profiles of ``seed/pod-isolation.md``
(``minimal``, ``default``, ``balanced``, ``full``) and ``sandbox``, and the
settings ``namespaces``, ``no_new_privs``, ``tmp_size``, ``hostname``,
``caps``, ``seccomp``, ``mounts``, ``rootfs``, ``network``...;
``cgroups`` declares ``memory``, ``pids``, ``cpu`` and ``strict`` with their
``HEXE_CGROUP_*`` variables.

With a plugin disabled its settings and profiles are unknown, and the error
says which plugin provides them (:meth:`Settings.unknown`,
:meth:`Settings.unknown_profile`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hexe.errors import HexeError, SettingError, did_you_mean

#: ``parse(label, raw) -> value``; raises :class:`hexe.errors.SettingError` naming ``label``.
Parser = Callable[[str, object], Any]

#: The owner of what the core itself declares: the ``profile`` setting and
#: the ``none`` profile, which must work with every plugin disabled.
CORE = "hexe"

#: The profile used when no layer chooses one (the seed's ``default``).
DEFAULT_PROFILE = "default"


def _show(value: object) -> str:
    return "-" if value is None else str(value)


@dataclass(frozen=True)
class Flag:
    """The ``hexe run`` option a setting is given by (``--memory 1G``).

    ``help`` may name ``{forms}`` and ``{env}`` (the setting's accepted
    forms and variables); ``switch`` takes no value (sets true), ``repeat``
    may be given more than once (a list). The command line adds one option
    per declared flag, from whichever plugins are installed; with a plugin
    disabled its flag is refused naming the plugin, as its setting is.
    """

    name: str
    metavar: str = "VALUE"
    help: str = ""
    switch: bool = False
    repeat: bool = False


@dataclass(frozen=True)
class Setting:
    """One isolation setting.

    ``name`` is what users write (``memory = "1G"``), ``parse(label, raw)``
    turns the raw value into the value spawn hooks see, ``default`` is the
    value when no layer sets it, ``env`` the ``HEXE_*`` variables that set
    it (a layer between ``hexe.defaults`` and the pane), ``doc`` one line for
    error messages and docs, ``show(value)`` the text
    ``hexe config check`` prints, ``status(value)`` the plugin's part of the
    status bar's ``isolation`` segment (empty: nothing; None: never shown).
    ``forms`` is the accepted forms for ``--help`` (the parser's errors say
    them too). ``profiles`` maps a profile name to this setting's raw value
    under it (used when no layer sets the setting; parsed like any value),
    ``finish(value, resolving)`` computes the final value from the chosen
    one and the others (:class:`Resolving`), ``profile_only`` settings are
    set by profiles only (``hexe.profile`` tables, ``profiles``), and a
    non-empty ``missing`` makes the setting required in a ``hexe.profile``
    table, with that hint when it is absent.
    ``plugin`` is filled in by the registry.
    """

    name: str
    parse: Parser
    doc: str = ""
    default: Any = None
    env: tuple[str, ...] = ()
    show: Callable[[Any], str] = _show
    status: Callable[[Any], str] | None = None
    plugin: str = ""
    forms: str = ""
    profiles: Mapping[str, object] = field(default_factory=dict)
    finish: Callable[[Any, Resolving], Any] | None = None
    profile_only: bool = False
    missing: str = ""
    #: the value as a ``pane_spawn`` callback sees it in ``effective`` (Lua-friendly)
    effective: Callable[[Any], Any] | None = None
    #: why a value a layer set has no effect here (``hexe run`` warns), or None
    inert: Callable[[Any, Resolving], str | None] | None = None
    #: its ``hexe run`` option, or None
    flag: Flag | None = None

    def follows_profile(self) -> bool:
        """Whether the profile decides this setting's value when no layer sets it."""
        return bool(self.profiles) or self.finish is not None


@dataclass(frozen=True)
class Profile:
    """A named set of setting values: ``hexe.profile(...)`` or a plugin's ``hexe_profiles``.

    ``settings`` maps a setting name to its raw value (as written, parsed by
    the setting's plugin), applied in the layer that chooses the profile,
    below that layer's own values; ``labels`` says where each was written
    (``init.lua:3: profiles.build.memory``; default ``profiles.<name>.<setting>``).
    What a setting is under a profile that does not set it is that setting's
    business (``Setting.profiles``).
    """

    name: str
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict, compare=False)
    builtin: bool = True
    plugin: str = ""
    where: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)

    def layer_values(self) -> dict[str, tuple[object, str]]:
        """``settings`` as a layer's ``(raw, label)`` pairs."""
        return {
            key: (raw, self.labels.get(key, f"profiles.{self.name}.{key}"))
            for key, raw in self.settings.items()
        }


#: ``none``: no isolation, no limits; every setting at its built-in default.
NONE_PROFILE = Profile("none", "no isolation, no limits", plugin=CORE)


class Resolving:
    """What a setting's ``finish`` sees: the other values, the profile, what was chosen."""

    def __init__(
        self,
        profile: str,
        values: Mapping[str, Any],
        chosen: Iterable[str],
        profile_defaults: Mapping[str, Any],
    ) -> None:
        self.profile = profile
        self.values = values
        self.chosen = frozenset(chosen)
        self.profile_defaults = profile_defaults

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def profile_default(self, name: str) -> Any:
        """The parsed value ``name`` has under the profile (``Setting.profiles``), or None."""
        return self.profile_defaults.get(name)


class Settings:
    """The registry: setting name -> :class:`Setting`, in declaration order.

    ``disabled`` answers, for a name nobody loaded declares, the plugin that
    would provide it (a disabled plugin's declarations), or None.
    """

    def __init__(
        self,
        disabled: Callable[[], Mapping[str, Setting]] | None = None,
        disabled_profiles: Callable[[], Mapping[str, Profile]] | None = None,
    ) -> None:
        self._by_name: dict[str, Setting] = {}
        self._disabled_source = disabled
        self._disabled: Mapping[str, Setting] | None = None
        self._disabled_profiles_source = disabled_profiles
        self._disabled_profiles: Mapping[str, Profile] | None = None
        #: profile name -> :class:`Profile`, in declaration order
        self.profiles: dict[str, Profile] = {}

    def add_profile(self, profile: Profile, plugin: str) -> None:
        """Declare ``profile`` for ``plugin``; a name declared twice is an error."""
        if profile.name in self.profiles:
            owner = self.profiles[profile.name].plugin
            raise HexeError(
                f"plugin {plugin}: profile {profile.name} already exists (from {owner})"
            )
        self.profiles[profile.name] = replace(profile, plugin=plugin, builtin=True)

    def disabled_profiles(self) -> Mapping[str, Profile]:
        """Profiles of disabled plugins (name -> declaration), looked up once, on demand."""
        if self._disabled_profiles is None:
            source = self._disabled_profiles_source
            found = source() if source is not None else {}
            self._disabled_profiles = {k: v for k, v in found.items() if k not in self.profiles}
        return self._disabled_profiles

    def unknown_profile(
        self, label: str, name: object, profiles: Mapping[str, Profile] | None = None
    ) -> SettingError:
        """The error for a profile nobody loaded declares; names a disabled provider."""
        profiles = self.profiles if profiles is None else profiles
        names = ", ".join(profiles)
        gone = self.disabled_profiles().get(name) if isinstance(name, str) else None
        if gone is not None:
            return SettingError(
                label,
                name,
                f"enable the {gone.plugin} plugin (it is disabled: HEXE_DISABLE_PLUGINS or "
                f"--disable-plugin) or choose a profile: {names}",
                problem=f"is a profile of the {gone.plugin} plugin, which is disabled",
            )
        accepted = f"profiles: {names}"
        if isinstance(name, str):
            import difflib  # only to suggest a name: not loaded by every command

            close = difflib.get_close_matches(name.lower(), list(profiles), n=1)
            if close:
                accepted = f"did you mean {close[0]}? {accepted}"
        return SettingError(label, name, accepted, problem="is not a profile")

    # -- declaring ------------------------------------------------------------

    def add(self, setting: Setting, plugin: str) -> None:
        """Declare ``setting`` for ``plugin``; a name or variable declared twice is an error."""
        if setting.name in self._by_name:
            owner = self._by_name[setting.name].plugin
            raise HexeError(
                f"plugin {plugin}: isolation setting {setting.name} already exists (from {owner})"
            )
        for var in setting.env:
            for other in self._by_name.values():
                if var in other.env:
                    raise HexeError(
                        f"plugin {plugin}: variable {var} already sets {other.name} "
                        f"(from {other.plugin})"
                    )
        self._by_name[setting.name] = replace(setting, plugin=plugin)

    # -- reading -----------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Setting | None:
        return self._by_name.get(name)

    def __getitem__(self, name: str) -> Setting:
        return self._by_name[name]

    def names(self) -> list[str]:
        return list(self._by_name)

    def of(self, plugin: str) -> list[Setting]:
        return [s for s in self._by_name.values() if s.plugin == plugin]

    def env_vars(self) -> dict[str, str]:
        """``HEXE_*`` variable -> setting name, for every declared setting."""
        return {var: s.name for s in self._by_name.values() for var in s.env}

    def disabled(self) -> Mapping[str, Setting]:
        """Settings of disabled plugins (name -> declaration), looked up once, on demand."""
        if self._disabled is None:
            found = self._disabled_source() if self._disabled_source is not None else {}
            self._disabled = {k: v for k, v in found.items() if k not in self._by_name}
        return self._disabled

    def disabled_env_vars(self) -> dict[str, str]:
        """Variables of disabled plugins' settings -> setting name."""
        return {var: s.name for s in self.disabled().values() for var in s.env}

    def unknown(
        self, name: str, label: str, raw: object, known: Iterable[str] = ()
    ) -> SettingError:
        """The error for a setting nobody loaded declares; names a disabled provider."""
        known = list(known) or self.names()
        gone = self.disabled().get(name)
        if gone is not None:
            return SettingError(
                label,
                raw,
                f"enable the {gone.plugin} plugin (it is disabled: HEXE_DISABLE_PLUGINS or "
                f"--disable-plugin) or remove the setting",
                problem=f"is a setting of the {gone.plugin} plugin, which is disabled",
            )
        hint = did_you_mean(name, known)
        return SettingError(
            label, raw, f"{hint}settings: {', '.join(known)}", problem="is not a setting"
        )

    def unknown_key(self, path: str, key: str, known: Iterable[str]) -> str:
        """The sentence for ``path.key`` that is not an accepted setting here."""
        gone = self.disabled().get(key)
        if gone is not None:
            return (
                f"{path}.{key} is a setting of the {gone.plugin} plugin, which is disabled; "
                f"enable it or remove the setting"
            )
        known = list(known)
        close = did_you_mean(key, known).strip()
        hint = close or f"settings here: {', '.join(known)}"
        return f"{path}.{key} is not a setting; {hint}"


def collect(
    results: Iterable[tuple[str, Iterable[Any] | None]],
) -> dict[str, Any]:
    """(plugin, declarations) pairs into name -> Setting or Profile (first wins), for
    disabled plugins."""
    out: dict[str, Any] = {}
    for plugin, declared in results:
        for item in declared or ():
            out.setdefault(item.name, replace(item, plugin=plugin))
    return out


_DEFAULT: Settings | None = None
_DEFAULT_PM: Any = None


def default_settings() -> Settings:
    """The registry of a default plugin manager (every entry-point plugin), built once.

    What code that is given no plugin manager (unit tests, ``resolve([])``) uses.
    """
    global _DEFAULT, _DEFAULT_PM
    if _DEFAULT is None:
        from hexe.plugin.manager import make_plugin_manager, settings_of

        _DEFAULT_PM = make_plugin_manager(environ={})
        _DEFAULT = settings_of(_DEFAULT_PM)
    return _DEFAULT


def default_plugin_manager() -> Any:
    """The plugin manager :func:`default_settings` was read from (no plugin
    disabled), or None when it has not been built: ``hexe run`` with no plugin
    disabled uses it rather than building a second, identical one."""
    return _DEFAULT_PM
