"""No output a program prints may end or freeze a session.

- the sequences that did (a DSR with two parameters raised; REP of a
  character with a combining mark, and a line of combining marks, took
  quadratic time) in a real session;
- a fault in one pane's output stays in that chunk of that pane
  (``feed_contained``);
- a fuzz suite: random byte streams, weighted towards real escape
  sequences, into a pane's screen, in one read and in small reads, with
  invariants: nothing raises, the cursor stays on screen, the screen keeps
  its size, and the work stays linear in the input.

Brief by default; a soak is one command:
``HEXE_FUZZ_EXAMPLES=20000 python3 -m pytest tests/unit/test_fuzz_terminal.py``.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.mux import prompt_ready

from hexe.server.server import OUTPUT_FAULT_NOTICE, feed_contained
from hexe.terminal import PaneScreen

EXAMPLES = int(os.environ.get("HEXE_FUZZ_EXAMPLES", "150"))
COLS, ROWS = 40, 12

# -- the sequences that ended or froze a session --------------------------------


@pytest.mark.kernel
def test_a_dsr_with_two_parameters_leaves_every_pane_running(mux):
    m = mux()
    prompt_ready(m)
    m.type(r"printf '\033[?6;1n\033[6;1;2n\033[5;9n'; echo still-$((6*7))")
    m.wait_for("still-42")
    # the answers reach the shell as typed input, as in any terminal: drop them
    m.wait_for("0n")
    m.keys("C-c")

    def prompt_after_the_interrupt(screen: str) -> bool:
        # typed before the shell has handled the ^C, a line can be dropped with it
        lines = [line.rstrip() for line in screen.split("\n")]
        cut = next((i for i, line in enumerate(lines) if line.endswith("^C")), None)
        return cut is not None and "$" in lines[cut + 1 :]

    m.wait_for(prompt_after_the_interrupt, what="a new prompt after ^C")
    m.type("echo and-again-$((7*7))")
    m.wait_for("and-again-49")


@pytest.mark.kernel
def test_repeating_a_combining_character_does_not_freeze_the_session(mux):
    m = mux()
    prompt_ready(m)
    m.type(r"printf 'e\314\201\033[65535b'; echo; echo after-rep-$((6*7))")
    m.wait_for("after-rep-42", timeout=10)


@pytest.mark.parametrize(
    "data",
    [
        b"e\xcc\x81\x1b[65535b",
        b"a" + b"\xcc\x81" * 50_000,
        (b"x" + b"\xcc\x81" * 40) * 2000,
        b"\xe4\xb8\x80\x1b[65535b" * 50,
        b"\x1b[65535@\x1b[65535P\x1b[65535L\x1b[65535M\x1b[65535S\x1b[65535T" * 200,
        b"\t" * 100_000,
    ],
    ids=["rep-combining", "marks-line", "marks-many-cells", "rep-wide", "counts", "tabs"],
)
def test_worst_known_inputs_take_linear_time(data):
    """Generous bounds: a quadratic case took seconds to a minute here."""
    screen = PaneScreen(80, 24, 1000)
    started = time.perf_counter()
    screen.feed(data)
    assert time.perf_counter() - started < 3.0
    assert_sane(screen, 80, 24)


@pytest.mark.parametrize(
    "data",
    [
        b"\x1bP" + b"q" * 262144 + b"\x1b\\after",
        b"\x1b]0;" + b"t" * 262144 + b"\x07after",
        b"\x1b[" + b"1;" * 131072 + b"mafter",
    ],
    ids=["dcs", "osc", "csi-params"],
)
@pytest.mark.parametrize("read", [1, 64, 4096])
def test_a_long_sequence_in_small_reads_takes_linear_time_and_ends(data, read):
    """A sequence too long to keep is skipped to its end, read by read: kept
    whole, every read copied and rescanned it (a 256 KiB DCS in 64-byte reads
    took 27 s)."""
    if read == 1:
        data = data[:20000] + data[-200:]  # one byte a read: keep it short
    screen = PaneScreen(80, 24, 100)
    started = time.perf_counter()
    for at in range(0, len(data), read):
        screen.feed(data[at : at + read])
    assert time.perf_counter() - started < 5.0
    assert screen.row_text(0).rstrip().endswith("after")


def test_combining_marks_per_cell_are_capped():
    screen = PaneScreen(20, 4, 10)
    screen.feed(b"a" + b"\xcc\x81" * 1000)
    assert 1 < len(screen.row_text(0).rstrip()) <= 16


# -- containment ----------------------------------------------------------------


class _Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def error(self, event: str, **kw: object) -> None:
        self.events.append((event, kw))


class _FaultyScreen(PaneScreen):
    """A screen whose emulator breaks on one byte, as a bug would."""

    def feed(self, data: bytes) -> None:
        if b"\x07BOOM" in data:
            super().feed(b"\x1b[12")  # half a sequence, left pending by the fault
            raise RuntimeError("a bug in a handler")
        super().feed(data)


def test_a_fault_in_one_chunk_stays_in_it_and_the_pane_goes_on():
    screen, log = _FaultyScreen(60, 6, 100), _Log()
    assert feed_contained(screen, b"before\r\n", log, 3)
    assert not feed_contained(screen, b"x" * 500 + b"\x07BOOM", log, 3)
    assert feed_contained(screen, b"after\r\n", log, 3)
    text = "\n".join(screen.row_text(y) for y in range(6))
    assert "before" in text and "after" in text
    assert "could not be shown" in text, OUTPUT_FAULT_NOTICE
    (event, facts) = log.events[0]
    assert event == "pane_output_fault" and facts["pane"] == 3
    assert "RuntimeError: a bug in a handler" in facts["error"]
    assert len(facts["data"]) < 260  # the offending bytes, truncated


# -- the fuzz suite ---------------------------------------------------------------

_params = st.lists(
    st.one_of(st.integers(0, 10), st.integers(0, 70000), st.just("")), max_size=12
).map(lambda ps: ";".join(str(p) for p in ps))
_csi = st.builds(
    lambda pre, params, inter, final: f"\x1b[{pre}{params}{inter}{final}".encode(),
    st.sampled_from(["", "?", ">", "<", "=", "!"]),
    _params,
    st.sampled_from(["", " ", "$", "!", '"', "'"]),
    st.sampled_from(list("@ABCDEFGHIJKLMPSTXZ`abcdefghlmnpqrstuxy")),
)
_osc = st.builds(
    lambda code, text, end: f"\x1b]{code};{text}".encode() + end,
    st.sampled_from(["0", "1", "2", "4", "7", "8", "10", "52", "133", "777"]),
    st.text(max_size=40),
    st.sampled_from([b"\x07", b"\x1b\\", b""]),
)
_esc = st.builds(
    lambda a, b: ("\x1b" + a + b).encode(),
    st.sampled_from(["", "(", ")", "#", "%", " "]),
    st.sampled_from(list("78=>DEHMNOPZc0AB\\]^_")),
)
_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from(["\u0301", "\u0308", "\u4e00", "\U0001f600", "\u200d", "\ufe0f", "é"]),
        st.sampled_from(["\r", "\n", "\t", "\b", "\x07", "\x0e", "\x0f", "\x85", "\x9b"]),
    ),
    max_size=30,
).map(lambda t: t.encode("utf-8", "surrogatepass"))
_token = st.one_of(_csi, _csi, _osc, _esc, _text, _text, st.binary(max_size=8))
_stream = st.lists(_token, max_size=60).map(b"".join)


def assert_sane(screen: PaneScreen, cols: int, rows: int) -> None:
    assert (screen.cols, screen.rows) == (cols, rows)
    x, y = screen.cursor
    assert 0 <= x <= cols and 0 <= y < rows  # x == cols: a wrap is pending
    for row in range(rows):
        screen.row_text(row)  # every row renders


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_stream, st.lists(st.integers(1, 64), min_size=1, max_size=8))
def test_random_output_never_raises_and_keeps_the_screen_whole(data, cuts):
    whole = PaneScreen(COLS, ROWS, 50)
    whole.feed(data)
    assert_sane(whole, COLS, ROWS)
    pieces = PaneScreen(COLS, ROWS, 50)
    at, i = 0, 0
    while at < len(data):  # the same bytes in small reads: split anywhere
        size = cuts[i % len(cuts)]
        pieces.feed(data[at : at + size])
        at, i = at + size, i + 1
    assert_sane(pieces, COLS, ROWS)
    whole.take_responses()
    pieces.take_responses()


@settings(max_examples=max(10, EXAMPLES // 10), deadline=None)
@given(_stream)
def test_random_output_costs_time_linear_in_its_size(data):
    """The same stream 200 times: a generous bound per byte that any quadratic
    handler would exceed."""
    screen = PaneScreen(COLS, ROWS, 50)
    payload = data * 200
    started = time.perf_counter()
    screen.feed(payload)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0 + len(payload) * 20e-6, (elapsed, len(payload))
