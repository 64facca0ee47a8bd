"""The cgroups plugin's ``hexe doctor`` checks, tried for real.

Reports the mode (v2, hybrid, v1), where each limit controller lives, and
whether a writable subtree with memory, pids and cpu exists: it creates a
probe cgroup the way a spawn would, writes one limit per controller and
removes it again. No other process is moved (on v2 the doctor process may
step into ``hexe/.self`` itself, exactly as a spawn would).
"""

from __future__ import annotations

import os
from typing import Any

from hexe.doctor import Check
from hexe_cgroups.detect import CONTROLLERS, LIMIT_CONTROLLERS, Layout, detect
from hexe_cgroups.driver import Driver
from hexe_cgroups.limits import CpuQuota

GROUP = "cgroups"
PROBE_LIMITS = {"memory": 256 << 20, "pids": 64, "cpu": CpuQuota(100_000, 100_000)}
HINT = (
    "limits need a cgroup hexe may write: run hexe as root, or (cgroup v2) in a delegated "
    "scope: `systemd-run --user --scope -p Delegate=yes hexe ...`; see docs/cgroups.md"
)


def describe_mode(layout: Layout) -> str:
    parts = [layout.mode]
    if layout.v2 is not None:
        offered = " ".join(sorted(layout.v2.controllers)) or "no controllers"
        parts.append(
            f"cgroup2 at {layout.v2.mount_point} (own cgroup {layout.v2.own_path}) offers {offered}"
        )
    if layout.v1:
        names = " ".join(sorted(layout.v1))
        parts.append(f"cgroup v1 hierarchies for {names}")
    return "; ".join(parts)


def controller_check(layout: Layout, controller: str) -> Check:
    hierarchy = layout.where(controller)
    if hierarchy is None:
        extra = f" ({'; '.join(layout.problems)})" if layout.problems else ""
        return Check(
            GROUP,
            controller,
            False,
            f"no cgroup hierarchy offers the {controller} controller to our cgroup{extra}",
            "the kernel may lack it, or on cgroup v2 the parent cgroup did not delegate it",
        )
    return Check(
        GROUP,
        controller,
        True,
        f"v{hierarchy.version} at {hierarchy.mount_point}, own cgroup {hierarchy.own_path}",
    )


def probe(layout: Layout, name: str) -> tuple[Driver | None, list[str], dict[str, str], list[str]]:
    """Create ``name`` with a limit per controller and remove it again.

    Returns the driver used (None when no hierarchy exists), the leaves it
    made, the limits that failed with why, and cleanup problems.
    """
    from hexe_cgroups import make_driver

    limits = dict(PROBE_LIMITS)
    version = layout.choose(LIMIT_CONTROLLERS[limit] for limit in limits)
    if version is None:
        return None, [], {limit: "no cgroup hierarchy is mounted" for limit in limits}, []
    driver = make_driver(layout, version)
    failed = driver.create(name, [LIMIT_CONTROLLERS[limit] for limit in limits])
    failed = {
        limit: failed[LIMIT_CONTROLLERS[limit]]
        for limit in limits
        if LIMIT_CONTROLLERS[limit] in failed
    }
    leaves = driver.paths()
    if leaves:
        failed.update(driver.set_limits({k: v for k, v in limits.items() if k not in failed}))
    problems = driver.remove()
    return driver, leaves, failed, problems


def checks(layout: Layout | None = None) -> list[Check]:
    layout = detect() if layout is None else layout
    out = [Check(GROUP, "mode", None, describe_mode(layout))]
    out.extend(controller_check(layout, controller) for controller in CONTROLLERS)
    driver, leaves, failed, problems = probe(layout, f"doctor-{os.getpid()}")
    if driver is None:
        out.append(Check(GROUP, "writable subtree", False, "no cgroup hierarchy is mounted", HINT))
        return out
    where = ", ".join(leaves)
    written = ", ".join(os.path.basename(p) for p, _ in driver.writes if "subtree_control" not in p)
    if failed:
        detail = "; ".join(f"{limit}: {why}" for limit, why in failed.items())
        out.append(Check(GROUP, "writable subtree", False, f"{driver.version}: {detail}", HINT))
    else:
        out.append(
            Check(
                GROUP,
                "writable subtree",
                True,
                f"{driver.version}: created {where}, wrote {written}, removed it",
            )
        )
    for problem in problems:
        out.append(Check(GROUP, "probe cleanup", False, problem))
    return out


def limit_checks(pm: Any) -> list[Check]:
    """``true`` spawned through the real spawn path with every limit, under strict limits."""
    from hexe.doctor import try_spawn

    values = {
        "memory": "256M",
        "pids": 64,
        "cpu": "100000 100000",
        "strict": True,
        "profile": "none",
    }
    ok, detail, hint = try_spawn(pm, values)
    text = "memory, pids and cpu limits applied" if ok else detail
    return [Check("limits", "memory+pids+cpu", ok, text, hint)]
