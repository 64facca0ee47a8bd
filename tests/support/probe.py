"""Run inside a sandbox (``python3 -c "$(cat probe.py)" MARKER``); prints what it sees as JSON.

Each fact is read the way a user would check it: the pid, /proc, ids and
maps, hostname, namespace ids, interfaces and routes, a loopback connection,
NoNewPrivs, /tmp and its mount, the cgroup. Run as a script, not imported.
"""

import fcntl
import json
import os
import socket
import struct
import sys


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        return f"<{exc.strerror}>"


def lo_is_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), 0x8913, req))[1]
    return bool(flags & 1)


def loopback_roundtrip():
    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=5) as client:
                conn, _ = server.accept()
                with conn:
                    client.sendall(b"ping")
                    return conn.recv(4) == b"ping"
    except OSError as exc:
        return f"<{exc.strerror}>"


def mount_of(target):
    found = None
    for line in read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        if fields[4] == target:
            sep = fields.index("-")
            found = {"fstype": fields[sep + 1], "options": fields[sep + 3]}
    return found


def routes():
    out = []
    for line in read("/proc/net/route").splitlines()[1:]:
        out.append(line.split()[0])
    for line in read("/proc/net/ipv6_route").splitlines():
        dev = line.split()[-1]
        if dev != "lo":
            out.append(dev)
    return out


status = dict(
    line.split(":\t", 1) for line in read("/proc/self/status").splitlines() if ":\t" in line
)
tmp_before = sorted(os.listdir("/tmp"))
marker = sys.argv[1] if len(sys.argv) > 1 else None
if marker:
    with open(os.path.join("/tmp", marker), "w") as f:
        f.write("inside")
    # a file on a directory shared with the host: who owns it out there?
    with open(os.path.join("/var/tmp", marker + ".owner"), "w") as f:
        f.write("inside")

facts = {
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "proc_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "pid1_comm": read("/proc/1/comm").strip(),
    "uid": os.getuid(),
    "gid": os.getgid(),
    "uid_map": read("/proc/self/uid_map").split(),
    "gid_map": read("/proc/self/gid_map").split(),
    "setgroups": read("/proc/self/setgroups").strip(),
    "hostname": socket.gethostname(),
    "ns": {
        name: os.readlink(f"/proc/self/ns/{name}")
        for name in ("user", "pid", "mnt", "net", "uts", "ipc", "cgroup")
    },
    "interfaces": sorted(name for _, name in socket.if_nameindex()),
    "lo_up": lo_is_up(),
    "routes": routes(),
    "loopback": loopback_roundtrip(),
    "no_new_privs": status.get("NoNewPrivs", "").strip(),
    "tmp_before": tmp_before,
    "tmp_mount": mount_of("/tmp"),
    "proc_mount": mount_of("/proc"),
    "cgroup": read("/proc/self/cgroup").splitlines(),
    "cwd": os.getcwd(),
}
print(json.dumps(facts))
