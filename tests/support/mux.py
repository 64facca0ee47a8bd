"""Driving ``hexe mux`` from outside, in a private tmux server, as a user would.

Every test gets its own tmux socket, runtime dir (hexe's sockets), state dir
(hexe's log) and config. Conditions are waited for with a deadline, never a
bare sleep; a failure shows the captured screen and the tail of hexe's log.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hexe.procwait import running, terminate
from support import clean_env, wait_for

SHELL_CONFIG = """
hexe.options { shell = "/bin/sh" }
"""


class TmuxControl:
    """One tmux control-mode client (``tmux -C``) through which a test's
    captures and keys go as command lines: no process per call. A tmux client
    a call was ~4,800 processes a suite run, most of them the polls of
    :meth:`Mux.wait_for` (the end-to-end tests took ~20 s more CPU in a run
    measured side by side). Pane output is not sent to it (``no-output``);
    the window keeps its size (a control client does not count for it)."""

    def __init__(self, tmux: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*tmux, "-C", "attach-session", "-t", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            bufsize=0,
        )
        self.buffer = b""
        self.lock = threading.Lock()
        self._reply(b"0", time.monotonic() + 10)  # the attach's own reply
        ok, out = self.command("refresh-client -f no-output")
        if not ok:
            raise OSError(f"tmux control client: {out}")

    def _line(self, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        while b"\n" not in self.buffer:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.proc.stdout], [], [], wait)[0]:
                raise OSError("tmux control client: no reply")
            data = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not data:
                raise OSError("tmux control client: tmux went away")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def _reply(self, flags: bytes, deadline: float) -> tuple[bool, str]:
        """The next ``%begin`` .. ``%end``/``%error`` block with ``flags``
        (notifications come only between blocks)."""
        while True:
            words = self._line(deadline).split()
            if len(words) == 4 and words[0] == b"%begin" and words[3] == flags:
                number = words[2]
                break
        out: list[bytes] = []
        while True:
            line = self._line(deadline)
            words = line.split()
            if len(words) == 4 and words[0] in (b"%end", b"%error") and words[2] == number:
                return words[0] == b"%end", b"\n".join(out).decode(errors="replace")
            out.append(line)

    def command(self, line: str, timeout: float = 10) -> tuple[bool, str]:
        """Run one tmux command line: (succeeded, its output)."""
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write(line.encode() + b"\n")
            return self._reply(b"1", time.monotonic() + timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


def tmux_word(text: str) -> str | None:
    """``text`` as one word of a tmux command line (single-quoted: nothing in
    it is expanded); None when a control character in it could not travel
    on a command line."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return None
    return "'" + text.replace("'", "'\"'\"'") + "'"


