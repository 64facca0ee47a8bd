"""What the README says CI runs as whom is what .ci/run and .ci/as-user do."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_the_suite_as_an_ordinary_user_as_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    run = (ROOT / ".ci" / "run").read_text()
    as_user = (ROOT / ".ci" / "as-user").read_text()
    assert "bash .ci/as-user -n auto -m 'not slow'" in run
    assert "then `-m 'not slow'` as an ordinary user (`hexe-tester`" in readme
    assert "user=${HEXE_CI_USER:-hexe-tester}" in as_user
    # the newcomer's way: a venv under /tmp, the README's install, their own HOME
    assert "work=$(mktemp -d /tmp/" in as_user
    assert 'pip" install --quiet -e "$work/src[test]"' in as_user
    assert 'runuser -u "$user" -- env -i HOME="$home"' in as_user
