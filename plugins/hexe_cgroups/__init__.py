"""cgroups: memory, pids and cpu limits, through a cgroup v2 or v1 driver.

The built-in limits plugin. It only implements hooks of ``hexe.plugin.hookspecs``;
disabling it (``HEXE_DISABLE_PLUGINS=cgroups``) makes every requested limit a
warning, or a refusal under strict limits, as the core does for any limit no
plugin implements.

What each hook does, when the plan asks for a limit:

- prepare (parent, before fork): the first time in a process, sweep the
  cgroups of dead hexe processes (:func:`hexe_cgroups.driver.sweep`); detect
  the layout (:mod:`hexe_cgroups.detect`), pick the driver that offers the
  requested controllers (v2 first), create
  ``<own cgroup>/hexe/<plan name>@<owner>`` with ``box`` below it, and write
  the limits on the former.
- parent (v2; after fork, child held on the release pipe): write the child's
  pid to the box's ``cgroup.procs``.
- join (v1; the child's first phase, before any namespace): the child writes
  ``0`` to each box's ``tasks`` file. A thread moving itself skips the
  kernel's global threadgroup lock, which a pid written by the parent takes;
  on this kind of host that is ~0.4 ms instead of ~5 ms for three
  hierarchies. Either way the limits hold before the user's command runs, and
  a cgroup namespace the child makes next (voidbox gives one to every
  sandbox with a mount namespace) is rooted at the box: a cgroup mount made
  from it would show the box as its root, below the limits.
- exited / failed: kill what is left in the cgroup, then remove it. The
  shared ``hexe`` directory above it stays.

No limit, no cgroup: a cgroup namespace alone is rooted at hexe's own cgroup
(inside, ``/proc/self/cgroup`` reads ``/`` either way).

A limit that cannot be applied is never dropped silently: ``spawn.warn`` says
which limit and why, or, under strict limits, the spawn is refused with the
same sentence.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any

from hexe import hookimpl
from hexe.errors import SetupError, SpawnRefused
from hexe.plugin.settings import Flag, Setting
from hexe_cgroups import detect
from hexe_cgroups.detect import CONTROLLERS, LIMIT_CONTROLLERS, Layout
from hexe_cgroups.driver import PARENT_NAME, Driver, owner_tag, sweep
from hexe_cgroups.limits import (
    CPU_FORMS,
    MEMORY_FORMS,
    PIDS_FORMS,
    format_bytes,
    parse_bool,
    parse_cpu,
    parse_memory,
    parse_pids,
    requested,
    show_count,
    show_cpu,
)
from hexe_cgroups.v1 import V1Driver
from hexe_cgroups.v2 import V2Driver

if TYPE_CHECKING:
    import pluggy

    from hexe.plugin.check import Check
    from hexe.spawn import Spawn, SpawnPlan


NAME = "cgroups"

#: The early hooks here read only the plan's isolation and name, never its
#: command, environment or directory: a pane server may run them before a
#: pane is asked for (sandboxes prepared ahead, see ``hexe.spawn``).
HEXE_SPAWN_AHEAD = True

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
    if spawn.plan.isolation.get("strict"):
        raise SpawnRefused("\n".join(sentences), hint=STRICT_HINT)
    for sentence in sentences:
        spawn.warn(sentence)


#: the pid of the process that swept already (a fork sweeps again if it spawns)
_swept_in: int | None = None


def sweep_leftovers(layout: Layout, log: Any) -> list[str]:
    """Kill and remove the spawn cgroups of dead hexe processes, in every hierarchy.

    A server or ``hexe run`` that was SIGKILLed cleaned nothing up; its
    cgroups carry its pid and start time (:func:`hexe_cgroups.driver.owner_tag`).
    Returns the cgroups removed; what could not be removed is logged.
    """
    bases = {h.own_dir for h in layout.v1.values()}
    if layout.v2 is not None:
        bases.add(layout.v2.own_dir)
    removed: list[str] = []
    for base in sorted(bases):
        gone, problems = sweep(os.path.join(base, PARENT_NAME))
        removed += gone
        for problem in problems:
            log.warning("cgroup_sweep_failed", problem=problem)
    if removed:
        log.info("cgroups_swept", cgroups=removed)
    return removed


def _sweep_once(spawn: Any) -> Layout | None:
    """Sweep on this process's first spawn (a server's, or ``hexe run``'s); the layout."""
    global _swept_in
    if _swept_in == os.getpid():
        return None
    _swept_in = os.getpid()
    layout = _layout(spawn)
    sweep_leftovers(layout, spawn.log)
    return layout


@hookimpl
def hexe_settings() -> list[Setting]:
    """memory, pids, cpu and strict, with the seed's ``HEXE_CGROUP_*`` variables."""
    return [
        Setting(
            "memory",
            parse_memory,
            doc="memory limit of the process tree (512M, 1G, max)",
            env=("HEXE_CGROUP_MEM_MAX",),
            show=format_bytes,
            status=format_bytes,
            forms=MEMORY_FORMS,
            flag=Flag("--memory", "M", "memory limit: {forms} (env {env})"),
        ),
        Setting(
            "pids",
            parse_pids,
            doc="most processes and threads at once (512, max)",
            env=("HEXE_CGROUP_PIDS_MAX",),
            show=show_count,
            status=lambda pids: f"{pids}p",
            forms=PIDS_FORMS,
            flag=Flag("--pids", "N", "process limit: {forms} (env {env})"),
        ),
        Setting(
            "cpu",
            parse_cpu,
            doc='CPU bandwidth: "quota period" in microseconds ("50000 100000" is half a core)',
            env=("HEXE_CGROUP_CPU_MAX",),
            show=show_cpu,
            effective=lambda cpu: None if cpu is None or cpu.quota is None else str(cpu),
            status=lambda cpu: "" if cpu.cores is None else f"{cpu.cores * 100:g}%",
            forms=CPU_FORMS,
            flag=Flag("--cpu", '"Q P"', "CPU quota: {forms} (env {env})"),
        ),
        Setting(
            "strict",
            parse_bool,
            doc="refuse to start when a limit cannot be applied (instead of a warning)",
            default=False,
            env=("HEXE_CGROUP_STRICT",),
            show=lambda strict: "yes" if strict else "no",
            flag=Flag(
                "--strict-limits",
                help="refuse to start when a limit cannot be applied (env {env}=1)",
                switch=True,
            ),
        ),
    ]


