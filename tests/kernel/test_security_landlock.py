"""Attacks on the Landlock plugin's rules, from inside a pane (issue 12, point 8).

Each test runs ``hexe run --pane`` with the plugin installed (as in
``test_landlock_plugin.py``) and a probe inside (``/bin/sh``, coreutils or
``/usr/bin/python3``, never this test's interpreter) that tries what an
attacker would: write into another terminal, truncate or write a file outside
the allowed trees, ioctl a device, connect or bind a TCP port, signal a
process outside, connect to an abstract unix socket. The probe reports what
the kernel answered; each attack that must fail has a control showing it
works without the rule, so the test can fail. A test whose right the
kernel's Landlock ABI lacks is skipped with the ABI it needs.

Panes run under the ``none`` profile where the attack needs the host's
``/dev``, network or processes (so the plugin alone stands between them), and
under ``balanced`` otherwise.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import textwrap
import uuid
from pathlib import Path

import pytest
from support import hexe, install_plugin_once, landlock_abi, wait_for

pytestmark = pytest.mark.kernel

PY = "/usr/bin/python3"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock (Linux 5.13+, landlock in lsm=)")
    if not os.path.exists(PY):
        pytest.skip(f"{PY} is needed for the probes inside the pane")
    return install_plugin_once(tmp_path_factory)


def need_abi(abi: int, what: str) -> None:
    have = landlock_abi()
    if have < abi:
        pytest.skip(f"{what} needs Landlock ABI {abi}; this kernel has ABI {have}")


@pytest.fixture
def outside():
    """A file outside the allowed trees (and outside /tmp, which balanced replaces)."""
    path = Path("/var/tmp") / f"hexe-landlock-{uuid.uuid4().hex[:8]}"
    yield path
    path.unlink(missing_ok=True)


def run_pane(env, tmp_path: Path, isolation: str, argv: list[str], **kw):
    config = tmp_path / f"init-{uuid.uuid4().hex[:6]}.lua"
    config.write_text(
        f'hexe.layout {{ hexe.tab {{ hexe.pane {{ name = "boxed", isolation = {isolation} }} }} }}'
    )
    return hexe("--config", str(config), "run", "--pane", "boxed", "--", *argv, env=env, **kw)


ATTEMPT = """
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as exc:
        out[name] = os.strerror(exc.errno)
"""


def probe(env, tmp_path: Path, isolation: str, code: str) -> dict:
    """Run the python ``code`` inside the pane; it fills ``out`` (a dict), printed as JSON."""
    script = "import json, os, sys\nout = {}\n" + ATTEMPT + textwrap.dedent(code)
    script += "\nprint(json.dumps(out))\n"
    result = run_pane(env, tmp_path, isolation, [PY, "-c", script])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def read_available(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


READS = '"/usr", "/bin", "/lib", "/lib64", "/etc"'


@pytest.mark.parametrize(
    "landlock",
    ['{ write = { "/tmp" } }', f'{{ write = {{ "/tmp" }}, read = {{ {READS} }} }}'],
    ids=["reads-open", "reads-restricted"],
)
def test_writing_into_or_reading_another_terminal_is_refused(env, tmp_path, landlock):
    other_master, other_slave = os.openpty()
    try:
        victim = os.ttyname(other_slave)
        code = f"""
        flags = os.O_NOCTTY | os.O_NONBLOCK
        attempt("write", lambda: os.write(os.open({victim!r}, os.O_WRONLY | flags), b"pwned\\n"))
        attempt("read", lambda: os.close(os.open({victim!r}, os.O_RDONLY | flags)))
        attempt("exists", lambda: os.stat({victim!r}))
        """
        boxed = probe(env, tmp_path, f'{{ profile = "none", landlock = {landlock} }}', code)
        assert boxed == {"write": "Permission denied", "read": "Permission denied", "exists": "ok"}
        assert b"pwned" not in read_available(other_master)
        # "unless a rule allows it": a write tree holding /dev/pts
        allowed = probe(
            env,
            tmp_path,
            '{ profile = "none", landlock = { write = { "/tmp", "/dev/pts" } } }',
            code,
        )
        assert allowed == {"write": "ok", "read": "ok", "exists": "ok"}
        assert b"pwned" in wait_for(lambda: read_available(other_master), what="the write")
    finally:
        os.close(other_slave)
        os.close(other_master)


def test_the_panes_own_terminal_can_still_be_reopened_but_not_another(env, tmp_path):
    """``tty`` names the pane's terminal and writing to that name works (ssh, gpg
    and sudo reopen it); another terminal's name is refused in the same pane."""
    master, slave = os.openpty()
    other_master, other_slave = os.openpty()
    config = tmp_path / "init.lua"
    config.write_text(
        'hexe.layout { hexe.tab { hexe.pane { name = "boxed", isolation = '
        '{ profile = "balanced", landlock = { write = { "/tmp" } } } } } }'
    )
    victim = os.ttyname(other_slave)
    script = (
        't=$(tty) && echo "own $t" && echo reopened-ok > "$t"; '
        f"echo pwned > {victim} || echo other-refused; "
        "stty size </dev/tty >/dev/null && echo devtty-ok"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "hexe", "--config", str(config), "run", "--pane", "boxed"]
        + ["--", "sh", "-c", script],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd="/",
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # a controlling terminal
    )
    os.close(slave)
    output = b""
    try:
        while True:
            ready = select.select([master], [], [], 30)[0]
            assert ready, f"no output within 30s: {output!r}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every holder of the terminal is gone
                break
            if not chunk:
                break
            output += chunk
        assert proc.wait(timeout=30) == 0, output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = output.decode(errors="replace")
    assert "own /dev/pts/" in text or "own /dev/console" in text, text  # a private /dev names it console
    assert "reopened-ok" in text, text
    assert "Permission denied" in text and "other-refused" in text, text
    # /dev/tty (the controlling terminal, if the command has one) takes ioctls
    assert "devtty-ok" in text or "/dev/tty: No such device or address" in text, text
    assert b"pwned" not in read_available(other_master)
    os.close(other_slave)
    os.close(other_master)


