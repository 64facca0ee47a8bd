"""Finding the config when the XDG location cannot be searched by the caller.

Root bypasses directory permissions, so the caller is the unprivileged user
65534 (the ``nobody`` fixture): a PermissionError must become a config error
naming the setting, its value and the way out, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def sealed() -> Iterator[Path]:
    """A root-owned directory 0700 (nobody cannot search it), outside /tmp."""
    base = Path(tempfile.mkdtemp(prefix="hexe-xdg-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    sealed = base / "config"
    sealed.mkdir(mode=0o700)
    (sealed / "hexe").mkdir()
    (sealed / "hexe" / "init.lua").write_text("hexe.defaults { }\n")
    yield sealed
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("command", [("run", "--", "true"), ("config", "check")])
def test_unsearchable_xdg_config_home_is_a_clear_error(nobody, sealed, command) -> None:
    result = nobody(*command, env={"XDG_CONFIG_HOME": str(sealed)})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert f"XDG_CONFIG_HOME={sealed}" in result.stderr, result.stderr
    assert "Permission denied" in result.stderr
    assert "--config" in result.stderr


def test_an_explicit_config_is_used_despite_an_unsearchable_xdg_home(nobody, sealed) -> None:
    readable = sealed.parent / "readable.lua"
    readable.write_text("hexe.defaults { }\n")
    readable.chmod(0o644)
    result = nobody(
        "--config", str(readable), "config", "check", env={"XDG_CONFIG_HOME": str(sealed)}
    )
    assert result.returncode == 0, result.stderr
