"""Terminal conformance: hexe's pane screen against tmux on the same bytes.

Three sources of fixtures (see ``tests/support/conformance/``):

1. synthetic cases (``cases.py``), one control function each, whose tmux
   screen (text, attributes, cursor) was recorded by
   ``scripts/conformance_record.py`` into ``tmux.json``; when tmux is
   installed, a subset is also played into a live tmux now, so the recording
   cannot drift from the tmux it claims to be;
2. cases where tmux itself departs from xterm's documentation
   (``xterm.py``): hexe follows xterm, and the expectation is written by hand;
3. recorded output of real programs (``programs.json``).

Every fixture is also fed one byte per read: the fast paths (whole lines,
lazy rows, SGR effects) must give the same screen as one big read.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from support.conformance.cases import CASES
from support.conformance.screens import feed, from_capture, from_hexe
from support.conformance.xterm import DIFFERS_FROM_TMUX, VTTEST_CHECKS, XTERM_CASES

from hexe.terminal import PaneScreen

HERE = Path(__file__).parents[1] / "support" / "conformance"
RECORDED = json.loads((HERE / "tmux.json").read_text())["cases"]
PROGRAMS_FILE = HERE / "programs.json"
_RECORDED_PROGRAMS = json.loads(PROGRAMS_FILE.read_text())
PROGRAMS = _RECORDED_PROGRAMS["programs"]
_RUNS = {name: bytes.fromhex(data) for name, data in _RECORDED_PROGRAMS.get("runs", {}).items()}


def _program_bytes(fixture: dict) -> bytes:
    """A program's recorded output (a vttest screen: a prefix of its menu's run)."""
    if "hex" in fixture:
        return bytes.fromhex(fixture["hex"])
    return _RUNS[fixture["run"]][: fixture["end"]]


SYNTHETIC = [name for name in CASES if name not in DIFFERS_FROM_TMUX]


def _explain(name: str, data: bytes, want, got) -> str:
    return f"{name!r} {data!r}\n-- tmux --\n{want.show()}\n-- hexe --\n{got.show()}"


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_case_draws_as_tmux(name):
    text, cols, rows = CASES[name]
    data = text.encode()
    recorded = RECORDED[name]
    want = from_capture(recorded["lines"], tuple(recorded["cursor"]))
    got = from_hexe(feed(data, cols, rows))
    assert (got.text, got.attrs, got.cursor) == (want.text, want.attrs, want.cursor), _explain(
        name, data, want, got
    )


@pytest.mark.parametrize("name", list(CASES))
def test_case_in_one_byte_reads_draws_as_in_one_read(name):
    text, cols, rows = CASES[name]
    whole = from_hexe(feed(text.encode(), cols, rows))
    bytewise = from_hexe(feed(text.encode(), cols, rows, chunk=1))
    assert bytewise == whole


@pytest.mark.parametrize("name", sorted(XTERM_CASES))
def test_xterm_case(name):
    text, cols, rows, expected_text, expected_cursor, why = XTERM_CASES[name]
    for chunk in (None, 1):
        got = from_hexe(feed(text.encode(), cols, rows, chunk))
        assert (got.text, got.cursor) == (expected_text, expected_cursor), (name, why, got.show())


@pytest.mark.parametrize("name", sorted(set(PROGRAMS) - set(VTTEST_CHECKS)))
def test_real_program_draws_as_tmux(name):
    fixture = PROGRAMS[name]
    data = _program_bytes(fixture)
    cols, rows = fixture["size"]
    want = from_capture(fixture["lines"], tuple(fixture["cursor"]))
    for chunk in (None, 1, 7):
        got = from_hexe(feed(data, cols, rows, chunk))
        assert (got.text, got.attrs, got.cursor) == (want.text, want.attrs, want.cursor), _explain(
            name, data[-200:], want, got
        )


@pytest.mark.parametrize("name", sorted(VTTEST_CHECKS))
def test_vttest_screen_passes_vttest_own_check(name):
    """Screens where tmux 3.3a fails what vttest tells the user to check; hexe must pass."""
    why, check = VTTEST_CHECKS[name]
    fixture = PROGRAMS[name]
    for chunk in (None, 1):
        got = from_hexe(feed(_program_bytes(fixture), *fixture["size"], chunk))
        assert check(got.text + [""] * (fixture["size"][1] - len(got.text))), (why, got.show())


def test_recording_matches_a_live_tmux():
    """Every 8th synthetic case and every program, replayed into the tmux installed now."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: only the recorded screens are compared")
    sys.path.insert(0, str(Path(__file__).parents[2] / "scripts"))
    from conformance_record import tmux_screens

    names = SYNTHETIC[::8]
    cases = {n: (CASES[n][0].encode(), CASES[n][1], CASES[n][2]) for n in names}
    for n, fixture in PROGRAMS.items():
        cases["program " + n] = (_program_bytes(fixture), *fixture["size"])
    live = tmux_screens(cases)
    for name in names:
        want = from_capture(live[name]["lines"], tuple(live[name]["cursor"]))
        got = from_hexe(feed(cases[name][0], cases[name][1], cases[name][2]))
        assert (got.text, got.attrs, got.cursor) == (want.text, want.attrs, want.cursor), _explain(
            name, cases[name][0], want, got
        )
    for n in PROGRAMS:
        if n in VTTEST_CHECKS:
            continue
        seen = live["program " + n]
        want = from_capture(seen["lines"], tuple(seen["cursor"]))
        got = from_hexe(feed(cases["program " + n][0], *cases["program " + n][1:]))
        assert (got.text, got.attrs, got.cursor) == (want.text, want.attrs, want.cursor), n


def test_the_fidelity_figure_in_the_docs_counts_these_fixtures():
    doc = (Path(__file__).parents[2] / "docs" / "terminal.md").read_text()
    assert f"**{len(SYNTHETIC)}** of {len(CASES)}" in doc
    assert f"| {len(DIFFERS_FROM_TMUX)} |" in doc
    programs = len(PROGRAMS) - len(VTTEST_CHECKS)
    assert f"**{programs}** of {len(PROGRAMS)}" in doc
    assert f"| {len(CASES) + len(PROGRAMS)} of {len(CASES) + len(PROGRAMS)} |" in doc


def test_reverse_screen_shows_every_cell_reversed_and_keeps_the_text_own_reverse():
    """DECSCNM is a way of showing the screen: turned on, plain cells show in
    reverse video and reversed text shows plain; turned off, the text's own
    SGR 7 is still there (pyte rewrote every cell and lost it)."""
    screen = PaneScreen(10, 2)
    screen.feed(b"a\x1b[7mb\x1b[0m\x1b[?5h")
    assert screen.render_row(0) == "\x1b[0m\x1b[0;7ma\x1b[0mb\x1b[0;7m        \x1b[0m"
    assert screen.render_row(1) == "\x1b[0m\x1b[0;7m          \x1b[0m"  # blanks too
    screen.feed(b"\x1b[?5l")
    assert screen.render_row(0) == "\x1b[0ma\x1b[0;7mb\x1b[0m        \x1b[0m"
