"""Every hook of hexe, grouped by the phase it runs in.

This file is the whole extension surface. A plugin is a module (or object)
with functions named like the hooks below, decorated with
``hexe.hookimpl``; it is found through the ``hexe`` entry-point group, the same
way the built-in ``voidbox`` (namespaces, mounts, no_new_privs) and
``cgroups`` (limits) plugins are.

The spawn protocol, in order (see ``hexe/spawn.py``)::

    parent  hexe_spawn_features   which features loaded plugins implement
    parent  hexe_spawn_check      refuse a plan before anything happens
    parent  hexe_spawn_prepare    allocate resources (cgroup dir, limits)
            -- fork --
    parent  hexe_spawn_parent     place the held child (cgroup.procs)
            -- release: the child may go on --
    child   hexe_child_join       join what prepare made (v1 cgroups)
    child   hexe_child_namespaces enter namespaces (unshare)
    child   hexe_child_userns     write uid/gid maps
    child   hexe_child_pid1       fork into the new pid namespace
    child   hexe_child_mounts     private propagation, /tmp, /proc
    child   hexe_child_network    bring up lo
    child   hexe_child_hostname   set the hostname
    child   hexe_child_security   no_new_privs, locked mounts, capabilities (trylast)
    child   hexe_child_seccomp    load syscall filters: the last setup step
    child   hexe_child_handover   hand the rest to a program of the plugin's (an init)
    child   hexe_child_exec       run the command (when nothing took over)
    parent  hexe_spawn_started    exec succeeded
    parent  hexe_spawn_failed     a step failed; undo what prepare did
    parent  hexe_spawn_exited     the process tree ended; clean up

Child hooks run after ``fork()`` in a single-threaded child, before the user's
command executes. They must not start threads, must not log (the parent logs
what they report), and report failure by raising ``hexe.errors.SetupError``
with the step, the errno and a hint; anything else raised is reported as a
failure of that phase. Within one phase, plugins run in pluggy's order:
``tryfirst``/``trylast`` place an implementation before or after the
built-ins.

Every child hook receives ``spawn`` (a ``hexe.spawn.Spawn``): ``spawn.plan``
is the immutable plan (``plan.isolation.get(name)``: the value of any declared
setting, ``"namespaces"`` or ``"memory"``; ``plan.extra``: the settings a layer set)
and ``spawn.state`` a dict where a plugin keeps what it needs across phases under
its own name.

A pane server may run every hook up to ``hexe_child_seccomp`` before the
pane's command is known (a sandbox prepared ahead, ``hexe.spawn.start_ahead``):
``plan.argv``, ``plan.env`` and ``plan.cwd`` are then placeholders. It does
so only when each plugin implementing one of those hooks has
``HEXE_SPAWN_AHEAD = True`` in its module, saying its hooks do not read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from hexe.config.loader import ConfigAPI
    from hexe.config.model import PaneSpec
    from hexe.isolation import Isolation
    from hexe.mux.view import View
    from hexe.plugin.check import Check, SandboxFiles
    from hexe.plugin.settings import Profile, Setting
    from hexe.spawn import Command, Spawn, SpawnPlan

hookspec = pluggy.HookspecMarker("hexe")


# --------------------------------------------------------------------------
# Plan: parent process, before fork
# --------------------------------------------------------------------------


@hookspec
def hexe_spawn_features() -> list[str]:
    """Return the names of the settings this plugin can apply.

    Each setting a plan's isolation asks for (``Isolation.requirements()``: a
    value other than the setting's default) needs the plugin that declared it
    loaded, or some loaded plugin that lists the setting here (an alternative
    implementation), else the plan is refused: disabling a plugin never
    weakens a profile silently. The built-in voidbox plugin lists its own
    settings (``namespaces``, ``caps``, ``seccomp``, ...), cgroups
    ``memory``, ``pids`` and ``cpu``.
    """


@hookspec
def hexe_spawn_check(plan: SpawnPlan) -> list[str] | None:
    """Return problems that make ``plan`` impossible, or None.

    Called in the parent before anything is created. Each problem is a
    complete sentence naming the setting and what is wrong; any problem
    refuses the spawn with exit status 125. Must not have side effects.
    """


@hookspec
def hexe_spawn_prepare(spawn: Spawn) -> None:
    """Create what the process needs before it exists (parent, before fork).

    The cgroups plugin creates the cgroup and writes the limits here. Record
    what you made in ``spawn.state[<your name>]`` and anything worth logging in
    ``spawn.facts``; call ``spawn.warn()`` for a degradation the user must
    hear about. Raise ``hexe.errors.SpawnRefused`` to refuse: ``hexe_spawn_failed``
    then runs for every plugin so partial work can be undone.
    """


# --------------------------------------------------------------------------
# Parent phases: parent process, after fork, while the child is held
# --------------------------------------------------------------------------


@hookspec
def hexe_spawn_parent(spawn: Spawn) -> None:
    """Act on the new child before it may do anything (parent, after fork).

    ``spawn.pid`` is the child's pid. The child is blocked reading a pipe and
    has not yet entered any namespace; it is released only after every
    implementation returns, so a limit written here holds before the user's
    command can run — and a cgroup namespace made later is rooted at the
    cgroup placed here. The cgroups plugin's v2 driver writes the pid to
    ``cgroup.procs`` here. Raise ``SpawnRefused`` to kill the child instead.
    """


# --------------------------------------------------------------------------
# Child phases: the child process, after release, before exec. In this order.
# --------------------------------------------------------------------------


@hookspec
def hexe_child_join(spawn: Spawn) -> None:
    """Join what ``hexe_spawn_prepare`` made, from inside. First child phase.

    Runs before any namespace exists and before anything the user asked for.
    The cgroups plugin's v1 driver moves the child into its cgroups here by
    writing ``0`` to each ``tasks`` file: a thread moving itself skips the
    kernel's global threadgroup lock, which makes it about ten times faster
    than the parent writing the pid (see ``hexe_spawn_parent``). A cgroup
    namespace made next is rooted at the joined cgroup. File descriptors
    other than stdio, the terminal and the status pipe are already closed.
    ``spawn.warn()`` works here too: the warning travels to the parent.
    """


@hookspec
def hexe_child_namespaces(spawn: Spawn) -> None:
    """Enter new namespaces (``unshare``)."""


@hookspec
def hexe_child_userns(spawn: Spawn) -> None:
    """Write the user-namespace mappings (``setgroups``, ``uid_map``, ``gid_map``)."""


@hookspec(firstresult=True)
def hexe_child_pid1(spawn: Spawn) -> int | None:
    """Fork so that the next process is PID 1 of a new pid namespace.

    Return None when no fork is needed. Otherwise fork and return what
    ``fork()`` returned: the new child's pid (as seen by the caller) in the
    outer process, which then reports it to the parent and exits, and 0 in the
    new process, which runs every later phase. The first non-None result wins.
    """


@hookspec
def hexe_child_mounts(spawn: Spawn) -> None:
    """Set up the mount namespace: propagation, fresh ``/tmp`` and ``/proc``, binds.

    Runs in the process that will become (or start) the command; when the plan
    has a pid namespace, that process is already PID 1 of it.
    """


@hookspec
def hexe_child_network(spawn: Spawn) -> None:
    """Set up the network namespace (bring ``lo`` up)."""


@hookspec
def hexe_child_hostname(spawn: Spawn) -> None:
    """Set the hostname in a new UTS namespace."""


@hookspec
def hexe_child_security(spawn: Spawn) -> None:
    """Restrict the process: locked mounts, ``no_new_privs``, Landlock, capabilities.

    The terminal is attached before it. Anything done here constrains the
    command and any init that runs beside it. In order, for the built-in
    voidbox plugin: with a mount namespace, its ordinary implementation first
    moves the process into a nested user namespace that locks the mounts,
    then sets ``no_new_privs``; implementations that run after it (the
    default for third-party plugins) no longer administer the pid, uts and
    network namespaces (use ``tryfirst`` to run before it), but still hold
    the capabilities root has in the nested namespace. Voidbox's ``trylast``
    implementation then drops the capabilities the plan does not keep
    (``plan.isolation.get("caps")``); a third-party ``trylast`` implementation runs
    after that drop.
    """


@hookspec
def hexe_child_seccomp(spawn: Spawn) -> None:
    """Load syscall filters: the last setup step, just before the command runs.

    Runs after every ``hexe_child_security`` implementation, so the filter
    cannot get in the way of setup; what runs after it is only the
    resolution of the command (``chdir``, the ``PATH`` lookup) and its
    execution, with hexe's init beside it when there is a pid namespace
    (the filter constrains that init too). The voidbox plugin loads the
    filter of ``plan.isolation.get("seccomp")`` here, built in the parent by its
    ``hexe_spawn_prepare``. Filters stack: a plugin may load one of its own;
    for each syscall the kernel applies the strictest answer of them all.
    Build filters before fork (in ``hexe_spawn_prepare``); do not load
    libraries here.
    """


@hookspec(firstresult=True)
def hexe_child_handover(spawn: Spawn) -> object | None:
    """Take over the rest of the spawn in a program of the plugin's own, by exec.

    Called after the seccomp phase, before the command is known or resolved.
    For a sandbox prepared ahead (``spawn.go_socket`` is set) the program
    reports ``{"ready": true}`` on the status pipe once it waits. The program
    reads the command from ``spawn.command_fd()`` (to its end; the format of
    :func:`hexe.spawn.encode_command`; nothing read: the sandbox was
    discarded), enters the directory, executes the command and reports on
    ``spawn.child_status_fd`` as the status pipe does (``spawned``,
    ``warning``, ``error``). An implementation that takes over never
    returns; return None to let the core go on. The voidbox plugin uses it
    to make ``hexe-init`` the sandbox's PID 1, so that no copy of the
    owner's memory stays in the sandbox.
    """


@hookspec(firstresult=True)
def hexe_child_exec(spawn: Spawn, command: Command) -> object | None:
    """Run the command, or let the core exec it.

    ``command`` (a ``hexe.spawn.Command``) is resolved already: the working
    directory is entered and the executable found with the command's own
    ``PATH``. ``command.exec()`` replaces the calling process;
    ``command.spawn()`` starts it as a child and returns its pid. Both raise
    ``SetupError`` (exit 127 not found, 126 not executable).

    Return None to let the core call ``command.exec()``. An implementation
    that takes over never returns. Not called when ``hexe_child_handover``
    took over.
    """


# --------------------------------------------------------------------------
# After exec: parent process
# --------------------------------------------------------------------------


@hookspec
def hexe_spawn_started(spawn: Spawn) -> None:
    """The command was executed (the status pipe reached end of file)."""


@hookspec
def hexe_spawn_failed(spawn: Spawn, error: Exception) -> None:
    """The spawn failed before or during setup; undo what ``prepare`` made.

    Called once for every plugin whatever step failed, including when
    ``hexe_spawn_prepare`` itself raised, so implementations must cope with
    partial or missing state.
    """


@hookspec
def hexe_spawn_exited(spawn: Spawn, status: int) -> None:
    """The process hexe waited on has ended with wait ``status``.

    End the rest of its process tree and remove what ``prepare`` made (the
    cgroups plugin kills what is left in the cgroup and removes it).
    """


@hookspec
def hexe_explain_exit(spawn: Spawn, code: int) -> str | None:
    """Why the command ended with exit ``code``, when this plugin knows: a
    sentence (no ``hexe:`` prefix, no final newline), or None.

    Called by ``hexe run`` after the process tree ended and
    ``hexe_spawn_exited`` ran, so ``spawn.facts`` holds what the plugins
    recorded then; each sentence is printed to stderr as ``hexe: <sentence>``.
    The cgroups plugin answers for a command the kernel's OOM killer ended in
    its cgroup (``spawn.facts["oom_kills"]``), naming the memory limit.
    """


@hookspec(firstresult=True)
def hexe_command_pid(spawn: Spawn) -> int | None:
    """The pid of the user's command, when ``spawn.pid`` is not the command.

    ``spawn.pid`` is the process hexe waits on; when a plugin's program
    started the command under it (``hexe_child_handover``: voidbox's
    ``hexe-init``, the sandbox's PID 1), return the command's pid, else None.
    Parent side, called by the session server for ``list-panes`` and a
    pane's current directory while the command runs: it must be quick and
    must not block (read ``/proc``).
    """


@hookspec
def hexe_describe_isolation(plan: SpawnPlan, spawn: Spawn | None) -> dict[str, object] | None:
    """Entries this plugin adds to a pane's ``isolation`` in ``list-panes
    --json`` (JSON values, keyed by names of the plugin's own), or None.

    ``spawn`` is None while the pane has no process. The core gives
    ``profile`` and ``summary``; the cgroups plugin adds ``memory_max``,
    ``pids_max``, ``cpu_max`` and ``cgroups``, voidbox ``namespaces``,
    ``no_new_privs``, and ``network`` and ``network_allow`` for a pane with a
    network.
    Server side; must be quick.
    """


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


@hookspec
def hexe_settings() -> list[Setting]:
    """Declare the isolation settings this plugin provides (``hexe.plugin.settings.Setting``).

    Each declaration names the setting, its parser, default, value under
    each profile, ``HEXE_*`` variables and a line of documentation; the
    config loader, ``hexe config check`` and the environment layer are built
    from them, and the parsed value reaches the spawn hooks
    (``plan.isolation.get(name)``; in ``plan.extra[name]`` too when a layer
    set it). Must be a pure declaration: it is also read from a disabled
    plugin, only to name it when its setting is used.
    """


@hookspec
def hexe_profiles() -> list[Profile]:
    """Declare the profiles this plugin provides (``hexe.plugin.settings.Profile``).

    A profile is a name, a line of description and, optionally, values of
    any declared settings (``Profile.settings``, applied where the profile is
    chosen, below that layer's own values); what a setting is under a profile
    that does not set it, the setting says (``Setting.profiles``). The
    built-in voidbox plugin declares ``minimal``, ``default``, ``balanced``,
    ``full`` and ``sandbox`` this way; the core declares only ``none``. Like
    ``hexe_settings``, a pure declaration, read from a disabled plugin only to
    name it when its profile is chosen.
    """


@hookspec
def hexe_config_api(api: ConfigAPI) -> None:
    """Add Lua functions and isolation settings to ``init.lua``.

    Called once per config load, before ``init.lua`` runs.
    ``api.add_function(name, fn)`` makes ``hexe.<name>(...)`` call ``fn``;
    ``api.add_setting(name, parse)`` accepts ``name = ...`` in
    ``hexe.defaults``, a pane's ``isolation`` and custom profiles, parsed by
    ``parse(label, value)`` (raise ``hexe.errors.SettingError`` to refuse),
    and hands the parsed value to the spawn hooks as ``plan.extra[name]``.
    A name that already exists is an error.
    """


@hookspec(firstresult=True)
def hexe_sandbox_files(isolation: Isolation) -> SandboxFiles | None:
    """How a sandbox of ``isolation`` sees the file system, or None: as the host.

    Return an object with ``host_path(path: str) -> str | None``
    (``hexe.plugin.check.SandboxFiles``): where ``path``, as the command
    inside sees it, is on the host, or None when the sandbox hides it (a
    fresh ``/tmp``, a mask). ``hexe config check`` looks up a pane's ``cwd``
    and its command on ``PATH`` through it, and says "inside the sandbox"
    when some plugin answered. The voidbox plugin answers when a ``rootfs``,
    ``mounts`` or a mount namespace change the view. The first answer wins.
    Must not have side effects.
    """


@hookspec
def hexe_check_pane(pane: PaneSpec, isolation: Isolation) -> list[str] | None:
    """Problems that would make ``pane`` fail to start, from this plugin's settings.

    Called by ``hexe config check`` for each pane of the config, with the
    pane's resolved ``isolation``; each problem is a complete sentence that
    starts with where it was written (a setting's ``label``, else
    ``pane.where``) and says what to change. The core checks the ``cwd`` and
    the command itself (through ``hexe_sandbox_files``); the voidbox plugin
    reports a bind whose source is missing and a mask of a path that does not
    exist. Must not have side effects.
    """


@hookspec
def hexe_clipboard_allowed(isolation: Isolation) -> bool | None:
    """May a program in a pane of ``isolation`` set the outer clipboard (OSC 52)?

    Called by the server for each clipboard write a pane's program asks for
    (``hexe.options { set_clipboard = true }`` must be on too). ``False``
    refuses it (one plugin's ``False`` is enough), ``None`` leaves it to the
    others; with no ``False`` the write goes to the attached terminals. The
    voidbox plugin answers from its ``clipboard`` setting (unset: refused in
    ``full`` and ``sandbox``). Quick, no side effects: it runs in the server.
    """


# --------------------------------------------------------------------------
# Drawing: the server process, once per frame and client
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def hexe_render(view: View, previous: object) -> tuple[bytes, object] | None:
    """Draw one frame for one client.

    ``view`` (a ``hexe.mux.view.View``) is the session as that client sees it;
    ``previous`` is the state this hook returned last time for this client,
    or None for a full redraw (first frame, resize, new client). Return the
    bytes that bring the client's terminal from ``previous`` to ``view`` and
    the state to keep. The built-in ``hexe_render`` plugin draws panes,
    borders and the status line and sends only the rows that changed. Called
    in the server's event loop: must not block.
    """


@hookspec(firstresult=True)
def hexe_status_segment(name: str, view: View) -> str | None:
    """The text of status segment ``name`` (``session``, ``clock``, ...), or None.

    A plugin adds a segment by answering for a new name and listing it in
    ``hexe_status_segments``; users then put the name in ``hexe.status``.
    The built-in renderer asks on every frame but a key's echo frame (which
    shows the text last drawn); a built-in segment only when the view's
    fields it is made from changed, unless another plugin implements this
    hook.
    """


@hookspec
def hexe_status_segments() -> list[str]:
    """Names of the status segments this plugin draws (for config validation)."""


# --------------------------------------------------------------------------
# hexe doctor
# --------------------------------------------------------------------------


@hookspec
def hexe_doctor_checks(pm: pluggy.PluginManager) -> list[Check]:
    """Return ``hexe.doctor.Check`` results for what this plugin needs.

    ``pm`` is the plugin manager, to spawn through the real path
    (``hexe.doctor.try_spawn(pm, settings)``), as the cgroups plugin does
    for its limits.

    Try things for real (a throwaway child that unshares, a probe cgroup that
    is removed again) rather than guessing from files.
    """
