"""A command that only talks to a session's server loads neither the plugins
nor the log (structlog, pyte): most of such a call's time was imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import clean_env

PROBE = """
import json, sys
from hexe.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ["structlog", "pyte", "hexe.plugin.manager", "hexe.spawn", "hexe.terminal", "lupa",
         "hexe.isolation", "hexe.policy"]
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def run(tmp_path, *args: str) -> dict:
    env = clean_env(XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
        cwd="/", timeout=60,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_session_commands_load_no_plugins_and_no_log(tmp_path):
    for args in (["ls"], ["list-panes", "-s", "nope"], ["capture-pane", "-s", "nope"],
                 ["send-keys", "-s", "nope", "x"]):  # fmt: skip
        seen = run(tmp_path, *args)
        assert seen["code"] == 1, (args, seen)  # no such session: a clear error, exit 1
        assert seen["loaded"] == [], (args, seen)


def test_a_command_that_needs_plugins_still_loads_them(tmp_path):
    seen = run(tmp_path, "plugins")
    assert seen["code"] == 0 and "hexe.plugin.manager" in seen["loaded"]


def test_a_parser_built_for_one_command_parses_it_as_the_whole_one():
    from hexe.cli.parser import build_parser

    for argv in (["list-panes", "-s", "w", "--json"], ["capture-pane", "-t", "3", "-e", "-S", "-"],
                 ["swap-pane", "-U"], ["join-pane", "-t", "2", "1", "right"],
                 ["send-keys", "-t", "4", "ls", "Enter"], ["switchc", "-t", "other"]):  # fmt: skip
        whole = build_parser().parse_args(argv)
        one = build_parser(lean=True, only=argv[0]).parse_args(argv)
        assert vars(one) == vars(whole), argv


def test_attach_loads_no_plugins(tmp_path):
    """An attach joins a server that has its plugins: it loads none (~15 ms)."""
    seen = run(tmp_path, "attach", "nope")
    assert seen["code"] == 1, seen  # no such session
    assert "hexe.plugin.manager" not in seen["loaded"], seen


MAIN = """
from hexe.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
"""


def test_a_request_to_a_running_session_imports_only_what_it_uses(headless):
    """typing, dataclasses (inspect, ast, dis), pathlib (urllib.parse, ipaddress),
    socket's enums, shutil: ~18 ms of each call in a clean virtual environment.
    No third-party package is on the path: a request needs none."""
    from support import hexe
    from support.imports import imported_by_hexe

    assert hexe("new-session", "-d", "-s", "lean", env=headless).returncode == 0
    avoided = ["typing", "dataclasses", "inspect", "pathlib", "socket", "selectors", "shutil",
               "contextlib", "termios", "tty", "subprocess", "base64", "signal"]  # fmt: skip
    for args in (["ls"], ["list-panes", "-s", "lean"], ["capture-pane", "-s", "lean"],
                 ["send-keys", "-s", "lean", "echo", "Enter"], ["rename-tab", "-s", "lean", "x"],
                 ["split-right", "-s", "lean"], ["list-panes", "-s", "nope"],
                 ["list-panes", "--session=lean"], ["attach", "nope"]):  # fmt: skip
        by_hexe, code, done = imported_by_hexe(MAIN, avoided, args, env=headless)
        assert code == (1 if "nope" in args else 0), (args, code, done.stderr)
        assert by_hexe == [], (args, by_hexe)


def test_hexe_compiles_the_dataclass_methods_once_dataclasses_is_imported():
    """``import hexe`` no longer imports dataclasses; when something does, it is
    routed through hexe.methodcache's table all the same."""
    probe = (
        "import sys\n"
        "import hexe\n"
        "before = 'dataclasses' in sys.modules\n"
        "import dataclasses\n"
        "from hexe import methodcache\n"
        "left = any(isinstance(f, methodcache._OnImport) for f in sys.meta_path)\n"
        "print(before, dataclasses.__dict__.get('exec') is methodcache._exec, left)\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True,
        env={**clean_env(), "PYTHONPATH": root}, cwd="/", timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == ["False", "True", "False"], done.stderr  # and the finder left


def test_a_server_starts_without_modules_it_seldom_needs():
    """subprocess (with threading: only to start another session from inside
    one), base64 (OSC 52 goes through binascii) and the colour regular
    expressions (compiled at the first colour) are not on a new session's path
    to its first prompt."""
    from support.imports import imported_by_hexe

    probe = (
        "import hexe.server.server\n"
        "from hexe.terminal import cells\n"
        "code = cells._ESCAPE_PARAMS.compiled is None and bool(cells.sgr_effect('0;1;31'))\n"
        "code = code and cells._ESCAPE_PARAMS.compiled is not None\n"
    )
    seldom = ["subprocess", "threading", "base64", "shutil"]
    by_hexe, compiled_late, done = imported_by_hexe(probe, seldom, site_packages=True)
    assert by_hexe == [], by_hexe
    assert compiled_late is True, done.stderr


def test_a_plain_request_imports_neither_argparse_nor_json_nor_re(headless):
    """argparse (with gettext and locale), json and re (with enum, functools and
    collections) were ~13 ms of a request in a clean virtual environment, a
    third of it: the plain forms are read by hexe.cli.quick, the wire's JSON
    by _json's C functions. A form argparse reads still works."""
    from support import hexe
    from support.imports import imported_by_hexe

    assert hexe("new-session", "-d", "-s", "plain", env=headless).returncode == 0
    avoided = ["argparse", "json", "re", "enum", "functools", "collections", "gettext",
               "locale", "shlex", "difflib", "heapq"]  # fmt: skip
    for args in (["ls"], ["list-panes", "-s", "plain"], ["capture-pane", "-s", "plain", "-S", "-5"],
                 ["send-keys", "-s", "plain", "-t", "1", "echo", "Enter"],
                 ["rename-tab", "-s", "plain", "x"], ["split-right", "-s", "plain", "-P"],
                 ["list-panes", "-s", "nope"], ["attach", "nope"]):  # fmt: skip
        by_hexe, code, done = imported_by_hexe(MAIN, avoided, args, env=headless)
        assert code == (1 if "nope" in args else 0), (args, code, done.stderr)
        assert by_hexe == [], (args, by_hexe)
    # argparse's forms: the same request through it, and its errors
    by_hexe, code, done = imported_by_hexe(MAIN, ["argparse"], ["list-panes", "--session=plain"],
                                           env=headless)  # fmt: skip
    assert code == 0 and by_hexe == ["argparse (imported by hexe.cli.parser)"], (by_hexe, done)
    by_hexe, code, done = imported_by_hexe(MAIN, [], ["list-panes", "-s", "plain", "--jsn"],
                                           env=headless)  # fmt: skip
    assert code == 2 and "did you mean --json?" in done.stderr, done.stderr


def test_the_hexe_script_with_a_request_imports_no_re_at_all(headless):
    """bin/hexe, the script pip installs as ``hexe`` (pip's wrapper for an entry
    point imports re itself), run with a request: nothing at all imports re,
    json or argparse (-S: no .pth file of this machine preloads them)."""
    from support import hexe

    assert hexe("new-session", "-d", "-s", "script", env=headless).returncode == 0
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", str(root / "bin" / "hexe"),
         "list-panes", "-s", "script"],
        capture_output=True, text=True, cwd="/", timeout=60,
        env={**headless, "PYTHONPATH": f"{root}:{root / 'plugins'}"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("PANE") and "running" in done.stdout, done.stdout
    imported = {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "hexe.cli.quick" in imported
    assert not imported & {"re", "json", "argparse", "enum", "gettext"}, sorted(imported)


def test_hexe_run_imports_neither_argparse_nor_json_nor_pathlib(tmp_path):
    """argparse (with gettext and locale: its plain forms are read by
    hexe.cli.quick), json (the log, the spawn's status pipe and the config
    check's answer go through hexe.codec) and pathlib (with urllib.parse):
    ~9 ms of a ``hexe run`` in a clean virtual environment. With an init.lua
    and without one; what argparse reads still works."""
    from support.imports import imported_by_hexe

    config = tmp_path / "config"
    (config / "hexe").mkdir(parents=True)
    (config / "hexe" / "init.lua").write_text('hexe.defaults { profile = "minimal" }\n')
    avoided = ["argparse", "json", "pathlib", "urllib", "gettext", "locale", "difflib"]
    for home in (tmp_path / "none", config):
        env = clean_env(XDG_CONFIG_HOME=str(home), XDG_STATE_HOME=str(tmp_path / "state"),
                        XDG_RUNTIME_DIR=str(tmp_path))  # fmt: skip
        for args in (["run", "--profile", "full", "--", "sh", "-c", "exit 3"],
                     ["run", "--memory", "64M", "true"], ["run", "--", "true"]):  # fmt: skip
            by_hexe, code, done = imported_by_hexe(MAIN, avoided, args, env=env, site_packages=True)
            assert code == (3 if "exit 3" in args else 0), (args, code, done.stderr)
            assert by_hexe == [], (home, args, by_hexe)
    by_hexe, code, done = imported_by_hexe(MAIN, ["argparse"], ["run", "--profile=none", "true"],
                                           env=env, site_packages=True)  # fmt: skip
    assert code == 0 and by_hexe == ["argparse (imported by hexe.cli.parser)"], (by_hexe, done)
    by_hexe, code, done = imported_by_hexe(MAIN, [], ["run", "--memroy", "1G", "true"], env=env,
                                           site_packages=True)  # fmt: skip
    assert code == 125 and "did you mean --memory?" in done.stderr, done.stderr


def test_a_new_session_s_server_keeps_no_argparse_ipaddress_or_pathlib(headless):
    """The process that starts a session becomes its server and keeps every
    module it imported: argparse (with gettext and locale) read its command
    line, the network helper's ipaddress came with the plugins, pathlib (with
    urllib.parse) named the socket (~1.4 MiB of every server). A form
    argparse reads still starts a session."""
    from support import hexe
    from support.imports import imported_by_hexe

    avoided = ["argparse", "gettext", "locale", "ipaddress", "pathlib", "urllib"]
    for args in (["new-session", "-d", "-s", "kept"], ["new", "-d"]):
        by_hexe, code, done = imported_by_hexe(MAIN, avoided, args, env=headless,
                                               site_packages=True)  # fmt: skip
        assert code == 0 and by_hexe == [], (args, by_hexe, done.stderr)
    by_hexe, code, done = imported_by_hexe(MAIN, ["argparse"], ["new-session", "-d", "-sother"],
                                           env=headless, site_packages=True)  # fmt: skip
    assert code == 0 and by_hexe == ["argparse (imported by hexe.cli.parser)"], (by_hexe, done)
    listed = hexe("ls", env=headless).stdout
    assert "kept" in listed and "other" in listed, listed
