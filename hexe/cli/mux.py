"""``hexe mux`` and ``hexe attach``: the glue between the client and the session server."""

from __future__ import annotations

import os
import sys

from hexe import log as hexe_log
from hexe.errors import HexeError, report

TYPE_CHECKING = False  # typing takes ~5 ms to import: for annotations only
if TYPE_CHECKING:  # and collections.abc, which imports collections (~2 ms an attach)
    from collections.abc import Callable
    from typing import Any


def mux_command(
    session: str | None,
    pm: Any,
    *,
    config_path: str | None,
    create: bool,
    log_level: str,
    log_file: str | None,
    detach_others: bool = False,
) -> int:
    from hexe.client import daemonize, run_client
    from hexe.server.paths import check_session_name
    from hexe.sessions import attach_target, refuse_nesting, session_names

    environ = dict(os.environ)
    choose = False
    try:
        if create:
            session = check_session_name(session or "main")
        else:
            # several sessions and no name: the last used one, with the chooser open
            choose = session is None and len(session_names(environ)) > 1
            session = attach_target(session, environ)
        refuse_nesting(session, environ)
    except HexeError as exc:
        report(exc)
        return 1

    def start(path: str, lock_fd: int, ready_fd: int) -> None:
        # only a new session reads the config (an attach imports none of it)
        from hexe.config.contained import load_contained as load_config

        # errors reach this terminal
        config = load_config(config_path, environ=environ, pm=pm, meanwhile=_import_server)
        if not os.isatty(0) or not os.isatty(1):
            # before the server starts: a mux that cannot attach leaves no session behind
            raise HexeError("hexe mux needs a terminal on stdin and stdout")
        size = _terminal_size()

        def serve() -> None:
            from hexe.server.server import Server

            hexe_log.configure(log_level, log_file)
            server = Server(session, config, pm, path, environ)
            # The first screen is whole: the layout's panes start at the size of
            # the terminal that starts the session, not at a default replaced a
            # moment later (their first output would be cut or wrapped wrongly).
            server.cols, server.rows = size
            server.ready_fd = ready_fd
            server.serve()  # signal handlers first, then the socket and the pid file

        daemonize(serve, close=(lock_fd,))

    try:
        return run_client(session, environ, start if create else None, detach_others, choose=choose)
    except HexeError as exc:  # a ConfigError of init.lua too
        report(exc)
        return 1
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130


def _import_server() -> None:
    """The server's modules, imported while the config's first run (a child)
    takes the other core: the server, forked from this process once the config
    is loaded, starts with them in place (a new session's first prompt ~10 %
    sooner; the client that started it holds them too, shared with the server).
    A failure is left to the server, which imports them again: it logs why it
    cannot start, and this terminal says that it did not, as before."""
    try:
        import hexe.server.server  # noqa: F401
    except Exception:  # the server imports them again, and reports it
        pass


def _terminal_size() -> tuple[int, int]:
    """The size of the terminal ``hexe mux`` runs in, as the client will
    report it (at least 1x2), or 80x24 when it has none."""
    for fd in (0, 1, 2):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        return max(size.columns, 1), max(size.lines, 2)
    return 80, 24


def new_session_command(
    session: str | None,
    pm: Any,
    *,
    config_path: str | None,
    log_level: str,
    log_file: str | None,
    size: tuple[int, int] = (80, 24),
    started: Callable[[str], None] | None = None,
) -> int:
    """``hexe new-session -d [-s NAME]``: start a session's server in the background
    and return (no terminal needed); NAME defaults to the lowest free number.
    Exit 1 when that session exists already or init.lua is bad. ``started`` is
    given the session's name once its server answers (a chain's later commands
    go to it)."""
    from hexe.client import connect, daemonize, ensure_server
    from hexe.config import ConfigError
    from hexe.config.contained import load_contained as load_config
    from hexe.server.paths import check_session_name, socket_file
    from hexe.sessions import session_names

    environ = dict(os.environ)
    try:
        if session is None:
            taken = set(session_names(environ))
            session = next(str(n) for n in range(len(taken) + 1) if str(n) not in taken)
        session = check_session_name(session)
        existing = connect(socket_file(session, environ))
        if existing is not None:
            existing.close()
            raise HexeError(f"there is already a session {session}", hint=f"hexe attach {session}")

        def start(path: str, lock_fd: int, ready_fd: int) -> None:
            # errors reach stderr
            config = load_config(config_path, environ=environ, pm=pm, meanwhile=_import_server)

            def serve() -> None:
                from hexe.server.server import Server

                hexe_log.configure(log_level, log_file)
                server = Server(session, config, pm, path, environ)
                server.cols, server.rows = size
                server.ready_fd = ready_fd
                server.serve()

            daemonize(serve, close=(lock_fd,))

        ensure_server(session, environ, start).close()
    except (ConfigError, HexeError) as exc:
        report(exc)
        return 1
    print(session)
    if started is not None:
        started(session)
    return 0
