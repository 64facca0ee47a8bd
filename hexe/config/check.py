"""``hexe config check``: every pane's effective settings and where each came from."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from hexe.actions import DEFAULT_BINDINGS
from hexe.config import describe_isolation, pane_isolation
from hexe.config.contained import load_contained
from hexe.config.loader import ConfigError
from hexe.config.model import Config, PaneSpec
from hexe.isolation import NAMESPACES, InvalidSettings


def _command(config: Config, pane: PaneSpec) -> str:
    argv = pane.command or (config.options.shell,)
    if len(argv) == 3 and argv[1] == "-c" and argv[0] == config.options.shell:
        return argv[2]
    return " ".join(argv)


def check(config: Config, environ: Any) -> tuple[dict[str, Any], list[str]]:
    """The report as data, and the errors met resolving the panes."""
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
            entry["isolation"] = [
                {"setting": s, "value": v, "from": f} for s, v, f in describe_isolation(iso)
            ]
            panes.append(entry)
        tabs.append({"path": tab.path, "where": tab.where, "name": tab.name, "panes": panes})
    report = {
        "config": config.path,
        "options": {
            "shell": config.options.shell,
            "scrollback": config.options.scrollback,
            "prefix": config.options.prefix,
            "remain_on_exit": config.options.remain_on_exit,
            "mouse": config.options.mouse,
            "client_timeout": config.options.client_timeout,
            "spawn_ahead": config.options.spawn_ahead,
        },
        "profiles": {
            name: {
                "namespaces": [ns for ns in NAMESPACES if ns in p.namespaces],
                "where": p.where or "built-in",
                "settings": {k: v for k, (v, _) in p.settings.items()},
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
    }
    return report, errors


def _texts(exc: Exception) -> list[str]:
    errors = getattr(exc, "errors", [])
    return [e if isinstance(e, str) else e.message for e in errors]


def render(report: dict[str, Any]) -> str:
    lines = [f"config: {report['config'] or 'none found; built-in defaults'}"]
    opts = report["options"]
    lines.append("options: " + " ".join(f"{k}={v}" for k, v in opts.items()))
    custom = {n: p for n, p in report["profiles"].items() if p["where"] != "built-in"}
    for name, p in custom.items():
        settings = " ".join(f"{k}={v}" for k, v in p["settings"].items())
        lines.append(
            f"profile {name}: {' '.join(p['namespaces'])} {settings}  ({p['where']})".rstrip()
        )
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
    for t, tab in enumerate(report["tabs"], start=1):
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
            width = max(len(str(r["value"])) for r in rows if r["setting"] != "namespaces")
            for row in rows:
                if row["setting"] == "namespaces":  # the profile's, no layer of its own
                    lines.append(f"    {'namespaces':<12} {row['value']}")
                else:
                    lines.append(f"    {row['setting']:<12} {row['value']:<{width}}  {row['from']}")
    return "\n".join(lines)


def check_command(path: str | None, pm: Any, *, as_json: bool = False) -> int:
    environ = os.environ
    try:
        config = load_contained(path, environ=environ, pm=pm)  # a hang: stopped at a deadline
    except ConfigError as exc:
        for error in exc.errors:
            print(f"config error: {error}", file=sys.stderr)
        return 1
    report, errors = check(config, environ)
    if errors:
        for error in errors:
            print(f"config error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if as_json else render(report))
    return 0
