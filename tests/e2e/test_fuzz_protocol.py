"""Random frames into a real server: no peer's bytes may end or freeze the session.

Each example opens a connection to a running session and sends a short
sequence of frames drawn by hypothesis — every frame type (and unknown ones),
JSON hellos, resizes and commands with wrong, missing, huge and tiny fields,
raw bytes, frames cut off half-way — then reads what comes back and leaves.
After each: the server is alive. After all: its pane still runs and echoes,
and the log has no crash and no fault that was not contained.

The pane runs ``cat`` in a loop that ignores job-control signals, so random
input typed into it can do nothing but show up; the prefix key's byte is
taken out of typed input (a fuzzer's ``C-b x`` would close the pane, which
is not a fault). Brief by default; a soak is
``HEXE_FUZZ_EXAMPLES=5000 python3 -m pytest tests/e2e/test_fuzz_protocol.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexe.wire import protocol

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

EXAMPLES = int(os.environ.get("HEXE_FUZZ_EXAMPLES", "120"))

LOOP = "trap '' INT QUIT TSTP HUP; while :; do cat; done"
CAT_CONFIG = """
hexe.defaults { profile = "none" }
hexe.layout {
  hexe.tab { name = "fuzz",
    hexe.pane { command = { "/bin/sh", "-c", "@LOOP@" } },
  },
}
""".replace("@LOOP@", LOOP)

#: Actions a peer may run without ending the session on purpose (no kill,
#: close, detach, split or new tab: those are features, not faults).
SAFE_ACTIONS = [
    "focus-left", "focus-right", "focus-up", "focus-down", "focus-next", "focus-prev",
    "select-pane", "resize-left", "resize-right", "resize-up", "resize-down", "zoom",
    "next-tab", "prev-tab", "select-tab", "rename-tab", "send-text", "send-keys",
    "session-info", "list-panes", "no-such-action",
    "select-layout", "next-layout", "spread", "swap-pane", "rotate", "last-pane", "last-tab",
    "move-tab", "swap-tab",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
sizes = st.one_of(st.integers(min_value=-3, max_value=20000), st.sampled_from([1, 2, 80]), scalars)


def _json(data: dict) -> bytes:
    return json.dumps(data, allow_nan=True).encode()


#: the optional keys a hello may carry (features, the session a client runs
#: inside, open the chooser), with right and wrong types on purpose
hello_keys = st.fixed_dictionaries(
    {},
    optional={
        "features": st.one_of(
            st.lists(st.one_of(st.just("switch"), st.text(max_size=64), scalars), max_size=24),
            json_values,
        ),
        "inside": st.one_of(
            st.sampled_from(["t", "other", ""]), st.text(max_size=300), json_values
        ),
        "choose": st.one_of(st.booleans(), json_values),
    },
)
hellos = st.builds(
    lambda version, mode, cols, rows, term, known, extra: _json(
        {
            "version": version,
            "mode": mode,
            "cols": cols,
            "rows": rows,
            "term": term,
            **known,
            **extra,
        }
    ),
    st.one_of(st.just(protocol.PROTOCOL_VERSION), scalars),
    st.one_of(st.sampled_from(["attach", "command"]), scalars),
    sizes,
    sizes,
    st.one_of(st.text(max_size=100), scalars),
    hello_keys,
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "detach_others"), json_values, max_size=3
    ),
)
resizes = st.builds(lambda c, r: _json({"cols": c, "rows": r}), sizes, sizes)
commands = st.builds(
    lambda action, args, pane: _json({"action": action, "args": args, "pane": pane}),
    st.one_of(st.sampled_from(SAFE_ACTIONS), scalars),
    st.one_of(st.lists(json_values, max_size=4), json_values),
    st.one_of(st.none(), st.integers(min_value=-2, max_value=5), scalars),
)
typed = st.binary(max_size=200).map(lambda b: b.replace(b"\x02", b""))
frame = st.one_of(
    st.tuples(st.just(protocol.HELLO), st.one_of(hellos, st.binary(max_size=64))),
    st.tuples(st.just(protocol.RESIZE), st.one_of(resizes, st.binary(max_size=64))),
    st.tuples(st.just(protocol.COMMAND), st.one_of(commands, st.binary(max_size=64))),
    st.tuples(st.just(protocol.INPUT), typed),
    st.tuples(
        st.sampled_from([protocol.BYE, protocol.OUTPUT, protocol.REPLY, 0, 8, 255]),
        st.binary(max_size=64),
    ),
)


def encoded(frames: list[tuple[int, bytes]], cut: int | None, junk: bytes) -> bytes:
    data = b"".join(protocol.encode(kind, payload) for kind, payload in frames)
    if cut is not None and data:
        data = data[: cut % len(data)]
    return data + junk


def send_and_leave(path: Path, data: bytes) -> None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        s.settimeout(0.2)
        try:
            s.sendall(data)
            while s.recv(1 << 16):
                pass
        except OSError:  # timeout, or the server dropped us: both fine
            pass
    finally:
        s.close()


def test_random_frames_never_end_or_freeze_the_session(mux):
    m = mux(CAT_CONFIG)
    m.wait_for("fuzz", what="the status line")
    listed = json.loads(m.hexe("list-panes", "-s", "t", "--json").stdout)
    assert [p["command"][-1] for p in listed] == [LOOP]
    pid = m.server_pid()
    assert pid is not None
    path = m.run_dir / "hexe" / "t.sock"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=EXAMPLES <= 200,  # CI runs the same examples every time
    )
    @given(
        frames=st.lists(frame, max_size=6),
        cut=st.one_of(st.none(), st.integers(min_value=0, max_value=1 << 16)),
        junk=st.one_of(st.just(b""), st.binary(max_size=32)),
    )
    def one(frames: list[tuple[int, bytes]], cut: int | None, junk: bytes) -> None:
        send_and_leave(path, encoded(frames, cut, junk))
        assert Path(f"/proc/{pid}").exists(), f"the server died\n{m.log_tail()}"
        assert path.exists(), f"the socket went\n{m.log_tail()}"

    one()
    # out of the chooser (a hello's "choose") and copy mode (the fuzzer's mouse
    # wheel) if they were left open: each takes a q; a spare q is typed text
    m.keys("q")
    m.keys("q")
    m.type("hexe-still-$((6*7))")
    m.wait_for("hexe-still-$((6*7))")
    events = [json.loads(line) for line in m.log.read_text().splitlines()]
    names = {e.get("event") for e in events}
    assert "server_crashed" not in names
    faults = [e for e in events if e.get("event") in ("client_fault", "action_fault")]
    assert not faults, f"faults the fuzzer found (contained, but bugs):\n{faults[:3]}"


def test_a_hellos_optional_keys_of_the_wrong_type_are_ignored_and_choose_opens_the_chooser(mux):
    """features/inside/choose on purpose: wrong types change nothing, only a
    true ``choose`` from an attaching client opens the chooser (the session's,
    so the outer terminal shows it), and q closes it."""
    m = mux(CAT_CONFIG)
    m.wait_for("fuzz", what="the status line")
    pid = m.server_pid()
    path = m.run_dir / "hexe" / "t.sock"

    def hello(**extra: object) -> bytes:
        return protocol.encode(
            protocol.HELLO,
            _json(
                {
                    "version": protocol.PROTOCOL_VERSION,
                    "mode": "attach",
                    "cols": 80,
                    "rows": 24,
                    "term": "xterm",
                    **extra,
                }
            ),
        )

    wrong = [
        {"features": {"switch": 1}, "inside": 5, "choose": "yes"},
        {"features": ["x" * 5000] * 100, "inside": ["t"], "choose": 1},
        {"features": None, "inside": {"a": None}, "choose": [True]},
    ]
    for extra in wrong:
        send_and_leave(path, hello(**extra))
        assert Path(f"/proc/{pid}").exists(), f"the server died\n{m.log_tail()}"
    m.type("hexe-after-wrong-$((6*7))")
    screen = m.wait_for("hexe-after-wrong-$((6*7))")
    assert "Enter: choose" not in screen, "a choose that is not true opened the chooser"
    send_and_leave(path, hello(choose=True, features=["switch"], inside="t"))
    m.wait_for("Enter: choose", what="the chooser a true choose opens")
    m.keys("q")
    m.wait_for(lambda s: "Enter: choose" not in s, what="the chooser to close")
    events = [json.loads(line) for line in m.log.read_text().splitlines()]
    faults = [e for e in events if e.get("event") in ("client_fault", "action_fault")]
    assert not faults, faults[:3]
