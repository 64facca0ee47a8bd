"""How the suite keeps two CPUs busy under ``pytest -n auto`` (a pytest plugin).

Loaded from ``tests/conftest.py`` (``pytest_plugins``). See docs/testing.md.

* **Longest first.** Tests are ordered by how long they are expected to take:
  ``slow``-marked ones first, then the ones that drive real processes
  (``kernel``, ``e2e``: tmux, a hexe server, a sandbox; a second or more each),
  then the unit tests (milliseconds each). Otherwise the last worker to finish
  is the one that drew a long test at the end, and the others wait idle.
* **Small batches.** xdist's ``load`` scheduling hands each worker a quarter of
  its share up front (about 160 tests here): the worker that drew the end-to-end
  tests ran them one after the other long after the others had finished.
  ``--maxschedchunk 1`` (unless given) keeps two tests queued per worker and
  sends the next one to whichever worker is free.
* **Lua budgets.** The 2 s load budget (0.5 s per callback) is spent in full by
  every test of an endless loop; ``HEXE_LUA_BUDGET_SCALE`` (see docs/config.md,
  "Containment") is set to 0.25 for the run unless already set, so those tests
  stop the loop after 0.5 s. ``tests/unit/test_lua_contain.py`` checks the real
  default budget once with the variable removed.
* **Fewer random examples by default.** The property tests (hypothesis) that
  cost seconds ask :func:`examples` for their ``max_examples``: a quarter of
  the number written in the test unless ``HEXE_FUZZ_SCALE`` says otherwise
  (``HEXE_FUZZ_SCALE=4`` for a deep run: four times the written number). Each
  run draws new examples, so the properties keep being tried. The longest
  sweeps over cut positions take every 20th position instead of every 5th
  (:func:`cut_step`; every 5th from ``HEXE_FUZZ_SCALE=1``), and a sweep over
  many hand-picked cases may try a random share of them in each run
  (:func:`share`).
"""

from __future__ import annotations

import math
import os
import random

import pytest

#: the share of the written number of examples a property test runs by default
FUZZ_SCALE = "0.25"

#: the Lua budget factor for the test run (docs/testing.md)
LUA_BUDGET_SCALE = "0.25"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HEXE_LUA_BUDGET_SCALE", LUA_BUDGET_SCALE)
    if getattr(config.option, "maxschedchunk", "absent") is None:  # xdist, not given
        config.option.maxschedchunk = 1


def _fuzz_scale() -> float:
    value = os.environ.get("HEXE_FUZZ_SCALE", "").strip() or FUZZ_SCALE
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0 < scale < float("inf"):
        raise pytest.UsageError(f"HEXE_FUZZ_SCALE={value}: use a number above 0, e.g. 4")
    return scale


def examples(written: int) -> int:
    """``max_examples`` for a property test written with ``written`` (``HEXE_FUZZ_SCALE``)."""
    return max(10, round(written * _fuzz_scale()))


def cut_step(written: int) -> int:
    """The step of a sweep over cut positions written with ``written``: every
    ``written / HEXE_FUZZ_SCALE``-th position (4x ``written`` by default,
    ``written`` itself from ``HEXE_FUZZ_SCALE=1`` up)."""
    return max(written, round(written / _fuzz_scale()))


def share(items: list) -> list:
    """A random share of ``items`` for one run (at least one): all of them from
    ``HEXE_FUZZ_SCALE=1``, a quarter (rounded up) by default; each run draws
    anew, so runs together try them all."""
    scale = _fuzz_scale()
    if scale >= 1:
        return list(items)
    return random.sample(list(items), max(1, math.ceil(len(items) * scale)))


def _expected_cost(item: pytest.Item) -> int:
    """0 for the longest tests, 2 for the shortest (a sort key)."""
    if item.get_closest_marker("slow") is not None:
        return 0
    if item.get_closest_marker("kernel") is not None or item.get_closest_marker("e2e"):
        return 1
    return 2


@pytest.hookimpl(trylast=True)  # after the markers by place are added (conftest.py)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_expected_cost)  # stable: a module's tests stay together
