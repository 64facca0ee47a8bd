"""Panes: start, size, read and write each pane's PTY; reap what ended.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

import errno
import fcntl
import os
import selectors
import signal
import struct
import termios
import time
from dataclasses import replace
from typing import Any

from hexe import spawn as spawn_mod
from hexe.config import (
    ConfigError,
    plan_for,
    run_exit_callbacks,
)
from hexe.config.model import PaneSpec
from hexe.errors import HexeError, SetupError
from hexe.isolation import InvalidSettings
from hexe.mux.tabs import Tabs
from hexe.procwait import continue_if_stopped, waitpid_resuming
from hexe.server.state import (
    ECHO_WINDOW,
    PANE_INPUT_LIMIT,
    READ_BATCH,
    READ_SIZE,
    TERM,
    UNFOCUSED_BATCH,
    UNFOCUSED_REST,
    Pane,
    current_directory,
    feed_contained,
)

#: The most one read of a PTY's master returns (the line discipline's buffer).
PTY_READ_MOST = 4096


class PanesRoom:
    """Panes: start, size, read and write each pane's PTY; reap what ended."""

    def layout_panes(self) -> None:
        """Give every pane its rectangle, resizing screens and PTYs (SIGWINCH) that changed.

        Panes of tabs in the background are sized too, so their programs
        already have the right size when the tab is shown; hidden panes (a
        zoomed tab, a window too small) keep the size they had.
        """
        for tab in self.tabs:
            for pane_id, rect in tab.geometry(*self.area).panes.items():
                pane = self.panes.get(pane_id)
                if pane is not None:
                    self.resize_pane(pane, rect.cols, rect.rows)
        self.layout_floats()
        self.dirty = True

    def resize_pane(self, pane: Pane, cols: int, rows: int) -> None:
        if pane.size == (cols, rows):
            return
        pane.size = (cols, rows)
        pane.screen.resize(cols, rows)
        if pane.master is not None:
            winsize = struct.pack("HHHH", rows, cols, 0, 0)
            try:
                fcntl.ioctl(pane.master, termios.TIOCSWINSZ, winsize)
            except OSError:
                pass

    def new_pane_id(self) -> int:
        pane_id = self.next_pane_id
        self.next_pane_id += 1
        return pane_id

    def start_pane(self, pane_id: int, spec: PaneSpec, cols: int, rows: int) -> Pane:
        # The pane (and its screen) is made after the fork: the child sets itself up meanwhile.
        cols, rows = max(cols, 1), max(rows, 1)

        def make_pane(plan: Any = None) -> Pane:
            options = self.config.options
            pane = Pane(pane_id, spec, cols, rows, options.scrollback, options.answer_checksums)
            self.panes[pane_id] = pane
            if plan is not None:
                pane.plan = plan
                pane.isolation = plan.isolation.summary(self.config.settings)
            return pane

        log = self.log.bind(pane=pane_id)
        try:
            plan = self.pane_plan(spec, str(pane_id), self.known_isolation(spec))
        except (ConfigError, InvalidSettings) as exc:
            pane = make_pane()
            self.pane_failed(pane, exc.message, None)
            return pane
        env = dict(plan.env)
        env.update(
            {
                "TERM": TERM,
                "COLORTERM": "truecolor",
                "HEXE_SESSION": self.session,
                "HEXE_PANE": str(pane_id),
            }
        )
        env.pop("TMUX", None)
        plan = replace(plan, env=env)
        warnings: list[str] = []
        self.schedule_ahead()
        adopted = self.adopt_ahead(plan, cols, rows, warnings)
        if adopted is not None:
            spawn, master = adopted
        else:
            fds: list[int] = []
            try:
                master, slave = os.openpty()
                fds += (master, slave)
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                spawn = spawn_mod.start(
                    plan, self.pm, terminal_fd=slave, on_warning=warnings.append
                )
            except Exception as exc:  # noqa: BLE001 - the pane fails and says why; not the server
                for fd in fds:
                    os.close(fd)
                pane = make_pane(plan)
                if isinstance(exc, HexeError):
                    pane.exit_code = getattr(exc, "exit_code", None)
                    self.pane_failed(pane, exc.message, exc.hint)
                elif isinstance(exc, OSError):  # out of descriptors, of ptys, of memory
                    log.warning("pane_spawn_failed", error=str(exc))
                    self.pane_failed(pane, f"cannot start: {exc.strerror or exc}", None)
                else:  # a bug in hexe or in a plugin's hook
                    log.exception("pane_spawn_fault")
                    self.pane_failed(
                        pane,
                        f"failed to start: {type(exc).__name__}: {exc}",
                        "a bug in hexe or in one of its plugins: the log has the traceback",
                    )
                return pane
            os.close(slave)
        pane = make_pane(plan)
        os.set_blocking(master, False)
        assert spawn.status_fd is not None
        os.set_blocking(spawn.status_fd, False)
        pane.master = master
        pane.spawn = spawn
        pane.state = "starting"
        # its first output (the prompt) is drawn at once, as an echo is, not at the next slot
        pane.typed_at = time.monotonic()
        for warning in warnings:
            self.show_message(f"pane {pane_id}: {warning}")
        self.sel.register(master, selectors.EVENT_READ, ("pty", pane))
        assert spawn.status_fd is not None
        self.sel.register(spawn.status_fd, selectors.EVENT_READ, ("status", pane))
        log.info(
            "pane_spawning",
            profile=plan.isolation.profile,
            argv=list(plan.argv),
            cols=cols,
            rows=rows,
        )
        return pane

    def known_isolation(self, spec: PaneSpec) -> Any:
        """The isolation worked out for the prepared sandbox, when ``spec`` is
        the pane it was prepared for (its place in the layout aside) and no
        ``pane_spawn`` callback could make it differ this time; None: work
        it out."""
        known = self.ahead_spec
        if self.ahead is None or known is None or self.config.callbacks.get("pane_spawn"):
            return None
        aside = {"path": "", "where": "", "cwd": None}  # the isolation does not depend on them
        if replace(spec, **aside) != replace(known, **aside):
            return None
        return self.ahead.plan.isolation

    def pane_plan(self, spec: PaneSpec, label: str, isolation: Any = None) -> Any:
        """The spawn plan of a pane; its unique name (and cgroup) says ``label``."""
        # os.urandom, not secrets: that loads OpenSSL (hmac), ~3 MB of the server's RSS
        name = f"{self.session}-{label}-{os.getpid()}-{os.urandom(3).hex()}"
        return plan_for(
            self.config, spec, self.environ, kind="pane", name=name, isolation=isolation
        )

    def pane_failed(self, pane: Pane, message: str, hint: str | None) -> None:
        """The pane's command could not start: it stays, with why (and its exit
        status), like tmux's remain-on-exit notice; ``list-panes`` shows it too."""
        pane.state = "failed"
        pane.message = message
        pane.notice = "isolation failed" if "isolation" in message else "failed to start"
        if pane.exit_code:
            pane.notice += f", exit {pane.exit_code}"
        text = f"\x1b[31mhexe: {message}\x1b[0m\r\n"
        if hint:
            text += f"hexe: hint: {hint}\r\n"
        status = f"exit status {pane.exit_code}" if pane.exit_code else "not started"
        text += f"\r\n[pane {pane.id} failed to start: {status}; prefix x closes it]\r\n"
        feed_contained(pane.screen, text.encode(), self.log, pane.id)
        self.log.error("pane_failed", pane=pane.id, message=message, exit_code=pane.exit_code)
        self.dirty = True

    def on_status(self, pane: Pane) -> None:
        """Read what the pane's status pipe holds (it is non-blocking); finish at its end."""
        spawn = pane.spawn
        assert spawn is not None and spawn.status_fd is not None
        fd = spawn.status_fd
        warnings_before = len(spawn.warnings)
        done = False
        while not done:
            try:
                done = spawn.read_status()
            except BlockingIOError:
                break
        if not done:
            for warning in spawn.warnings[warnings_before:]:
                self.show_message(f"pane {pane.id}: {warning}")
            return
        self.sel.unregister(fd)
        try:
            spawn.finish_start()
        except SetupError as exc:
            self.close_pty(pane)
            pane.exit_code = exc.exit_code
            self.pane_failed(pane, exc.message, exc.hint)
            return
        for warning in spawn.warnings[warnings_before:]:
            self.show_message(f"pane {pane.id}: {warning}")
        pane.state = "running"
        self.log.info("pane_spawned", pane=pane.id, child_pid=spawn.pid, setup_ms=spawn.setup_ms)
        self.reap()

    def on_pty(self, pane: Pane) -> None:
        assert pane.master is not None
        was_dirty = self.dirty
        chunks = []
        size = 0
        ended = False
        batch = READ_BATCH
        now = time.monotonic()
        focused = pane is self.focused()
        if not pane.typed_at and any(
            now - p.typed_at < ECHO_WINDOW for p in self.panes.values() if p.typed_at
        ):
            batch = 1  # another pane owes an echo: one read (at most 4 KiB)
        elif not focused:
            batch = UNFOCUSED_BATCH
        # an echo owed: a short read emptied the PTY (one read returns at most
        # 4 KiB), so no second read only to be told so (the selector tells of more)
        owed = pane.typed_at and now - pane.typed_at < ECHO_WINDOW
        while size < batch:
            try:
                data = os.read(pane.master, READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                ended = True
                break
            chunks.append(data)
            size += len(data)
            if owed and len(data) < PTY_READ_MOST:
                break
        if chunks:
            feed_contained(pane.screen, b"".join(chunks), self.log, pane.id)
            self.pane_clipboard(pane)  # OSC 52 (hexe/server/clipboard.py)
        if ended:
            # every slave end is closed: the process tree is (almost) gone
            self.close_pty(pane)
            self.dirty = True
            return
        if not chunks:
            return
        if size >= batch and not focused and UNFOCUSED_REST > 0:
            # a flood beside the focused pane: leave it unread as long as it took
            done = time.monotonic()
            pane.rest_until = done + (done - now) * UNFOCUSED_REST
            self.resting.add(pane)
            self.watch_pty(pane)
        if owed:
            self.echo = True  # once per key: what follows is paced again
            # nothing but this output since the last frame: its view may be drawn again
            self.echo_clean = not was_dirty
            pane.typed_at = 0.0
        responses = pane.screen.take_responses()
        if responses:
            self.write_pane(pane, responses)
        self.dirty = True

    def close_pty(self, pane: Pane) -> None:
        if pane.master is None:
            return
        try:
            self.sel.unregister(pane.master)
        except (KeyError, ValueError):
            pass
        os.close(pane.master)
        pane.master = None

    def write_pane(self, pane: Pane, data: bytes) -> None:
        if pane.master is None or not pane.alive:
            return
        if pane.pending_input:
            if len(pane.pending_input) + len(data) <= PANE_INPUT_LIMIT:
                pane.pending_input += data
            return
        try:
            written = os.write(pane.master, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        if written < len(data):
            pane.pending_input += data[written:]
            self.watch_pty(pane)

    def flush_pane_input(self, pane: Pane) -> None:
        assert pane.master is not None
        try:
            written = os.write(pane.master, bytes(pane.pending_input))
        except BlockingIOError:
            return
        except OSError:
            written = len(pane.pending_input)
        del pane.pending_input[:written]
        if not pane.pending_input:
            self.watch_pty(pane)

    def watch_pty(self, pane: Pane) -> None:
        """(Re)register the pane's PTY: read unless it rests, write while input is pending."""
        if pane.master is None:
            return
        events = 0 if pane.rest_until else selectors.EVENT_READ
        if pane.pending_input:
            events |= selectors.EVENT_WRITE
        registered = pane.master in self.sel.get_map()
        if not events:
            if registered:
                self.sel.unregister(pane.master)
        elif registered:
            self.sel.modify(pane.master, events, ("pty", pane))
        else:
            self.sel.register(pane.master, events, ("pty", pane))

    def wake_rested(self, now: float) -> float | None:
        """Read the panes whose rest is over (or that got the focus) again; returns
        when the next rest ends."""
        focused = self.focused()
        soonest = None
        for pane in self.resting:
            if pane.rest_until <= now or pane is focused or pane.master is None:
                pane.rest_until = 0.0
            elif soonest is None or pane.rest_until < soonest:
                soonest = pane.rest_until
        woken = [p for p in self.resting if not p.rest_until]
        for pane in woken:
            self.resting.discard(pane)
            self.watch_pty(pane)
        return soonest

    def reap(self) -> None:
        """Collect ended panes and orphans.

        Starting spawns' status pipes are read first: a sandbox's PID 1 is
        only waitable here once the process that forked it exited, after it
        wrote that pid, so every pid that can be waited for is known.
        """
        for pane in list(self.panes.values()):
            if pane.spawn is not None and pane.spawn.starting:
                self.on_status(pane)
        for pane in list(self.panes.values()):
            spawn = pane.spawn
            if spawn is not None and spawn.starting:
                # their status pipe tells us first; a stopped one would never say
                for pid in (spawn.direct_pid, spawn.pid):
                    if pid is not None:
                        continue_if_stopped(pid)
            elif pane.alive and spawn is not None and spawn.pid is not None:
                try:
                    pid, status = waitpid_resuming(spawn.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status = spawn.pid, 0
                if pid:
                    self.pane_exited(pane, status)
        if self.ahead is not None and self.ahead.starting:
            self.on_ahead_status(self.ahead)  # the pid of its PID 1, or its end
        known = set()
        for pane in self.panes.values():
            if pane.spawn is not None and pane.alive:
                known.update(p for p in (pane.spawn.pid, pane.spawn.direct_pid) if p)
        if self.ahead is not None:
            known.update(p for p in (self.ahead.pid, self.ahead.direct_pid) if p)
        if self.config_check is not None and self.config_check.pid is not None:
            known.add(self.config_check.pid)  # collected by Preflight
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid in known:
                return
            try:
                os.waitpid(info.si_pid, os.WNOHANG)  # an orphan re-parented to us
            except ChildProcessError:
                return

    def pane_exited(self, pane: Pane, status: int) -> None:
        assert pane.spawn is not None
        pane.exit_code = spawn_mod.exit_code_of(status)
        pane.state = "exited"
        try:
            pane.spawn.finish(status)
        except Exception as exc:  # a plugin's cleanup must not take the server down
            self.log.error("pane_cleanup_failed", pane=pane.id, error=str(exc))
        for failure in run_exit_callbacks(self.config, pane.spec, pane.exit_code):
            self.show_message(failure)
        self.log.info("pane_exited", pane=pane.id, exit_code=pane.exit_code)
        remain = pane.spec.remain_on_exit
        if remain is None:
            remain = self.config.options.remain_on_exit
        if remain:
            pane.notice = f"exited {pane.exit_code}"
            self.dirty = True
        else:
            self.remove_pane(pane)

    def kill_pane(self, pane: Pane) -> None:
        """End the pane's process tree (the sandbox's PID 1 takes the rest with it)."""
        if pane.spawn is not None and pane.alive:
            pane.spawn.send_signal(signal.SIGHUP)
            pane.spawn.send_signal(signal.SIGKILL)

    def remove_pane(self, pane: Pane) -> None:
        self.close_pty(pane)
        if pane.spawn is not None and pane.spawn.status_fd is not None:
            try:
                self.sel.unregister(pane.spawn.status_fd)
            except (KeyError, ValueError):
                pass
        self.panes.pop(pane.id, None)
        tab = self.tabs.find(pane.id)
        if tab is not None and tab.remove(pane.id):
            self.tabs.close(tab)
        if not len(self.tabs):
            self.running = False  # the last pane is gone: the session ends
            return
        self.layout_panes()

    def build_layout(self) -> None:
        self.tabs, specs = Tabs.from_specs(self.config.tabs, self.new_pane_id)
        for tab in self.tabs:
            geometry = tab.geometry(*self.area)
            for pane_id in tab.panes():
                rect = geometry.panes.get(pane_id)
                cols, rows = (rect.cols, rect.rows) if rect else self.area
                self.start_pane(pane_id, specs[pane_id], cols, rows)
        self.layout_panes()

    def default_spec(self, like: Pane | None = None, tab: bool = False) -> PaneSpec:
        """A new pane: the shell, with the isolation of the pane it splits, in
        that pane's current directory (else the directory it started in).

        A new tab (``tab``) gets the defaults' isolation; it starts in the
        focused pane's current directory only when that pane has the defaults'
        isolation too: a sandboxed pane must not choose where a less isolated
        shell starts (a directory it planted a git hook or ``.envrc`` in).
        ``follow_cwd = false`` keeps every new pane in its start directory."""
        follow = self.config.options.follow_cwd
        if like is not None and not tab:
            return replace(
                like.spec,
                name=None,
                title=None,
                command=None,
                cwd=(follow and current_directory(like)) or like.spec.cwd,
                path=f"{like.spec.path}+",
                where="split",
            )
        spec = PaneSpec(path="new", where="new pane")
        if follow and like is not None and not like.spec.isolation.values:
            spec = replace(spec, cwd=current_directory(like))
        return spec

    def focused(self) -> Pane | None:
        tab = self.tabs.active
        return self.panes.get(tab.current) if tab is not None else None
