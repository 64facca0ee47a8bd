"""What a loaded ``init.lua`` says, as frozen dataclasses.

Every piece remembers where it was written (``where``: ``init.lua:12``) and its
path in the config (``tabs[0].panes[1]``: tabs and panes count from 0, as on
screen), so later errors and ``hexe config check`` can point at it. Nothing
here runs Lua or touches the kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hexe.errors import SettingError
from hexe.isolation import Layer, Profile


@dataclass(frozen=True)
class PaneSpec:
    """One pane of a layout."""

    path: str  # tabs[0].panes[1]: tab 0, its second pane
    where: str  # init.lua:14
    name: str | None = None
    title: str | None = None
    #: argv; None means the user's shell (``options.shell``)
    command: tuple[str, ...] | None = None
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    #: the pane's own ``isolation = {...}`` as a settings layer
    isolation: Layer = field(default_factory=lambda: Layer("pane", {}))
    remain_on_exit: bool | None = None

    @property
    def label(self) -> str:
        return self.name or self.title or self.path


@dataclass(frozen=True)
class SplitSpec:
    """Two children side by side (``right``) or stacked (``down``)."""

    path: str
    where: str
    direction: str
    ratio: float
    children: tuple[Node, Node]


Node = PaneSpec | SplitSpec


@dataclass(frozen=True)
class FloatSpec:
    """A floating pane of a tab (``floats = { hexe.float { ... } }``)."""

    pane: PaneSpec
    #: width, height, x, y: whole cells, or fractions of the window; None: the default
    size: tuple[float | None, float | None, float | None, float | None] = (None,) * 4
    #: False: it starts hidden (``toggle-floats`` shows it)
    shown: bool = True


@dataclass(frozen=True)
class TabSpec:
    """A tab of the layout: its name and its tree of panes."""

    path: str
    where: str
    name: str | None
    root: Node
    floats: tuple[FloatSpec, ...] = ()

    def panes(self) -> list[PaneSpec]:
        out: list[PaneSpec] = []
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, PaneSpec):
                out.append(node)
            else:
                stack.extend(reversed(node.children))
        return out + [f.pane for f in self.floats]


@dataclass(frozen=True)
class Binding:
    """A key binding: the keys, and a built-in action or a Lua function."""

    keys: tuple[str, ...]  # ("prefix", "%")
    where: str
    #: a built-in action name, or a Lua function
    action: Any
    args: tuple[Any, ...] = ()

    @property
    def is_lua(self) -> bool:
        return not isinstance(self.action, str)


@dataclass(frozen=True)
class Callback:
    """A Lua function called on an event (``hexe.on``)."""

    event: str
    where: str
    function: Any


@dataclass(frozen=True)
class Options:
    """The session options (``hexe.options``)."""

    shell: str
    scrollback: int = 10_000
    prefix: str = "C-b"
    remain_on_exit: bool = False
    mouse: bool = True
    #: seconds a client may take nothing while output waits for it, then it is dropped
    client_timeout: int = 30
    #: prepare the sandbox of the next split before it is asked for
    spawn_ahead: bool = True
    #: answer DECRQCRA (a checksum of a screen area: how esctest reads a screen),
    #: for the asking pane's own screen only; off as in tmux
    answer_checksums: bool = False
    #: copy mode's keys: "vi" (tmux's copy-mode-vi) or "emacs" (copy-mode), as tmux's mode-keys
    mode_keys: str = "vi"
    #: programs in panes may set the outer terminal's clipboard with OSC 52
    #: (tmux's set-clipboard on); a sandboxed pane also needs clipboard = "write"
    set_clipboard: bool = True
    #: the outer terminal's title follows the focused pane's (sanitized); off as in tmux
    set_titles: bool = False
    #: a hidden tab with new output is flagged ``#`` on the status line; off as tmux's
    #: monitor-activity (every new tab's first prompt would flag it)
    monitor_activity: bool = False
    #: splits (and new tabs, from a pane with the defaults' isolation) start in the
    #: current directory of the pane's foreground program, else its start directory
    follow_cwd: bool = True
    #: options that are neither booleans nor numbers: their parser (label, value) -> value
    PARSERS: ClassVar[dict[str, Any]] = {}


def parse_mode_keys(label: str, value: object) -> str:
    """``mode_keys``: "vi" or "emacs"."""
    if value not in ("vi", "emacs"):
        raise SettingError(label, value, 'use "vi" or "emacs"', problem="is not a key table")
    return str(value)


Options.PARSERS["mode_keys"] = parse_mode_keys


@dataclass(frozen=True)
class StatusSpec:
    """The status line: its segments, size and whether it starts shown."""

    #: segment names or Lua functions
    left: tuple[Any, ...] = ("session", "tabs")
    right: tuple[Any, ...] = ("title", "isolation", "clock")
    interval: float = 1.0


@dataclass(frozen=True)
class Config:
    """A loaded, validated configuration."""

    path: str | None  # as shown to the user (~ for home); None: no file, built-in defaults
    defaults: Layer
    profiles: Mapping[str, Profile]
    options: Options
    tabs: tuple[TabSpec, ...]
    keys: Mapping[tuple[str, ...], Binding]
    status: StatusSpec
    callbacks: Mapping[str, tuple[Callback, ...]]
    #: the registry of isolation settings the loaded plugins declare
    #: (``hexe.plugin.settings``); None: every plugin's
    settings: Any = None
    #: keeps the Lua state alive for callbacks and Lua key actions
    runtime: Any = field(default=None, compare=False, repr=False)
    #: the file as opened (for reload); None when there was none
    file: str | None = None
    #: "file:line: sentence" for what loads but is likely a mistake
    warnings: tuple[str, ...] = ()

    def panes(self) -> list[PaneSpec]:
        return [pane for tab in self.tabs for pane in tab.panes()]

    def find_pane(self, name: str) -> PaneSpec | None:
        for pane in self.panes():
            if name in (pane.name, pane.title, pane.path):
                return pane
        return None
