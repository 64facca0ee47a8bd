"""hexe.codec writes and reads what json does (it uses json's C functions
without importing json, which costs a command-line request ~8 ms)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexe import codec
from hexe.wire import protocol

scalars = (
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=True, allow_infinity=True)
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text() | st.integers() | st.booleans() | st.none(), inner, max_size=5),
    max_leaves=30,
)


def same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN (json.loads' NaN is not equal to itself)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_the_c_functions_are_used_here():
    """This Python has _json: the codec is not json in disguise."""
    assert codec._scan is not None and codec._encoder is not None


@settings(max_examples=400, deadline=None)
@given(values)
def test_dumps_writes_what_json_dumps_writes(value):
    assert codec.dumps(value) == json.dumps(value)


class Odd:
    def __str__(self) -> str:
        return "odd \u00e9"


@settings(max_examples=200, deadline=None)
@given(st.recursive(values | st.builds(Odd) | st.sets(st.integers(), max_size=3),
                    lambda inner: st.lists(inner, max_size=4), max_leaves=20))  # fmt: skip
def test_dumps_with_a_default_writes_what_json_writes_with_it(value):
    """The log writes its records with default=str, as it did through json."""
    assert codec.dumps(value, default=str) == json.dumps(value, default=str)
    assert codec.dumps({"a": 1}) == json.dumps({"a": 1})  # the default is not kept


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from(["", " ", "\n", " \t\r\n "]))
def test_loads_reads_what_json_loads_reads(value, space):
    text = space + json.dumps(value) + space
    assert same(codec.loads(text.encode()), json.loads(text.encode()))
    assert same(codec.loads(text), json.loads(text))


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=40) | st.binary(max_size=40))
def test_loads_reads_and_refuses_what_json_loads_does(data):
    try:
        expected = json.loads(data)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        with pytest.raises(type(exc)):
            codec.loads(data)
    else:
        assert same(codec.loads(data), expected)


@pytest.mark.parametrize(
    "data", [b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), b'"\xed\xa0\x80"', b"{} x"]
)
def test_what_the_scanner_refuses_is_json_loads_answer(data):
    """A byte-order mark, UTF-16, a lone surrogate: json reads them, or says why not."""
    try:
        expected = json.loads(data)
    except ValueError as exc:
        with pytest.raises(ValueError) as mine:
            codec.loads(data)
        assert str(mine.value) == str(exc)
    else:
        assert codec.loads(data) == expected


def test_a_malformed_frame_is_a_protocol_error_where_json_was_never_imported():
    """Python 3.11's scanner raises its errors only once json.decoder is
    imported (else a SystemError): a request imports no json, and a server
    that sends it a malformed frame must still give a clear error."""
    root = Path(__file__).resolve().parents[2]
    probe = (
        "import sys\n"
        "from hexe.wire import protocol\n"
        "assert 'json' not in sys.modules\n"
        "for bad in (b'{\"a\" 1}', b'\"abc', b'\"\\\\x\"', b'[1,]', b'{\"a\": 1} x'):\n"
        "    try:\n"
        "        protocol.Frame(protocol.BYE, bad).json()\n"
        "    except protocol.ProtocolError as exc:\n"
        "        print('refused', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(root)}, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("refused bye frame is not JSON") == 5, done.stdout


@pytest.mark.parametrize(
    "bad", [b"", b" ", b"{", b'{"a": 1} x', b"[1,]", b"nan", b'"\x01"', b"\xff", b"1 2"]
)
def test_a_frame_that_is_not_json_is_a_protocol_error(bad):
    with pytest.raises(protocol.ProtocolError):
        protocol.Frame(protocol.COMMAND, bad).json()


def test_what_json_cannot_write_is_refused_as_json_refuses_it():
    loop: list[object] = []
    loop.append(loop)
    for bad, error in ((object(), TypeError), ({(1, 2): 3}, TypeError), (loop, ValueError)):
        with pytest.raises(error):
            json.dumps(bad)
        with pytest.raises(error):
            codec.dumps(bad)


def test_deep_nesting_is_an_error_not_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises((RecursionError, ValueError)):
        json.loads(deep)
    with pytest.raises((RecursionError, ValueError)):
        codec.loads(deep)
