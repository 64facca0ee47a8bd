"""The plugin manager finds its entry points without importing importlib.metadata
(~15 ms of every ``hexe run``): the same entry points, in the same order, with the
same distributions, as ``importlib.metadata.entry_points`` finds."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from hexe.plugin import manager


def _as_tuples(eps) -> list[tuple[str, str, str, str]]:
    return [
        (ep.name, ep.value, ep.group, (ep.dist.metadata["Name"] or "") if ep.dist else "")
        for ep in eps
    ]


def test_the_scan_finds_what_importlib_metadata_finds_on_this_path():
    for group in ("hexe", "console_scripts", "pytest11"):
        scanned = manager._scan_entry_points(group)
        assert scanned is not None
        assert _as_tuples(scanned) == _as_tuples(metadata.entry_points(group=group)), group


def _dist_info(root, dirname: str, name: str, text: str) -> None:
    info = root / dirname
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(text)


def test_the_scan_finds_what_importlib_metadata_finds_on_a_made_up_path(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _dist_info(first, "Alpha_Plug-1.0.dist-info", "Alpha_Plug", "[hexe]\nalpha = alpha_mod\n")
    _dist_info(
        first, "beta-2.0.egg-info", "beta", "# c\n[other]\nx = y\n\n[hexe]\n b = beta:plugin.obj\n"
    )
    _dist_info(second, "alpha.plug-3.0.dist-info", "alpha.plug", "[hexe]\nhidden = by_the_first\n")
    _dist_info(second, "gamma-1.0.dist-info", "gamma", "[hexe]\ngamma = g [extra]\n")
    (second / "gamma_mod.py").write_text("")
    probe = (
        "import json, sys\n"
        "from importlib import metadata\n"
        "from hexe.plugin import manager\n"
        "t = lambda eps: [(e.name, e.value, e.dist.metadata['Name']) for e in eps]\n"
        "print(json.dumps([t(manager._scan_entry_points('hexe')),"
        " t(metadata.entry_points(group='hexe'))]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PYTHONPATH": ":".join([str(first), str(second), *sys.path[1:]])},
    )  # fmt: skip
    import json

    scanned, reference = json.loads(done.stdout)
    assert scanned == reference
    names = [name for name, _, _ in scanned]
    assert "alpha" in names and "b" in names and "gamma" in names and "hidden" not in names


def test_a_scanned_entry_point_loads_its_object():
    (ep,) = [e for e in manager.entry_points("hexe") if e.name == "voidbox"]
    import hexe_voidbox

    assert ep.load() is hexe_voidbox


def test_the_core_distribution_is_told_apart_without_reading_its_metadata():
    for ep in manager.entry_points("hexe"):
        if isinstance(ep.dist, manager._Dist):
            assert manager._dist_name(ep) == (ep.dist.metadata["Name"] or "").lower().replace(
                "-", "_"
            )
