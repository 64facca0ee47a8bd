"""Logging: structlog events, one JSON object a line, to ``$XDG_STATE_HOME/hexe/hexe.log``.

Events have a name and key-value context (``spawn_started profile=full
setup_ms=4.2``), never sentences. Child processes between fork and exec do not
log: they report to the parent, which logs.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog

LEVELS = ("debug", "info", "warning", "error")
_configured_file: TextIO | None = None


def state_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "hexe"


def default_log_file() -> Path:
    return state_dir() / "hexe.log"


def configure(level: str = "info", log_file: str | os.PathLike[str] | None = None) -> Path | None:
    """Send events at ``level`` and above to ``log_file`` (default: the state dir).

    ``log_file="-"`` logs to stderr. Returns the file used, or None when the
    log cannot be opened (hexe then runs without a log rather than failing).
    """
    global _configured_file
    path: Path | None
    if log_file == "-":
        stream: TextIO = sys.stderr
        path = None
    else:
        path = Path(log_file) if log_file else default_log_file()
        try:
            if not log_file:  # our own state directory; a path given is taken as it is
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            stream = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            print(f"hexe: warning: cannot open log {path}: {exc.strerror}", file=sys.stderr)
            stream = open(os.devnull, "w")  # noqa: SIM115
            path = None
    if _configured_file is not None and _configured_file not in (sys.stderr, sys.stdout):
        _configured_file.close()
    _configured_file = stream
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(sort_keys=False, default=str),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        logger_factory=lambda *_: _SafeWriter(stream),
        cache_logger_on_first_use=False,
    )
    return path


class _SafeWriter:
    """Writes rendered events; a log that cannot be written (disk full) never stops hexe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        try:
            self._stream.write(message + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg


def get_logger(**context: Any) -> Any:
    """A bound logger; events are dropped until :func:`configure` is called."""
    if _configured_file is None:
        configure("error", os.devnull)
    return structlog.get_logger("hexe").bind(pid=os.getpid(), **context)
