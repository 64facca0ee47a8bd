"""``network = "user"``: a network of its own through pasta (docs/isolation.md, Network).

Everything is observed from inside the sandbox: its interfaces, its routes,
its resolv.conf, and whether a server this test runs on the host's
127.0.0.1 answers. No packet goes anywhere but loopback and the sandbox's
own namespace: LAN blocking is checked by reading the routes inside and
pasta's command line, never by sending.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import SANDBOX_PYTHON, clean_env, hexe, needs_tun, sandbox_init, wait_for

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(
        shutil.which("pasta") is None, reason="pasta (Debian package passt) is not installed"
    ),
]

LOOK = r"""
import json, os, socket, sys
routes = []
for line in open("/proc/net/route").read().splitlines()[1:]:
    f = line.split()
    dst = socket.inet_ntoa(bytes.fromhex(f[1])[::-1])
    mask = bin(int.from_bytes(bytes.fromhex(f[7])[::-1], "big")).count("1")
    gw = socket.inet_ntoa(bytes.fromhex(f[2])[::-1])
    routes.append([f[0], f"{dst}/{mask}", gw, int(f[3], 16)])
ports = [int(p) for p in sys.argv[1:]]
reach = {}
for port in ports:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        reach[port] = s.recv(64).decode()
    except OSError as exc:
        reach[port] = f"error {exc.errno}"
print(json.dumps({
    "interfaces": sorted(os.listdir("/sys/class/net")),
    "routes": routes,
    "resolv": open("/etc/resolv.conf").read(),
    "hosts": open("/etc/hosts").read(),
    "reach": reach,
}))
"""


class HostServer:
    """A TCP server on the host's 127.0.0.1 that greets and closes."""

    def __init__(self, greeting: str) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.greeting = greeting.encode()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(self.greeting)
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def servers():
    made = [HostServer("allowed-service"), HostServer("private-service")]
    yield made
    for s in made:
        s.close()


def look(*args: str, ports: tuple[int, ...] = ()) -> dict:
    result = hexe("run", *args, "--", SANDBOX_PYTHON, "-c", LOOK, *map(str, ports))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_tun()
@pytest.mark.parametrize("profile", ["default", "balanced", "full"])
def test_user_mode_has_its_own_interface_routes_and_resolver(profile):
    seen = look("--profile", profile, "--network", "user")
    assert seen["interfaces"] == ["eth0", "lo"]
    routes = {r[1]: r for r in seen["routes"]}
    assert routes["0.0.0.0/0"][:3] == ["eth0", "0.0.0.0/0", "198.51.100.1"]
    # the LAN, link-local (cloud metadata) and CGNAT ranges are unreachable inside
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"):
        assert net in routes and routes[net][3] & 0x0200, (net, seen["routes"])  # RTF_REJECT
    assert "nameserver 198.51.100.53" in seen["resolv"]
    assert "written by hexe" in seen["hosts"]
    # the host's resolv.conf and hosts are untouched
    assert "written by hexe" not in Path("/etc/resolv.conf").read_text()


@needs_tun()
def test_host_loopback_is_unreachable_until_allowed_and_only_that(servers):
    allowed, other = servers
    closed = look("--profile", "full", "--network", "user", ports=(allowed.port, other.port))
    assert closed["reach"][str(allowed.port)].startswith("error")
    assert closed["reach"][str(other.port)].startswith("error")
    opened = look(
        "--profile", "full", "--network", "user",
        "--network-allow", f"127.0.0.1:{allowed.port}",
        ports=(allowed.port, other.port),
    )  # fmt: skip
    assert opened["reach"][str(allowed.port)] == "allowed-service"
    assert opened["reach"][str(other.port)].startswith("error")


def test_loopback_mode_and_host_mode():
    assert look("--profile", "full", "--network", "loopback")["interfaces"] == ["lo"]
    host = look("--profile", "full", "--network", "host")["interfaces"]
    assert host == sorted(os.listdir("/sys/class/net"))


@needs_tun()
def test_network_lan_lifts_the_private_ranges_block():
    seen = look("--profile", "full", "--network", "user", "--network-lan")
    assert not [r for r in seen["routes"] if r[3] & 0x0200], seen["routes"]


def _pastas_for(init_pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"/proc/{init_pid}/ns/net".encode() in argv and b"--config-net" in argv:
            found.append(int(entry.name))
    return found


@needs_tun()
def test_pasta_ends_with_the_sandbox_even_when_hexe_is_killed():
    proc = subprocess.Popen(
        [sys.executable, "-m", "hexe", "run", "--profile", "full", "--network", "user",
         "--", "sleep", "300"],
        env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        init = sandbox_init(proc.pid)
        pastas = wait_for(lambda: _pastas_for(init), what="pasta serving the sandbox")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for pid in pastas:  # pasta and the process it clones to work in the namespace
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), timeout=15, what="pasta")


