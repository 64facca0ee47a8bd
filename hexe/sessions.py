"""The session commands: ``hexe ls``, ``hexe kill``, ``hexe detach``, ``hexe list-panes``
and every action of the vocabulary as a command (``hexe split-right -t 3``).

Each talks to a session's server over a command connection
(:class:`hexe.client.Connection`). Which session: ``-s NAME``, else the one
this shell runs in (``HEXE_SESSION``, set in every pane), else the only
running one, else ``main``. Which pane: ``-t ID``, else this shell's pane
(``HEXE_PANE``) when it is in the same session, else the session's focused
pane.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time

from hexe.client import Connection, connect, open_session
from hexe.errors import HexeError
from hexe.procwait import running
from hexe.server.paths import beside, check_session_name, socket_directory

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:  # and collections.abc, which imports collections (~2 ms a request)
    from collections.abc import Mapping
    from typing import Any

KILL_TIMEOUT = 15.0


def session_names(environ: Mapping[str, str]) -> list[str]:
    """Sessions with a socket in the socket directory, stale ones (no server) removed."""
    base = socket_directory(environ)
    names = []
    for path in _files(base, ".sock"):
        name = os.path.basename(path)[: -len(".sock")]
        sock = connect(path)
        if sock is not None:
            sock.close()
            names.append(name)
            continue
        _remove_stale(path)
    return names


def _files(directory: str, suffix: str) -> list[str]:
    """The directory's entries named ``*SUFFIX``, sorted: what ``Path.glob``
    found (whose ``*`` matches a leading dot too: a session may be ``.x``)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(os.path.join(directory, n) for n in names if n.endswith(suffix))


def _remove_stale(path: str) -> None:
    """A socket nobody listens on: remove it, unless a server is just starting there."""
    try:
        lock = open(beside(path, ".lock"), "w")
    except OSError:
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # `hexe mux` is starting this session's server right now
        sock = connect(path)
        if sock is not None:
            sock.close()
            return
        for stale in (path, beside(path, ".pid")):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass


def sessions(environ: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every running session's info, and the names of those that did not answer."""
    infos, silent = [], []
    for name in session_names(environ):
        try:
            with open_session(name, environ, timeout=3) as conn:
                infos.append(conn.request("session-info"))
        except HexeError as exc:
            if "is refused from inside a sandbox" not in exc.message:
                silent.append(name)  # (a sandboxed pane sees its own session only)
    return infos, silent


def inside_session(environ: Mapping[str, str]) -> str | None:
    """The session this shell runs in: ``HEXE_SESSION``, or, when no session has
    that name any more (``rename-session`` since the pane started), the one
    whose server is an ancestor of this process."""
    inside = environ.get("HEXE_SESSION")
    if not inside:
        return None
    name = check_session_name(inside)
    base = socket_directory(environ)
    if os.path.exists(os.path.join(base, f"{name}.sock")):
        return name
    servers = {}
    for pid_file in _files(base, ".pid"):
        try:
            with open(pid_file) as f:
                servers[int(f.read())] = os.path.basename(pid_file)[: -len(".pid")]
        except (OSError, ValueError):
            continue
    pid: int | None = os.getpid()
    for _ in range(256):
        if pid is None or pid <= 1:
            break
        if pid in servers:
            return servers[pid]
        pid = _parent(pid)
    return name


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def resolve(explicit: str | None, environ: Mapping[str, str]) -> str:
    """The session a command is about (see the module's docstring)."""
    if explicit:
        return check_session_name(explicit)
    inside = inside_session(environ)
    if inside:
        return inside
    names = session_names(environ)
    if len(names) == 1:
        return names[0]
    if "main" in names or not names:
        return "main"
    raise HexeError(f"several sessions are running ({', '.join(names)}); say which with -s NAME")


def default_pane(session: str, explicit: int | None, environ: Mapping[str, str]) -> int | None:
    if explicit is not None:
        return explicit
    if environ.get("HEXE_PANE", "").isdigit() and inside_session(environ) == session:
        return int(environ["HEXE_PANE"])
    return None  # the server's focused pane


def refuse_nesting(session: str, environ: Mapping[str, str]) -> None:
    """Attaching a pane's terminal to its own session would loop its output forever."""
    if environ.get("HEXE_SESSION") and inside_session(environ) == session:
        raise HexeError(
            f"this shell runs inside session {session}; attaching it to itself would loop",
            hint="detach first (prefix d), or use another session name",
        )


def attach_target(explicit: str | None, environ: Mapping[str, str]) -> str:
    """``hexe attach`` without a name: the most recently used running session."""
    if explicit:
        return check_session_name(explicit)
    infos, _ = sessions(environ)
    if not infos:
        raise HexeError("no sessions are running", hint="hexe mux starts one")
    return str(max(infos, key=lambda i: i.get("activity", 0))["name"])


# -- the commands ----------------------------------------------------------------


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    return f"{int(seconds // 86400)}d{int(seconds % 86400 // 3600)}h"


def ls_command(environ: Mapping[str, str], as_json: bool) -> int:
    infos, silent = sessions(environ)
    if as_json:
        import json  # --json only: json imports re (~8 ms a request)

        print(json.dumps(infos, indent=2))
    elif infos:
        now = time.time()
        rows = [("NAME", "TABS", "PANES", "CLIENTS", "CREATED", "PID")]
        for info in infos:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info["created"]))
            rows.append(
                (
                    info["name"],
                    str(info["tabs"]),
                    str(info["panes"]),
                    str(len(info["clients"])) + (" (attached)" if info["clients"] else ""),
                    f"{created} ({_age(now - info['created'])} ago)",
                    str(info["pid"]),
                )
            )
        print(_table(rows))
    for name in silent:
        print(f"hexe: session {name} did not answer (busy or hung?)", file=sys.stderr)
    if not infos and not silent and not as_json:
        print("hexe: no sessions", file=sys.stderr)
        return 1
    return 1 if silent else 0


