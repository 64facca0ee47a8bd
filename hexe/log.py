"""Logging: structlog events, one JSON object a line, to ``$XDG_STATE_HOME/hexe/hexe.log``.

Events have a name and key-value context (``spawn_started profile=full
setup_ms=4.2``), never sentences. Child processes between fork and exec do not
log: they report to the parent, which logs.

:class:`BoundLogger` renders each event as structlog's processor chain did
(structlog itself is loaded only to render a traceback); a standard
:mod:`logging` handler writes it: a rotating file handler for the log file, so the log is
capped (:data:`LOG_MAX_BYTES`, :data:`LOG_BACKUPS` old files kept), and no
value in an event is longer than :data:`VALUE_LIMIT` characters: a peer that
sends megabytes never writes megabytes to the log.
"""

from __future__ import annotations

import json
import logging
import os
import stat
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
_level = logging.ERROR
_LEVEL_NUMBERS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


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


class _RotatingFile(_Quiet, logging.FileHandler):
    """The log file, rotated as :class:`logging.handlers.RotatingFileHandler`
    does (that module loads socket, pickle and queue: ~8 ms of every command
    that logs): past ``max_bytes``, ``hexe.log`` becomes ``hexe.log.1``, which
    becomes ``hexe.log.2``, and so on up to ``backups``.

    Only a regular file is rotated, as the standard handler does: a log file
    that is ``/dev/null``, a FIFO or a terminal is written, never renamed
    (renaming ``/dev/null`` would leave the machine a regular file there)."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.max_bytes, self.backups = max_bytes, backups
        #: a regular file (rotated) or not (/dev/null, a FIFO): known once opened
        self._rotatable: bool | None = None

    def _regular(self) -> bool:
        try:
            return stat.S_ISREG(os.fstat(self.stream.fileno()).st_mode) and os.path.isfile(
                self.baseFilename
            )
        except (OSError, ValueError, AttributeError):
            return False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            size = len(self.format(record)) + len(self.terminator)
            if self._rotatable is None:  # once per opened file, not per line
                self._rotatable = self._regular()
            if (
                self.max_bytes > 0
                and self._rotatable
                and self.stream.tell() + size >= self.max_bytes
            ):
                self._rotate()
        except Exception:
            self.handleError(record)
            return
        super().emit(record)

    def _rotate(self) -> None:
        self.stream.close()
        self.stream = None  # type: ignore[assignment]
        base = self.baseFilename
        for n in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{n}"):
                os.replace(f"{base}.{n}", f"{base}.{n + 1}")
        if self.backups > 0 and os.path.isfile(base):  # replaced meanwhile: not renamed
            os.replace(base, f"{base}.1")
        self.stream = self._open()
        self._rotatable = None


def _rotating_file(path: Path) -> logging.Handler:
    return _RotatingFile(path, LOG_MAX_BYTES, LOG_BACKUPS)


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
    global _level
    handler.setFormatter(logging.Formatter("%(message)s"))
    if _handler is not None:
        _handler.close()
    _handler = handler
    _level = _LEVEL_NUMBERS.get(level.lower(), logging.INFO)
    return path


def open_fds() -> list[int]:
    """File descriptors the log writes to (a forked child that closes the rest keeps them)."""
    stream = getattr(_handler, "stream", None)
    try:
        return [stream.fileno()] if stream is not None and not stream.closed else []
    except (OSError, ValueError, AttributeError):
        return []


class BoundLogger:
    """An event logger: ``log.info("pane_spawned", pane=3)``; ``bind`` adds context.

    What structlog's processor chain made of an event, one JSON object a
    line, written here without loading structlog (with asyncio under it, a
    third of a ``hexe run``'s imports): the bound context, the call's
    keywords, ``event``, ``level``, an ISO UTC ``timestamp``; long values cut
    (:func:`truncate_values`). ``exception`` (or ``exc_info=``) adds the
    traceback as structlog's ``ExceptionDictTransformer`` renders it (loaded
    then). Events below the configured level are dropped; every event goes
    to the handler configured at the time it is logged.
    """

    __slots__ = ("_context",)

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def bind(self, **context: Any) -> BoundLogger:
        return BoundLogger({**self._context, **context})

    def _log(self, number: int, level: str, event: str, args: tuple[Any, ...], kw: Any) -> None:
        handler = _handler
        if number < _level or handler is None:
            return
        record = {**self._context, **kw}
        record["event"] = event % args if args else event
        record["level"] = level
        record["timestamp"] = _now().isoformat().replace("+00:00", "Z")
        if record.get("exc_info"):
            record = _render_exception(record)
        else:
            record.pop("exc_info", None)
        line = json.dumps(truncate_values(None, level, record), default=str)
        handler.handle(logging.LogRecord("hexe", number, "", 0, line, None, None))

    def debug(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(logging.DEBUG, "debug", event, args, kw)

    def info(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(logging.INFO, "info", event, args, kw)

    def warning(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(logging.WARNING, "warning", event, args, kw)

    warn = warning

    def error(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(logging.ERROR, "error", event, args, kw)

    def critical(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(logging.CRITICAL, "critical", event, args, kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> None:
        kw.setdefault("exc_info", True)
        self._log(logging.ERROR, "error", event, args, kw)


def _now() -> Any:
    import datetime

    return datetime.datetime.now(tz=datetime.UTC)


def _render_exception(record: dict[str, Any]) -> dict[str, Any]:
    """structlog's ExceptionRenderer (tracebacks without locals: those hold
    environments and keys); loaded only when an event carries an exception."""
    import structlog.processors
    import structlog.tracebacks

    renderer = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
    )
    return dict(renderer(None, "error", record))


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
    return BoundLogger({"pid": os.getpid(), **context})
