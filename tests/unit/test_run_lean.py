"""``hexe run`` loads only what it needs (issue 18): no structlog, no terminal, no Lua
state without an ``init.lua``; each shortcut gives what the long way gave."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
from support import clean_env

from hexe import log as hexe_log

PROBE = """
import json, sys
from hexe.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ["structlog", "asyncio", "pyte", "hexe.terminal", "wcwidth"]
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def test_hexe_run_loads_neither_structlog_nor_the_terminal(tmp_path):
    env = clean_env(
        XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path)
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "run", "--profile", "none", "--", "true"],
        capture_output=True, text=True, env=env, cwd="/", timeout=60,
    )  # fmt: skip
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"code": 0, "loaded": []}, done.stderr
    lines = (tmp_path / "hexe" / "hexe.log").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert any(e["event"].startswith("spawn") for e in events), events


def _structlog_line(context: dict, method: str, event: str, **kw) -> dict:
    """What the structlog chain hexe used to configure wrote for this event."""
    import structlog
    import structlog.tracebacks

    lines: list[str] = []

    class Sink:
        def msg(self, message: str) -> None:
            lines.append(message)

        debug = info = warning = error = exception = msg

    chain = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        ),
        hexe_log.truncate_values,
        structlog.processors.JSONRenderer(sort_keys=False, default=str),
    ]
    logger = structlog.wrap_logger(Sink(), processors=chain, context_class=dict).bind(**context)
    getattr(logger, method)(event, **kw)
    return json.loads(lines[0])


@pytest.fixture
def logfile(tmp_path):
    path = tmp_path / "hexe.log"
    hexe_log.configure("debug", path)
    yield path
    hexe_log.configure("error", os.devnull)


@pytest.mark.parametrize("method", ["debug", "info", "warning", "error"])
def test_an_event_is_written_as_structlog_wrote_it(logfile, method):
    kw = {"pane": 3, "text": "x" * 5000, "items": list(range(100)), "path": logfile, "b": b"\x01"}
    getattr(hexe_log.get_logger(spawn="s1"), method)("pane_spawned", **kw)
    ours = json.loads(logfile.read_text())
    theirs = _structlog_line({"pid": os.getpid(), "spawn": "s1"}, method, "pane_spawned", **kw)
    assert ours.pop("timestamp").endswith("Z") and theirs.pop("timestamp").endswith("Z")
    assert ours == theirs
    assert list(ours) == list(theirs)


def test_an_exception_is_rendered_as_structlog_rendered_it(logfile):
    try:
        raise ValueError("boom")
    except ValueError:
        hexe_log.get_logger().exception("action_fault", action="x")
        theirs = _structlog_line({"pid": os.getpid()}, "exception", "action_fault", action="x")
    ours = json.loads(logfile.read_text())
    ours.pop("timestamp"), theirs.pop("timestamp")
    assert ours["exception"][0]["exc_value"] == "boom"
    assert ours == theirs


def test_events_below_the_level_are_dropped(tmp_path):
    path = tmp_path / "hexe.log"
    hexe_log.configure("warning", path)
    try:
        log = hexe_log.get_logger()
        log.info("quiet")
        log.warning("loud")
    finally:
        hexe_log.configure("error", os.devnull)
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == ["loud"]


def test_no_init_lua_gives_the_config_an_empty_file_gives(tmp_path, monkeypatch):
    from hexe.config.contained import load_contained
    from hexe.config.loader import Loader

    environ = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}

    def no_fork() -> int:
        raise AssertionError("no config file: nothing to run in a child first")

    monkeypatch.setattr(os, "fork", no_fork)
    lazy = load_contained(None, environ=environ)
    fresh = Loader(environ).load(None, source="")
    monkeypatch.undo()
    for f in dataclasses.fields(lazy):
        if f.name not in ("settings", "runtime", "path"):
            assert getattr(lazy, f.name) == getattr(fresh, f.name), f.name
    assert lazy.settings.names() == fresh.settings.names()
    assert not lazy.runtime.made
    assert lazy.runtime.table({"a": 1})["a"] == 1  # the Lua state, made on first use
    assert lazy.runtime.made


def test_the_log_rotates_as_logging_handlers_rotates(tmp_path):
    import logging
    import logging.handlers

    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    ours_dir.mkdir(), theirs_dir.mkdir()
    ours = hexe_log._RotatingFile(ours_dir / "hexe.log", 3000, 2)
    theirs = logging.handlers.RotatingFileHandler(
        theirs_dir / "hexe.log", maxBytes=3000, backupCount=2, encoding="utf-8"
    )
    for handler in (ours, theirs):
        handler.setFormatter(logging.Formatter("%(message)s"))
        for n in range(200):
            handler.handle(logging.LogRecord("hexe", 20, "", 0, f"line {n} " + "x" * n, None, None))
        handler.close()
    for name in ("hexe.log", "hexe.log.1", "hexe.log.2"):
        assert (ours_dir / name).read_text() == (theirs_dir / name).read_text(), name
    assert sorted(p.name for p in ours_dir.iterdir()) == sorted(
        p.name for p in theirs_dir.iterdir()
    )


def test_the_run_parser_built_alone_parses_as_the_whole_one():
    from hexe.cli.parser import build_parser

    for argv in (
        ["run", "--profile", "full", "--memory", "256M", "--", "true", "-x"],
        ["run", "--pane", "work", "--network", "user", "--network-allow", "1.2.3.4:80", "ls"],
        ["run", "--cpu", "50000 100000", "--strict-limits", "--tmp-size", "1M", "sh", "-c", "x"],
    ):
        whole = build_parser().parse_args(argv)
        one = build_parser(only="run").parse_args(argv)
        assert vars(one) == vars(whole), argv


def test_the_command_word_skips_the_values_of_hexes_options():
    from hexe.cli import _command_word

    assert _command_word(["--log-file", "run", "mux"]) == "mux"
    assert _command_word(["--config", "x.lua", "--log-level", "debug", "run", "ls"]) == "run"
    assert _command_word(["--version"]) is None


def test_copy_mode_loads_the_regex_module_at_its_first_search():
    probe = (
        "import sys\n"
        "import hexe.mux.copymode\n"
        "from hexe.mux.copysearch import compile_pattern\n"
        "before = 'regex' in sys.modules\n"
        "assert compile_pattern('a+').search('baa').span() == (1, 3)\n"
        "print(before, 'regex' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )  # fmt: skip
    assert done.stdout.split() == ["False", "True"], done.stderr
