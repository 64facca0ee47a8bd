"""``hexe config check``: every pane's effective settings and where each came from.

Besides what loading refuses, it reports what would fail when the pane
starts, seen as the sandbox will see it: a command not found on the pane's
``PATH`` and a ``cwd`` that does not exist, with paths mapped to the host by
the plugin that answers ``hexe_sandbox_files`` (voidbox: a fresh ``/tmp``,
masks, binds and a ``rootfs``), and whatever the plugins report for the pane
(``hexe_check_pane``; voidbox: a bind whose source is missing, a ``mask`` of
a path that does not exist).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import sys
from collections.abc import Mapping
from typing import Any

import pluggy

from hexe.commands.registry import DEFAULT_BINDINGS
from hexe.config import describe_isolation, pane_isolation
from hexe.config.contained import load_contained
from hexe.config.loader import ConfigError
from hexe.config.model import Config, PaneSpec
from hexe.isolation import InvalidSettings, Layer, resolve


def _command(config: Config, pane: PaneSpec) -> str:
    argv = pane.command or (config.options.shell,)
    if len(argv) == 3 and argv[1] == "-c" and argv[0] == config.options.shell:
        return argv[2]
    return " ".join(argv)


def check(
    config: Config, environ: Any, pm: pluggy.PluginManager | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The report as data, and the errors met resolving the panes (and, through
    the plugins of ``pm``, what would fail when a pane starts)."""
    errors: list[str] = []
    tabs = []
    for tab in config.tabs:
        panes = []
        for pane in tab.panes():
            entry: dict[str, Any] = {
                "path": pane.path,
                "where": pane.where,
                "name": pane.name,
                "title": pane.title,
                "command": _command(config, pane),
                "cwd": pane.cwd,
            }
            try:
                iso = pane_isolation(config, pane, environ)
            except (ConfigError, InvalidSettings) as exc:
                errors.extend(getattr(exc, "errors", None) and _texts(exc) or [exc.message])
                continue
            errors.extend(spawn_problems(config, pane, iso, environ, pm))
            rows = describe_isolation(iso, config.settings)
            entry["isolation"] = [{"setting": s, "value": v, "from": f} for s, v, f in rows]
            panes.append(entry)
        tabs.append({"path": tab.path, "where": tab.where, "name": tab.name, "panes": panes})
    report = {
        "config": config.path,
        # every option (hexe/config/model.py), so a new one is shown without a change here
        "options": {
            f.name: getattr(config.options, f.name) for f in dataclasses.fields(config.options)
        },
        "profiles": {
            name: {
                **_decided_by(config, name),
                "where": p.where or "built-in",
                "plugin": p.plugin or None,
                "settings": dict(p.settings),
            }
            for name, p in config.profiles.items()
        },
        "keys": {
            " ".join(keys): {
                "action": b.action if isinstance(b.action, str) else "<lua function>",
                "args": list(b.args),
                "where": b.where,
            }
            for keys, b in config.keys.items()
        },
        "callbacks": {e: [c.where for c in cbs] for e, cbs in config.callbacks.items()},
        "tabs": tabs,
        "warnings": [error_json(w) for w in config.warnings],
    }
    return report, errors


def _decided_by(config: Config, profile: str) -> dict[str, Any]:
    """What ``profile`` decides, setting by setting (namespaces, caps, ...), as a
    ``pane_spawn`` callback would see it; empty when the profile does not resolve."""
    from hexe.config import _effective

    try:
        iso = resolve(
            [Layer("check", {"profile": (profile, "profile")})], config.profiles, config.settings
        )
    except InvalidSettings:
        return {}
    from hexe.plugin.settings import default_settings

    settings = config.settings if config.settings is not None else default_settings()
    effective = _effective(iso, settings)
    return {
        k: v for k, v in effective.items() if k in settings and settings[k].follows_profile()
    }


# words a shell runs itself: nothing to find on PATH
_SHELL_WORDS = frozenset(
    "exec cd echo printf test [ true false exit export set unset read eval trap wait "
    "if for while until case { ( ! . : source command builtin type ulimit umask".split()
)


class _View:
    """The file system as the pane's sandbox will see it, for a few checks: as
    the plugin that answers ``hexe_sandbox_files`` says, else the host's."""

    def __init__(self, iso: Any, pm: pluggy.PluginManager | None) -> None:
        self.files = pm.hook.hexe_sandbox_files(isolation=iso) if pm is not None else None
        #: some plugin changes what the sandbox sees: messages say "inside the sandbox"
        self.inside = self.files is not None

    def host_path(self, path: str) -> str | None:
        """Where ``path`` (inside) is on the host; None when the sandbox hides it."""
        if self.files is None:
            return os.path.normpath(path)
        return self.files.host_path(path)

    def find(self, name: str, search: str) -> str | None:
        candidates = [name] if "/" in name else [os.path.join(d or ".", name) for d in search]
        for candidate in candidates:
            host = self.host_path(candidate)
            if host and os.path.isfile(host) and os.access(host, os.X_OK):
                return candidate
        return None


def _program(config: Config, pane: PaneSpec) -> str | None:
    """The program a pane runs: a list's first word, or a shell command's first
    plain word (not a shell builtin); None when only the shell can tell."""
    argv = pane.command or (config.options.shell,)
    if len(argv) == 3 and argv[1] == "-c" and argv[0] == config.options.shell:
        try:
            words = shlex.split(argv[2])
        except ValueError:
            return argv[0]
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words.pop(0)  # VAR=value before the command
        if words and words[0] == "exec":
            words.pop(0)
        if not words or words[0] in _SHELL_WORDS or not re.fullmatch(r"[\w./+-]+", words[0]):
            return argv[0]
        return words[0]
    return argv[0]


