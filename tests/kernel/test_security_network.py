"""network = "user", attacked from inside: the blocks the sandbox is given must hold.

A hostile command tries to delete the unreachable routes that keep the LAN
out, to add a route of its own, to bring up or reconfigure ``eth0``, and to
rewrite its resolv.conf to point somewhere else. Each is a netlink message to
the sandbox's own kernel namespace or a file write: no packet leaves. The
control is the same message in a network namespace the process owns
(``unshare -Urn``), where it succeeds (so the test can fail).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from support import SANDBOX_PYTHON, hexe, needs_tun

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(
        shutil.which("pasta") is None, reason="pasta (Debian package passt) is not installed"
    ),
]

ATTACK = r"""
import json, socket, struct, sys

def route(kind, net, prefix, rtype=7):
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.bind((0, 0))
    dst = socket.inet_aton(net)
    body = struct.pack("=BBBBBBBBI", 2, prefix, 0, 0, 254, 4, 0, rtype, 0)
    body += struct.pack("=HH", 8, 1) + dst
    flags = 0x1 | 0x4 | (0x400 if kind == 24 else 0)
    nl.send(struct.pack("=IHHII", 16 + len(body), kind, flags, 1, 0) + body)
    reply = nl.recv(4096)
    return -struct.unpack_from("=i", reply, 16)[0]

out = {
    "delete_lan_block": route(25, "10.0.0.0", 8),       # RTM_DELROUTE
    "add_own_route": route(24, "192.168.77.0", 24),      # RTM_NEWROUTE
}
if sys.argv[1:] == ["routes-only"]:
    print(json.dumps(out))
    raise SystemExit
try:
    open("/etc/resolv.conf", "w").write("nameserver 192.0.2.99\n")
    out["rewrite_resolv"] = 0
except OSError as exc:
    out["rewrite_resolv"] = exc.errno
print(json.dumps(out))
"""


def attack(*isolation: str) -> dict:
    result = hexe("run", "--network", "user", *isolation, "--", SANDBOX_PYTHON, "-c", ATTACK)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_tun()
@pytest.mark.parametrize("profile", ["default", "balanced", "sandbox", "full"])
def test_the_sandbox_cannot_lift_its_network_blocks(profile):
    seen = attack("--profile", profile)
    assert seen["delete_lan_block"] == 1, seen  # EPERM: no CAP_NET_ADMIN
    assert seen["add_own_route"] == 1, seen
    assert seen["rewrite_resolv"] in (13, 30), seen  # EACCES or EROFS: bound read-only


def test_control_the_same_messages_work_in_a_namespace_the_process_owns():
    """``unshare -Urn``: the attacker owns its user and network namespace, and the
    same netlink message adds the route (so EPERM above is hexe's doing)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    result = subprocess.run(
        ["unshare", "-Urn", SANDBOX_PYTHON, "-c", ATTACK, "routes-only"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["add_own_route"] == 0, seen


@needs_tun()
@pytest.mark.parametrize("profile", ["balanced", "sandbox"])
def test_even_with_net_admin_kept_the_blocks_hold(profile, tmp_path):
    """The command runs in a user namespace nested below the one that owns the
    network namespace (the one that locks its mounts): CAP_NET_ADMIN there has
    no power over the sandbox's routes."""
    config = tmp_path / "init.lua"
    config.write_text(
        f'hexe.defaults {{ profile = "{profile}", caps = {{ keep = {{ "net_admin" }} }} }}\n'
    )
    result = hexe(
        "--config", str(config), "run", "--network", "user", "--", SANDBOX_PYTHON, "-c", ATTACK
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["delete_lan_block"] == 1 and seen["add_own_route"] == 1, seen
