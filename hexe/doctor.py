"""``hexe doctor``: what this machine supports, tried for real.

Plugins contribute checks through ``hexe_doctor_checks`` (the voidbox plugin
unshares each namespace type in a throwaway child; the cgroups plugin makes
and removes a probe cgroup, then spawns ``true`` with every limit under strict
limits through :func:`try_spawn`). The core then spawns ``true`` under every
profile through the real spawn path: a profile is reported as working only if
that spawn worked.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict
from typing import Any

import pluggy

from hexe import spawn as spawn_mod
from hexe.errors import HexeError
from hexe.isolation import Layer, resolve
from hexe.plugin.check import Check

__all__ = ["Check", "run_checks", "render", "to_json", "try_spawn"]


def _true_argv() -> tuple[str, ...]:
    found = shutil.which("true")
    return (found,) if found else (sys.executable, "-c", "")


def try_spawn(pm: pluggy.PluginManager, values: dict[str, object]) -> tuple[bool, str, str]:
    """Spawn ``true`` with ``values`` as settings; (worked, detail, hint)."""
    from hexe.plugin.manager import settings_of

    layer = Layer("doctor", {k: (v, k) for k, v in values.items()})
    try:
        plan = spawn_mod.SpawnPlan(
            argv=_true_argv(),
            isolation=resolve([layer], settings=settings_of(pm)),
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            cwd="/",
        )
        child = spawn_mod.run(plan, pm)
        status = child.wait()
    except HexeError as exc:
        return False, exc.message, exc.hint or ""
    code = spawn_mod.exit_code_of(status)
    if code != 0:
        return False, f"true exited with status {code}", ""
    return True, f"setup {child.setup_ms:.1f} ms", ""


def profile_checks(pm: pluggy.PluginManager) -> list[Check]:
    checks = []
    from hexe.plugin.manager import settings_of

    for name, profile in settings_of(pm).profiles.items():  # the core's none, the plugins'
        ok, detail, hint = try_spawn(pm, {"profile": name})
        shown = profile.description
        checks.append(Check("profiles", name, ok, f"{shown}; {detail}" if ok else detail, hint))
    return checks


def methods_check() -> Check:
    """Whether the methods ``dataclasses`` writes for hexe's classes are
    compiled already (``hexe.methodcache``), or each ``hexe`` compiles them."""
    from hexe import methodcache

    path, entries, writable = methodcache.status()
    if entries:
        return Check("install", "compiled methods", True, f"{entries} in {path}")
    if writable:
        detail = (
            f"none yet in {path}: the next hexe run that may write bytecode writes them, "
            "or python3 -m hexe.precompile now"
        )
    else:
        detail = (
            f"none in {path}, which this user cannot write: each hexe run compiles them "
            "again (~15 ms); run python3 -m hexe.precompile once as the user who installed hexe"
        )
    return Check("install", "compiled methods", None, detail)


def run_checks(pm: pluggy.PluginManager) -> list[Check]:
    checks: list[Check] = []
    for result in pm.hook.hexe_doctor_checks(pm=pm):
        checks.extend(result or ())
    checks.extend(profile_checks(pm))
    checks.append(methods_check())
    return checks


def all_profiles_work(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.group == "profiles")


def to_json(checks: list[Check]) -> dict[str, Any]:
    return {
        "ok": all_profiles_work(checks),
        "profiles": {c.name: c.ok for c in checks if c.group == "profiles"},
        "checks": [asdict(c) for c in checks],
    }


def render(checks: list[Check]) -> str:
    lines = []
    group = None
    for check in checks:
        if check.group != group:
            group = check.group
            lines.append(f"{group}")
        mark = {True: "ok  ", False: "FAIL", None: "info"}[check.ok]
        detail = check.detail.replace("\n", "\n" + " " * 32)
        lines.append(f"  {mark}  {check.name:<24} {detail}")
        if check.hint and check.ok is False:
            lines.append(f"        {'':<24} hint: {check.hint}")
    works = all_profiles_work(checks)
    lines.append("")
    lines.append(
        "every profile works" if works else "some profiles do not work here (see FAIL above)"
    )
    return "\n".join(lines)