@hookimpl
def hexe_spawn_features() -> list[str]:
    return list(CONTROLLERS)


@hookimpl
def hexe_spawn_prepare(spawn: Spawn) -> None:
    iso = spawn.plan.isolation
    limits = requested(iso)
    layout = _sweep_once(spawn)
    if not limits:
        return
    spawn.facts["limits"] = {k: str(v) for k, v in limits.items()}
    layout = layout or _layout(spawn)
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
    failed = driver.create(spawn.plan.name + owner_tag(), controllers)
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


def _unplaced(spawn: Any, failed: dict[str, str]) -> dict[str, str]:
    """The requested limits whose controller could not take the process."""
    done = (spawn.state.get(NAME) or {}).get("unapplied", {})
    return {
        limit: failed[LIMIT_CONTROLLERS[limit]]
        for limit in requested(spawn.plan.isolation)
        if LIMIT_CONTROLLERS[limit] in failed and limit not in done
    }


@hookimpl
def hexe_child_join(spawn: Spawn) -> None:
    driver: Driver | None = (spawn.state.get(NAME) or {}).get("driver")
    if driver is None or not driver.leaves or driver.version != "v1":
        return
    failed = driver.join_self()
    unapplied = _unplaced(spawn, failed)
    if not unapplied:
        return
    if spawn.plan.isolation.get("strict"):
        limit, why = next(iter(unapplied.items()))
        raise SetupError(
            f"{limit} limit not applied", 0, why, hint=STRICT_HINT, component="cgroups"
        )
    for limit, why in unapplied.items():
        spawn.warn(f"{limit} limit not applied: {why}")


@hookimpl
def hexe_spawn_parent(spawn: Spawn) -> None:
    state = spawn.state.get(NAME) or {}
    driver: Driver | None = state.get("driver")
    if driver is None or not driver.leaves or spawn.pid is None or driver.version == "v1":
        return
    failed = driver.add_pid(spawn.pid)
    if not failed:
        return
    unapplied = _unplaced(spawn, failed)
    if not unapplied:
        spawn.log.debug("cgroup_not_placed", problems=sorted(set(failed.values())))
    _report(spawn, unapplied)


def _clean_up(spawn: Any) -> None:
    state = spawn.state.get(NAME) or {}
    driver: Driver | None = state.pop("driver", None)
    if driver is None or not driver.leaves:
        return
    kills = oom_kills(driver.leaves)
    if kills:
        spawn.facts["oom_kills"] = kills
    problems = driver.kill()
    problems += driver.remove()
    for problem in problems:
        spawn.warn(f"cgroup not cleaned up: {problem}")


def oom_kills(leaves: list[str]) -> int:
    """How many processes the kernel killed for the memory limit in these
    cgroups and their boxes (v1 ``memory.oom_control``, v2 ``memory.events``:
    the ``oom_kill`` line), read before they are removed."""
    total = 0
    for leaf in leaves:
        for directory in (leaf, os.path.join(leaf, "box")):
            for name in ("memory.oom_control", "memory.events"):
                try:
                    with open(os.path.join(directory, name)) as f:
                        for line in f:
                            key, _, value = line.partition(" ")
                            if key == "oom_kill" and value.strip().isdigit():
                                total += int(value)
                except OSError:
                    continue
    return total


@hookimpl
def hexe_spawn_failed(spawn: Spawn, error: Exception) -> None:
    _clean_up(spawn)


@hookimpl
def hexe_spawn_exited(spawn: Spawn, status: int) -> None:
    _clean_up(spawn)


@hookimpl
def hexe_explain_exit(spawn: Spawn, code: int) -> str | None:
    """A command the kernel's OOM killer ended in its cgroup: say so, with the limit."""
    if code != 128 + signal.SIGKILL or not spawn.facts.get("oom_kills"):
        return None
    memory = spawn.plan.isolation.get("memory")
    shown = f" of {format_bytes(memory)}" if memory is not None else ""
    return (
        f"the command was killed by its memory limit{shown} "
        "(the kernel's OOM killer in its cgroup); raise --memory / HEXE_CGROUP_MEM_MAX"
    )


@hookimpl
def hexe_describe_isolation(plan: SpawnPlan, spawn: Spawn | None) -> dict[str, object]:
    """The limits and the pane's cgroups, for ``list-panes --json``."""
    iso = plan.isolation
    cgroups = spawn.facts.get("cgroup") if spawn is not None else None
    if cgroups is not None and not isinstance(cgroups, list | tuple):
        cgroups = [cgroups]
    cpu = iso.get("cpu")
    return {
        "memory_max": iso.get("memory"),
        "pids_max": iso.get("pids"),
        "cpu_max": str(cpu) if cpu is not None else None,
        "cgroups": list(cgroups or ()),
    }


@hookimpl
def hexe_doctor_checks(pm: pluggy.PluginManager) -> list[Check]:
    from hexe_cgroups.doctor import checks, limit_checks

    return [*checks(), *limit_checks(pm)]
