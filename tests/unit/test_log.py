"""The log: capped and rotated through logging's handler, long values cut (docs/sessions.md)."""

from __future__ import annotations

import json

import pytest

from hexe import log as hexe_log


@pytest.fixture
def logfile(tmp_path):
    path = tmp_path / "hexe.log"
    hexe_log.configure("info", path)
    yield path
    hexe_log.configure("error", "/dev/null")


def test_long_values_are_cut(logfile):
    log = hexe_log.get_logger()
    log.warning(
        "big",
        text="a" * 100_000,
        data=b"\x00" * 100_000,
        items=list(range(10_000)),
        nested={"k": ["b" * 50_000]},
        small="ok",
    )
    (line,) = logfile.read_text().splitlines()
    assert len(line) < 8 * hexe_log.VALUE_LIMIT
    event = json.loads(line)
    assert event["small"] == "ok"
    assert event["text"].startswith("a" * hexe_log.VALUE_LIMIT)
    assert event["text"].endswith("...[100000 characters]")
    assert event["data"].endswith("...[100000 bytes]")
    assert len(event["items"]) == hexe_log.ITEMS_LIMIT + 1
    assert event["items"][-1] == "...[10000 items]"
    assert event["nested"]["k"][0].endswith("...[50000 characters]")


def test_the_log_is_rotated_and_capped(logfile, monkeypatch):
    monkeypatch.setattr(hexe_log, "LOG_MAX_BYTES", 20_000)
    hexe_log.configure("info", logfile)  # the new cap applies to a newly opened log
    log = hexe_log.get_logger()
    for n in range(2000):
        log.info("line", n=n, pad="x" * 200)
    files = sorted(p.name for p in logfile.parent.iterdir())
    assert files == ["hexe.log", "hexe.log.1", "hexe.log.2"]
    for p in logfile.parent.iterdir():
        assert p.stat().st_size <= 20_000 + 400
    last = json.loads(logfile.read_text().splitlines()[-1])
    assert last["n"] == 1999  # the newest events are in hexe.log


def test_an_unwritable_log_never_stops_hexe(tmp_path, capsys):
    blocked = tmp_path / "dir-not-file"
    blocked.mkdir()
    assert hexe_log.configure("info", blocked) is None
    assert "cannot open log" in capsys.readouterr().err
    hexe_log.get_logger().info("dropped")  # no exception
    hexe_log.configure("error", "/dev/null")


def test_a_preflight_child_keeps_the_log(logfile, tmp_path):
    """The config check child closes every descriptor but the log's."""
    from hexe.config.contained import load_contained

    config = tmp_path / "init.lua"
    config.write_text('hexe.options { shell = "/bin/sh" }\n')
    assert load_contained(config, environ={"HOME": str(tmp_path)}).options.shell == "/bin/sh"
    assert hexe_log.open_fds()


def test_a_log_that_is_not_a_regular_file_is_never_rotated(tmp_path):
    """``--log-file /dev/null`` (or a FIFO, a terminal) is written, never renamed:
    rotating /dev/null once left the machine a regular file there. A FIFO
    stands in for the device here, so a regression cannot touch the host."""
    import logging
    import os
    import stat
    import threading

    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    got = []

    def drain() -> None:
        with open(fifo, "rb") as reader:
            while chunk := reader.read(65536):
                got.append(len(chunk))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    handler = hexe_log._RotatingFile(fifo, 1000, 2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for n in range(300):
        handler.handle(logging.LogRecord("hexe", 20, "", 0, f"line {n} " + "x" * 50, None, None))
    handler.close()
    reader.join(timeout=20)
    assert not reader.is_alive()
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the FIFO was replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.fifo"]
    assert sum(got) > 10_000  # every line went through it
