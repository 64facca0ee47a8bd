"""The settings registry: every isolation setting, declared by whoever provides it.

A plugin declares its settings through the ``hexe_settings`` hook (or
``api.add_setting`` in ``hexe_config_api``)::

    from hexe import hookimpl
    from hexe.plugin.settings import Setting

    @hookimpl
    def hexe_settings():
        return [Setting("greeting", parse_greeting, doc="what the sandbox says",
                        env=("HEXE_GREETING",))]

The config loader, ``hexe config check``, the ``HEXE_*`` environment layer
and the messages for unknown settings are all built from the registry: the
core lists no isolation setting by hand except ``profile``. The built-in
``voidbox`` plugin declares ``tmp_size``, ``hostname``, ``caps``,
``seccomp``, ``mounts`` and ``rootfs``; ``cgroups`` declares ``memory``,
``pids``, ``cpu`` and ``strict`` with their ``HEXE_CGROUP_*`` variables.

With a plugin disabled its settings are unknown, and the error says which
plugin provides them (:meth:`Settings.unknown`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hexe.errors import HexeError, SettingError, did_you_mean

#: ``parse(label, raw) -> value``; raises :class:`hexe.errors.SettingError` naming ``label``.
Parser = Callable[[str, object], Any]

#: The one setting the core itself owns: the profile table ties namespaces
#: (voidbox) and limits (cgroups) together, and ``none`` must work with every
#: plugin disabled.
CORE = "hexe"


def _show(value: object) -> str:
    return "-" if value is None else str(value)


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


class Settings:
    """The registry: setting name -> :class:`Setting`, in declaration order.

    ``disabled`` answers, for a name nobody loaded declares, the plugin that
    would provide it (a disabled plugin's declarations), or None.
    """

    def __init__(self, disabled: Callable[[], Mapping[str, Setting]] | None = None) -> None:
        self._by_name: dict[str, Setting] = {}
        self._disabled_source = disabled
        self._disabled: Mapping[str, Setting] | None = None

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


def collect(results: Iterable[tuple[str, Iterable[Setting] | None]]) -> dict[str, Setting]:
    """(plugin, declarations) pairs into name -> Setting (first wins), for disabled plugins."""
    out: dict[str, Setting] = {}
    for plugin, declared in results:
        for setting in declared or ():
            out.setdefault(setting.name, replace(setting, plugin=plugin))
    return out


_DEFAULT: Settings | None = None


def default_settings() -> Settings:
    """The registry of a default plugin manager (every entry-point plugin), built once.

    What code that is given no plugin manager (unit tests, ``resolve([])``) uses.
    """
    global _DEFAULT
    if _DEFAULT is None:
        from hexe.plugin.manager import make_plugin_manager, settings_of

        _DEFAULT = settings_of(make_plugin_manager(environ={}))
    return _DEFAULT
