"""Where sessions' sockets live, and the checks that make that place safe.

``$XDG_RUNTIME_DIR/hexe/`` when that directory exists, else
``/tmp/hexe-$UID/``. The directory is created 0700; before use its owner and
mode are checked, so another user cannot plant a socket or read ours.
"""

from __future__ import annotations

import os
import stat

from hexe.errors import HexeError

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports collections (~2 ms a request)
    from collections.abc import Mapping

#: what a session name may hold (1-64 of them; no re: it costs a request ~4 ms)
SESSION_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
SESSION_FORMS = "use 1-64 letters, digits, '.', '-' and '_'"


def socket_directory(environ: Mapping[str, str] | None = None, tmp: str = "/tmp") -> str:
    """The checked socket directory, as a string: a request to a session (``hexe
    send-keys``) does not import pathlib, with its ``urllib.parse`` and
    ``ipaddress`` (~3 ms); ``tmp`` holds the fallback (tests pass their own)."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        base = os.path.join(runtime, "hexe")
    else:
        base = os.path.join(tmp, f"hexe-{os.getuid()}")
    try:
        os.mkdir(base, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise HexeError(f"cannot create socket directory {base}: {exc.strerror}") from exc
    info = os.lstat(base)
    if not stat.S_ISDIR(info.st_mode):
        raise HexeError(f"socket directory {base} is not a directory (a symlink?); remove it")
    if info.st_uid != os.getuid():
        raise HexeError(
            f"socket directory {base} belongs to uid {info.st_uid}, not {os.getuid()}; refusing it"
        )
    if info.st_mode & 0o077:
        raise HexeError(
            f"socket directory {base} has mode {stat.S_IMODE(info.st_mode):o}; it must be 700",
            hint=f"chmod 700 {base}",
        )
    return base


def beside(sock: str, suffix: str) -> str:
    """The session's other file (``.pid``, ``.lock``) beside its socket: the
    name with ``.sock`` taken off, as the client and ``hexe ls`` have it (a
    session may be named ``.`` or ``a.b``: not ``os.path.splitext``)."""
    return (sock[: -len(".sock")] if sock.endswith(".sock") else sock) + suffix


def check_session_name(name: str) -> str:
    if not 0 < len(name) <= 64 or not SESSION_CHARS.issuperset(name):
        raise HexeError(f"session name {name!r} is not accepted; {SESSION_FORMS}")
    return name


def socket_file(session: str, environ: Mapping[str, str] | None = None) -> str:
    """The session's socket, as a string (see :func:`socket_directory`)."""
    return os.path.join(socket_directory(environ), f"{check_session_name(session)}.sock")
