"""esctest2 against hexe's pane screen: the tests that pass keep passing.

esctest2 (https://github.com/ThomasDickey/esctest2) is not packaged, so it
runs only when ``HEXE_ESCTEST2`` names a checkout of it; it is played into a
pane screen by ``scripts/esctest_run.py`` (see docs/terminal.md for the whole
tally and the classes of failures). ``support/conformance/esctest_passing.txt`` lists
the tests that passed when it was last run; each must still pass.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSING = (ROOT / "tests" / "support" / "conformance" / "esctest_passing.txt").read_text().split()


def test_esctest2_tests_that_passed_still_pass(tmp_path):
    checkout = os.environ.get("HEXE_ESCTEST2")
    if not checkout:
        pytest.skip("esctest2 is not packaged: set HEXE_ESCTEST2 to a checkout of it")
    sys.path.insert(0, str(ROOT / "scripts"))
    from esctest_run import run, summarize

    esctest = Path(checkout) / "esctest"
    include = "^(" + "|".join(map(re.escape, PASSING)) + ")$"
    outcome = summarize(run(esctest, include, tmp_path / "esctest.log", 0.5))
    assert sorted(outcome["passed"]) == sorted(PASSING), outcome["failed"]
