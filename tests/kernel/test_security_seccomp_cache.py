"""The seccomp filter is never read from disk: a sandbox that writes into the
user's cache directory (every profile can: the filesystem is the host's)
cannot weaken the filter of the sandboxes started after it.

The attack: after a ``hexe run`` (which would have filled any cache), a
command inside a ``balanced`` sandbox (the caller's uid: the cache directory
is writable there) overwrites every file in ``$XDG_CACHE_HOME/hexe`` with a
BPF program that allows everything, and plants such programs under the names
a filter cache would use. The next ``hexe run --profile full`` must still
answer EPERM to a denied syscall.
"""

from __future__ import annotations

import json
import struct
import textwrap

import pytest
from support import SANDBOX_PYTHON, clean_env, hexe

pytestmark = [pytest.mark.kernel, pytest.mark.security]

#: one instruction, ``BPF_RET | BPF_K`` SECCOMP_RET_ALLOW: lets every syscall through
ALLOW_ALL = struct.pack("=HBBI", 0x06, 0, 0, 0x7FFF0000)

PLANT = textwrap.dedent(
    """
    import os, sys
    root = os.path.join(sys.argv[1], "hexe")
    os.makedirs(root, exist_ok=True)
    program = bytes.fromhex(sys.argv[2])
    planted = []
    for name in ("seccomp", "seccomp.bpf", "filter.bpf", "bpf"):
        os.makedirs(os.path.join(root, name + ".d"), exist_ok=True)
        for path in (os.path.join(root, name), os.path.join(root, name + ".d", "0")):
            with open(path, "wb") as f:
                f.write(program)
            planted.append(path)
    for folder, _, files in os.walk(root):
        for file in files:
            path = os.path.join(folder, file)
            if not file.startswith("hexe-init"):  # the init's own trust: docs/isolation.md
                with open(path, "wb") as f:
                    f.write(program)
                planted.append(path)
    print(len(planted))
    """
)

PROBE = textwrap.dedent(
    """
    import ctypes, errno, json
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(250, 0, -3, 0)  # keyctl(KEYCTL_GET_KEYRING_ID, session): denied in full
    status = dict(l.split(":\\t", 1) for l in open("/proc/self/status") if ":\\t" in l)
    print(json.dumps({"keyctl": "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()],
                      "seccomp": status["Seccomp"].strip()}))
    """
)


def test_a_sandbox_writing_the_cache_dir_cannot_weaken_the_next_filter(tmp_path):
    cache = tmp_path / "cache"
    env = clean_env(XDG_CACHE_HOME=str(cache), XDG_STATE_HOME=str(tmp_path / "state"))
    first = hexe("run", "--profile", "full", "--", "true", env=env)
    assert first.returncode == 0, first.stderr
    attack = hexe(
        "run", "--profile", "balanced", "--", SANDBOX_PYTHON, "-c", PLANT, str(cache),
        ALLOW_ALL.hex(), env=env,
    )  # fmt: skip
    assert attack.returncode == 0, attack.stderr  # the premise: a sandbox writes there
    assert int(attack.stdout) >= 8
    after = hexe("run", "--profile", "full", "--", SANDBOX_PYTHON, "-c", PROBE, env=env)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == {"keyctl": "EPERM", "seccomp": "2"}