class Mux:
    def __init__(
        self,
        base: Path,
        config: str = "",
        *,
        cols: int = 120,
        rows: int = 40,
        session: str = "t",
        wrap: str = "",
        args: list[str] | None = None,
        share: Mux | None = None,
    ) -> None:
        """``args`` replace ``mux --session t`` (``["attach", "t"]``); ``share`` is a Mux
        whose runtime dir, state, config and log this one uses (a second client)."""
        self.base = base
        self.session = session
        # tmux's socket lives in this test's directory (``-S``), not in /tmp/tmux-UID
        self.tmux_socket = base / "tmux.sock"  # tmp_path names are short
        self.tmux = ["tmux", "-S", str(self.tmux_socket)]
        self.followers: list[Mux] = []  # other clients of this session, closed with it
        self._control: TmuxControl | None = None
        self._control_failed = False
        if share is not None:
            share.followers.append(self)
        base.mkdir(parents=True, exist_ok=True)
        if share is not None:
            self.run_dir, self.state, self.log = share.run_dir, share.state, share.log
            self.config = share.config
        else:
            self.run_dir = base / "run"
            self.run_dir.mkdir(mode=0o700)
            self.state = base / "state"
            self.state.mkdir()
            self.log = base / "hexe.log"
            self.config = base / "init.lua"
            self.config.write_text(SHELL_CONFIG + config)
        self.env = clean_env(
            XDG_RUNTIME_DIR=str(self.run_dir),
            XDG_STATE_HOME=str(self.state),
            HEXE_CONFIG=str(self.config),
            HOME=str(base),
            PS1="$ ",
            ENV="",
        )
        command = " ".join(
            shlex.quote(a)
            for a in [
                "env",
                *(
                    f"{k}={v}"
                    for k, v in self.env.items()
                    if k
                    in ("XDG_RUNTIME_DIR", "XDG_STATE_HOME", "HEXE_CONFIG", "HOME", "PS1", "PATH")
                ),
                sys.executable,
                "-m",
                "hexe",
                "--log-file",
                str(self.log),
                "--log-level",
                "debug",
                *(args or ["mux", "--session", session]),
            ]
        )
        # the client's last words stay on screen: the pane lives on after it exits
        script = base / "run.sh"
        script.write_text(f'{command}\necho "[client exit $?]"\nexec sleep 600\n')
        command = f"sh {shlex.quote(str(script))}"
        if wrap:
            command = wrap.replace("{}", command)
        subprocess.run(
            [
                *self.tmux,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                str(cols),
                "-y",
                str(rows),
                command,
            ],
            check=True,
            env=self.env,
            # "/": a directory every sandbox sees. One under the host's /tmp is
            # not there in a fresh /tmp: the pane would start in / anyway, and
            # say so on the status line for 4 s, hiding it from wait_for("[t]")
            cwd="/",
        )

    # -- looking -----------------------------------------------------------------

    def control(self, *words: str) -> tuple[bool, str] | None:
        """``tmux WORDS`` through the control client; None when it cannot carry
        them (a control character) or tmux is not there for it (the caller
        then runs a tmux client, which says why)."""
        line = [tmux_word(w) for w in words]
        if self._control_failed or None in line:
            return None
        try:
            if self._control is None:
                self._control = TmuxControl(self.tmux, self.env)
            return self._control.command(" ".join(line))  # type: ignore[arg-type]
        except OSError:
            self._control_failed = True  # tmux ended (or never started): no retry
            if self._control is not None:
                self._control.close()
            return None

    def screen(self) -> str:
        answer = self.control("capture-pane", "-p", "-t", "0")
        if answer is not None and answer[0]:
            return answer[1] + "\n"
        result = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "0"],
            capture_output=True,
            text=True,
        )
        return result.stdout

    def lines(self) -> list[str]:
        return self.screen().split("\n")

    def cursor(self) -> tuple[int, int]:
        """Where the outer terminal's cursor is: (x, y), from 0."""
        answer = self.control("display-message", "-p", "-t", "0", "#{cursor_x} #{cursor_y}")
        if answer is not None and answer[0]:
            x, y = answer[1].split()
            return int(x), int(y)
        result = subprocess.run(
            [
                *self.tmux,
                "display-message",
                "-p",
                "-t",
                "0",
                "#{cursor_x} #{cursor_y}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        x, y = result.stdout.split()
        return int(x), int(y)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def wait_for(
        self,
        condition: Callable[[str], object] | str,
        timeout: float = 15,
        what: str = "",
        settled: bool = False,
    ) -> str:
        """The screen once CONDITION holds. The client writes a frame top to
        bottom and tmux may show half of it: with SETTLED, the screen must also
        be the same in two captures 50 ms apart (for a check of rows the frame
        redraws below the text waited for)."""
        if isinstance(condition, str):
            text = condition
            condition = lambda screen: text in screen  # noqa: E731
            what = what or repr(text)
        deadline = time.monotonic() + timeout
        last = None
        while True:
            screen = self.screen()
            if condition(screen) and (not settled or screen == last):
                return screen
            last = screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what or 'the screen'}\n--- screen ---\n{screen}"
                    f"\n--- hexe log ---\n{self.log_tail()}"
                )
            time.sleep(0.05)

    # -- typing ------------------------------------------------------------------

    def keys(self, *keys: str) -> None:
        self._send("send-keys", "-t", "0", *keys)

    def type(self, text: str, enter: bool = True) -> None:
        self._send("send-keys", "-t", "0", "-l", text)
        if enter:
            self.keys("Enter")

    def _send(self, *words: str) -> None:
        """``tmux WORDS``, failing the test as a failed tmux client would."""
        answer = self.control(*words)
        if answer is None:
            subprocess.run([*self.tmux, *words], check=True)
        elif not answer[0]:
            raise subprocess.CalledProcessError(1, ["tmux", *words], answer[1])

    def prefix(self, key: str) -> None:
        self.keys("C-b")
        self.keys(key)

    # -- the end -------------------------------------------------------------------

    def hexe(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        """``hexe ARGS`` from outside, with this session's runtime dir and config."""
        from support import hexe

        return hexe(*args, env=self.env, **kw)

    def server_pid(self) -> int | None:
        try:
            return int((self.run_dir / "hexe" / f"{self.session}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        pid = self.server_pid()
        for follower in self.followers:
            subprocess.run([*follower.tmux, "kill-server"], capture_output=True)
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        if pid:
            terminate(pid, grace=10, poll=0.05)


#: alive and not a zombie (our own zombie child is reaped: the test process
#: may be a child subreaper, and daemonized servers are re-parented to it)
_running = running


def columns(screen: str, text: str) -> list[int]:
    """The columns where ``text`` starts, on every line it appears."""
    out = []
    for line in screen.split("\n"):
        at = line.find(text)
        if at >= 0:
            out.append(at)
    return out


# -- shared by the end-to-end tests ----------------------------------------------

PROMPT_RE = re.compile(r"(?:^|│)[#$](?: |$)", re.MULTILINE)


def prompt_ready(m: Mux, count: int = 1) -> str:
    def ready(screen: str) -> bool:
        panes = "\n".join(screen.rstrip("\n").split("\n")[:-1])  # not the status line
        return len(PROMPT_RE.findall(panes)) >= count

    return m.wait_for(ready, what=f"{count} shell prompt(s)")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def panes(m: Mux) -> list[dict]:
    return json.loads(ok(m.hexe("list-panes", "-s", "t", "--json")))


def _alive(pid: int | None) -> bool:
    return pid is not None and _running(pid)


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def prepared(m) -> list[int]:
    """The ``hexe-ahead`` processes whose parent is this session's server."""
    server = m.server_pid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if comm == "hexe-ahead" and _ppid(int(entry)) == server:
            found.append(int(entry))
    return found


def ready_ahead(m) -> set[int]:
    """The prepared sandboxes whose ``ready`` the server has read (its log says)."""
    found = set()
    for line in m.log.read_text().splitlines():
        if '"spawn_ahead_ready"' in line:
            found.add(json.loads(line)["child_pid"])
    return found


def one_prepared(m, other_than: int | None = None, timeout: float = 20.0) -> int:
    """The one prepared sandbox below the server, once the server has read its
    ``ready`` (before that a split starts its pane the usual way)."""

    def found():
        pids = [p for p in prepared(m) if p != other_than]
        return pids[0] if len(pids) == 1 and pids[0] in ready_ahead(m) else None

    try:
        return wait_for(
            found, timeout=timeout, what="one prepared sandbox (hexe-ahead) below the server"
        )
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\nhexe-ahead below the server: {prepared(m)}, ready: {sorted(ready_ahead(m))}"
            f"\n--- hexe log ---\n{m.log_tail(40)}"
        ) from None
