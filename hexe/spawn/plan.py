"""The plan of a spawn: what is decided before a process exists, and whether
the loaded plugins can carry it out (:func:`check`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pluggy

from hexe.errors import EXIT_SETUP_FAILED, SpawnRefused
from hexe.isolation import Isolation
from hexe.plugin.manager import features as plugin_features


@dataclass(frozen=True)
class SpawnPlan:
    """Everything decided about one process tree before it exists. Immutable.

    ``cwd`` None means "where the caller is", and falls back to ``$HOME`` then
    ``/`` when that directory does not exist inside the sandbox (a fresh
    ``/tmp`` hides it); an explicit ``cwd`` that is missing is an error.
    ``extra`` carries settings for third-party plugins, by plugin name.
    """

    argv: tuple[str, ...]
    isolation: Isolation
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(os.environ)))
    cwd: str | None = None
    name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.argv:
            raise SpawnRefused("no command to run")
        if not self.name:
            object.__setattr__(self, "name", f"spawn-{os.getpid()}-{next(_counter)}")


def _count() -> Any:
    n = 0
    while True:
        n += 1
        yield n


_counter = _count()


def exit_code_of(status: int) -> int:
    """The shell's view of a wait status: the exit code, or 128+N for signal N."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return EXIT_SETUP_FAILED


def check(plan: SpawnPlan, pm: pluggy.PluginManager) -> tuple[list[str], list[str]]:
    """Problems that refuse ``plan``, and warnings.

    Each setting the plan's isolation asks for (:meth:`Isolation.requirements`:
    a value other than its default) needs the plugin that declared it loaded,
    or one listing the setting in ``hexe_spawn_features``: a plan resolved with
    a plugin is never carried out without it. Then every plugin's
    ``hexe_spawn_check`` may refuse it."""
    provided = plugin_features(pm)
    problems: list[str] = []
    warnings: list[str] = []
    for need in plan.isolation.requirements():
        if need.feature not in provided and pm.get_plugin(need.plugin) is None:
            problems.append(need.unmet)
    for result in pm.hook.hexe_spawn_check(plan=plan):
        problems.extend(result or ())
    return problems, warnings


def same_sandbox(a: SpawnPlan, b: SpawnPlan) -> bool:
    """Whether a sandbox prepared for ``a`` can run ``b``'s command: the same
    isolation and plugin settings (command, environment and directory aside)."""
    return a.isolation == b.isolation and dict(a.extra) == dict(b.extra)
