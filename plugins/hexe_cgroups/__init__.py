"""cgroups: memory, pids and cpu limits, through a cgroup v2 or v1 driver.

The built-in limits plugin. It only implements hooks of ``hexe.hookspecs``;
disabling it (``HEXE_DISABLE_PLUGINS=cgroups``) makes every requested limit a
warning, or a refusal under strict limits, as the core does for any limit no
plugin implements.

What each hook does, when the plan asks for a limit or a cgroup namespace:

- prepare (parent, before fork): detect the layout (:mod:`hexe_cgroups.detect`),
  pick the driver that offers the requested controllers (v2 first), create
  ``<own cgroup>/hexe/<plan name>`` and write the limits.
- parent (after fork, child held on the release pipe): write the child's pid
  to ``cgroup.procs``, so the limits hold before anything runs and a cgroup
  namespace the child makes is rooted at this cgroup.
- exited / failed: kill what is left in the cgroup, then remove it. The
  shared ``hexe`` directory above it stays.

A limit that cannot be applied is never dropped silently: ``spawn.warn`` says
which limit and why, or, under strict limits, the spawn is refused with the
same sentence. A cgroup wanted only for the cgroup namespace is best effort
and quiet: without it the namespace is rooted at hexe's own cgroup.
"""

from __future__ import annotations

from typing import Any

from hexe import hookimpl
from hexe.errors import SpawnRefused
from hexe_cgroups import detect
from hexe_cgroups.detect import CONTROLLERS, LIMIT_CONTROLLERS, Layout
from hexe_cgroups.driver import Driver
from hexe_cgroups.v1 import V1Driver
from hexe_cgroups.v2 import V2Driver

NAME = "cgroups"

STRICT_HINT = (
    "hexe needs a cgroup it may write: run it as root, or on a cgroup v2 host in a "
    "delegated scope (`systemd-run --user --scope -p Delegate=yes hexe ...`); "
    "`hexe doctor` shows what works here; without --strict-limits (HEXE_CGROUP_STRICT) "
    "the command runs without the limit and a warning"
)


def _layout(spawn: Any) -> Layout:
    """Detect the layout; ``plan.extra["cgroups"]`` may point at other files (tests)."""
    extra = spawn.plan.extra.get(NAME, {}) if spawn.plan.extra else {}
    kwargs = {k: extra[k] for k in ("mountinfo", "proc_cgroup") if k in extra}
    return detect.detect(**kwargs)


def make_driver(layout: Layout, version: str) -> Driver:
    if version == "v2":
        assert layout.v2 is not None
        return V2Driver(layout.v2)
    return V1Driver(layout.v1)


def _report(spawn: Any, unapplied: dict[str, str]) -> None:
    """Warn about each limit that is not applied, or refuse under strict limits."""
    if not unapplied:
        return
    state = spawn.state.setdefault(NAME, {})
    state.setdefault("unapplied", {}).update(unapplied)
    spawn.facts["cgroup_unapplied"] = sorted(state["unapplied"])
    sentences = [f"{limit} limit not applied: {why}" for limit, why in unapplied.items()]
    if spawn.plan.isolation.strict_limits:
        raise SpawnRefused("\n".join(sentences), hint=STRICT_HINT)
    for sentence in sentences:
        spawn.warn(sentence)


@hookimpl
def hexe_spawn_features() -> list[str]:
    return list(CONTROLLERS)


@hookimpl
def hexe_spawn_prepare(spawn: Any) -> None:
    iso = spawn.plan.isolation
    limits = dict(iso.limits.requested())
    if not limits and "cgroup" not in iso.namespaces:
        return
    layout = _layout(spawn)
    controllers = [LIMIT_CONTROLLERS[limit] for limit in limits]
    version = layout.choose(controllers)
    state = spawn.state.setdefault(NAME, {})
    if version is None:
        why = "no cgroup hierarchy is mounted here"
        if layout.problems:
            why += f" ({'; '.join(layout.problems)})"
        state["problem"] = why
        spawn.log.debug("cgroup_unavailable", problem=why)
        _report(spawn, {limit: why for limit in limits})
        return
    driver = make_driver(layout, version)
    state["driver"] = driver
    if not limits and version == "v1":
        # Only the cgroup namespace wants a cgroup: root it in every limit hierarchy.
        controllers = [c for c in CONTROLLERS if layout.offers(1, c)]
    failed = driver.create(spawn.plan.name, controllers)
    moved = getattr(driver, "moved_self", None)
    if moved:
        spawn.facts["cgroup_hexe_moved_to"] = moved
        spawn.log.info("hexe_left_its_cgroup", cgroup=moved)
    if driver.leaves:
        paths = driver.paths()
        spawn.facts["cgroup"] = paths[0] if len(paths) == 1 else paths
        spawn.facts["cgroup_driver"] = driver.version
    elif driver.problem:
        spawn.log.debug("cgroup_unavailable", problem=driver.problem)
    unapplied = {
        limit: failed[LIMIT_CONTROLLERS[limit]]
        for limit in limits
        if LIMIT_CONTROLLERS[limit] in failed
    }
    if driver.leaves:
        wanted = {k: v for k, v in limits.items() if k not in unapplied}
        unapplied.update(driver.set_limits(wanted))
    _report(spawn, unapplied)


@hookimpl
def hexe_spawn_parent(spawn: Any) -> None:
    state = spawn.state.get(NAME) or {}
    driver: Driver | None = state.get("driver")
    if driver is None or not driver.leaves or spawn.pid is None:
        return
    failed = driver.add_pid(spawn.pid)
    if not failed:
        return
    done = state.get("unapplied", {})
    unapplied = {
        limit: failed[LIMIT_CONTROLLERS[limit]]
        for limit in spawn.plan.isolation.limits.requested()
        if LIMIT_CONTROLLERS[limit] in failed and limit not in done
    }
    if not unapplied:
        spawn.log.debug("cgroup_not_placed", problems=sorted(set(failed.values())))
    _report(spawn, unapplied)


def _clean_up(spawn: Any) -> None:
    state = spawn.state.get(NAME) or {}
    driver: Driver | None = state.pop("driver", None)
    if driver is None or not driver.leaves:
        return
    problems = driver.kill()
    problems += driver.remove()
    for problem in problems:
        spawn.warn(f"cgroup not cleaned up: {problem}")


@hookimpl
def hexe_spawn_failed(spawn: Any, error: Exception) -> None:
    _clean_up(spawn)


@hookimpl
def hexe_spawn_exited(spawn: Any, status: int) -> None:
    _clean_up(spawn)


@hookimpl
def hexe_doctor_checks() -> list[Any]:
    from hexe_cgroups.doctor import checks

    return checks()
