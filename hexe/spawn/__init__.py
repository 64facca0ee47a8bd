"""The spawn protocol: plan -> fork -> parent phases -> release -> child phases -> exec.

Every pane and every ``hexe run`` starts here. Each step is a hook (see
:mod:`hexe.plugin.hookspecs`), so the built-in plugins have no privilege a
third-party plugin lacks. This module knows the order of the steps, the two
pipes between parent and child, and nothing about namespaces or cgroups.

The pipes:

- **release** (parent -> child): the child blocks on it right after fork,
  before entering any namespace, until every ``hexe_spawn_parent`` hook has
  returned — so the child's cgroup and limits hold before it does anything.
- **status** (child -> parent, close-on-exec): newline-separated JSON messages:
  ``{"pid": N}`` when a pid-namespace fork replaced the direct child,
  ``{"spawned": N}`` from that PID 1 once the command runs,
  ``{"warning": "..."}``, and ``{"error": {...}}`` for a failed step. End of
  file with no error means the command was executed — after a pid-namespace
  fork, only together with ``spawned`` (else PID 1 was killed first).

The process that forks must be single-threaded: a child forked from a
threaded process inherits locks held by threads that do not exist in it.

**Spawning ahead** (:func:`start_ahead`, :func:`adopt`): a pane server may
prepare the sandbox of its next pane, on a PTY of its own, before anyone asks
for it. Every phase runs as usual, the seccomp filter included; then, instead
of resolving and executing the command, the child reports ``{"ready": true}``
and reads its command (argv, environment, working directory) from a third
channel, the **go** socket. Only the directory change and the exec run after
that, with the final plan. A prepared sandbox is only used for a plan with
the same isolation, when the host's mount table has not changed since it was
made (its mount namespace is a copy of the host's at that time), and only
when every plugin that implements a hook that runs before the command is
known says its hooks do not read the command, environment or directory
(``HEXE_SPAWN_AHEAD = True`` in the plugin's module): see :func:`ahead_refused`.

The package, in the order a spawn goes: :mod:`hexe.spawn.plan` (the plan and
whether the plugins can carry it out), :mod:`hexe.spawn.parent` (``Spawn``,
``start``), :mod:`hexe.spawn.child` (fork to exec), :mod:`hexe.spawn.ahead`
(sandboxes prepared ahead). Plugins import the names below from
``hexe.spawn`` itself.
"""

from __future__ import annotations

from hexe.spawn.ahead import EARLY_HOOKS, adopt, ahead_refused, discard, start_ahead
from hexe.spawn.child import (
    AHEAD_PROCESS_NAME,
    CHILD_PHASES_AFTER_PID1,
    CHILD_PHASES_BEFORE_PID1,
    INHERITED_IGNORED,
    Command,
    decode_command,
    encode_command,
    reset_signals,
)
from hexe.spawn.parent import Spawn, mounts_changed, run, start
from hexe.spawn.plan import SpawnPlan, check, exit_code_of, same_sandbox

__all__ = [
    "AHEAD_PROCESS_NAME",
    "CHILD_PHASES_AFTER_PID1",
    "CHILD_PHASES_BEFORE_PID1",
    "EARLY_HOOKS",
    "INHERITED_IGNORED",
    "Command",
    "Spawn",
    "SpawnPlan",
    "adopt",
    "ahead_refused",
    "check",
    "decode_command",
    "discard",
    "encode_command",
    "exit_code_of",
    "mounts_changed",
    "reset_signals",
    "run",
    "same_sandbox",
    "start",
    "start_ahead",
]