def kill_session(name: str, environ: Mapping[str, str]) -> None:
    """End ``name``: its panes' process trees and cgroups; return once its server is gone."""
    with open_session(name, environ) as conn:
        pid = int(conn.request("session-info")["pid"])
        conn.request("kill-session")
    deadline = time.monotonic() + KILL_TIMEOUT
    while running(pid):
        if time.monotonic() > deadline:
            raise HexeError(
                f"session {name}'s server (pid {pid}) is still running after {KILL_TIMEOUT:g}s",
                hint=f"kill -TERM {pid}",
            )
        time.sleep(0.02)


def kill_command(name: str | None, all_sessions: bool, environ: Mapping[str, str]) -> int:
    if all_sessions:
        names = session_names(environ)
        if not names:
            print("hexe: no sessions", file=sys.stderr)
            return 1
    else:
        names = [resolve(name, environ)]
    status = 0
    for each in names:
        try:
            kill_session(each, environ)
        except HexeError as exc:
            from hexe.errors import report

            report(exc)
            status = 1
    return status


class _Kept:
    """A chain's connections, one a session, and the sessions its commands
    named or defaulted to (finding the default looks at every socket)."""

    def __init__(self) -> None:
        self.connections: dict[str, Connection] = {}
        self.names: dict[str | None, str] = {}

    def request(
        self, action: str, args: list[Any], session: str | None, pane: int | None,
        environ: Mapping[str, str],
    ) -> Any:  # fmt: skip
        name = self.names.get(session) or resolve(session, environ)
        self.names[session] = name
        conn = self.connections.get(name)
        if conn is None:
            conn = self.connections[name] = open_session(name, environ)
        return conn.request(action, args, default_pane(name, pane, environ))


_kept: _Kept | None = None


class _Keeping:
    def __enter__(self) -> None:
        global _kept
        _kept = _Kept()

    def __exit__(self, *exc: object) -> None:
        global _kept
        kept, _kept = _kept, None
        for conn in kept.connections.values() if kept is not None else ():
            conn.close()


def kept_connections() -> _Keeping:
    """While in it, :func:`action_command` keeps one connection a session and
    sends every request over it (a chain of commands: ~1.5 ms a command less).
    (A class, not ``contextlib.contextmanager``: a request imports no contextlib.)"""
    return _Keeping()


def action_command(
    action: str,
    args: list[Any],
    *,
    session: str | None,
    pane: int | None,
    environ: Mapping[str, str],
) -> Any:
    """Run ``action`` in a session (the command line's face of the vocabulary)."""
    if _kept is not None:  # a chain of commands: its connections are kept
        return _kept.request(action, args, session, pane, environ)
    name = resolve(session, environ)
    with open_session(name, environ) as conn:
        return conn.request(action, args, default_pane(name, pane, environ))


def format_panes(panes: list[dict[str, Any]]) -> str:
    rows = [("PANE", "TAB", "", "STATE", "PID", "ISOLATION", "CWD", "COMMAND")]
    for p in panes:
        iso = p.get("isolation") or {}
        command = p.get("current_command") or " ".join(p.get("command") or [])
        state = p["state"] if p["exit_code"] is None else f"{p['state']} {p['exit_code']}"
        if p.get("message"):  # why it failed to start
            command = f"{command} ({p['message']})"
        rows.append(
            (
                str(p["id"]),
                f"{p['tab']}:{p['tab_name']}" + (" float" if p.get("float") else ""),
                "*" if p["active"] else ("+" if p["focused"] else ""),
                state,
                str(p["pid"] or "-"),
                iso.get("summary", "-"),
                p.get("cwd") or "-",
                command,
            )
        )
    return _table(rows)


def _table(rows: list[tuple[str, ...]]) -> str:
    """Rows of cells as aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


__all__ = [
    "Connection",
    "action_command",
    "attach_target",
    "format_panes",
    "kill_command",
    "ls_command",
    "refuse_nesting",
    "resolve",
    "sessions",
]
