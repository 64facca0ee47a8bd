"""A network of its own for a sandbox: ``network = "user"`` (docs/isolation.md, Network).

The sandbox gets a network namespace with one interface, ``eth0``, served
by pasta (Debian package ``passt``), a user-mode network stack as rootless
podman uses: what the sandbox sends leaves through ordinary sockets of the
pasta process, which runs outside the namespace with the user's privileges
(and isolates itself: seccomp, no file system, no capabilities).

What the sandbox can reach, by construction:

- the internet, through pasta (TCP, UDP, ICMP echo), IPv4 only;
- **not** the host's loopback (``--no-map-gw``, ``-T none``): a host service
  on 127.0.0.1 is reachable only when listed in ``network_allow``, and then
  it appears inside at the same address and port (pasta ``-T``);
- **not** the private ranges (10/8, 172.16/12, 192.168/16, 169.254/16,
  100.64/10) nor the host's own addresses: unreachable routes inside, set
  before the command runs and kept by taking ``CAP_NET_ADMIN`` away (no
  profile keeps it) — unless ``network_lan = true``;
- DNS through pasta's forwarder at :data:`DNS`, the host's resolver
  answering; ``/etc/resolv.conf`` and ``/etc/hosts`` inside are the
  sandbox's own.

The sandbox's address is :data:`ADDRESS` on a /24 that exists only between
the sandbox and pasta (TEST-NET-2, never routed on the internet).

pasta is started by a helper process forked before ``unshare`` (it stays in
hexe's network namespace): once the sandbox's PID 1 exists, the helper runs
``pasta --netns /proc/PID/ns/net`` in the foreground, reports how the start
went, and ends pasta when that PID 1 ends (a pidfd), however the pane ends —
a SIGKILLed server included (its panes' PID 1 go with it).
"""

from __future__ import annotations

import os
import select
import signal
import struct
import time
from _socket import AF_INET, AF_NETLINK, NETLINK_ROUTE, SOCK_RAW
from _socket import socket as _socket
from collections.abc import Iterable
from dataclasses import dataclass

from hexe import codec

MODES = ("host", "loopback", "user")
ADDRESS = "198.51.100.2"
GATEWAY = "198.51.100.1"
PREFIX = 24
DNS = "198.51.100.53"
IFNAME = "eth0"
PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
)
#: How long the sandbox waits for pasta to configure its interface.
READY_TIMEOUT = 10.0
PACKAGE_HINT = "install pasta (Debian/Ubuntu: apt install passt; Fedora: dnf install passt)"


@dataclass(frozen=True)
class Allowed:
    """A host loopback service the sandbox may reach: ``127.0.0.1:5432``."""

    address: str
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"

    __repr__ = __str__


class AllowList(tuple):  # type: ignore[type-arg]
    """The parsed ``network_allow``: shown as ``127.0.0.1:5432 127.0.0.1:6379``."""

    def __str__(self) -> str:
        return " ".join(str(a) for a in self) or "-"


def parse_allowed(setting: str, value: str) -> Allowed:
    """``127.0.0.1:5432`` / ``[::1]:8080`` -> :class:`Allowed`, or ValueError with why."""
    text = str(value).strip()
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    import ipaddress  # here: ~1 ms of every hexe run, ~0.3 MiB of every server

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{setting}={value!r}: {host!r} is not an IP address") from None
    if str(address) != "127.0.0.1":
        raise ValueError(
            f"{setting}={value!r}: only services on the host's 127.0.0.1 can be allowed "
            "(the internet is reachable without it; the LAN: network_lan)"
        )
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{setting}={value!r}: the port must be 1..65535")
    return Allowed(str(address), int(port))


def find_pasta() -> str | None:
    """pasta on hexe's own ``PATH``."""
    import shutil  # only here: shutil (with bz2, lzma, zlib) is ~2 ms of every hexe run

    return shutil.which("pasta")


