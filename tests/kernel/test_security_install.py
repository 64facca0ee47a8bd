"""A sandbox cannot change the hexe that later commands run: not its code, not
the table of compiled dataclass methods every ``hexe`` process reads
(``hexe/__pycache__/dataclass-methods.*.marshal``), not the built
``hexe-init``.

The attack, from a ``full`` sandbox started by root (root inside is an
unprivileged host id there: docs/isolation.md, "Host root"): open the table
for writing (to replace what a class's ``__init__`` runs), plant a new table
beside it, open the package's modules and ``hexe-init`` for writing. Every write must fail and the
files must be unchanged. Run by an ordinary user who owns the install, a
sandbox run as that user can write it, as any program of theirs can: the
test says so and skips (docs/isolation.md, "What it cannot do").
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import clean_env, hexe

import hexe as hexe_package
from hexe import methodcache

pytestmark = [pytest.mark.kernel, pytest.mark.security]

PACKAGE = Path(hexe_package.__file__).resolve().parent
CACHE = PACKAGE / "__pycache__"

# Opening for writing is the capability tried (``: >>`` writes nothing): a
# failure of the test must not damage the install it runs from.
ATTACK = r"""
for target in "$@"; do
    if ( : >> "$target" ) 2>/dev/null; then echo "wrote $target"; fi
done
if ( : >> "$PLANT" ) 2>/dev/null; then echo "planted $PLANT"; fi
echo attack-done
"""


def _targets() -> list[Path]:
    import hexe_voidbox.initbin as initbin

    targets = [PACKAGE / "__init__.py", PACKAGE / "methodcache.py"]
    table = Path(methodcache._cache_path())
    if table.exists():
        targets.append(table)
    built = initbin.find()
    if built is not None:
        targets.append(Path(built))
    return targets


def test_a_full_sandbox_cannot_rewrite_hexes_install():
    if os.geteuid() != 0 and os.access(PACKAGE, os.W_OK):
        pytest.skip(
            f"{PACKAGE} is writable by this user: a sandbox run as them can write it too "
            "(docs/isolation.md, 'What it cannot do')"
        )
    targets = _targets()
    before = {path: path.read_bytes() for path in targets}
    plant = CACHE / "dataclass-methods.planted.marshal"
    env = clean_env(PLANT=str(plant))
    try:
        result = hexe(
            "run", "--profile", "full", "--", "sh", "-c", ATTACK, "attack", *map(str, targets),
            env=env,
        )  # fmt: skip
    finally:
        planted = plant.exists()
        plant.unlink(missing_ok=True)
    assert result.returncode == 0 and "attack-done" in result.stdout, result.stderr
    assert "wrote" not in result.stdout and "planted" not in result.stdout, result.stdout
    assert not planted
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed"
