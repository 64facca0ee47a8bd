"""voidbox's ``hexe doctor`` checks: each namespace type, tried in a throwaway child."""

from __future__ import annotations

import os
from pathlib import Path

from hexe.doctor import Check
from hexe_voidbox import syscalls
from hexe_voidbox.syscalls import FLAG_NAMES, NAMESPACE_FLAGS

SYSCTLS = (
    ("kernel.unprivileged_userns_clone", "1 allows unprivileged user namespaces (Debian/Ubuntu)"),
    ("user.max_user_namespaces", "0 disables user namespaces"),
    (
        "kernel.apparmor_restrict_unprivileged_userns",
        "1 lets AppArmor refuse unprivileged user namespaces (Ubuntu 24.04+)",
    ),
)


def try_unshare(flags: int) -> int:
    """Unshare ``flags`` in a forked child; 0 on success, else the errno."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        err = 0
        try:
            syscalls.unshare(flags)
        except OSError as exc:
            err = exc.errno or 1
        os.write(w, str(err).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return int(data or b"1")


def _init_check() -> Check:
    """hexe-init, every pid namespace's PID 1: built (or buildable) here."""
    from hexe_voidbox import initbin

    try:
        path = initbin.ensure()
    except (initbin.InitUnavailable, OSError) as exc:
        return Check(
            "isolation",
            "hexe-init",
            False,
            str(exc),
            "profiles with a pid namespace (default, balanced, full, sandbox) cannot start",
        )
    return Check("isolation", "hexe-init", True, f"the sandbox's PID 1 is {path}")


def _network_check() -> Check:
    """network = "user": pasta installed, and a sandbox with it starts for real."""
    import subprocess
    import sys

    from hexe_voidbox import network

    pasta = network.find_pasta()
    if pasta is None:
        return Check(
            "network", "user mode (pasta)", False, "pasta is not installed",
            network.PACKAGE_HINT + '; until then network = "user" cannot start',
        )  # fmt: skip
    argv = [sys.executable, "-m", "hexe", "run", "--profile", "full", "--network", "user",
            "--", "/bin/sh", "-c", "exit 0"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("network", "user mode (pasta)", False, f"{pasta}: {exc}")
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[:1]
        return Check("network", "user mode (pasta)", False, f"{pasta}: {' '.join(said)}")
    return Check("network", "user mode (pasta)", True, f"{pasta} gives a sandbox its own network")


def checks() -> list[Check]:
    out = [_network_check()]
    for name, flag in NAMESPACE_FLAGS.items():
        flags = syscalls.CLONE_NEWUSER | flag
        err = try_unshare(flags)
        how = "unshare(CLONE_NEWUSER" + ("" if name == "user" else f"|{FLAG_NAMES[name]}") + ")"
        if err == 0:
            out.append(Check("namespaces", name, True, f"{how} works"))
        else:
            out.append(
                Check(
                    "namespaces",
                    name,
                    False,
                    f"{how}: {os.strerror(err)}",
                    "see the sysctls below and `docs/isolation.md` (troubleshooting)",
                )
            )
    out.append(_init_check())
    out.append(_seccomp_check())
    for key, meaning in SYSCTLS:
        path = Path("/proc/sys") / key.replace(".", "/")
        try:
            value = path.read_text().strip()
        except OSError:
            out.append(Check("sysctls", key, None, "not present on this kernel (no restriction)"))
            continue
        blocks = (key == "user.max_user_namespaces" and value == "0") or (
            os.geteuid() != 0 and key == "kernel.unprivileged_userns_clone" and value == "0"
        )
        ok = False if blocks else None
        hint = (
            f"sysctl -w {key}={'1' if key.startswith('kernel.unpriv') else '10000'}"
            if blocks
            else ""
        )
        out.append(Check("sysctls", key, ok, f"= {value} ({meaning})", hint))
    return out


def _seccomp_check() -> Check:
    """Build (not load) the default filter: what full and sandbox need."""
    from hexe.errors import SpawnRefused
    from hexe_voidbox import seccomp
    from hexe_voidbox.policy import resolve_seccomp

    try:
        seccomp.build(resolve_seccomp(None, True, True))
    except SpawnRefused as exc:
        return Check("security", "seccomp", False, exc.message, exc.hint or "")
    return Check(
        "security", "seccomp", True, "libseccomp builds the default filter of full and sandbox"
    )