def pasta_argv(pasta: str, target: int, allowed: Iterable[Allowed], euid: int) -> list[str]:
    """The pasta command line for the sandbox whose PID 1 is host pid ``target``."""
    # pasta listens on the port inside and connects to the host's 127.0.0.1
    tcp_ns = ",".join(str(a.port) for a in allowed) or "none"
    argv = [
        pasta,
        "--foreground", "--quiet", "--config-net",
        "--ipv4-only",
        "--address", ADDRESS, "--netmask", str(PREFIX), "--gateway", GATEWAY,
        "--ns-ifname", IFNAME,
        "--dns-forward", DNS,
        "--no-map-gw",  # the gateway is not the host
        "--tcp-ports", "none", "--udp-ports", "none",  # nothing of the sandbox on the host
        "--tcp-ns", tcp_ns, "--udp-ns", "none",  # the host's loopback: only what is allowed
        "--netns", f"/proc/{target}/ns/net",
        "--userns", f"/proc/{target}/ns/user",
    ]  # fmt: skip
    if euid == 0:
        # pasta drops to "nobody" when started as root, who may not enter a
        # user namespace root made; it still drops capabilities and isolates itself
        argv[1:1] = ["--runas", "0"]
    return argv


def host_addresses() -> list[str]:
    """The host's own IPv4 addresses (from /proc/net/fib_trie), loopback excluded."""
    found: list[str] = []
    try:
        lines = open("/proc/net/fib_trie", encoding="ascii").read().splitlines()
    except OSError:
        return found
    for prev, line in zip(lines, lines[1:], strict=False):
        if "/32 host LOCAL" in line:
            address = prev.strip().split()[-1]
            if not address.startswith("127.") and address not in found:
                found.append(address)
    return found


class Helper:
    """The process that runs pasta for one sandbox, forked before ``unshare``."""

    def __init__(self, pid: int, go: int, status: int) -> None:
        self.pid, self.go, self.status = pid, go, status

    def target(self, pid: int) -> None:
        """The sandbox's PID 1 (a host pid) exists: start pasta for it."""
        os.write(self.go, f"{pid}\n".encode())
        os.close(self.go)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Inside the sandbox: wait until pasta configured ``eth0``; OSError-free
        RuntimeError with pasta's words when it could not."""
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"pasta did not configure {IFNAME} within {timeout:g}s")
            ready, _, _ = select.select([self.status], [], [], left)
            if ready:
                chunk = os.read(self.status, 4096)
                if not chunk:
                    raise RuntimeError("the network helper ended without a word")
                data += chunk
        os.close(self.status)
        answer = codec.loads(data.split(b"\n", 1)[0])
        if not answer.get("ok"):
            raise RuntimeError(str(answer.get("error")))


def start_helper(pasta: str, allowed: tuple[Allowed, ...], euid: int) -> Helper:
    """Fork the helper (call before ``unshare``): it waits for a pid on its pipe."""
    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the helper
        code = 1
        try:
            os.close(go_w)
            os.close(status_r)
            os.setsid()  # no terminal signals; not in the pane's process group
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            code = _helper_main(go_r, status_w, pasta, allowed, euid)
        except BaseException:  # noqa: BLE001 - a helper says nothing more, it exits
            pass
        finally:
            os._exit(code)
    os.close(go_r)
    os.close(status_w)
    return Helper(pid, go_w, status_r)


def _say(fd: int, answer: dict[str, object]) -> None:
    try:
        os.write(fd, codec.dumps(answer).encode() + b"\n")
    except OSError:
        pass