def test_bad_network_settings_are_named():
    result = hexe("run", "--network", "wifi", "--", "true")
    assert result.returncode == 125
    assert "--network=wifi is not a network mode" in result.stderr
    assert '"user"' in result.stderr
    result = hexe("run", "--network", "user", "--network-allow", "10.0.0.1:80", "--", "true")
    assert result.returncode == 125
    assert "only services on the host's 127.0.0.1" in result.stderr
    result = hexe("run", "--profile", "full", "--network-allow", "127.0.0.1:80", "--", "true")
    assert result.returncode == 125
    assert 'apply to network = "user" only' in result.stderr
    result = hexe("run", "--profile", "minimal", "--network", "user", "--", "true")
    assert result.returncode == 125 and "needs a user and a mount namespace" in result.stderr


def test_without_pasta_user_mode_refuses_and_names_the_package(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = clean_env(PATH=str(bin_dir))
    result = hexe("run", "--profile", "full", "--network", "user", "--", "/bin/true", env=env)
    assert result.returncode == 125
    assert "needs pasta, which is not installed" in result.stderr
    assert "apt install passt" in result.stderr


@needs_tun()
def test_a_pane_in_user_mode_and_its_pasta_end_with_a_killed_server(mux):
    m = mux('hexe.defaults { profile = "full", network = "user" }\n')
    m.type("cat /etc/resolv.conf; echo net-$((4+4))")
    m.wait_for("net-8")
    assert "198.51.100.53" in m.screen()
    listed = json.loads(m.hexe("list-panes", "-s", "t", "--json").stdout)
    (pane,) = listed
    assert pane["isolation"]["network"] == "user"
    pasta = wait_for(lambda: _pastas_for(pane["init_pid"]), what="the pane's pasta")
    os.kill(m.server_pid(), signal.SIGKILL)
    for pid in pasta:
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), timeout=15, what="pasta")


class FakeResolver:
    """A DNS server on the host's 127.0.0.1:53 that answers one name."""

    def __init__(self, name: str, address: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.name, self.address = name, address
        self.asked: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            labels, at = [], 12
            while query[at]:
                labels.append(query[at + 1 : at + 1 + query[at]].decode())
                at += 1 + query[at]
            qtype = int.from_bytes(query[at + 1 : at + 3], "big")
            question = query[12 : at + 5]
            name = ".".join(labels)
            self.asked.append(name)
            answers = b""
            if name == self.name and qtype == 1:
                answers = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(
                    self.address
                )
            header = (
                query[:2] + b"\x81\x80" + b"\x00\x01" + (b"\x00\x01" if answers else b"\x00\x00")
            )
            self.sock.sendto(header + b"\x00\x00\x00\x00" + question + answers, peer)

    def close(self) -> None:
        self.sock.close()


@needs_tun()
def test_dns_inside_goes_through_pasta_to_the_hosts_resolver(tmp_path):
    """The host's resolver is played by this test on 127.0.0.1:53 (hexe runs in
    a mount namespace where /etc/resolv.conf says so): nothing leaves loopback."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    try:
        resolver = FakeResolver("hexe-dns-test.example", "203.0.113.7")
    except OSError as exc:
        pytest.skip(f"127.0.0.1:53 is taken here ({exc.strerror}): no fake resolver")
    try:
        conf = tmp_path / "resolv.conf"
        conf.write_text("nameserver 127.0.0.1\n")
        probe = (
            "import socket; print(socket.getaddrinfo('hexe-dns-test.example', 80, "
            "socket.AF_INET)[0][4][0])"
        )
        script = (
            f"mount --bind {conf} /etc/resolv.conf && exec {sys.executable} -m hexe run "
            f'--profile full --network user -- {SANDBOX_PYTHON} -c "{probe}"'
        )
        result = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            capture_output=True, text=True, env=clean_env(), timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "203.0.113.7"
        assert "hexe-dns-test.example" in resolver.asked
    finally:
        resolver.close()


@needs_tun()
def test_the_lan_routes_are_made_where_a_mask_hides_pythons_library(tmp_path):
    """The unreachable routes are added in the child after the mounts, where a
    mask (or another root) may hide the standard library: what they need is
    worked out before the fork (ipaddress, imported late since it is ~1 ms of
    a run, was looked for in the child and not found). Run with -S: no .pth
    file has imported it beforehand."""
    import site

    library = os.path.dirname(os.__file__)
    (tmp_path / "hexe").mkdir()
    (tmp_path / "hexe" / "init.lua").write_text(
        'hexe.layout { hexe.pane { name = "boxed", isolation = { profile = "default", '
        f'network = "user", mounts = {{ {{ mask = "{library}" }} }} }} }} }}\n'
    )
    root = Path(__file__).resolve().parents[2]
    path = [str(root), str(root / "plugins"), *site.getsitepackages()]
    env = clean_env(XDG_CONFIG_HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
                    PYTHONPATH=os.pathsep.join(path))  # fmt: skip
    script = f"ls {library} | wc -l; grep -c '^\\*' /proc/net/route"
    done = subprocess.run(
        [sys.executable, "-S", "-m", "hexe", "run", "--pane", "boxed", "--", "sh", "-c", script],
        env=env, capture_output=True, text=True, timeout=60, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    hidden, unreachable = done.stdout.split()
    assert hidden == "0" and int(unreachable) >= 4, done.stdout  # the private ranges' routes
