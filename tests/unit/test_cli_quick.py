"""hexe.cli.quick reads a request's plain command line as argparse does, and
leaves every other form to argparse."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexe.cli import SESSION_COMMANDS, _command_word, quick
from hexe.cli.parser import build_parser
from hexe.commands.registry import ACTIONS, ALIASES

COMMANDS = sorted(
    {*SESSION_COMMANDS, *(n for n, a in ACTIONS.items() if a.cli), *ALIASES, "attach", "mux", "new-session", "new"}
    - {"new-float"}
)
OPTIONS = ["-s", "--session", "-t", "--pane", "-P", "--print", "--json", "--all", "-p", "-e", "-d",
           "-J", "-S", "-E", "-U", "-D", "-n", "-h", "--help", "--", "--log-level"]  # fmt: skip
VALUES = ["3", "0", "-1", "-10", "-", "x", "w", "Enter", "right", "", "a b", "-x", "--sess",
          "-s3", "--session=x", "3x", "\u0663", " 4", "-1.5", "--pa", "C-c", "tiled"]  # fmt: skip

_parsers: dict[str, object] = {}


def by_argparse(words: list[str]) -> dict | None:
    """vars() of what argparse reads (as hexe's main builds it), or None when it
    refuses the line or leaves words over (hexe then refuses it too)."""
    command = _command_word(words)
    parser = _parsers.get(command)
    if parser is None:
        parser = _parsers[command] = build_parser(lean=True, only=command, helps=False)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args, unknown = parser.parse_known_args(words)  # type: ignore[attr-defined]
    except SystemExit:
        return None
    return None if unknown else vars(args)


GLOBAL = ["--log-level", "--log-file", "--config", "--disable-plugin", "debug", "warning", "x",
          "-", "--log", "-v"]  # fmt: skip


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(GLOBAL), max_size=4),
    st.sampled_from(COMMANDS),
    st.lists(st.sampled_from(OPTIONS + VALUES), max_size=6),
)
def test_what_quick_reads_argparse_reads_the_same(before, command, rest):
    words = [*before, command, *rest]
    mine = quick.parse(words)
    if mine is not None:
        assert vars(mine) == by_argparse(words), words


@pytest.mark.parametrize(
    "words",
    [
        ["list-panes"], ["list-panes", "-s", "w", "--json"], ["ls"], ["ls", "--json"],
        ["capture-pane", "-p", "-t", "3", "-S", "-10", "-E", "-", "-e", "-J"],
        ["send-keys", "-t", "4", "ls -l", "Enter"], ["send-keys", "-s", "w", "C-c"],
        ["split-right", "-P"], ["split-down", "-s", "w", "--print"], ["swap-pane", "-U"],
        ["join-pane", "-t", "2", "1", "right"], ["join-pane", "1", "right", "-t", "2"],
        ["select-layout", "tiled"], ["rename-tab", "x"], ["kill-pane", "-t", "3"],
        ["kill", "w"], ["kill-session", "-s", "w"], ["kill", "--all"], ["kill-server"],
        ["switchc", "-t", "other"], ["detach", "--all"], ["save-buffer", "-"],
        ["show-buffer", "--session", "w"], ["resize-left", "5"], ["attach"], ["attach", "w"],
        ["attach", "-d"], ["attach", "-d", "w"],
        ["--log-level", "warning", "attach", "w"], ["--log-file", "-", "list-panes"],
        ["--config", "x.lua", "--disable-plugin", "a", "--disable-plugin", "b", "ls"],
        ["mux"], ["mux", "-s", "w"], ["mux", "--session", "w", "-d"], ["new-session", "-d"],
        ["new-session", "-d", "-s", "w"], ["new", "-s", "w"], ["--log-level", "debug", "mux"],
    ],
)  # fmt: skip
def test_the_plain_forms_of_requests_are_read_quickly_and_as_argparse_reads_them(words):
    mine = quick.parse(words)
    assert mine is not None, words
    assert vars(mine) == by_argparse(words)


@pytest.mark.parametrize(
    "words",
    [
        ["list-panes", "-h"], ["list-panes", "--sess", "w"], ["list-panes", "--session=w"],
        ["capture-pane", "-t3"], ["send-keys", "--", "-x"], ["join-pane", "1", "-t", "2", "right"],
        ["send-keys"], ["switchc"], ["capture-pane", "-t", "x"], ["list-panes", "extra"],
        ["--log-level", "loud", "list-panes"], ["--log-level=debug", "ls"], ["--log", "info", "ls"],
        ["new-float", "--", "top"], ["mux", "w"], ["run"], ["--log-level", "info"],
        ["new-session", "-sw"], ["mux", "-h"],
        ["no-such-command"], [],
    ],
)  # fmt: skip
def test_other_forms_are_left_to_argparse(words):
    assert quick.parse(words) is None


def test_hexe_log_level_from_the_environment_is_the_default_as_argparse_has_it(monkeypatch):
    for level in ("debug", "LOUD", "WARNING"):
        monkeypatch.setenv("HEXE_LOG_LEVEL", level)
        _parsers.clear()
        words = ["list-panes"]
        assert vars(quick.parse(words)) == by_argparse(words)  # type: ignore[arg-type]
    _parsers.clear()


def _run_registry():
    from hexe.plugin.settings import default_settings

    return default_settings()


def _run_flags() -> list[str]:
    registry = _run_registry()
    return [registry[n].flag.name for n in registry if registry[n].flag is not None]


_run_parser: list[object] = []


def run_by_argparse(words: list[str]) -> dict | None:
    """vars() of what hexe's own ``run`` parser reads, or None when it
    refuses the line or leaves words over."""
    if not _run_parser:
        _run_parser.append(build_parser(only="run", helps=False))
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args, unknown = _run_parser[0].parse_known_args(words)  # type: ignore[attr-defined]
    except SystemExit:
        return None
    return None if unknown else vars(args)


RUN_WORDS = ["--profile", "--pane", "--", "-h", "--help", "--prof", "--memory=1G", "-", "-1",
             "-1.5", "full", "true", "sh", "-c", "", "a b", "-x y", "--log-level", "debug",
             "--config", "run", "256M", "--network-all"]  # fmt: skip


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(GLOBAL), max_size=3),
    st.lists(st.sampled_from(RUN_WORDS + _run_flags()), max_size=8),
)
def test_what_quick_reads_of_run_argparse_reads_the_same(before, rest):
    words = [*before, "run", *rest]
    mine = quick.parse_run(words, _run_registry())
    if mine is not None:
        assert vars(mine) == run_by_argparse(words), words


@pytest.mark.parametrize(
    "words",
    [
        ["run", "true"], ["run", "--", "true"], ["run", "--profile", "full", "--", "sh", "-c", "x"],
        ["run", "--memory", "64M", "--pids", "32", "--cpu", "50000 100000", "--", "true"],
        ["run", "--network-allow", "127.0.0.1:80", "--network-allow", "[::1]:22", "--", "true"],
        ["run", "--network-lan", "--strict-limits", "--network", "none", "--", "true"],
        ["run", "--profile", "full", "true", "--profile", "x"], ["run", "--pane", "editor"],
        ["--config", "x.lua", "--log-level", "debug", "run", "--profile", "none", "true"],
        ["run"], ["run", "-1"],
    ],
)  # fmt: skip
def test_the_plain_forms_of_run_are_read_quickly_and_as_argparse_reads_them(words):
    mine = quick.parse_run(words, _run_registry())
    assert mine is not None, words
    assert vars(mine) == run_by_argparse(words)


@pytest.mark.parametrize(
    "words",
    [
        ["run", "-h"], ["run", "--help", "true"], ["run", "--profile=full", "true"],
        ["run", "--prof", "full", "true"], ["run", "--profile"], ["run", "--profile", "--", "x"],
        ["run", "--no-such", "true"], ["run", "--memory", "-x", "true"], ["list-panes"],
        ["--log-level", "loud", "run", "true"], ["run", "-1.5"],
    ],
)  # fmt: skip
def test_other_forms_of_run_are_left_to_argparse(words):
    assert quick.parse_run(words, _run_registry()) is None