def _helper_main(go: int, status: int, pasta: str, allowed: tuple[Allowed, ...], euid: int) -> int:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(go, 64)
        if not chunk:
            return 0  # the sandbox was never made
        data += chunk
    target = int(data)
    try:
        watch = os.pidfd_open(target)
    except OSError as exc:
        _say(status, {"ok": False, "error": f"pidfd_open({target}): {exc.strerror}"})
        return 1
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    argv = pasta_argv(pasta, target, allowed, euid)
    try:
        child = os.fork()
    except OSError as exc:
        _say(status, {"ok": False, "error": f"fork pasta: {exc.strerror}"})
        return 1
    if child == 0:
        try:
            os.dup2(err_w, 2)
            os.dup2(err_w, 1)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            # pasta refuses to start with SIGPIPE ignored (Python ignores it)
            for sig in (signal.SIGPIPE, signal.SIGHUP, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, ())
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    os.close(err_w)
    said = b""
    ready = False
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            if not ready and _configured(target, (a.port for a in allowed)):
                ready = True
                _say(status, {"ok": True, "pasta": child})
            timeout = 0.002 if not ready else None  # pasta takes a few ms
            if not ready and time.monotonic() > deadline:
                _say(status, {"ok": False, "error": f"pasta did not configure {IFNAME} in time"})
                return 1
            fds = [watch, err_r] if err_r >= 0 else [watch]
            readable, _, _ = select.select(fds, [], [], timeout)
            if watch in readable:
                return 0  # the sandbox's PID 1 ended: pasta ends with it (finally)
            if err_r in readable:
                chunk = os.read(err_r, 4096)
                if chunk:
                    said = (said + chunk)[-2000:]
                else:
                    os.close(err_r)
                    err_r = -1
            done, status_code = os.waitpid(child, os.WNOHANG)
            if done:
                child = 0
                if not ready:
                    words = b" ".join(
                        line for line in said.splitlines() if b"syslog" not in line
                    ).decode(errors="replace")
                    _say(status, {"ok": False, "error": f"pasta exited ({status_code}): {words}"})
                return 1
    finally:
        if child:
            try:
                os.kill(child, signal.SIGTERM)
                os.waitpid(child, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _configured(target: int, ports: Iterable[int] = ()) -> bool:
    """pasta is done in the target's namespace: eth0 has its default route
    (``--config-net``) and every allowed port listens on 127.0.0.1 (``-T``)."""
    try:
        with open(f"/proc/{target}/net/route", encoding="ascii") as f:
            rows = f.read().splitlines()[1:]
        if not any(row.split()[0] == IFNAME and row.split()[1] == "00000000" for row in rows):
            return False
        wanted = {f"0100007F:{port:04X}" for port in ports}
        if not wanted:
            return True
        with open(f"/proc/{target}/net/tcp", encoding="ascii") as f:
            listening = {
                cols[1] for cols in (line.split() for line in f.read().splitlines()[1:])
                if len(cols) > 3 and cols[3] == "0A"
            }
    except (OSError, IndexError):
        return False
    return wanted <= listening


# -- inside the sandbox: routes, resolv.conf, hosts ------------------------------------

RTM_NEWROUTE = 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
RT_TABLE_MAIN = 254
RTPROT_STATIC = 4
RTN_UNREACHABLE = 7
RTA_DST = 1
NLMSG_ERROR = 2


def routes(networks: Iterable[str]) -> tuple[tuple[bytes, int], ...]:
    """Each ``NET`` as (its packed address, its prefix length), worked out in
    hexe's process, before the fork: the child that adds the routes runs after
    the mounts, where another root or a mask may hide the standard library
    (ipaddress is imported here, not at load: ~1 ms of every hexe run)."""
    import ipaddress

    out = []
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        out.append((net.network_address.packed, net.prefixlen))
    return tuple(out)


def add_unreachable(destinations: Iterable[tuple[bytes, int]]) -> None:
    """``ip route add unreachable NET`` for each (:func:`routes`' pairs), in
    this network namespace (netlink)."""
    # the C module's socket: socket.py costs every hexe run ~2 ms to load
    nl = _socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)
    try:
        nl.bind((0, 0))
        for seq, (dst, prefixlen) in enumerate(destinations, 1):
            rtmsg = struct.pack(
                "=BBBBBBBBI", AF_INET, prefixlen, 0, 0, RT_TABLE_MAIN,
                RTPROT_STATIC, 0, RTN_UNREACHABLE, 0,
            )  # fmt: skip
            attr = struct.pack("=HH", 4 + len(dst), RTA_DST) + dst
            body = rtmsg + attr
            flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
            nl.send(struct.pack("=IHHII", 16 + len(body), RTM_NEWROUTE, flags, seq, 0) + body)
            reply = nl.recv(4096)
            _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
            if kind == NLMSG_ERROR:
                (error,) = struct.unpack_from("=i", reply, 16)
                if error not in (0, -17):  # EEXIST: a /32 already covered
                    to = ".".join(map(str, dst)) + f"/{prefixlen}"
                    raise OSError(-error, f"{os.strerror(-error)}: unreachable route to {to}")
    finally:
        nl.close()


def resolv_conf() -> str:
    return f"# written by hexe: DNS through pasta's forwarder\nnameserver {DNS}\n"


def hosts(hostname: str) -> str:
    return (
        "# written by hexe\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"127.0.1.1\t{hostname}\n"
    )
