"""Commands: run an action of the registry, answer queries, reload the config.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

import os
import selectors
from typing import Any

from hexe import __version__
from hexe.commands.registry import ACTIONS, QUERIES, canonical, check_action
from hexe.config import (
    reload,
)
from hexe.config.contained import Preflight
from hexe.errors import HexeError
from hexe.mux.tabs import Tab
from hexe.server.state import (
    ActionError,
    Client,
    Pane,
    _comm,
    _command_pid,
    _readlink,
)
from hexe.wire import protocol


class CommandsRoom:
    """Commands: run an action of the registry, answer queries, reload the config."""

    def run_action(
        self, client: Client | None, name: str, args: list[Any], target: Pane | None = None
    ) -> Any:
        """Run an action (a key binding, a Lua function's answer, a command); its result.

        From a key, what goes wrong is shown on the status line; from a
        command (``target`` may name its pane) it is raised as
        :class:`ActionError` for the reply.
        """
        name = str(canonical(name))
        problem = check_action(name, args)
        if problem is not None:
            raise ActionError(problem)
        entry = ACTIONS[name]
        handler = getattr(self, entry.handler)
        self._target = target
        try:
            result = handler(client, *entry.fixed, *args)
        except (ActionError, HexeError):
            raise
        except OSError as exc:  # out of descriptors, memory...: this action fails, not the server
            self.log.warning("action_failed", action=name, error=str(exc))
            raise ActionError(f"{name} failed: {exc.strerror or exc}") from exc
        except Exception as exc:  # noqa: BLE001 - one command's fault stays with it
            self.log.exception("action_fault", action=name, args=args)
            raise ActionError(
                f"{name} failed: {type(exc).__name__}: {exc} (a bug in hexe: see the log)"
            ) from exc
        finally:
            self._target = None
        self.dirty = True
        return result

    def act(self, client: Client | None, name: str, args: list[Any]) -> None:
        """:meth:`run_action` from a key or Lua: problems go to the status line."""
        try:
            self.run_action(client, name, args)
        except ActionError as exc:
            self.show_message(str(exc))

    def target(self) -> Pane | None:
        """The pane an action is about: the command's ``-t``, else the focused one."""
        return self._target if self._target is not None else self.focused()

    def target_tab(self) -> tuple[Tab | None, Pane | None]:
        pane = self.target()
        if pane is None:
            return self.tabs.active, None
        return self.tabs.find(pane.id), pane

    def command(self, client: Client, request: dict[str, Any]) -> dict[str, Any] | None:
        """One COMMAND frame: an action or a query; the REPLY to send (None: sent later)."""
        name = canonical(request.get("action"))
        args = request.get("args") or []
        if not isinstance(args, list):
            return {"ok": False, "error": "args must be a list"}
        pane_id = request.get("pane")
        self.log.info("command", action=name, args=args, pane=pane_id, client_pid=client.pid)
        try:
            target = None
            if pane_id is not None:
                target = self.find_pane(pane_id)
            elif client.sandboxed and client.pane is not None:
                target = self.panes.get(client.pane)
            refusal = self.sandbox_refusal(client, str(name), target)
            if refusal is not None:
                self.log.warning(
                    "command_refused", action=name, pane=client.pane, client_pid=client.pid
                )
                return {"ok": False, "error": refusal}
            if name == "capture-pane":
                pane = target or self.focused()
                if pane is None:
                    return {"ok": False, "error": "there is no pane to capture"}
                return {"ok": True, "result": capture(pane.screen, args)}
            if name in QUERIES:  # list-panes -> self.list_panes()
                return {"ok": True, "result": getattr(self, str(name).replace("-", "_"))()}
            if name == "detach":
                return {"ok": True, "result": self.detach_command(client, args)}
            if name == "new-session":
                self.start_session(client, args)
                return None  # answered once its server listens (on_starter)
            if name == "reload-config":
                self.reload_waiters.append(client)
                self.reload_config()
                return None  # answered when the reload ends (finish_reload)
            if not isinstance(name, str) or name not in ACTIONS:
                check = check_action(name, args) or f"{name!r} is not an action"
                queries = ", ".join(QUERIES)
                return {"ok": False, "error": f"{check}; queries: {queries}"}
            result = self.run_action(client, name, args, target)
        except ActionError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "result": result}

    def find_pane(self, pane_id: Any) -> Pane:
        try:
            pane = self.panes.get(int(pane_id))
        except (TypeError, ValueError):
            pane = None
        if pane is None:
            known = ", ".join(str(p) for p in self.panes) or "none"
            raise ActionError(f"no pane {pane_id} in session {self.session}; panes: {known}")
        return pane

    def detach_command(self, client: Client, args: list[Any]) -> int:
        """``hexe detach``: the most recently active client, or every one (``all``)."""
        attached = [c for c in self.clients if c.attached and not c.closing]
        if args == ["all"]:
            chosen = attached
        elif args:
            raise ActionError(f"detach takes nothing, or all; got {' '.join(map(str, args))}")
        else:
            chosen = sorted(attached, key=lambda c: c.active_at)[-1:]
        if not chosen:
            raise ActionError(f"no client is attached to session {self.session}")
        for other in chosen:
            self.detach_client(other, f"detached (from session {self.session})")
        return len(chosen)

    def list_panes(self) -> list[dict[str, Any]]:
        out = []
        active = self.tabs.active
        for tab in self.tabs:
            for pane_id in tab.panes():
                pane = self.panes.get(pane_id)
                if pane is not None:
                    out.append(self.describe_pane(pane, tab, tab is active))
        return out

    def describe_pane(self, pane: Pane, tab: Tab, tab_active: bool) -> dict[str, Any]:
        spawn, plan = pane.spawn, pane.plan
        pid = spawn.pid if spawn is not None and pane.alive else None
        fg = None
        if pane.master is not None and pane.alive:
            try:
                fg = os.tcgetpgrp(pane.master)
            except OSError:
                fg = None
        command_pid = _command_pid(spawn) if pid else None
        cwd = _readlink(f"/proc/{fg or command_pid or pid}/cwd") if pid else None
        isolation = None
        if plan is not None:
            iso = plan.isolation
            isolation = {
                "profile": iso.profile,
                "summary": iso.summary(self.config.settings),
            }
            for entries in self.pm.hook.hexe_describe_isolation(plan=plan, spawn=spawn):
                isolation.update(entries or {})  # a plugin's: namespaces, network, limits
        return {
            "id": pane.id,
            "name": pane.spec.name,
            "tab": self.tabs.number(tab),
            "tab_name": tab.name or self._tab_title(tab),
            "active": tab_active and tab.current == pane.id,
            "focused": tab.current == pane.id,
            "float": pane.id in tab.floats,
            "title": pane.title,
            "state": pane.state,
            "exit_code": pane.exit_code,
            "message": pane.message,
            "cols": pane.size[0],
            "rows": pane.size[1],
            "pid": command_pid or pid,
            "init_pid": pid if command_pid else None,
            "foreground_pid": fg,
            "command": list(plan.argv) if plan is not None else None,
            "current_command": _comm(fg) if fg else None,
            "cwd": cwd,
            "isolation": isolation,
            "created": pane.created,
        }

    def capture_pane(self, pane_id: int | None = None, **options: Any) -> str:
        """``capture-pane`` (a query): the text of a pane, as :func:`capture` gives it."""
        pane = self.find_pane(pane_id) if pane_id is not None else self.focused()
        if pane is None:
            raise ActionError("there is no pane to capture")
        return capture(pane.screen, [options])

    def show_buffer(self) -> str:
        """``show-buffer`` (a query): the paste buffer as text."""
        return self.paste_buffer.decode(errors="replace")

    def session_info(self) -> dict[str, Any]:
        attached = [c for c in self.clients if c.attached and not c.closing]
        return {
            "name": self.session,
            "pid": os.getpid(),
            "tabs": len(self.tabs),
            "panes": len(self.panes),
            "clients": [
                {
                    "pid": c.pid,
                    "cols": c.cols,
                    "rows": c.rows,
                    "term": c.term,
                    "attached": c.attached_at,
                }
                for c in attached
            ],
            "cols": self.cols,
            "rows": self.rows,
            "created": self.created,
            "activity": self.activity,
            "version": __version__,
        }

    def reload_config(self) -> None:
        """Start a reload: init.lua runs first in a child, killed at its deadline.

        The loop keeps serving meanwhile; :meth:`finish_reload` applies the
        result (a second, in-process run that builds the callbacks) or keeps
        the running config and says why."""
        if self.config_check is not None:
            return  # one is running: its outcome answers every waiter
        try:
            check = Preflight(
                self.config.file,
                environ=self.environ,
                pm=self.pm,
                explicit=True if self.config.file is not None else None,
            )
        except OSError as exc:  # no process or pipe to spare: no reload, no crash
            self.finish_reload([f"cannot start the config check: {exc.strerror}"])
            return
        self.config_check = check
        self.sel.register(check.fd, selectors.EVENT_READ, ("config", check))
        self.log.info("config_reload_started", pid=check.pid)

    def on_config_check(self, check: Preflight, now: float | None = None) -> None:
        """The child answered (readable) or its deadline passed (``now`` given)."""
        ended = check.check_deadline(now) if now is not None else check.on_readable()
        if not ended:
            return
        self.sel.unregister(check.fd)
        self.config_check = None
        self.finish_reload(check.outcome or [])

    def finish_reload(self, errors: list[str]) -> None:
        error = self.apply_reload(errors)
        reply = {"ok": True, "result": None} if error is None else {"ok": False, "error": error}
        for client in self.reload_waiters:
            if client in self.clients:
                client.send_json(protocol.REPLY, reply)
                self.flush_client(client)
        self.reload_waiters.clear()

    def apply_reload(self, errors: list[str]) -> str | None:
        """None, or every error (the running config is kept)."""
        config = self.config
        if not errors:  # the child ran it cleanly: run it here, for its callbacks
            config, error = reload(self.config, environ=self.environ, pm=self.pm)
            errors = error.errors if error is not None else []
        if errors:
            self.show_message(f"config not reloaded: {errors[0]}", 8)
            self.log.warning("config_reload_failed", errors=errors)
            return "config not reloaded (the running one is kept):\n" + "\n".join(errors)
        self.config = config
        self.discard_ahead()  # made with the old settings
        self.ahead_failures = 0
        self.schedule_ahead()
        added = self.add_new_layout_tabs()
        self.show_message("config reloaded" + (f"; new tabs: {', '.join(added)}" if added else ""))
        return None

    def add_new_layout_tabs(self) -> list[str]:
        """Tabs of the reloaded layout whose name no open tab has are opened.

        Running panes are never touched: open tabs keep their panes and
        shape (a changed split in init.lua applies to new tabs, or after
        closing the tab).
        """
        names = {tab.name for tab in self.tabs if tab.name}
        added = []
        for spec in self.config.tabs:
            if not spec.name or spec.name in names:
                continue
            tab, specs = Tab.from_spec(spec, self.new_pane_id)
            self.tabs.new(tab, select=False)
            geometry = tab.geometry(*self.area)
            for pane_id in tab.panes():
                rect = geometry.panes.get(pane_id)
                cols, rows = (rect.cols, rect.rows) if rect else self.area
                self.start_pane(pane_id, specs[pane_id], cols, rows)
            added.append(spec.name)
            names.add(spec.name)
        if added:
            self.layout_panes()
        return added