def test_writing_a_file_outside_is_refused(env, tmp_path, outside):
    outside.write_text("host\n")
    argv = ["sh", "-c", f"echo pwned >> {outside}; echo pwned > {outside}; rm -f {outside}"]
    result = run_pane(
        env, tmp_path, '{ profile = "balanced", landlock = { write = { "/tmp" } } }', argv
    )
    assert result.stderr.count("Permission denied") == 3, result.stderr
    assert outside.read_text() == "host\n"


def test_truncating_a_file_outside_is_refused(env, tmp_path, outside):
    need_abi(3, "LANDLOCK_ACCESS_FS_TRUNCATE")
    outside.write_text("host data\n")
    argv = ["truncate", "-s", "0", str(outside)]
    result = run_pane(
        env, tmp_path, '{ profile = "balanced", landlock = { write = { "/tmp" } } }', argv
    )
    assert result.returncode != 0 and "Permission denied" in result.stderr, result.stderr
    assert outside.read_text() == "host data\n"
    # the control: truncate(2) itself works there, and inside an allowed tree
    allowed = (
        f'{{ profile = "balanced", landlock = {{ write = {{ "/tmp", "{outside.parent}" }} }} }}'
    )
    result = run_pane(env, tmp_path, allowed, argv)
    assert result.returncode == 0, result.stderr
    assert outside.read_text() == ""


RNDGETENTCNT = 0x80045200  # the entropy count of /dev/random: harmless, unprivileged


def test_an_ioctl_on_a_device_outside_is_refused(env, tmp_path):
    need_abi(5, "LANDLOCK_ACCESS_FS_IOCTL_DEV")
    code = f"""
    import fcntl
    fd = os.open("/dev/random", os.O_RDONLY)
    attempt("random", lambda: fcntl.ioctl(fd, {RNDGETENTCNT}, bytearray(4)))
    null = os.open("/dev/null", os.O_RDWR)  # always allowed: a non-tty ioctl fails as usual
    attempt("null", lambda: fcntl.ioctl(null, {RNDGETENTCNT}, bytearray(4)))
    """
    boxed = probe(env, tmp_path, '{ profile = "none", landlock = { write = { "/tmp" } } }', code)
    assert boxed["random"] == "Permission denied", boxed
    assert boxed["null"] != "Permission denied", boxed
    plain = probe(env, tmp_path, '{ profile = "none" }', code)
    assert plain["random"] == "ok", plain


