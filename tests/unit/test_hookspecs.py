"""pluggy as designed: public API only, ``check_pending()`` at load, every hook called.

Every hookspec has a caller in hexe or its built-in plugins, and a test that
sees it run; the child hooks without another test are recorded here from a
real spawn (a plugin registered beside the built-ins writes, from inside the
forked child, which phases it ran).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from hexe import hookimpl
from hexe import spawn as spawn_mod
from hexe.config import load
from hexe.config.loader import ConfigError
from hexe.errors import HexeError
from hexe.isolation import Layer, resolve
from hexe.plugin import hookspecs
from hexe.plugin.manager import make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "hexe").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]


def spec_names() -> list[str]:
    return [n for n in dir(hookspecs) if n.startswith("hexe_") and callable(getattr(hookspecs, n))]


def test_no_private_pluggy_attributes():
    private = re.compile(
        r"\._(hookimpls|inner_hookexec|hookexec|name2plugin|plugin2hookcallers|hexe_\w+)\b"
        r"|\.hook\._|\bpm\._"
    )
    found = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in SOURCES
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert found == []


def test_every_hookspec_has_a_caller():
    text = "\n".join(p.read_text() for p in SOURCES if p.name != "hookspecs.py")
    for name in spec_names():
        called = re.search(rf"\.{name}\(|\"{name}\"|\.{name}\b(?!\()", text)
        assert called, f"{name} is never called"


def test_every_hookspec_is_named_by_a_test():
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    for name in spec_names():
        assert name in tests, f"no test names {name}"


def test_a_misspelled_hook_is_refused_at_load():
    class Typo:
        @hookimpl
        def hexe_child_mount(self, spawn):  # no such hook: hexe_child_mounts
            pass

    with pytest.raises(HexeError, match="plugin typo: .*hexe_child_mount") as info:
        make_plugin_manager(extra=[("typo", Typo())], environ={})
    assert "HEXE_DISABLE_PLUGINS=typo" in (info.value.hint or "")


class Recorder:
    """Appends each phase it sees to ``path`` (a JSON line), from the child too."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _note(self, phase: str) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps({"phase": phase, "pid": os.getpid()}) + "\n")

    @hookimpl
    def hexe_child_pid1(self, spawn):
        self._note("pid1")

    @hookimpl
    def hexe_child_seccomp(self, spawn):
        self._note("seccomp")

    @hookimpl
    def hexe_child_handover(self, spawn):
        self._note("handover")

    @hookimpl
    def hexe_child_exec(self, spawn, command):
        self._note("exec")
        assert command is not None


def test_late_child_hooks_run_in_order_in_the_child(tmp_path):
    record = tmp_path / "phases.jsonl"
    pm = make_plugin_manager(extra=[("recorder", Recorder(record))], environ={})
    true = shutil.which("true") or "/bin/true"
    plan = spawn_mod.SpawnPlan(
        argv=(true,),
        isolation=resolve([Layer("t", {"profile": ("none", "profile")})]),
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        cwd="/",
    )
    child = spawn_mod.run(plan, pm)
    assert spawn_mod.exit_code_of(child.wait()) == 0
    seen = [json.loads(line) for line in record.read_text().splitlines()]
    assert [r["phase"] for r in seen] == ["pid1", "seccomp", "handover", "exec"]
    assert all(r["pid"] != os.getpid() for r in seen)  # inside the child


class Segment:
    @hookimpl
    def hexe_status_segments(self):
        return ["greet"]

    @hookimpl
    def hexe_status_segment(self, name, view):
        return f"hello {view.cols}" if name == "greet" else None


def test_a_plugin_status_segment_is_accepted_and_drawn():
    source = 'hexe.status { right = { "greet", "clock" } }\n'
    with pytest.raises(ConfigError, match="greet"):
        load(source=source, environ={}, pm=make_plugin_manager(environ={}))
    pm = make_plugin_manager(extra=[("segment", Segment())], environ={})
    config = load(source=source, environ={}, pm=pm)
    assert "greet" in config.status.right
    import hexe_render

    view = SimpleNamespace(cols=80, hooks=pm.hook, runtime=None)
    assert hexe_render._segment("greet", view) == "hello 80"
