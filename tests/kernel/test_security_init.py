"""Attacks on a sandbox's PID 1 and on its owner, run from inside the sandbox.

PID 1 of every sandbox with a pid namespace is ``hexe-init``, started by exec:
it holds nothing of the session server (which holds every pane's screen), is
not dumpable, and ends the sandbox when its owner (the server, ``hexe run``)
is gone, SIGKILL included.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from support import clean_env, hexe, wait_for
from support.mux import ok, prompt_ready

pytestmark = [pytest.mark.kernel]

PID_PROFILES = ["default", "balanced", "full", "sandbox"]
PYTHON = "/usr/bin/python3"  # world-readable, outside /tmp and /root: usable in any sandbox

#: Run inside a pane: reads every memory region of every process it can see
#: (but itself) and says where the secret (given hex-encoded, so the shell that
#: starts it never holds it) and the canary (a positive control: it is in the
#: pane's own shell) were found.
SCANNER = r"""
import os, sys
secret, canary = (bytes.fromhex(a) for a in sys.argv[1:3])
def forms(b):
    t = b.decode()
    return [b, t.encode("utf-16-le"), t.encode("utf-32-le")]
pats = {"secret": forms(secret), "canary": forms(canary)}
found = {"secret": set(), "canary": set()}
me, total, denied = os.getpid(), 0, []
for d in os.listdir("/proc"):
    if not d.isdigit() or int(d) == me:
        continue
    try:
        maps = open(f"/proc/{d}/maps").read().splitlines()
        mem = open(f"/proc/{d}/mem", "rb", 0)
    except OSError:
        denied.append(int(d))
        continue
    for line in maps:
        addr, perms = line.split()[:2]
        if perms[0] != "r":
            continue
        lo, hi = (int(x, 16) for x in addr.split("-"))
        if hi - lo > 1 << 30:
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, ValueError, OverflowError):
            continue
        total += len(data or b"")
        for name, forms_ in pats.items():
            if data and any(p in data for p in forms_):
                found[name].add(int(d))
print("SCAN secret=%s canary=%s read=%d denied=%s -end" % (
    sorted(found["secret"]), sorted(found["canary"]), total, sorted(denied)))
"""


def _scan_in_pane(m, secret: str) -> dict[str, str]:
    """Type the scanner into the focused pane and return what it printed."""
    canary = f"canary{uuid.uuid4().hex[:12]}"
    script = base64.b64encode(SCANNER.encode()).decode()
    m.type(f"C={canary}; echo {script} | base64 -d > /tmp/scan.py; echo typed-$((1+1))")
    m.wait_for("typed-2")
    m.type(f"{PYTHON} /tmp/scan.py {secret.encode().hex()} {canary.encode().hex()}")
    screen = m.wait_for("-end", timeout=60)
    line = re.search(r"SCAN secret=(\[.*?\]) canary=(\[.*?\]) read=(\d+) denied=(\[.*?\])", screen)
    assert line, screen
    return dict(zip(("secret", "canary", "read", "denied"), line.groups(), strict=True))


@pytest.mark.parametrize("ahead", ["prepared", "scratch"])
def test_memory_of_a_new_sandboxed_pane_holds_no_secret_typed_in_another(mux, ahead):
    options = "" if ahead == "prepared" else "hexe.options { spawn_ahead = false }\n"
    m = mux(options + 'hexe.defaults { profile = "full" }\n')
    prompt_ready(m)
    secret = f"hexe-secret-{uuid.uuid4().hex}"
    m.type(f"echo {secret}")
    m.wait_for(secret)
    # the first split takes a sandbox prepared before the secret was typed;
    # the second (with spawn_ahead) one prepared after it, from a server
    # that had the secret on screen
    splits = 2 if ahead == "prepared" else 1
    for n in range(splits):
        ok(m.hexe("split-down", "-s", "t"))
        prompt_ready(m, n + 2)
    seen = _scan_in_pane(m, secret)
    assert seen["secret"] == "[]", f"the secret was read from pids {seen['secret']}"
    assert seen["canary"] != "[]", "the scanner found nothing at all: it cannot fail"
    assert int(seen["read"]) > 0
    assert "1" in seen["denied"].strip("[]").split(", "), "PID 1's memory was readable"


@pytest.mark.parametrize("profile", PID_PROFILES)
def test_pid1_is_hexe_init_and_its_memory_is_unreadable(profile):
    script = (
        "cat /proc/1/comm; "
        "head -c 10 /proc/1/cmdline | tr '\\0' '\\n'; "  # what ps -ef shows (docs/isolation.md)
        "for f in mem environ; do head -c1 /proc/1/$f >/dev/null 2>&1 && echo read-$f; done; "
        "readlink /proc/1/exe >/dev/null 2>&1 && echo read-exe; "
        "kill -KILL 1 2>/dev/null; echo still-here"
    )
    result = hexe("run", "--profile", profile, "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["hexe-init", "hexe-init", "still-here"]


def _run_in_background(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hexe", "run", *args],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )


def _pids_of(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and b"hexe" not in cmdline:
                found.append(int(entry))
    return found


def _sigkill_hexe_run(marker: str, processes: int, *run_args: str) -> None:
    """Start ``hexe run RUN_ARGS``, wait for ``processes`` processes carrying
    ``marker``, SIGKILL hexe run, and wait for every one of them to be gone."""
    run = _run_in_background(*run_args)
    try:
        wait_for(lambda: len(_pids_of(marker)) == processes, what="the processes inside")
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        wait_for(lambda: not _pids_of(marker), what="the sandbox's processes to end")
    finally:
        for pid in _pids_of(marker):
            os.kill(pid, signal.SIGKILL)
        run.kill()
        run.communicate()


@pytest.mark.parametrize("profile", PID_PROFILES)
def test_sigkill_of_hexe_run_ends_every_process_of_its_sandbox(profile):
    marker = f"{time.time_ns() % 10**9}"
    # a process that leaves the command's process group and ignores SIGHUP
    script = f"setsid sh -c 'trap \"\" HUP; exec sleep 3{marker}' & exec sleep 4{marker}"
    _sigkill_hexe_run(marker, 2, "--profile", profile, "--", "sh", "-c", script)


def test_sigkill_of_the_server_ends_every_pane_sandbox(mux):
    m = mux('hexe.defaults { profile = "full" }\n')
    prompt_ready(m)
    marker = f"{time.time_ns() % 10**9}"
    m.type(f"setsid sh -c 'trap \"\" HUP; exec sleep 5{marker}' & echo started-$((2*3))")
    m.wait_for("started-6")
    wait_for(lambda: _pids_of(marker), what="the sleep inside the pane")
    server = m.server_pid()
    assert server is not None
    os.kill(server, signal.SIGKILL)
    wait_for(lambda: not _pids_of(marker), what="the pane's sandbox to end with its server")


def test_sigkill_of_hexe_run_ends_a_minimal_sandboxs_command():
    """minimal has no pid namespace: the command dies with hexe run (parent
    death signal); what left its process tree is not tracked (docs/isolation.md)."""
    marker = f"{time.time_ns() % 10**9}"
    _sigkill_hexe_run(marker, 1, "--profile", "minimal", "--", "sleep", f"6{marker}")
