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
    """Problems that refuse ``plan``, and warnings about limits nobody can apply."""
    iso = plan.isolation
    provided = plugin_features(pm)
    problems: list[str] = []
    for ns in iso.ordered_namespaces():
        if ns not in provided:
            problems.append(
                f"profile {iso.profile} needs the {ns} namespace, which no loaded plugin "
                "implements (is the voidbox plugin disabled?)"
            )
    if iso.no_new_privs and "no_new_privs" not in provided:
        problems.append(
            f"profile {iso.profile} needs no_new_privs, which no loaded plugin implements"
        )
    asked = {
        "caps": iso.caps.keep is not None,
        "seccomp": bool(iso.seccomp),
        "mounts": bool(iso.mounts),
        "rootfs": iso.rootfs is not None,
    }
    for feature, wanted in asked.items():
        if wanted and feature not in provided:
            problems.append(
                f"{feature} (from {iso.sources.get(feature, 'profile ' + iso.profile)}) "
                "is asked for, but no loaded plugin implements it (is the voidbox plugin "
                "disabled?)"
            )
    warnings: list[str] = []
    for limit in iso.limits.requested():
        if limit not in provided:
            text = (
                f"{limit} limit not applied: no loaded plugin implements it "
                "(is the cgroups plugin disabled?)"
            )
            (problems if iso.strict_limits else warnings).append(text)
    for result in pm.hook.hexe_spawn_check(plan=plan):
        problems.extend(result or ())
    return problems, warnings


def same_sandbox(a: SpawnPlan, b: SpawnPlan) -> bool:
    """Whether a sandbox prepared for ``a`` can run ``b``'s command: the same
    isolation and plugin settings (command, environment and directory aside)."""
    return a.isolation == b.isolation and dict(a.extra) == dict(b.extra)