def spawn_problems(
    config: Config,
    pane: PaneSpec,
    iso: Any,
    environ: Mapping[str, str],
    pm: pluggy.PluginManager | None = None,
) -> list[str]:
    """What would make this pane fail to start, one sentence each, with its file:line:
    the plugins' own findings (``hexe_check_pane``: voidbox's binds and masks),
    then the ``cwd`` and the command, looked up as the sandbox will see them
    (``hexe_sandbox_files``)."""
    problems = []
    if pm is not None:
        for found in pm.hook.hexe_check_pane(pane=pane, isolation=iso):
            problems.extend(found or ())
    view = _View(iso, pm)
    if pane.cwd is not None:
        host = view.host_path(pane.cwd)
        if host is None or not os.path.isdir(host):
            problems.append(
                f"{pane.where}: {pane.path}.cwd={pane.cwd} does not exist"
                + (" inside the sandbox" if host != pane.cwd else "")
            )
    env = {**environ, **pane.env}
    search = env.get("PATH", os.defpath).split(os.pathsep)
    program = _program(config, pane)
    if program and view.find(program, search) is None:
        inside = view.inside
        if "/" in program:
            missing = f"{program} does not exist" + (" inside the sandbox" if inside else "")
        else:
            seen = "the sandbox's" if inside else "the pane's"
            missing = f"{program} is not found on {seen} PATH ({':'.join(search)})"
        problems.append(
            f"{pane.where}: {pane.path}.command: {missing}; the pane would fail with exit 127"
        )
    return problems


# "init.lua:3: ...", or Lua's own "syntax error: init.lua:3: ..."
_WHERE = re.compile(
    r"^(?P<kind>syntax error: )?(?P<file>[^:\n]+):(?P<line>\d+): (?P<message>.*)$", re.S
)


def error_json(error: str) -> dict[str, Any]:
    """``{"file", "line", "message"}`` of one error (file and line None when unknown)."""
    match = _WHERE.match(error)
    if match is None:
        return {"file": None, "line": None, "message": error}
    message = (match["kind"] or "") + match["message"]
    return {"file": match["file"], "line": int(match["line"]), "message": message}


def _texts(exc: Exception) -> list[str]:
    errors = getattr(exc, "errors", [])
    return [e if isinstance(e, str) else e.message for e in errors]


def _listed(value: Any) -> str:
    """A raw setting value as written: a list as its items, comma separated."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def render(report: dict[str, Any]) -> str:
    lines = [f"config: {report['config'] or 'none found; built-in defaults'}"]
    opts = report["options"]
    lines.append("options: " + " ".join(f"{k}={v}" for k, v in opts.items()))
    custom = {n: p for n, p in report["profiles"].items() if p["where"] != "built-in"}
    for name, p in custom.items():
        settings = " ".join(f"{k}={_listed(v)}" for k, v in p["settings"].items())
        lines.append(f"profile {name}: {settings}  ({p['where']})")
    defaults = {" ".join(k): (a, list(args)) for k, (a, args) in DEFAULT_BINDINGS.items()}
    changed = [
        f"{k}={' '.join(str(x) for x in [v['action'], *v['args']])}"
        for k, v in report["keys"].items()
        if defaults.get(k) != (v["action"], v["args"])
    ]
    removed = [k for k in defaults if k not in report["keys"]]
    if removed:
        changed.append(f"unbound: {', '.join(removed)}")
    lines.append(
        f"keys: {len(report['keys'])} bindings"
        + (f"; from init.lua: {', '.join(changed)}" if changed else "")
    )
    for event, wheres in report["callbacks"].items():
        lines.append(f"on {event}: {', '.join(wheres)}")
    for t, tab in enumerate(report["tabs"]):  # from 0, as on the status line
        lines.append("")
        name = f' "{tab["name"]}"' if tab["name"] else ""
        lines.append(f"tab {t}{name}  ({tab['where']})")
        for pane in tab["panes"]:
            label = pane["name"] or pane["title"] or ""
            shown = f' "{label}"' if label else ""
            lines.append(f"  {pane['path']}{shown}  ({pane['where']})")
            lines.append(f"    {'command':<12} {pane['command']}")
            if pane["cwd"]:
                lines.append(f"    {'cwd':<12} {pane['cwd']}")
            rows = pane["isolation"]
            width = max(len(str(r["value"])) for r in rows)
            for row in rows:
                lines.append(f"    {row['setting']:<12} {row['value']:<{width}}  {row['from']}")
    return "\n".join(lines)


def check_command(path: str | None, pm: Any, *, as_json: bool = False) -> int:
    """Print the report (or, with ``as_json``, JSON: the report, or the errors);
    1 when there is an error."""
    environ = os.environ
    try:
        config = load_contained(path, environ=environ, pm=pm)  # a hang: stopped at a deadline
    except ConfigError as exc:
        return _fail(_texts(exc) or [exc.message], as_json)
    report, errors = check(config, environ, pm)
    for warning in config.warnings:
        print(f"config warning: {warning}", file=sys.stderr)
    if errors:
        return _fail(errors, as_json)
    print(json.dumps(report, indent=2) if as_json else render(report))
    return 0


def _fail(errors: list[str], as_json: bool) -> int:
    if as_json:
        print(json.dumps({"ok": False, "errors": [error_json(e) for e in errors]}, indent=2))
    for error in errors:
        print(f"config error: {error}", file=sys.stderr)
    return 1