@pytest.fixture
def listeners():
    socks = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        socks.append(s)
    yield [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()


def test_tcp_connect_and_bind_outside_the_allowed_ports_are_refused(env, tmp_path, listeners):
    need_abi(4, "LANDLOCK_ACCESS_NET_*_TCP")
    allowed_port, other_port = listeners
    code = f"""
    import socket
    def connect(port):
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    def bind():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
    attempt("allowed", lambda: connect({allowed_port}))
    attempt("other", lambda: connect({other_port}))
    attempt("bind", bind)
    """
    landlock = (
        f'{{ write = {{ "/tmp" }}, tcp = {{ bind = {{}}, connect = {{ {allowed_port} }} }} }}'
    )
    boxed = probe(env, tmp_path, f'{{ profile = "none", landlock = {landlock} }}', code)
    assert boxed == {"allowed": "ok", "other": "Permission denied", "bind": "Permission denied"}
    plain = probe(env, tmp_path, '{ profile = "none", landlock = { write = { "/tmp" } } }', code)
    assert plain == {"allowed": "ok", "other": "ok", "bind": "ok"}


def test_signalling_a_process_or_abstract_socket_outside_is_refused(env, tmp_path):
    need_abi(6, "LANDLOCK_SCOPE_SIGNAL and LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET")
    name = f"hexe-landlock-test-{uuid.uuid4().hex[:8]}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + name)
    listener.listen(4)
    victim = subprocess.Popen(["sleep", "60"])
    code = f"""
    import signal, socket
    def connect():
        with socket.socket(socket.AF_UNIX) as s:
            s.connect("\\0{name}")
    attempt("kill", lambda: os.kill({victim.pid}, signal.SIGTERM))
    attempt("abstract", connect)
    """
    try:
        boxed = probe(
            env, tmp_path, '{ profile = "none", landlock = { write = { "/tmp" } } }', code
        )
        assert boxed == {"kill": "Operation not permitted", "abstract": "Operation not permitted"}
        assert victim.poll() is None
        # the control: scope = false lets both through
        unscoped = '{ profile = "none", landlock = { write = { "/tmp" }, scope = false } }'
        assert probe(env, tmp_path, unscoped, code) == {"kill": "ok", "abstract": "ok"}
        assert victim.wait(timeout=10) == -signal.SIGTERM
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
        listener.close()


def test_chmod_and_utime_outside_are_not_restricted_as_documented(env, tmp_path, outside):
    """Landlock has no right for metadata (docs/isolation.md, the plugin's README):
    chmod and utime on a file outside the write trees still work. If a kernel
    starts refusing them, the docs (and this test) need updating."""
    outside.write_text("host\n")
    outside.chmod(0o600)
    script = f"chmod 0644 {outside} && touch -d @0 {outside} && echo changed"
    boxed = '{ profile = "balanced", landlock = { write = { "/tmp" } } }'
    result = run_pane(env, tmp_path, boxed, ["sh", "-c", script])
    assert result.stdout == "changed\n", result.stderr
    st = outside.stat()
    assert (st.st_mode & 0o777, st.st_mtime) == (0o644, 0)


def test_connecting_to_a_socket_file_outside_is_not_restricted_as_documented(
    env, tmp_path, outside
):
    """Landlock does not treat connecting to a unix socket by its path as a file
    access, even with reads restricted (docs/isolation.md): masks or a rootfs
    hide such sockets. If a kernel starts refusing it, update the docs."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(outside))
    listener.listen(4)
    try:
        code = f"""
        import socket
        def connect():
            with socket.socket(socket.AF_UNIX) as s:
                s.connect({str(outside)!r})
        attempt("connect", connect)
        """
        landlock = f'{{ write = {{ "/tmp" }}, read = {{ {READS} }} }}'
        boxed = probe(env, tmp_path, f'{{ profile = "none", landlock = {landlock} }}', code)
        assert boxed == {"connect": "ok"}
    finally:
        listener.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_landlocked_session_pane_reopens_its_own_terminal_but_not_another(
    env, mux, monkeypatch, outside
):
    """In a real session, in a split that takes the prepared sandbox (restricted
    before its command was known): the pane's own terminal by name works,
    another terminal and a file outside are refused."""
    from support.mux import ok, prompt_ready

    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])  # the session finds the plugin
    other_master, other_slave = os.openpty()
    victim = os.ttyname(other_slave)
    try:
        m = mux('hexe.defaults { profile = "full", landlock = { write = { "/tmp" } } }\n')
        prompt_ready(m)
        ok(m.hexe("split-down", "-s", "t"))
        prompt_ready(m, 2)
        # $((...)): the line as typed does not show what its output shows
        m.type(
            "echo hi > $(tty) && echo own-$((6*7)); "
            f"echo pwned > {victim} || echo other-$((6*7)); "
            f"echo pwned > {outside} || echo outside-$((6*7))"
        )
        m.wait_for("own-42")
        m.wait_for("other-42")
        m.wait_for("outside-42")
        assert not outside.exists()
        assert b"pwned" not in read_available(other_master)
    finally:
        os.close(other_slave)
        os.close(other_master)


CONSOLES = ("/dev/tty1", "/dev/vcs1", "/dev/console")


def test_reading_a_console_or_its_screen_is_refused(env, tmp_path):
    """Virtual consoles (keys typed there), their screens (/dev/vcs*) and
    /dev/console are terminals too: not readable under the plugin."""
    present = []
    for path in CONSOLES:
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK))
            present.append(path)
        except OSError:
            pass
    if not present:
        pytest.skip(f"none of {', '.join(CONSOLES)} can be opened here, even outside a pane")
    code = "".join(
        f"attempt({p!r}, lambda: os.close(os.open({p!r}, os.O_RDONLY | os.O_NOCTTY"
        " | os.O_NONBLOCK)))\n"
        for p in present
    )
    boxed = probe(env, tmp_path, '{ profile = "none", landlock = { write = { "/tmp" } } }', code)
    assert boxed == dict.fromkeys(present, "Permission denied")
    # the control: the same pane without the plugin's rule reads them
    assert probe(env, tmp_path, '{ profile = "none" }', code) == dict.fromkeys(present, "ok")
