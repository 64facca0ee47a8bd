"""Terminal screens for panes: escape parsing, the cell grid, bounded scrollback.

The multiplexer uses :class:`PaneScreen` only; the modules behind it are
:mod:`~hexe.terminal.parser` (bytes -> screen calls), :mod:`~hexe.terminal.vt`
(the pyte-based cell model), :mod:`~hexe.terminal.lines` (compact lines,
rendering, scrollback) and :mod:`~hexe.terminal.cells` (attributes and SGR).
Nothing in this package touches a file descriptor or the outer terminal.
"""

from hexe.terminal.lines import Line
from hexe.terminal.screen import MouseEncoding, MouseMode, PaneScreen

__all__ = ["Line", "MouseEncoding", "MouseMode", "PaneScreen"]
