"""Documentation that must stay true of the code."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hexe.plugin import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def spec_names() -> set[str]:
    return {name for name in dir(hookspecs) if name.startswith("hexe_")}


def test_plugins_doc_names_every_hook_and_no_other():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    table = set(re.findall(r"^\| `(hexe_\w+)\(", doc, re.MULTILINE))
    assert table == spec_names()


def test_plugins_doc_hook_table_follows_hookspecs_order_arguments_and_firstresult():
    import inspect

    doc = (ROOT / "docs" / "plugins.md").read_text()
    rows = re.findall(r"^\| `(hexe_\w+)\(([^)]*)\)` \|([^\n]*)$", doc, re.MULTILINE)
    specs = sorted(
        (getattr(hookspecs, name) for name in spec_names()),
        key=lambda fn: fn.__code__.co_firstlineno,
    )
    assert [name for name, _, _ in rows] == [fn.__name__ for fn in specs]
    for (name, args, rest), fn in zip(rows, specs, strict=True):
        params = [p for p in inspect.signature(fn).parameters]
        assert [a.strip() for a in args.split(",") if a.strip()] == params, name
        firstresult = bool(fn.hexe_spec.get("firstresult"))
        assert ("firstresult" in rest) == firstresult, name


def test_every_hookspec_has_a_docstring():
    for name in spec_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]' && python3 -m pytest -n auto" in readme
    assert "python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'" in ci
    assert "python3 -m pytest -n auto" in ci
    assert "pytest-xdist" in (ROOT / "pyproject.toml").read_text()


def test_every_command_has_help():
    for args in (
        [],
        ["run"],
        ["doctor"],
        ["plugins"],
        ["mux"],
        ["attach"],
        ["config"],
        ["config", "check"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "hexe", *args, "--help"], capture_output=True, text=True
        )
        assert result.returncode == 0, args
        assert "usage: hexe" in result.stdout


def _commands() -> list[str]:
    from hexe.cli.parser import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return list(sub.choices)


def test_cli_doc_names_every_command():
    doc = (ROOT / "docs" / "cli.md").read_text()
    missing = [c for c in _commands() if f"`hexe {c}" not in doc and f"`{c}`" not in doc]
    assert missing == []


HELP_OF_EACH = """
import contextlib, io, json, sys
from hexe.cli import main
out = {}
for name in sys.argv[1:]:
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        try:
            code = main([name, "--help"])
        except SystemExit as exc:
            code = exc.code
    out[name] = [code, text.getvalue()]
print(json.dumps(out))
"""


def test_every_session_command_has_help():
    # one process for every command (a process each took 20 s under load)
    result = subprocess.run(
        [sys.executable, "-c", HELP_OF_EACH, *_commands()], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for name, (code, text) in json.loads(result.stdout).items():
        assert code in (0, None) and "usage: hexe" in text, name


def test_version():
    from hexe import __version__

    result = subprocess.run(
        [sys.executable, "-m", "hexe", "--version"], capture_output=True, text=True
    )
    assert result.stdout.strip() == f"hexe {__version__}"


def _readme_init_lua() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```lua\n(.*?)```", readme, re.DOTALL) if "hexe.layout" in b]
    assert len(blocks) == 1, "the README has one init.lua example"
    return blocks[0]


def _check_on_a_bare_machine(path: Path, home: Path, **env: str):
    """``hexe config check PATH`` for a user with an empty home: no ~/.ssh, no EDITOR."""
    from support import clean_env, hexe

    environ = clean_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **env)
    environ.pop("EDITOR", None)
    environ["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # nvim or not: the example must not care
    return hexe("config", "check", str(path), env=environ)


def test_the_readme_init_lua_passes_config_check_on_a_machine_without_nvim_or_ssh(tmp_path):
    example = tmp_path / "init.lua"
    example.write_text(_readme_init_lua())
    home = tmp_path / "home"
    home.mkdir()
    result = _check_on_a_bare_machine(example, home)
    assert result.returncode == 0, result.stderr
    assert '"editor"' in result.stdout and '"untrusted"' in result.stdout
    # what the README says next: a mask where the directory is missing is an error
    masked = _readme_init_lua().replace('{ ro = "~" }', '{ ro = "~" }, { mask = "~/.ssh" }')
    example.write_text(masked)
    result = _check_on_a_bare_machine(example, home)
    assert result.returncode == 1
    line = 1 + [i for i, text in enumerate(masked.splitlines()) if '"untrusted"' in text][0]
    assert f"init.lua:{line}: tabs[0].panes[1].isolation.mounts[2]" in result.stderr
    assert "home/.ssh does not exist" in result.stderr
    (home / ".ssh").mkdir()
    assert _check_on_a_bare_machine(example, home).returncode == 0


def test_the_shipped_init_lua_passes_config_check(tmp_path):
    result = _check_on_a_bare_machine(ROOT / "config" / "init.lua", tmp_path)
    assert result.returncode == 0, result.stderr


def test_no_page_speaks_of_the_projects_own_paperwork():
    """The docs speak of the product: not of the design brief ("the seed",
    pod-isolation.md) or of issue numbers a reader cannot look up."""
    pages = [ROOT / "README.md", ROOT / "bench" / "README.md", ROOT / "config" / "init.lua"]
    pages += sorted((ROOT / "docs").glob("*.md"))
    for page in pages:
        text = page.read_text()
        for word in (r"\bseed\b", r"pod-isolation", r"\bissue \d", r"\(issue"):
            found = re.search(word, text, re.IGNORECASE)
            assert not found, (
                f"{page.name}: {text[max(found.start() - 40, 0) : found.end() + 40]!r}"
            )


@pytest.mark.kernel
def test_the_readme_tours_full_sandbox_sees_what_the_readme_says():
    from support import hexe

    if shutil.which("ps") is None:
        pytest.skip("ps (procps) is not installed")
    script = "ps -e -o comm=; hostname; ls /sys/class/net; ls -A /tmp; echo end"
    result = hexe("run", "--profile", "full", "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["hexe-init", "sh", "ps", "hexe", "lo", "end"]
