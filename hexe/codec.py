"""JSON for the wire's frames, the log and the spawn's status pipe, without importing :mod:`json`.

``json`` imports ``re`` (and through it ``enum``, ``functools``,
``collections``): ~8 ms of a command-line request that otherwise needs none
of them. The work is done by the same C functions ``json`` uses (``_json``'s
scanner and string encoder); what ``json`` adds around them is a few lines,
here. :func:`dumps` writes what ``json.dumps(obj)`` writes, :func:`loads`
reads what ``json.loads`` reads, and leaves to ``json`` whatever its scanner
refuses, so that an error is json's own (tests/unit/test_wire_codec.py
compares them on generated values, and in an interpreter that has not
imported json); where ``_json`` is not there (another Python), both are
``json``'s own.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself takes ~5 ms to import: for annotations only
if TYPE_CHECKING:
    from typing import Any

#: JSON's whitespace (json.decoder.WHITESPACE: space, tab, newline, return)
_SPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """What ``_json.make_scanner`` reads from a ``json.JSONDecoder``: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def _unserializable(value: Any) -> Any:
    """json.JSONEncoder.default: anything else is not JSON."""
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _c_encoder() -> Any:
    """``_json.make_encoder`` as ``json.dumps`` calls it; the call checked on
    one value, since its arguments are an internal matter of each Python."""
    from _json import encode_basestring_ascii, make_encoder

    def encoder(default: Any = _unserializable) -> Any:
        # a fresh one a call: the dict that finds cycles may keep entries after an error
        return make_encoder({}, default, encode_basestring_ascii, None, ": ", ", ",
                            False, False, True)  # fmt: skip

    if "".join(encoder()({"a": [1.5, None, "\u00e9"]}, 0)) != '{"a": [1.5, null, "\\u00e9"]}':
        raise TypeError("not json's encoder")
    return encoder


try:
    from _json import make_scanner as _make_scanner

    _scan = _make_scanner(_Context())
    _encoder = _c_encoder()
except (ImportError, AttributeError, TypeError):  # not CPython's _json: json's own
    _scan = _encoder = None


def loads(data: bytes | str) -> Any:
    """``json.loads(data)``: the same value, or json's own error. The C scanner
    reads the common case; whatever it refuses (malformed JSON, a byte-order
    mark, UTF-16, a lone surrogate) is read again by ``json.loads``, which says
    what is wrong (or reads it: json accepts a byte-order mark). Python 3.11's
    scanner cannot even raise its errors unless ``json.decoder`` was imported
    (a SystemError "returned NULL without setting an exception")."""
    if _scan is not None and isinstance(data, (bytes, bytearray, str)):
        try:
            text = data.decode() if isinstance(data, (bytes, bytearray)) else data
            start = len(text) - len(text.lstrip(_SPACE))
            value, end = _scan(text, start)
            if not text[end:].strip(_SPACE):
                return value
        except (ValueError, StopIteration, SystemError):
            pass  # json.loads below says what is wrong
    import json

    return json.loads(data)


def dumps(value: Any, default: Any = None) -> str:
    """``json.dumps(value, default=default)``: dicts, lists, tuples, strings,
    numbers, booleans and None; anything else is what ``default`` returns for
    it (without one a TypeError); a ValueError for a cycle."""
    if _encoder is None:
        import json

        return json.dumps(value, default=default)
    return "".join(_encoder(default or _unserializable)(value, 0))
