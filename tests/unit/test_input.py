"""Client input -> keys, mouse events and pastes; key names that match the bindings."""

from __future__ import annotations

import pytest

from hexe.commands.registry import DEFAULT_BINDINGS, parse_keys
from hexe.mux.input import InputParser, Key, Mouse, Paste, encode_mouse


def names(data: bytes, parser: InputParser | None = None) -> list[str]:
    parser = parser or InputParser()
    return [e.name for e in parser.feed(data) if isinstance(e, Key)]


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"\x02", ["C-b"]),
        (b"\x01", ["C-a"]),
        (b"%", ["%"]),
        (b'"', ['"']),
        (b" ", ["Space"]),
        (b"\r", ["Enter"]),
        (b"\t", ["Tab"]),
        (b"\x7f", ["BSpace"]),
        (b"\x1b[A\x1b[B\x1b[C\x1b[D", ["Up", "Down", "Right", "Left"]),
        (b"\x1bOA\x1bOD", ["Up", "Left"]),
        (b"\x1b[1;5A\x1b[1;3D\x1b[1;2C", ["C-Up", "M-Left", "S-Right"]),
        (b"\x1b[5~\x1b[6~\x1b[3~\x1b[2~", ["PageUp", "PageDown", "Delete", "Insert"]),
        (b"\x1b[H\x1b[F\x1b[1~\x1b[4~", ["Home", "End", "Home", "End"]),
        (b"\x1bOP\x1b[15~\x1b[24~", ["F1", "F5", "F12"]),
        (b"\x1b[Z", ["BTab"]),
        (b"\x1bx\x1b\x02", ["M-x", "C-M-b"]),
        ("é日".encode(), ["é", "日"]),
        (b"\x1b", ["Escape"]),
    ],
)
def test_key_names(data, expected):
    assert names(data) == expected


def test_every_default_binding_key_can_be_typed():
    typed = {
        "%": b"%",
        '"': b'"',
        "Left": b"\x1b[D",
        "Right": b"\x1b[C",
        "Up": b"\x1b[A",
        "Down": b"\x1b[B",
        "C-Left": b"\x1b[1;5D",
        "C-Right": b"\x1b[1;5C",
        "C-Up": b"\x1b[1;5A",
        "C-Down": b"\x1b[1;5B",
        "Space": b" ",
        "C-o": b"\x0f",
        **{f"M-{c}": b"\x1b" + c.encode() for c in "12345o"},  # Alt: ESC, then the key
        # floating panes: move and resize (S-, C-S- arrows), float and embed
        **{f"{m}{k}": f"\x1b[1;{n}{c}".encode() for m, n in (("S-", 2), ("C-S-", 6))
           for k, c in (("Left", "D"), ("Right", "C"), ("Up", "A"), ("Down", "B"))},
        "M-f": b"\x1bf",
        "M-e": b"\x1be",
    }  # fmt: skip
    for keys in DEFAULT_BINDINGS:
        key = keys[-1]
        data = typed.get(key, key.encode())
        assert names(data) == [key], keys
        assert parse_keys("prefix " + key) == keys


def test_sequences_cut_between_chunks_are_joined():
    parser = InputParser()
    assert names(b"\x1b[1;", parser) == []
    assert names(b"5A", parser) == ["C-Up"]
    assert names("日".encode()[:2], parser) == []
    assert names("日".encode()[2:], parser) == ["日"]


def test_raw_bytes_are_kept_for_passthrough():
    events = InputParser().feed(b"ls\x1b[A\r")
    assert b"".join(e.raw for e in events) == b"ls\x1b[A\r"


def test_sgr_mouse_events():
    (press, wheel) = InputParser().feed(b"\x1b[<0;10;5M\x1b[<65;3;4M")
    assert isinstance(press, Mouse) and (press.x, press.y, press.pressed) == (9, 4, True)
    assert press.wheel == 0 and wheel.wheel == 1
    assert encode_mouse(press, 2, 3) == b"\x1b[<0;3;4M"


def test_bracketed_paste_is_one_event_even_across_chunks():
    parser = InputParser()
    assert parser.feed(b"\x1b[200~hello \x02 wor") == []
    (paste, key) = parser.feed(b"ld\x1b[20") + parser.feed(b"1~x")
    assert paste == Paste(b"hello \x02 world")
    assert key.name == "x"


# -- send-keys: key names back to bytes ---------------------------------------------

from hexe.commands.registry import NAMED_KEYS  # noqa: E402
from hexe.mux.input import encode_key  # noqa: E402


@pytest.mark.parametrize(
    "name",
    [
        *NAMED_KEYS,
        "a",
        "Z",
        "%",
        "C-c",
        "C-a",
        "M-x",
        "M-Enter",
        "C-Left",
        "M-Up",
        "S-F5",
        "C-M-Right",
        "C-Delete",
        "C-Space",
    ],
)
def test_encoded_keys_parse_back_to_their_name(name):
    events = InputParser().feed(encode_key(name))
    assert [e.name for e in events] == [name]


def test_arrow_keys_follow_application_cursor_mode():
    assert encode_key("Up") == b"\x1b[A"
    assert encode_key("Up", app_cursor=True) == b"\x1bOA"
    assert encode_key("C-Up", app_cursor=True) == b"\x1b[1;5A"


def test_ctrl_letters_are_control_bytes():
    assert encode_key("C-c") == b"\x03" and encode_key("C-[") == b"\x1b"
    assert encode_key("M-a") == b"\x1ba" and encode_key("Enter") == b"\r"
