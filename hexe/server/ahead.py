"""The prepared-sandbox cache: the sandbox of the next split, made ahead.

A room of the session server: a mixin of :class:`hexe.server.server.Server`,
whose state (``self``) it shares; see docs/architecture.md."""

from __future__ import annotations

import fcntl
import os
import selectors
import struct
import termios
import time
from typing import Any

from hexe import spawn as spawn_mod
from hexe.config import (
    ConfigError,
    pane_isolation,
)
from hexe.errors import HexeError
from hexe.isolation import InvalidSettings
from hexe.server.state import (
    AHEAD_DELAY,
    AHEAD_FAILURES,
    AHEAD_RETRY,
)


class AheadRoom:
    """The prepared-sandbox cache: the sandbox of the next split, made ahead."""

    def schedule_ahead(self, delay: float = AHEAD_DELAY) -> None:
        """Prepare the next split's sandbox in ``delay`` seconds (if it is wanted)."""
        if (
            self.config.options.spawn_ahead
            and self.ahead_refusal is None
            and self.ahead_failures < AHEAD_FAILURES
            and self.running
        ):
            self.ahead_due = time.monotonic() + delay

    def prepare_ahead(self) -> None:
        """Fork the sandbox a split of the focused pane would get, through its
        seccomp phase; :meth:`adopt_ahead` gives it the pane's command."""
        self.ahead_due = None
        spec = self.default_spec(self.focused())
        try:
            isolation = pane_isolation(self.config, spec, self.environ, callbacks=False)
            plan = self.pane_plan(spec, "ahead", isolation)
        except (ConfigError, InvalidSettings):
            return  # the split will say what is wrong
        if self.ahead is not None:
            if spawn_mod.same_sandbox(self.ahead.plan, plan):
                self.ahead_spec = spec
                return
            self.discard_ahead()
        master, slave = os.openpty()
        try:
            ahead = spawn_mod.start_ahead(plan, self.pm, terminal_fd=slave)
        except HexeError as exc:
            os.close(master)
            self.ahead_failures += 1
            self.log.info("spawn_ahead_refused", problem=exc.message)
            return
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        assert ahead.status_fd is not None
        os.set_blocking(ahead.status_fd, False)
        self.sel.register(ahead.status_fd, selectors.EVENT_READ, ("ahead", ahead))
        self.ahead, self.ahead_master, self.ahead_spec = ahead, master, spec

    def prepare_ahead_contained(self) -> None:
        """:meth:`prepare_ahead`; when it fails (out of descriptors...), the split
        starts its sandbox from scratch instead, and a later one is tried again."""
        try:
            self.prepare_ahead()
        except Exception as exc:  # noqa: BLE001 - an optimisation never ends the session
            self.ahead_failures += 1
            self.log.warning("spawn_ahead_failed", error=f"{type(exc).__name__}: {exc}")
            if self.ahead is None:
                self.ahead_due = None
            self.schedule_ahead(AHEAD_RETRY)

    def follow_focus(self) -> None:
        """The next split is of the focused pane: when the focus moves, check
        (soon) that the prepared sandbox still fits a split of it."""
        focused = self.focused()
        focus = focused.id if focused is not None else None
        if focus != self.ahead_focus:
            self.ahead_focus = focus
            if self.ahead_due is None:
                self.schedule_ahead()

    def on_ahead_status(self, ahead: spawn_mod.Spawn) -> None:
        """Read the prepared sandbox's status pipe; its end means it is gone."""
        fd = ahead.status_fd
        was_ready = ahead.ready
        done = False
        while not done:
            try:
                done = ahead.read_status()
            except BlockingIOError:
                if ahead.ready and not was_ready:
                    self.log.debug("spawn_ahead_ready", child_pid=ahead.pid)
                return
        # it ended before it was used: a setup error, or it was killed
        self.sel.unregister(fd)
        self.ahead_failures += 1
        error = ahead.setup_error
        self.log.info("spawn_ahead_ended", problem=error.message if error else "killed")
        self.end_ahead(*self.take_ahead())
        self.schedule_ahead(AHEAD_DELAY * 10)

    def take_ahead(self) -> tuple[spawn_mod.Spawn | None, int | None]:
        """The prepared sandbox and its PTY's master, no longer kept here."""
        taken = self.ahead, self.ahead_master
        self.ahead = self.ahead_master = self.ahead_spec = None
        return taken

    def adopt_ahead(
        self, plan: Any, cols: int, rows: int, warnings: list[str]
    ) -> tuple[spawn_mod.Spawn, int] | None:
        """The prepared sandbox, now running ``plan``'s command on its PTY
        (sized ``cols`` x ``rows``), and that PTY's master; None when there
        is none that fits (the pane is started the usual way)."""
        if self.ahead is not None and not self.ahead.ready:
            # its "ready" may be in the pipe already, not yet read by the loop
            self.on_ahead_status(self.ahead)
        ahead = self.ahead
        if ahead is None or not ahead.ready or not spawn_mod.same_sandbox(ahead.plan, plan):
            return None
        ahead, master = self.take_ahead()
        assert ahead is not None and master is not None and ahead.status_fd is not None
        self.sel.unregister(ahead.status_fd)
        # the size first: the command reads it when it starts
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if spawn_mod.adopt(ahead, plan, on_warning=warnings.append):
            self.ahead_failures = 0
            return ahead, master
        self.end_ahead(ahead, master)
        return None

    def discard_ahead(self) -> None:
        self.ahead_due = None
        self.end_ahead(*self.take_ahead())

    def end_ahead(self, ahead: spawn_mod.Spawn | None, master: int | None) -> None:
        """End a prepared sandbox taken with :meth:`take_ahead`, and close its PTY."""
        if master is not None:
            os.close(master)
        if ahead is None:
            return
        if ahead.status_fd is not None:
            try:
                self.sel.unregister(ahead.status_fd)
            except (KeyError, ValueError):
                pass  # already taken out
        try:
            spawn_mod.discard(ahead)
        except Exception as exc:  # a plugin's cleanup must not take the server down
            self.log.error("spawn_ahead_cleanup_failed", error=str(exc))