#: The most a capture returns (a reply is one frame): take less with -S/-E.
CAPTURE_LIMIT = 2 << 20


def capture(screen: Any, args: list[Any]) -> str:
    """tmux's ``capture-pane -p``: lines ``start..end`` of a pane, as text.

    ``args`` is ``[{"start", "end", "escapes", "join"}]``. Line 0 is the top of
    the visible screen, negative numbers go back into the scrollback, ``"-"``
    is the start of the scrollback (for ``start``) or the end of the screen
    (for ``end``); the default is the visible screen. ``escapes`` renders
    colours and attributes as SGR sequences; ``join`` joins soft-wrapped
    lines (and keeps their trailing blanks).
    """
    options = args[0] if args and isinstance(args[0], dict) else {}
    history = screen.history_size

    def line_number(value: Any, default: int, dash: int) -> int:
        if value is None:
            return default
        if value == "-":
            return dash
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ActionError(
                f"capture-pane: {value!r} is not a line number (use 0 for the top of "
                "the screen, -N for scrollback, or -)"
            ) from None
        return max(-history, min(number, screen.rows - 1))

    first = line_number(options.get("start"), 0, -history)
    last = line_number(options.get("end"), screen.rows - 1, screen.rows - 1)
    out: list[str] = []
    size = 0
    joining = False
    for i in range(history + first, history + last + 1):
        line = screen.line(i)
        if options.get("escapes"):
            text = screen.render_line(i)
            if text.endswith("\x1b[0m"):
                text = text[:-4].rstrip(" ") + "\x1b[0m"
        else:
            text = line.text if options.get("join") and line.wrapped else line.text.rstrip(" ")
        if joining:
            out[-1] += text
        else:
            out.append(text)
        joining = bool(options.get("join")) and line.wrapped
        size += len(text) + 1
        if size > CAPTURE_LIMIT:
            raise ActionError(
                f"capture-pane: more than {CAPTURE_LIMIT >> 20} MiB of text; take fewer "
                "lines with -S and -E"
            )
    return "\n".join(out) + "\n"
