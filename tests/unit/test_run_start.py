"""``hexe run``'s start (issue 18, round 3): one plugin manager, and none of the
modules it used to load for nothing (logging, datetime, socket, hashlib,
subprocess, pyseccomp with its ``ldconfig`` runs, difflib, lupa without an
``init.lua``); the sandbox is the same."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import clean_env

PROBE = """
import gc, json, sys
import hexe.plugin.manager as manager
built = []
make = manager.make_plugin_manager
def counting(*args, **kwargs):
    built.append(sorted(args[0]) if args else [])
    return make(*args, **kwargs)
manager.make_plugin_manager = counting
from hexe.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
unused = ["logging", "datetime", "socket", "hashlib", "subprocess", "secrets", "pyseccomp",
          "ctypes.util", "platform", "traceback", "difflib", "lupa"]
loaded = [m for m in unused if m in sys.modules]
print(json.dumps({"code": code, "built": built, "loaded": loaded, "gc": gc.isenabled()}))
"""


def probe(tmp_path, *args: str, **env: str) -> dict:
    environ = clean_env(
        XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
        **env,
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=environ,
        cwd="/", timeout=60,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    seen["stderr"] = done.stderr
    return seen


@pytest.mark.parametrize("profile", ["none", "full"])
def test_hexe_run_builds_one_plugin_manager_and_loads_nothing_it_does_not_use(tmp_path, profile):
    seen = probe(tmp_path, "run", "--profile", profile, "--", "true")
    assert seen["code"] == 0, seen["stderr"]
    assert seen["built"] == [[]], seen  # the one the options were read from
    assert seen["loaded"] == [], seen
    assert seen["gc"], "the collector, off while hexe run starts, is on again for a caller"
    log = [json.loads(line) for line in (tmp_path / "hexe" / "hexe.log").read_text().splitlines()]
    started = [e for e in log if e["event"] == "spawn_started"]
    assert started and started[0]["profile"] == profile
    if profile == "full":
        assert started[0]["seccomp"].endswith("rules, errno")


def test_a_disabled_plugin_gets_a_manager_of_its_own_and_its_option_is_still_named(tmp_path):
    seen = probe(tmp_path, "--disable-plugin", "cgroups", "run", "--memory", "64M", "--", "true")
    assert seen["built"] == [[], ["cgroups"]], seen
    assert seen["code"] == 125
    assert "--memory" in seen["stderr"] and "cgroups" in seen["stderr"], seen["stderr"]
    by_env = probe(tmp_path, "run", "--memory", "64M", "--", "true", HEXE_DISABLE_PLUGINS="cgroups")
    assert by_env["built"] == [[], []], by_env  # its disables come from the environment
    assert by_env["code"] == 125 and by_env["stderr"] == seen["stderr"]


LEAVING = """
import atexit, sys
atexit.register(lambda: print("atexit ran", file=sys.stderr))
class Torn:
    def __del__(self):
        print("torn down", file=sys.stderr)
kept = Torn()  # freed by the interpreter's teardown, which hexe skips
sys.argv = ["hexe", *sys.argv[1:]]
from hexe.cli import main
raise SystemExit(main())
"""


def _as_the_program(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path)
    )
    env.pop("PYTHONUNBUFFERED", None)  # stdout a pipe: block-buffered, as for a user's pipe
    return subprocess.run(
        [sys.executable, "-c", LEAVING, *args], capture_output=True, text=True, env=env,
        cwd="/", timeout=60,
    )  # fmt: skip


def test_leaving_without_teardown_still_runs_atexit_and_flushes_and_keeps_the_status(tmp_path):
    run = _as_the_program(tmp_path, "run", "--profile", "none", "--", "sh", "-c", "exit 7")
    assert run.returncode == 7, run.stderr
    assert run.stderr.splitlines()[-1:] == ["atexit ran"], run.stderr  # and no teardown
    listing = _as_the_program(tmp_path, "ls", "--json")  # printed into a pipe, flushed at exit
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout) == []
    assert "atexit ran" in listing.stderr and "torn down" not in listing.stderr
    called = subprocess.run(
        [sys.executable, "-c", LEAVING.replace("main()", "main(sys.argv[1:])"), "ls", "--json"],
        capture_output=True, text=True, env=clean_env(XDG_RUNTIME_DIR=str(tmp_path)), timeout=60,
    )  # fmt: skip
    assert "torn down" in called.stderr  # main() called with arguments returns: a caller's


def test_hexe_run_skips_what_site_might_have_loaded_for_it(tmp_path):
    """With ``-S`` (no ``.pth`` file of this machine has loaded them first, as
    in a clean virtual environment), hexe's own modules do not import shutil
    (bz2, lzma: ~2 ms) or selectors for a ``hexe run``."""
    from support.imports import imported_by_hexe

    environ = clean_env(
        XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path)
    )
    code = "from hexe.cli import main\ncode = main(sys.argv[1:])\n"
    watched = ["shutil", "selectors", "socket", "subprocess", "tempfile", "logging"]
    by_hexe, status, done = imported_by_hexe(
        code, watched, ["run", "--profile", "full", "--", "true"], env=environ, site_packages=True
    )
    assert status == 0, done.stderr
    assert by_hexe == [], by_hexe
