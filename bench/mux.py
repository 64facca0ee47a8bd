#!/usr/bin/env python3
"""hexe mux against tmux, end to end: output throughput, echo latency, memory, pane spawn.

Both multiplexers run the same work in the same run, each with a real client
attached in a PTY of 200x50 that this script opens and drains:

- **hexe**: ``hexe mux --session bench`` (the client, which starts
  the server), with ``XDG_RUNTIME_DIR``/``XDG_STATE_HOME``/``HOME`` in a
  scratch directory and a generated ``init.lua``;
- **tmux**: a server on a private socket (``tmux -L hexe-bench-… -f
  /dev/null``, ``TMUX_TMPDIR`` in the scratch directory) and ``tmux attach``.

Panes run ``/bin/sh`` with ``PS1='P${HEXE_PANE}${TMUX_PANE}> '``, so each
pane's prompt names it (``P3> `` in hexe, ``P%2> `` in tmux) and a new pane's
prompt can be told from an old one's. hexe's panes use the ``none`` profile
(tmux isolates nothing), except in the spawn row; scrollback is 10,000 lines
on both sides (``history-limit``).

Rows (see ``bench/README.md`` for what each one times):

- ``throughput plain`` / ``throughput colour``: ``cat`` of a corpus in the
  focused pane, from the Enter key to the moment a marker printed after the
  corpus reaches the client;
- ``echo p50/p99 idle`` / ``… load``: a key written to the client until its
  echo comes back, idle and while the other half of the window floods output;
- ``memory``: server RSS with 10 panes (tabs/windows) of 10,000 lines of 200
  columns in scrollback;
- ``spawn``: ``prefix %`` until the new pane's prompt: hexe with ``full``
  isolation and limits (its sandbox prepared ahead, and set up from
  scratch), tmux without isolation, and tmux running the shell under bwrap;
- ``start``: a session's client started until its prompt is drawn, and an
  attach until the screen is drawn, beside ``python3 -c pass``.

This module only measures; everything it starts is killed and its scratch
directory removed at the end. ``bench/run.py`` is the command to use.
"""

from __future__ import annotations

import fcntl
import os
import random
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

COLS, ROWS = 200, 50
HISTORY = 10_000
PROMPT = "P${HEXE_PANE}${TMUX_PANE}> "
ECHO_KEY = b"z"  # never in the status lines, escapes or the flood (digits only)
KILL_LINE = b"\x15"
PREFIX = b"\x02"
LIMITS = {"memory": "256M", "pids": "128", "cpu": "100000 100000"}
BWRAP_ARGS = "--unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --"
#: the interpreter's floor: what any command-line call of a Python program pays
PYTHON_PASS = [sys.executable, "-c", "pass"]
#: and with pluggy imported: the floor of a process that runs hexe's plugins
#: (a session's server, ``hexe run``)
PYTHON_PLUGGY = [sys.executable, "-c", "import pluggy"]


def hexe_command() -> list[str]:
    """How to run hexe: the ``hexe`` script installed beside this Python when it
    runs this Python (what a user types), else ``python3 -m hexe`` (which adds
    runpy, importlib.util and contextlib: ~3-5 ms a call). A script of another
    interpreter, or a pyenv shim (a shell and a second interpreter start in
    front), is not used."""
    script = Path(sys.executable).with_name("hexe")
    try:
        with open(script, errors="replace") as f:
            first = f.readline()
    except OSError:
        return [sys.executable, "-m", "hexe"]
    interpreter = first[2:].strip().split(" ")[0] if first.startswith("#!") else ""
    if interpreter and os.path.realpath(interpreter) == os.path.realpath(sys.executable):
        return [str(script)]
    return [sys.executable, "-m", "hexe"]


class BenchError(Exception):
    """A multiplexer did not do what the benchmark waited for; the message says what."""


