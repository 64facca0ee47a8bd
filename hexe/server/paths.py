"""Where sessions' sockets live, and the checks that make that place safe.

``$XDG_RUNTIME_DIR/hexe/`` when that directory exists, else
``/tmp/hexe-$UID/``. The directory is created 0700; before use its owner and
mode are checked, so another user cannot plant a socket or read ours.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from hexe.errors import HexeError

SESSION_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SESSION_FORMS = "use 1-64 letters, digits, '.', '-' and '_'"


def socket_dir(environ: Mapping[str, str] | None = None, tmp: str = "/tmp") -> Path:
    """The checked socket directory; ``tmp`` holds the fallback (tests pass their own)."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        base = Path(runtime) / "hexe"
    else:
        base = Path(tmp) / f"hexe-{os.getuid()}"
    try:
        base.mkdir(mode=0o700)
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


def check_session_name(name: str) -> str:
    if not SESSION_RE.match(name):
        raise HexeError(f"session name {name!r} is not accepted; {SESSION_FORMS}")
    return name


def socket_path(session: str, environ: Mapping[str, str] | None = None) -> Path:
    return socket_dir(environ) / f"{check_session_name(session)}.sock"
