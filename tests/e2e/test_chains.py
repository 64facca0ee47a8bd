"""Command sequences: ``hexe new-session -d -s w \\; split-right \\; list-panes``.

tmux's ``;`` between commands, with tmux's rules: every command is parsed
before the first runs, they run in order in one process, the first failure
ends the chain, ``\\;`` is a literal ``;``; and hexe's own: only requests to a
running session chain (``new-session -d`` first), never ``hexe run``, whose
words are its command's. Each test's sessions live in its own runtime dir and
are ended after it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import hexe, wait_for

from hexe.cli import _command_index
from hexe.cli.chain import chains as _chains
from hexe.cli.chain import parts as _chain_parts


@pytest.fixture
def env(headless):
    return headless


def _panes(env: dict[str, str], session: str) -> list[dict]:
    listed = hexe("list-panes", "-s", session, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_a_chain_starts_a_session_splits_and_prints_in_order(env):
    done = hexe(
        "new-session", "-d", "-s", "w", ";", "split-right", "-P", ";", "split-down", "-P",
        ";", "list-panes", "--json", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    name, first, second, listed = done.stdout.split("\n", 3)
    assert (name, first, second) == ("w", "2", "3")
    assert [p["id"] for p in json.loads(listed)] == [1, 2, 3]
    # the commands after new-session went to the session it started, not "main"
    assert json.loads(hexe("ls", "--json", env=env).stdout)[0]["name"] == "w"


def test_a_typo_anywhere_in_the_chain_runs_none_of_it(env):
    typo = hexe("new-session", "-d", "-s", "w", ";", "split-right", ";", "lsit-panes", env=env)
    assert typo.returncode == 2
    assert "'lsit-panes' is not a command; did you mean list-panes?" in typo.stderr
    bad_option = hexe("new-session", "-d", "-s", "w", ";", "split-right", "--bogus", env=env)
    assert bad_option.returncode == 2 and "--bogus" in bad_option.stderr
    nothing = hexe("ls", env=env)
    assert nothing.returncode == 1, nothing.stdout  # no session was started


def test_the_first_failing_command_ends_the_chain_with_its_status(env):
    assert hexe("new-session", "-d", "-s", "w", env=env).returncode == 0
    failed = hexe("send-keys", "-s", "w", "-t", "99", "x", ";", "split-right", "-P", env=env)
    assert failed.returncode == 1
    assert "no pane 99 in session w" in failed.stderr
    assert failed.stdout == ""  # the split never ran
    assert [p["id"] for p in _panes(env, "w")] == [1]


def test_an_escaped_semicolon_is_typed_as_a_semicolon(env):
    assert hexe("new-session", "-d", "-s", "w", env=env).returncode == 0
    typed = hexe(
        "send-keys", "-s", "w", "echo one", "\\;", "echo two", ";", "split-right", "-P", env=env
    )
    assert typed.returncode == 0, typed.stderr
    assert typed.stdout.strip() == "2"  # the split after it ran

    def screen() -> str:
        return hexe("capture-pane", "-s", "w", "-t", "1", env=env).stdout

    # the terminal (or the shell) echoes the typed line: one ";" in it
    wait_for(lambda: "echo one;echo two" in screen(), what="the typed line")


def test_hexe_run_keeps_its_commands_semicolons(env):
    found = hexe(
        "run", "--profile", "none", "--", "find", "/dev/null", "-maxdepth", "0",
        "-exec", "echo", "hit", "{}", ";", env=env,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert found.stdout == "hit /dev/null\n"


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["ls", ";", "run", "--", "true"], "run cannot be in a chain"),
        (["ls", ";", "attach", "w"], "attach cannot be in a chain"),
        (["ls", ";", "new-session", "-d", "-s", "x"], "must be the first and have -d"),
        (["new-session", "-s", "x", ";", "ls"], "must be the first and have -d"),
        (["ls", ";", "--log-level", "debug"], "no command in part 2"),
    ],
)
def test_what_cannot_be_chained_is_refused_before_anything_runs(env, words, says):
    assert hexe("new-session", "-d", "-s", "w", env=env).returncode == 0
    refused = hexe(*words, env=env)
    assert refused.returncode == 2 and says in refused.stderr, refused.stderr
    assert refused.stdout == ""  # not even the ls before it
    assert [s["name"] for s in json.loads(hexe("ls", "--json", env=env).stdout)] == ["w"]


def test_a_trailing_or_doubled_semicolon_is_an_empty_command_dropped(env):
    assert hexe("new-session", "-d", "-s", "w", env=env).returncode == 0
    done = hexe("split-right", "-P", ";", ";", "split-right", "-P", ";", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "3"]


def test_the_options_before_the_first_command_go_to_every_command():
    words = ["--log-level", "debug", "new", "-d", ";", "split-right", "\\;", ";", "ls"]
    assert _chain_parts(words) == [
        ["--log-level", "debug", "new", "-d"],
        ["--log-level", "debug", "split-right", ";"],
        ["--log-level", "debug", "ls"],
    ]


def test_which_commands_chain():
    assert _chains("split-right") and _chains("send-keys") and _chains("ls")
    assert _chains("new-session") and _chains("new") and _chains("kill-server")
    for command in ("run", "mux", "attach", "config", "doctor", "plugins", None):
        assert not _chains(command)


def test_an_option_value_that_looks_like_the_command_is_not_taken_for_it():
    # --log-file's value is "ls": the command is the second "ls"
    words = ["--log-file", "ls", "ls", ";", "list-panes"]
    assert _chain_parts(words)[1] == ["--log-file", "ls", "list-panes"]


def test_after_new_session_a_command_that_names_a_session_keeps_it(env):
    assert hexe("new-session", "-d", "-s", "other", env=env).returncode == 0
    done = hexe("new-session", "-d", "-s", "w", ";", "kill", "-s", "other", env=env)
    assert done.returncode == 0, done.stderr
    assert [s["name"] for s in json.loads(hexe("ls", "--json", env=env).stdout)] == ["w"]


def test_after_new_session_switch_client_is_still_about_this_terminal():
    from hexe.cli.chain import _goes_to_started
    from hexe.cli.parser import build_parser

    def parsed(*words: str):
        return build_parser(lean=True, only=words[0]).parse_args(list(words))

    assert _goes_to_started(parsed("split-right"))
    assert not _goes_to_started(parsed("split-right", "-s", "x"))
    assert not _goes_to_started(parsed("kill", "-s", "x"))
    assert not _goes_to_started(parsed("kill", "x"))
    assert _goes_to_started(parsed("kill"))
    assert not _goes_to_started(parsed("switch-client", "-t", "w"))
    assert not _goes_to_started(parsed("detach"))
    assert not _goes_to_started(parsed("ls"))


_WORDS = st.sampled_from(
    [";", "\\;", "ls", "split-right", "-s", "--log-level", "debug", "-t", "--"]
)


@given(st.lists(st.one_of(_WORDS, st.text(max_size=5)), max_size=30))
def test_splitting_any_words_keeps_every_other_word_in_order(words):
    split = _chain_parts(words)
    assert split and all(split[1:])  # no empty command after the first
    shared = len(split[0][: _command_index(split[0])])
    # every word but the separators comes back, in order, with \; as ;
    back = split[0] + [w for part in split[1:] for w in part[shared:]]
    assert back == [";" if w == "\\;" else w for w in words if w != ";"]


def test_a_chain_sends_its_requests_to_a_session_over_one_connection(env):
    assert hexe("new-session", "-d", "-s", "w", env=env).returncode == 0
    log = Path(env["XDG_STATE_HOME"]) / "hexe" / "hexe.log"

    def connections() -> int:
        return log.read_text().count('"client_connected"')

    # new-session's own check of the server's socket is logged when the server
    # gets to it, which may be after new-session returned: counted first
    wait_for(lambda: connections() >= 1, what="new-session's connection in the log")
    before = connections()
    words = ["list-panes", "-s", "w"]  # named: no look at the sockets for the default
    for _ in range(5):
        words += [";", "send-keys", "-s", "w", "x"]
    done = hexe(*words, env=env)
    assert done.returncode == 0, done.stderr
    wait_for(lambda: connections() > before, what="the chain's connection in the log")
    assert connections() == before + 1
