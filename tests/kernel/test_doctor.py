"""``hexe doctor``: tried for real, exit 0 when every profile works, 1 otherwise."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import clean_env, hexe

pytestmark = pytest.mark.kernel


def test_doctor_tries_every_namespace_and_profile_and_exits_0_here():
    result = hexe("doctor")
    assert result.returncode == 0, result.stdout
    out = result.stdout
    for ns in ("user", "pid", "mount", "net", "uts", "ipc", "cgroup"):
        assert f"  ok    {ns:<24} unshare(CLONE_NEWUSER" in out
    for profile in ("none", "minimal", "default", "balanced", "full", "sandbox"):
        assert f"  ok    {profile:<24}" in out
    assert "user.max_user_namespaces" in out
    assert out.rstrip().endswith("every profile works")


def test_doctor_json_is_machine_readable():
    result = hexe("doctor", "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert set(report["profiles"]) == {"none", "minimal", "default", "balanced", "full", "sandbox"}
    groups = {c["group"] for c in report["checks"]}
    assert {"namespaces", "sysctls", "profiles", "limits", "install"} <= groups
    # compiled (the suite's set-up ran python3 -m hexe.precompile), or the way to
    # compile them named (a checkout this user cannot write)
    (methods,) = [c for c in report["checks"] if c["name"] == "compiled methods"]
    assert "dataclass-methods" in methods["detail"], methods
    assert methods["ok"] is True or "python3 -m hexe.precompile" in methods["detail"], methods


def test_doctor_reports_failing_profiles_and_exits_1_where_user_namespaces_are_off():
    script = (
        "echo 0 > /proc/sys/user/max_user_namespaces && "
        f"exec {sys.executable} -m hexe doctor --json"
    )
    result = subprocess.run(
        ["unshare", "-Ur", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd="/",
        timeout=120,
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["profiles"]["none"] is True
    assert report["profiles"]["full"] is False
    user = next(c for c in report["checks"] if c["group"] == "namespaces" and c["name"] == "user")
    assert user["ok"] is False and "No space left on device" in user["detail"]
    sysctl = next(c for c in report["checks"] if c["name"] == "user.max_user_namespaces")
    assert sysctl["ok"] is False and sysctl["detail"].startswith("= 0")
    full = next(c for c in report["checks"] if c["group"] == "profiles" and c["name"] == "full")
    assert "unshare(" in full["detail"] and "max_user_namespaces" in full["hint"]