def scratch_env(scratch: Path) -> dict[str, str]:
    """The caller's environment without hexe's and tmux's settings (``HEXE_*``,
    ``TMUX*``), ``HOME`` and hexe's XDG directories in ``scratch``: a command
    line as a user types it, to the bench's own sessions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEXE_", "TMUX"))}
    for name in ("HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(scratch)
    return env


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning ``argv`` to its exit (its output dropped)."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise BenchError(f"{shlex.join(argv)} failed: {done.stderr.decode()[-300:]}")
    return elapsed


# --------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------

_WORDS = (
    "gcc -O2 -Wall -c src/net/socket.c -o build/net/socket.o warning: unused variable "
    "'len' [-Wunused-variable] error note: in expansion of macro 'ASSERT' CC LD AR "
    "Compiling serde_json v1.0.108 test result: ok. 42 passed; 0 failed; finished in "
    "0.31s [INFO] Downloading https://repo.maven.apache.org/maven2/org/apache/"
).split()


def plain_corpus(size: int, seed: int = 1) -> bytes:
    """Build-log-like text: short and long lines, a quarter of them wider than 200 columns."""
    rnd = random.Random(seed)
    out = []
    total = 0
    while total < size:
        count = rnd.choice((3, 6, 10, 14, 20, 40, 60))
        line = " ".join(rnd.choice(_WORDS) for _ in range(count)) + "\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()


def colour_corpus(size: int, seed: int = 2) -> bytes:
    """SGR every few bytes: 16, 256 and true colour, bold/underline, resets."""
    rnd = random.Random(seed)
    out = []
    total = 0
    while total < size:
        parts = []
        for _ in range(rnd.randint(4, 24)):
            pick = rnd.random()
            if pick < 0.3:
                parts.append(f"\x1b[38;5;{rnd.randint(0, 255)}m")
            elif pick < 0.5:
                rgb = ";".join(str(rnd.randint(0, 255)) for _ in range(3))
                parts.append(f"\x1b[{rnd.choice((38, 48))};2;{rgb}m")
            elif pick < 0.6:
                parts.append(f"\x1b[1;4{rnd.randint(0, 7)}m")
            elif pick < 0.7:
                parts.append("\x1b[0m")
            else:
                parts.append(f"\x1b[{rnd.choice((3, 9))}{rnd.randint(0, 7)}m")
            parts.append(rnd.choice(_WORDS)[: rnd.randint(1, 9)] + rnd.choice(("", " ")))
        line = "".join(parts) + "\x1b[0m\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()  # whole lines: a cut escape would eat the marker


def history_lines(count: int, width: int = COLS, seed: int = 3) -> bytes:
    """``count`` lines of exactly ``width`` characters (they fill a row, no wrap)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        line = ""
        while len(line) < width:
            line += rnd.choice(_WORDS) + " "
        out.append(line[:width] + "\n")
    return "".join(out).encode()


# --------------------------------------------------------------------------
# A terminal for a client: a PTY we hold the master of
# --------------------------------------------------------------------------


