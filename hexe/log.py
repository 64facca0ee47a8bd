"""Logging: structlog events, one JSON object a line, to ``$XDG_STATE_HOME/hexe/hexe.log``.

Events have a name and key-value context (``spawn_started profile=full
setup_ms=4.2``), never sentences. Child processes between fork and exec do not
log: they report to the parent, which logs.

structlog renders each event; a standard :mod:`logging` handler writes it: a
:class:`logging.handlers.RotatingFileHandler` for the log file, so the log is
capped (:data:`LOG_MAX_BYTES`, :data:`LOG_BACKUPS` old files kept), and no
value in an event is longer than :data:`VALUE_LIMIT` characters: a peer that
sends megabytes never writes megabytes to the log.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

LEVELS = ("debug", "info", "warning", "error")

#: The log file is rotated when it would pass this size; this many old ones
#: are kept beside it (``hexe.log.1``, ``hexe.log.2``).
LOG_MAX_BYTES = 8 << 20
LOG_BACKUPS = 2
#: Longer strings and byte strings in an event are cut to this many characters.
VALUE_LIMIT = 1000
#: Longer lists, tuples and dicts in an event keep this many items.
ITEMS_LIMIT = 64

_handler: logging.Handler | None = None


def state_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "hexe"


def default_log_file() -> Path:
    return state_dir() / "hexe.log"


class _Quiet:
    """A log that cannot be written (disk full, a closed stream) never stops hexe."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


def _rotating_file(path: Path) -> logging.Handler:
    """logging's RotatingFileHandler, quiet (imported here: it costs a CLI call ~8 ms)."""
    import logging.handlers

    class _RotatingFile(_Quiet, logging.handlers.RotatingFileHandler):
        pass

    return _RotatingFile(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")


class _Stream(_Quiet, logging.StreamHandler):  # type: ignore[type-arg]
    pass


def configure(level: str = "info", log_file: str | os.PathLike[str] | None = None) -> Path | None:
    """Send events at ``level`` and above to ``log_file`` (default: the state dir).

    ``log_file="-"`` logs to stderr. Returns the file used, or None when the
    log cannot be opened (hexe then runs without a log rather than failing).
    """
    global _handler
    handler: logging.Handler
    path: Path | None
    if log_file == "-":
        handler = _Stream(sys.stderr)
        path = None
    elif log_file is not None and os.fspath(log_file) == os.devnull:
        handler = logging.NullHandler()
        path = None
    else:
        path = Path(log_file) if log_file else default_log_file()
        try:
            if not log_file:  # our own state directory; a path given is taken as it is
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handler = _rotating_file(path)
        except OSError as exc:
            print(f"hexe: warning: cannot open log {path}: {exc.strerror}", file=sys.stderr)
            handler = logging.NullHandler()
            path = None
    import structlog  # here, not at the top: commands that never log never load it
    import structlog.tracebacks

    handler.setFormatter(logging.Formatter("%(message)s"))
    if _handler is not None:
        _handler.close()
    _handler = handler
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # tracebacks without local variables: those hold environments and keys
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            truncate_values,
            structlog.processors.JSONRenderer(sort_keys=False, default=str),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        logger_factory=lambda *_: _Writer(handler),
        cache_logger_on_first_use=False,
    )
    return path


def open_fds() -> list[int]:
    """File descriptors the log writes to (a forked child that closes the rest keeps them)."""
    stream = getattr(_handler, "stream", None)
    try:
        return [stream.fileno()] if stream is not None and not stream.closed else []
    except (OSError, ValueError, AttributeError):
        return []


class _Writer:
    """structlog's logger: hands each rendered event to the logging handler."""

    def __init__(self, handler: logging.Handler) -> None:
        self._handler = handler

    def msg(self, message: str) -> None:
        record = logging.LogRecord("hexe", logging.INFO, "", 0, message, None, None)
        self._handler.handle(record)

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg


def _cut(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        if len(value) > VALUE_LIMIT:
            return f"{value[:VALUE_LIMIT]}...[{len(value)} characters]"
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value[: VALUE_LIMIT + 1])
        if len(value) > VALUE_LIMIT:
            return f"{data[:VALUE_LIMIT]!r}...[{len(value)} bytes]"
        return repr(data)
    if depth > 5 and isinstance(value, (list, tuple, set, frozenset, dict)):
        return _cut(repr(value)[: VALUE_LIMIT + 1], depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)[: ITEMS_LIMIT + 1] if not isinstance(value, (list, tuple)) else value
        cut = [_cut(v, depth + 1) for v in items[:ITEMS_LIMIT]]
        if len(value) > ITEMS_LIMIT:
            cut.append(f"...[{len(value)} items]")
        return cut
    if isinstance(value, dict):
        out = {}
        for n, (k, v) in enumerate(value.items()):
            if n >= ITEMS_LIMIT:
                out["..."] = f"[{len(value)} items]"
                break
            out[str(k)[:VALUE_LIMIT]] = _cut(v, depth + 1)
        return out
    return value


def truncate_values(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no event carries a peer's megabytes (long values are cut)."""
    return {key: _cut(value) for key, value in event.items()}


def get_logger(**context: Any) -> Any:
    """A bound logger; events are dropped until :func:`configure` is called."""
    if _handler is None:
        configure("error", os.devnull)
    import structlog

    return structlog.get_logger("hexe").bind(pid=os.getpid(), **context)
