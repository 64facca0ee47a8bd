"""Logging: structlog events, one JSON object a line, to ``$XDG_STATE_HOME/hexe/hexe.log``.

Events have a name and key-value context (``spawn_started profile=full
setup_ms=4.2``), never sentences. Child processes between fork and exec do not
log: they report to the parent, which logs.

:class:`BoundLogger` renders each event as structlog's processor chain did
(structlog itself is loaded only to render a traceback); a handler writes it
as :mod:`logging`'s did (without loading it): a rotating file for the log file, so the log is
capped (:data:`LOG_MAX_BYTES`, :data:`LOG_BACKUPS` old files kept), and no
value in an event is longer than :data:`VALUE_LIMIT` characters: a peer that
sends megabytes never writes megabytes to the log.
"""

from __future__ import annotations

import os
import stat
import sys
import time

from hexe import codec  # json's C encoder: json itself imports re (~8 ms of a request)

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
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

#: the levels' numbers, as :mod:`logging` numbers them
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
_handler: _Handler | None = None
_level = ERROR
_LEVEL_NUMBERS = {"debug": DEBUG, "info": INFO, "warning": WARNING, "error": ERROR}


def _state_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "hexe")


def state_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    from pathlib import Path  # not at import: pathlib (urllib.parse, ipaddress) is ~3 ms

    return Path(_state_dir(environ))


def default_log_file() -> Path:
    return state_dir() / "hexe.log"


class _Handler:
    """Where event lines go: what a :mod:`logging` handler with a ``%(message)s``
    formatter did, without loading :mod:`logging` (with ``traceback``,
    ``string`` and ``tokenize`` under it: ~4 ms of every command that logs).
    A log that cannot be written (disk full, a closed stream) never stops
    hexe: the line is dropped. ``handle`` takes a :class:`logging.LogRecord`
    too (tests compare with the standard handlers)."""

    terminator = "\n"
    stream: Any = None
    _formatter: Any = None

    def write(self, line: str) -> None:
        pass

    def close(self) -> None:
        pass

    def setFormatter(self, formatter: Any) -> None:  # noqa: N802 - logging's name
        self._formatter = formatter

    def handle(self, record: Any) -> None:
        fmt = self._formatter
        self.write(fmt.format(record) if fmt is not None else record.getMessage())


class _Stream(_Handler):
    """Lines to a stream (``--log-file -``: stderr), flushed each; never closed."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, line: str) -> None:
        try:
            self.stream.write(line + self.terminator)
            self.stream.flush()
        except Exception:  # noqa: BLE001 - as logging's handleError, quietly
            pass


class _RotatingFile(_Stream):
    """The log file, rotated as :class:`logging.handlers.RotatingFileHandler`
    does: past ``max_bytes``, ``hexe.log`` becomes ``hexe.log.1``, which
    becomes ``hexe.log.2``, and so on up to ``backups``. Opened at once (an
    error is the caller's), in append mode, UTF-8.

    Only a regular file is rotated, as the standard handler does: a log file
    that is ``/dev/null``, a FIFO or a terminal is written, never renamed
    (renaming ``/dev/null`` would leave the machine a regular file there)."""

    def __init__(self, path: Path | str, max_bytes: int, backups: int) -> None:
        self.baseFilename = os.path.abspath(os.fspath(path))
        self.stream = self._open()
        self.max_bytes, self.backups = max_bytes, backups
        #: a regular file (rotated) or not (/dev/null, a FIFO): known once opened
        self._rotatable: bool | None = None

    def _open(self) -> Any:
        return open(self.baseFilename, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def _regular(self) -> bool:
        try:
            return stat.S_ISREG(os.fstat(self.stream.fileno()).st_mode) and os.path.isfile(
                self.baseFilename
            )
        except (OSError, ValueError, AttributeError):
            return False

    def write(self, line: str) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            size = len(line) + len(self.terminator)
            if self._rotatable is None:  # once per opened file, not per line
                self._rotatable = self._regular()
            if (
                self.max_bytes > 0
                and self._rotatable
                and self.stream.tell() + size >= self.max_bytes
            ):
                self._rotate()
        except Exception:  # noqa: BLE001 - as logging's handleError, quietly
            return
        super().write(line)

    def _rotate(self) -> None:
        self.stream.close()
        self.stream = None
        base = self.baseFilename
        for n in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{n}"):
                os.replace(f"{base}.{n}", f"{base}.{n + 1}")
        if self.backups > 0 and os.path.isfile(base):  # replaced meanwhile: not renamed
            os.replace(base, f"{base}.1")
        self.stream = self._open()
        self._rotatable = None

    def close(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def _rotating_file(path: str) -> _Handler:
    return _RotatingFile(path, LOG_MAX_BYTES, LOG_BACKUPS)


def configure(level: str = "info", log_file: str | os.PathLike[str] | None = None) -> str | None:
    """Send events at ``level`` and above to ``log_file`` (default: the state dir).

    ``log_file="-"`` logs to stderr. Returns the file used, or None when the
    log cannot be opened (hexe then runs without a log rather than failing).
    """
    global _handler
    handler: _Handler
    path: str | None
    if log_file == "-":
        handler = _Stream(sys.stderr)
        path = None
    elif log_file is not None and os.fspath(log_file) == os.devnull:
        handler = _Handler()
        path = None
    else:
        path = os.fspath(log_file) if log_file else os.path.join(_state_dir(), "hexe.log")
        try:
            if not log_file:  # our own state directory; a path given is taken as it is
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            handler = _rotating_file(path)
        except OSError as exc:
            print(f"hexe: warning: cannot open log {path}: {exc.strerror}", file=sys.stderr)
            handler = _Handler()
            path = None
    global _level
    if _handler is not None:
        _handler.close()
    _handler = handler
    _level = _LEVEL_NUMBERS.get(level.lower(), INFO)
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
        record["timestamp"] = _timestamp()
        if record.get("exc_info"):
            record = _render_exception(record)
        else:
            record.pop("exc_info", None)
        handler.write(codec.dumps(truncate_values(None, level, record), default=str))

    def debug(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(DEBUG, "debug", event, args, kw)

    def info(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(INFO, "info", event, args, kw)

    def warning(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(WARNING, "warning", event, args, kw)

    warn = warning

    def error(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(ERROR, "error", event, args, kw)

    def critical(self, event: str, *args: Any, **kw: Any) -> None:
        self._log(CRITICAL, "critical", event, args, kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> None:
        kw.setdefault("exc_info", True)
        self._log(ERROR, "error", event, args, kw)


def _timestamp(ns: int | None = None) -> str:
    """``datetime.now(UTC).isoformat()`` with ``Z`` for ``+00:00`` (what structlog's
    ISO stamper wrote), from ``time.time_ns()`` without loading ``datetime``
    (~2 ms of every ``hexe run``): microseconds floored, left out when 0."""
    seconds, rest = divmod(time.time_ns() if ns is None else ns, 1_000_000_000)
    micro = rest // 1000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micro:06d}Z" if micro else f"{stamp}Z"


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