class Terminal:
    """A client process on a PTY of ``COLS`` x ``ROWS``; its output is read and dropped."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                os.close(master)
                os.chdir(cwd)
                os.login_tty(slave)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(slave)
        os.set_blocking(master, False)
        self.fd = master
        self.pid = pid
        self.received = 0
        self.tail = b""  # the last bytes read, for error messages

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def _read(self, timeout: float) -> bytes | None:
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return None
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return None
        except OSError:  # EIO: the client is gone
            data = b""
        if not data:
            raise BenchError(f"the client exited; it last wrote {self.tail[-300:]!r}")
        self.received += len(data)
        self.tail = (self.tail + data)[-4096:]
        return data

    def drain(self, seconds: float = 0.0) -> None:
        """Read whatever arrives for ``seconds`` (0: only what is there now)."""
        deadline = time.perf_counter() + seconds
        while True:
            left = deadline - time.perf_counter()
            if self._read(max(left, 0)) is None and left <= 0:
                return

    def wait_for(self, pattern: bytes, timeout: float = 60.0) -> float:
        """Read until ``pattern`` arrives; the ``perf_counter`` time of the read that had it."""
        deadline = time.perf_counter() + timeout
        keep = b""
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError(
                    f"timed out after {timeout:.0f}s waiting for {pattern!r}; "
                    f"last output {self.tail[-300:]!r}"
                )
            data = self._read(min(left, 0.5))
            if data is None:
                continue
            now = time.perf_counter()
            keep += data
            if pattern in keep:
                return now
            keep = keep[-len(pattern) :]

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


# --------------------------------------------------------------------------
# The two multiplexers
# --------------------------------------------------------------------------


@dataclass
class Mux:
    """One session of one multiplexer with a client attached. Subclasses say how."""

    name: str
    scratch: Path
    term: Terminal | None = None
    panes: int = 0  # panes created so far: the next one's number
    started: list[Callable[[], None]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        keep = ("PATH", "PYTHONPATH", "LANG", "LC_ALL")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            TERM="xterm-256color",
            HOME=str(self.scratch),
            SHELL="/bin/sh",
            PS1=PROMPT,
            ENV="",
            XDG_RUNTIME_DIR=str(self.scratch / "run"),
            XDG_STATE_HOME=str(self.scratch / "state"),
            TMUX_TMPDIR=str(self.scratch / "tmux"),
        )
        return env

    def prompt(self, pane: int) -> bytes:
        raise NotImplementedError

    def server_pid(self) -> int:
        raise NotImplementedError

    def wait_prompt(self, pane: int, timeout: float = 30) -> float:
        assert self.term is not None
        return self.term.wait_for(self.prompt(pane), timeout)

    def keys(self, *keys: bytes) -> None:
        """Write keys one at a time, a few ms apart (a prefix, then its key)."""
        assert self.term is not None
        for i, key in enumerate(keys):
            if i:
                self.term.drain(0.01)
            self.term.write(key)

    def type(self, text: str) -> None:
        assert self.term is not None
        self.term.write(text.encode())

    def rss_kib(self) -> int:
        with open(f"/proc/{self.server_pid()}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BenchError("no VmRSS")

    def close(self) -> None:
        if self.term is not None:
            self.term.close()
            self.term = None


class Hexe(Mux):
    def __init__(self, scratch: Path, config: str = "") -> None:
        super().__init__("hexe", scratch)
        for sub in ("run", "state"):
            (scratch / sub).mkdir(mode=0o700, parents=True)
        init = scratch / "init.lua"
        init.write_text(
            f'hexe.options {{ shell = "/bin/sh", scrollback = {HISTORY} }}\n'
            'hexe.defaults { profile = "none" }\n' + config
        )
        env = self.env()
        env["HEXE_CONFIG"] = str(init)
        argv = [*hexe_command(), "--log-level", "warning", "mux", "--session", "bench"]
        self.term = Terminal(argv, env, str(scratch))

    def prompt(self, pane: int) -> bytes:
        return f"P{pane + 1}> ".encode()

    def server_pid(self) -> int:
        return int((self.scratch / "run" / "hexe" / "bench.pid").read_text())

    def new_tab(self) -> None:
        self.keys(PREFIX, b"c")

    def close_pane(self) -> None:
        self.keys(PREFIX, b"x")

    def close(self) -> None:
        try:
            pid = self.server_pid()
        except (OSError, ValueError):
            pid = None
        super().close()
        if pid is not None:
            _kill_and_wait(pid)


class Tmux(Mux):
    def __init__(self, scratch: Path, setup: list[str] | None = None) -> None:
        super().__init__("tmux", scratch)
        (scratch / "tmux").mkdir(mode=0o700, parents=True)
        self.socket = f"hexe-bench-{uuid.uuid4().hex[:8]}"
        env = self.env()
        self.env_ = env
        commands = [
            "set -g default-shell /bin/sh",
            "set -g default-command 'exec /bin/sh'",  # not a login shell: /etc/profile sets PS1
            f"set -g history-limit {HISTORY}",
            "set -g escape-time 0",
            "set -g assume-paste-time 0",  # keys written together are keys, not a paste
            *(setup or []),
            "new-session -d -s bench",
        ]
        argv = ["tmux", "-L", self.socket, "-f", "/dev/null", "start-server"]
        for command in commands:
            argv += [";", *shlex.split(command)]
        subprocess.run(argv, env=env, check=True, cwd=str(scratch))
        self.term = Terminal(
            ["tmux", "-L", self.socket, "attach", "-t", "bench"], env, str(scratch)
        )

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env_,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def prompt(self, pane: int) -> bytes:
        return f"P%{pane}> ".encode()

    def server_pid(self) -> int:
        return int(self.tmux("display", "-p", "#{pid}").strip())

    def new_tab(self) -> None:
        self.keys(PREFIX, b"c")

    def close_pane(self) -> None:
        self.keys(PREFIX, b"x")
        self.term.drain(0.1)  # type: ignore[union-attr]
        self.keys(b"y")  # tmux asks "kill-pane? (y/n)"

    def close(self) -> None:
        try:
            pid = self.server_pid()
        except (subprocess.CalledProcessError, ValueError, OSError):
            pid = None
        super().close()
        # its own TMUX_TMPDIR: without it the client makes /tmp/tmux-UID
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], env=self.env_, capture_output=True
        )
        if pid is not None:
            _kill_and_wait(pid)


# _alive and _kill_and_wait are hexe.procwait's running() and terminate(),
# copied on purpose: the benchmarks measure any hexe version, older ones too
# (PYTHONPATH=<an old checkout>), so they import nothing from hexe.
def _alive(pid: int) -> bool:
    """Running, not a zombie: a daemonized server's zombie waits for an init
    that may reap it seconds later (or for us, when we are its subreaper)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _kill_and_wait(pid: int, grace: float = 5.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------


def _open(kind: str, scratch: Path, **kwargs) -> Mux:
    where = scratch / f"{kind}-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    mux = Hexe(where, **kwargs) if kind == "hexe" else Tmux(where, **kwargs)
    try:
        mux.wait_prompt(0)
        mux.panes = 1
    except Exception:
        mux.close()
        raise
    return mux


def pty_reader(path: Path) -> float:
    """Seconds for ``cat path`` on a PTY whose master this Python reads and drops
    as fast as it can (``reader``): what reading the PTY alone allows a
    multiplexer written in Python (each read returns at most 4 KiB, the line
    discipline's buffer), nothing parsed or drawn."""
    start = time.perf_counter()
    term = Terminal(["cat", str(path)], dict(os.environ), "/")
    os.set_blocking(term.fd, True)  # each read waits for the next 4 KiB
    try:
        while os.read(term.fd, 1 << 16):
            pass
    except OSError:  # EIO: cat is gone and the slave closed
        pass
    finally:
        term.close()
    return time.perf_counter() - start


def throughput(scratch: Path, size: int, repeats: int, log: Callable[[str], None]) -> dict:
    """Seconds to ``cat`` each corpus, per multiplexer: every sample, rotating the
    order; and each round the same ``cat`` read by :func:`pty_reader` alone."""
    corpora = {"plain": plain_corpus(size), "colour": colour_corpus(size)}
    script = scratch / "cat.sh"
    for name, data in corpora.items():
        (scratch / f"{name}.txt").write_bytes(data)
    script.write_text('cat "$1.txt"; echo "@@$(basename "$1")-done@@"\n')
    samples: dict[str, dict[str, list[float]]] = {
        c: {"hexe": [], "tmux": [], "reader": []} for c in corpora
    }
    muxes: dict[str, Mux] = {}
    try:
        for kind in ("hexe", "tmux"):
            muxes[kind] = _open(kind, scratch)
        for round_ in range(repeats):
            order = ["hexe", "tmux"] if round_ % 2 == 0 else ["tmux", "hexe"]
            for corpus in corpora:
                for kind in order:
                    mux = muxes[kind]
                    assert mux.term is not None
                    mux.term.drain()
                    mux.type(f"sh {shlex.quote(str(script))} {shlex.quote(str(scratch / corpus))}")
                    start = time.perf_counter()
                    mux.type("\r")
                    end = mux.term.wait_for(f"@@{corpus}-done@@".encode(), timeout=600)
                    samples[corpus][kind].append(end - start)
                    log(f"throughput {corpus} {kind}: {end - start:.2f}s")
                    mux.term.drain(0.2)
                took = pty_reader(scratch / f"{corpus}.txt")
                samples[corpus]["reader"].append(took)
                log(f"throughput {corpus} reader: {took:.2f}s")
    finally:
        for mux in muxes.values():
            mux.close()
    return {
        "size": len(corpora["plain"]),
        "sizes": {c: len(d) for c, d in corpora.items()},
        "samples": samples,
    }


def _echo_samples(mux: Mux, keys: int, rnd: random.Random) -> list[float]:
    term = mux.term
    assert term is not None
    out = []
    for i in range(keys):
        if i and i % 40 == 0:
            term.write(KILL_LINE)
            term.drain(0.05)
        term.drain()
        start = time.perf_counter()
        term.write(ECHO_KEY)
        out.append(term.wait_for(ECHO_KEY, timeout=10) - start)
        term.drain(rnd.uniform(0.005, 0.02))  # a typist's pace, not a pipeline
    term.write(KILL_LINE)
    term.drain(0.05)
    return out


def latency(scratch: Path, keys: int, log: Callable[[str], None]) -> dict:
    """Key-to-echo seconds, idle and while the other pane floods, per multiplexer."""
    flood = scratch / "flood.sh"
    go = scratch / "flood.go"
    stop = scratch / "flood.stop"
    chunk = scratch / "flood.txt"
    chunk.write_bytes((b"0123456789 " * 18 + b"\n") * 512)
    flood.write_text(
        f"while [ ! -e {go} ]; do sleep 0.05; done\nwhile [ ! -e {stop} ]; do cat {chunk}; done\n"
    )
    hexe_layout = (
        "hexe.layout { hexe.tab { hexe.split { direction = 'right',\n"
        "  hexe.pane { },\n"
        f"  hexe.pane {{ command = {{ '/bin/sh', '{flood}' }} }} }} }} }}\n"
    )
    samples: dict[str, dict[str, list[float]]] = {"idle": {}, "load": {}}
    for kind in ("hexe", "tmux"):
        rnd = random.Random(4)  # the same typist's pace for both
        for path in (go, stop):
            path.unlink(missing_ok=True)
        mux = _open(kind, scratch, config=hexe_layout) if kind == "hexe" else _open(kind, scratch)
        try:
            if isinstance(mux, Tmux):
                mux.tmux("split-window", "-d", "-h", "-t", "bench", f"/bin/sh {flood}")
            assert mux.term is not None
            mux.term.drain(0.3)
            samples["idle"][kind] = _echo_samples(mux, keys, rnd)
            log(f"echo idle {kind}: p50 {statistics.median(samples['idle'][kind]) * 1000:.2f} ms")
            go.touch()
            mux.term.drain(0.5)
            samples["load"][kind] = _echo_samples(mux, keys, rnd)
            log(f"echo load {kind}: p50 {statistics.median(samples['load'][kind]) * 1000:.2f} ms")
        finally:
            stop.touch()
            mux.close()
    return {"keys": keys, "samples": samples}


def memory(scratch: Path, panes: int, lines: int, log: Callable[[str], None]) -> dict:
    """Server RSS (KiB) with ``panes`` panes of ``lines`` lines of scrollback each."""
    text = scratch / "history.txt"
    text.write_bytes(history_lines(lines + ROWS))
    result: dict[str, dict[str, int]] = {}
    for kind in ("hexe", "tmux"):
        mux = _open(kind, scratch)
        try:
            assert mux.term is not None
            empty = mux.rss_kib()
            for pane in range(panes):
                if pane:
                    mux.new_tab()  # type: ignore[attr-defined]
                    mux.wait_prompt(mux.panes)
                    mux.panes += 1
                # the marker is made by printf: the typed line's echo holds its format only
                mux.type(f"cat {text}; printf '@@filled-%s@@\\n' {pane}\r")
                mux.term.wait_for(f"@@filled-{pane}@@".encode(), timeout=300)
            mux.term.drain(1.0)
            result[kind] = {"empty": empty, "full": mux.rss_kib()}
            log(f"memory {kind}: {result[kind]['full'] / 1024:.1f} MiB")
        finally:
            mux.close()
    return {"panes": panes, "lines": lines, "rss_kib": result}


def spawn(scratch: Path, rounds: int, log: Callable[[str], None]) -> dict:
    """Seconds from the split key to the new pane's prompt: hexe (full + limits),
    the same with ``spawn_ahead`` off (every split set up from scratch), tmux,
    and tmux with the shell under bwrap."""
    limits = ", ".join(f'{k} = "{v}"' for k, v in LIMITS.items())
    hexe_layout = (
        f'hexe.layout {{ hexe.pane {{ isolation = {{ profile = "full", {limits} }} }} }}\n'
    )
    bwrap = shutil.which("bwrap")
    cold = "hexe.options { spawn_ahead = false }\n"
    variants: dict[str, Callable[[], Mux]] = {
        "hexe": lambda: _open("hexe", scratch, config=hexe_layout),
        "hexe-cold": lambda: _open("hexe", scratch, config=cold + hexe_layout),
        "tmux": lambda: _open("tmux", scratch),
    }
    keys = {"hexe": b"%", "hexe-cold": b"%", "tmux": b"%"}
    if bwrap:
        variants["tmux+bwrap"] = lambda: _open(
            "tmux", scratch, setup=[f"bind-key B split-window '{bwrap} {BWRAP_ARGS} /bin/sh'"]
        )
        keys["tmux+bwrap"] = b"B"
    samples: dict[str, list[float]] = {name: [] for name in variants}
    muxes: dict[str, Mux] = {}
    try:
        for name, make in variants.items():
            muxes[name] = make()
        for round_ in range(rounds + 1):  # the first round warms up and is dropped
            names = list(muxes)
            names = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in names:
                mux = muxes[name]
                assert mux.term is not None
                mux.term.drain(0.1)
                mux.term.write(PREFIX)
                mux.term.drain(0.02)
                start = time.perf_counter()
                mux.term.write(keys[name])
                end = mux.wait_prompt(mux.panes, timeout=30)
                mux.panes += 1
                if round_:
                    samples[name].append(end - start)
                mux.term.drain(0.1)
                mux.close_pane()  # type: ignore[attr-defined]
                mux.term.drain(0.3)
        for name in samples:
            log(f"spawn {name}: {statistics.median(samples[name]) * 1000:.1f} ms")
    finally:
        for mux in muxes.values():
            mux.close()
    return {"samples": samples, "bwrap": bwrap}


def _detached(term: Terminal, timeout: float = 10.0) -> None:
    """Detach ``term``'s client (the prefix, then d) and wait for it to exit."""
    term.write(PREFIX)
    term.drain(0.02)
    term.write(b"d")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            term.drain(0.02)
        except BenchError:  # the client's end of the PTY closed: it is gone
            pass
        if os.waitpid(term.pid, os.WNOHANG)[0] == term.pid:
            term.pid = 0
            os.close(term.fd)
            return
    raise BenchError("the client did not exit after detaching")


def _drawn(argv: list[str], env: dict[str, str], where: Path, prompt: bytes) -> tuple:
    """A client started on a PTY, and the seconds until ``prompt`` reached it."""
    began = time.perf_counter()
    term = Terminal(argv, env, str(where))
    try:
        return term, term.wait_for(prompt, timeout=30) - began
    except BaseException:
        term.close()
        raise


def start_attach(scratch: Path, rounds: int, log: Callable[[str], None]) -> dict:
    """Seconds from starting a session's client to its first prompt drawn, and
    from attaching a new client to a detached session to its screen (the
    prompt) drawn: hexe (``none`` profile: tmux has no sandbox to set up)
    against tmux, alternating, each round on a fresh session; and in each
    round ``python3 -c pass`` from spawn to exit (``python``: the floor any
    Python client pays) and ``python3 -c "import pluggy"`` (``pluggy``: the
    floor of a server, which runs hexe's plugins)."""
    samples: dict[str, dict[str, list[float]]] = {
        kind: {"start": [], "attach": []} for kind in ("hexe", "tmux")
    }
    floors: dict[str, list[float]] = {"python": [], "pluggy": []}
    for round_ in range(rounds + 1):  # the first round warms up and is dropped
        for name, argv in (("python", PYTHON_PASS), ("pluggy", PYTHON_PLUGGY)):
            took = timed(argv, Mux("python", scratch).env())
            if round_:
                floors[name].append(took)
        for kind in ("hexe", "tmux") if round_ % 2 else ("tmux", "hexe"):
            where = scratch / f"start-{kind}-{uuid.uuid4().hex[:6]}"
            where.mkdir()
            mux: Mux = Mux(kind, where)
            env = mux.env()
            socket = f"hexe-bench-{uuid.uuid4().hex[:8]}"
            if kind == "hexe":
                for sub in ("run", "state"):
                    (where / sub).mkdir(mode=0o700)
                init = where / "init.lua"
                init.write_text(
                    'hexe.options { shell = "/bin/sh" }\nhexe.defaults { profile = "none" }\n'
                )
                env["HEXE_CONFIG"] = str(init)
                hexe = [*hexe_command(), "--log-level", "warning"]
                start_argv = [*hexe, "mux", "--session", "bench"]
                attach_argv = [*hexe, "attach", "bench"]
                prompt = b"P1> "
            else:
                (where / "tmux").mkdir(mode=0o700)
                start_argv = ["tmux", "-L", socket, "-f", "/dev/null", "start-server"]
                for command in (
                    "set -g default-shell /bin/sh",
                    "set -g default-command 'exec /bin/sh'",
                    "set -g escape-time 0",
                    "new-session -s bench",
                ):
                    start_argv += [";", *shlex.split(command)]
                attach_argv = ["tmux", "-L", socket, "attach", "-t", "bench"]
                prompt = b"P%0> "
            server = term = None
            try:
                term, took = _drawn(start_argv, env, where, prompt)
                if round_:
                    samples[kind]["start"].append(took)
                term.drain(0.2)
                _detached(term)
                term, took = _drawn(attach_argv, env, where, prompt)
                if round_:
                    samples[kind]["attach"].append(took)
                term.drain(0.1)
                if kind == "hexe":
                    server = int((where / "run" / "hexe" / "bench.pid").read_text())
                else:
                    server = int(
                        subprocess.run(
                            ["tmux", "-L", socket, "display", "-p", "#{pid}"],
                            env=env, capture_output=True, text=True, check=True,
                        ).stdout
                    )  # fmt: skip
            finally:
                if term is not None and term.pid:
                    term.close()
                if kind == "tmux":
                    subprocess.run(
                        ["tmux", "-L", socket, "kill-server"], env=env, capture_output=True
                    )
                pid_file = where / "run" / "hexe" / "bench.pid"
                if server is None and kind == "hexe" and pid_file.exists():
                    server = int(pid_file.read_text())  # a round that failed half-way
                if server is not None:
                    _kill_and_wait(server)
    for kind, rows in samples.items():
        for what, values in rows.items():
            log(f"{what} {kind}: {statistics.median(values) * 1000:.1f} ms")
    for name, values in floors.items():
        log(f"{name} floor: {statistics.median(values) * 1000:.1f} ms")
    return {"samples": samples, **floors}


def scratch_dir() -> Path:
    # Not under /tmp: the spawn row's sandboxes get a fresh /tmp; the others
    # need nothing from the scratch directory inside a sandbox anyway.
    return Path(tempfile.mkdtemp(prefix="hexe-bench-"))
