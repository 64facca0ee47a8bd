"""Rearranging a tab: tmux's preset layouts, spreading, swapping, rotating, borders by mouse.

Pure functions from a :class:`~hexe.mux.layout.Layout` (and the area it is
shown in) to a new one; no I/O, no panes, no server. The server
(:mod:`hexe.server.arrange`) picks the tab and the panes, calls these, and
resizes the panes whose rectangle changed.

The rules (tmux's, so a tmux user's hands keep working)
-------------------------------------------------------
Preset layouts (``select-layout``)
    The panes keep their order (tree order, the order ``focus-next`` cycles
    through), so switching layouts back and forth is stable.

    ``even-horizontal``: side by side, equal widths. ``even-vertical``:
    stacked, equal heights. Cells left over after an even division go one
    each to the first panes (tmux's ``layout_spread_cell``).

    ``main-horizontal``: the first pane on top, ``MAIN_PANE_HEIGHT`` (24)
    rows high, the others side by side below it, evenly. When the window is
    too small for that, the main pane takes all but one row (tmux's rule:
    the others keep at least one). ``main-vertical``: the first pane on the
    left, ``MAIN_PANE_WIDTH`` (80) columns wide, the others stacked to its
    right.

    ``tiled``: ``rows`` x ``columns`` as tmux counts them (add a row, then a
    column, until there is room), filled row by row. Every cell gets
    ``(width - borders) // columns`` columns and ``(height - borders) //
    rows`` rows; the last pane of each row takes what is left of the row, the
    last row what is left of the height. A last row that is not full has its
    last pane take the rest of the width.
Spread (``select-layout -E``)
    The panes beside the pane (a run of splits of the same direction, tmux's
    layout cell) get equal sizes. When they already have, the run around
    that one is spread instead, and so on up (tmux's ``layout_spread_out``).
Swap and rotate
    Panes trade places; every place keeps its size. ``rotate`` moves every
    pane one place along the order (up: the first goes last) and the focus
    stays on the same place, as tmux's ``rotate-window``.
Borders by mouse
    :func:`border_at` finds the split whose border is under a cell;
    :func:`drag_border` puts that border under the pointer, clamped so no pane
    drops below its minimum.

Sizes are stored as ratios (see :mod:`hexe.mux.layout`); these functions
compute the cells for the given area and store the ratio that gives exactly
those cells, so a later change of the window size scales the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from hexe.mux.layout import (
    Direction,
    Layout,
    Path,
    Rect,
    Split,
    Tree,
    _divide,
    _find,
    _first_len,
    _get,
    _min_len,
    _put,
    _rect_at,
)
from hexe.terminal.lines import text_width

#: The preset layouts, in the order ``next-layout`` cycles through them (tmux's).
LAYOUTS: tuple[str, ...] = (
    "even-horizontal",
    "even-vertical",
    "main-horizontal",
    "main-vertical",
    "tiled",
)
#: tmux's defaults for ``main-pane-height`` and ``main-pane-width``.
MAIN_PANE_HEIGHT = 24
MAIN_PANE_WIDTH = 80


# -- building a tree from sizes -----------------------------------------------------------


def _chain(direction: Direction, items: Sequence[tuple[Tree, int]]) -> tuple[Tree, int]:
    """Items (a subtree and its cells along ``direction``) in a row; the tree and its cells.

    The row is a chain of splits, each holding one item and the rest, with
    ratios that give each item exactly its cells when the chain has them all.
    """
    tree, size = items[-1]
    for sub, cells in reversed(items[:-1]):
        tree = Split(direction, cells / (cells + size), sub, tree)
        size = cells + 1 + size
    return tree, size


def even_sizes(total: int, count: int) -> list[int]:
    """``count`` sizes with a border between each, filling ``total`` cells as evenly
    as they can (the first ones get the cells left over); never below 1."""
    if count <= 0:
        return []
    each = max((total - (count - 1)) // count, 1)
    extra = max(total - (count - 1) - each * count, 0)
    return [each + (1 if i < extra else 0) for i in range(count)]


def _even(direction: Direction, panes: Sequence[int], total: int) -> tuple[Tree, int]:
    return _chain(direction, list(zip(panes, even_sizes(total, len(panes)), strict=True)))


def _main_size(length: int, wanted: int) -> tuple[int, int]:
    """(main, others) along a main-* layout's axis of ``length`` cells (tmux's rule)."""
    avail = length - 1  # less the border
    if wanted + 1 >= avail:
        main = 1 if avail <= 2 else avail - 1
        return main, max(avail - main, 1)
    return wanted, avail - wanted


def preset(name: str, panes: Sequence[int], width: int, height: int) -> Layout:
    """The panes, in this order, in the preset layout ``name`` for a ``width`` x ``height`` area.

    Raises ``ValueError`` naming the accepted layouts for an unknown name.
    """
    if name not in LAYOUTS:
        raise ValueError(f"{name!r} is not a layout; layouts: {', '.join(LAYOUTS)}")
    width, height = max(width, 1), max(height, 1)
    if not panes:
        return Layout(None)
    if len(panes) == 1:
        return Layout(panes[0])
    if name == "even-horizontal":
        return Layout(_even("right", panes, width)[0])
    if name == "even-vertical":
        return Layout(_even("down", panes, height)[0])
    if name == "main-horizontal":
        main, others = _main_size(height, MAIN_PANE_HEIGHT)
        row, _ = _even("right", panes[1:], width)
        return Layout(Split("down", main / (main + others), panes[0], row))
    if name == "main-vertical":
        main, others = _main_size(width, MAIN_PANE_WIDTH)
        column, _ = _even("down", panes[1:], height)
        return Layout(Split("right", main / (main + others), panes[0], column))
    return Layout(_tiled(panes, width, height))


def tiled_shape(count: int) -> tuple[int, int]:
    """(rows, columns) of tmux's tiled layout for ``count`` panes."""
    rows = columns = 1
    while rows * columns < count:
        rows += 1
        if rows * columns < count:
            columns += 1
    return rows, columns


def _tiled(panes: Sequence[int], width: int, height: int) -> Tree:
    rows, columns = tiled_shape(len(panes))
    cell_w = max((width - (columns - 1)) // columns, 1)
    cell_h = max((height - (rows - 1)) // rows, 1)
    lines: list[tuple[Tree, int]] = []
    for r in range(rows):
        row = list(panes[r * columns : (r + 1) * columns])
        if not row:
            break
        sizes = [cell_w] * len(row)
        sizes[-1] = max(width - (len(row) - 1) * (cell_w + 1), 1)
        tree = _chain("right", list(zip(row, sizes, strict=True)))[0] if len(row) > 1 else row[0]
        lines.append((tree, cell_h))
    last_tree, _ = lines[-1]
    lines[-1] = (last_tree, max(height - (len(lines) - 1) * (cell_h + 1), 1))
    return _chain("down", lines)[0] if len(lines) > 1 else lines[0][0]


# -- spread (select-layout -E) --------------------------------------------------------------


def _run_items(tree: Tree, direction: Direction) -> list[Tree]:
    """The cells of a run: ``tree``'s descendants through splits of ``direction``."""
    if isinstance(tree, Split) and tree.direction == direction:
        return _run_items(tree.first, direction) + _run_items(tree.second, direction)
    return [tree]


def _respread(tree: Tree, direction: Direction, sizes: list[int]) -> Tree:
    """The run ``tree`` with ratios giving its items ``sizes`` (consumed in order)."""
    if not (isinstance(tree, Split) and tree.direction == direction):
        sizes.pop(0)
        return tree
    count = len(_run_items(tree.first, direction))
    first_cells = sum(sizes[:count]) + count - 1
    rest = sizes[count:]
    second_cells = sum(rest) + len(rest) - 1
    first = _respread(tree.first, direction, sizes)
    second = _respread(tree.second, direction, sizes)
    ratio = first_cells / (first_cells + second_cells)
    return replace(tree, ratio=ratio, first=first, second=second)


def spread(layout: Layout, pane: int, width: int, height: int) -> Layout:
    """tmux's ``select-layout -E``: even out the panes beside ``pane``; see the module's rules.

    Returns ``layout`` itself when nothing can change.
    """
    root = layout.root
    path = _find(root, pane) if root is not None else None
    if root is None or path is None:
        raise KeyError(f"no pane {pane} in this layout")
    area = Rect(0, 0, max(width, 0), max(height, 0))
    before = layout.geometry(width, height)
    depth = len(path) - 1  # the parent split of the pane
    while depth >= 0:
        node = _get(root, path[:depth])
        assert isinstance(node, Split)
        direction = node.direction
        top = depth  # climb to the top of this run
        while top > 0:
            parent = _get(root, path[: top - 1])
            assert isinstance(parent, Split)
            if parent.direction != direction:
                break
            top -= 1
        run = _get(root, path[:top])
        rect = _rect_at(root, path[:top], area)
        if rect is not None:
            length = rect.cols if direction == "right" else rect.rows
            items = _run_items(run, direction)
            sizes = even_sizes(length, len(items))
            if all(s >= _min_len(item, direction) for s, item in zip(sizes, items, strict=True)):
                candidate = Layout(_put(root, path[:top], _respread(run, direction, sizes)))
                if candidate.geometry(width, height) != before:
                    return candidate
        depth = top - 1
    return layout


# -- swapping and rotating -------------------------------------------------------------------


def _map_leaves(tree: Tree, change: Callable[[int], int]) -> Tree:
    if isinstance(tree, Split):
        return replace(
            tree, first=_map_leaves(tree.first, change), second=_map_leaves(tree.second, change)
        )
    return change(tree)


def swap(layout: Layout, a: int, b: int) -> Layout:
    """Panes ``a`` and ``b`` trade places (both in this layout)."""
    for pane in (a, b):
        if pane not in layout:
            raise KeyError(f"no pane {pane} in this layout")
    assert layout.root is not None
    trade = {a: b, b: a}
    return Layout(_map_leaves(layout.root, lambda p: trade.get(p, p)))


def replace_pane(layout: Layout, old: int, new: int) -> Layout:
    """Pane ``new`` (not in this layout) takes the place of ``old``."""
    if old not in layout:
        raise KeyError(f"no pane {old} in this layout")
    if new in layout:
        raise ValueError(f"pane {new} is already in this layout")
    assert layout.root is not None
    return Layout(_map_leaves(layout.root, lambda p: new if p == old else p))


def neighbour_in_order(layout: Layout, pane: int, step: int) -> int:
    """The pane ``step`` places after ``pane`` in tree order, wrapping (swap-pane -D/-U)."""
    order = layout.order()
    return order[(order.index(pane) + step) % len(order)]


def rotate(layout: Layout, down: bool = False) -> Layout:
    """Every pane moves one place along the order: up (the first pane goes to the
    last place) or ``down`` (the last goes first), as tmux's ``rotate-window [-D]``."""
    order = layout.order()
    if len(order) < 2:
        return layout
    moved = order[-1:] + order[:-1] if down else order[1:] + order[:1]
    place = dict(zip(order, moved, strict=True))  # the pane now in each place
    assert layout.root is not None
    return Layout(_map_leaves(layout.root, lambda p: place[p]))


# -- borders by mouse -------------------------------------------------------------------------


def border_at(layout: Layout, width: int, height: int, x: int, y: int) -> Path | None:
    """The path of the split whose border line holds cell (``x``, ``y``), or None."""
    if layout.root is None:
        return None
    tree: Tree = layout.root
    rect = Rect(0, 0, max(width, 0), max(height, 0))
    path: Path = ()
    while isinstance(tree, Split) and rect.contains(x, y):
        parts = _divide(tree, rect)
        if parts is None:
            tree, path = tree.first, (*path, 0)
            continue
        first, border, second = parts
        if (x, y) in set(border.cells()):
            return path
        if first.contains(x, y):
            tree, rect, path = tree.first, first, (*path, 0)
        else:
            tree, rect, path = tree.second, second, (*path, 1)
    return None


def drag_border(layout: Layout, path: Path, width: int, height: int, x: int, y: int) -> Layout:
    """The border of the split at ``path`` moved under (``x``, ``y``) along its direction,
    clamped so no pane drops below its minimum; ``layout`` itself when it cannot move."""
    if layout.root is None:
        return layout
    try:
        split = _get(layout.root, path)
    except (AssertionError, AttributeError):
        return layout
    if not isinstance(split, Split):
        return layout
    rect = _rect_at(layout.root, path, Rect(0, 0, max(width, 0), max(height, 0)))
    if rect is None:
        return layout
    across = split.direction == "right"
    length = rect.cols if across else rect.rows
    if length < 3:
        return layout
    avail = length - 1
    low = _min_len(split.first, split.direction)
    high = avail - _min_len(split.second, split.direction)
    if low > high:
        return layout
    wanted = (x - rect.x) if across else (y - rect.y)
    cells = min(max(wanted, low), high)
    if cells == _first_len(split, length):
        return layout
    return Layout(_put(layout.root, path, replace(split, ratio=cells / avail)))


# -- tabs ----------------------------------------------------------------------------------------


def moved(count: int, source: int, dest: int) -> list[int]:
    """The old positions in their new order after the item at ``source`` moves to ``dest``."""
    order = list(range(count))
    order.insert(dest, order.pop(source))
    return order


def swapped(count: int, a: int, b: int) -> list[int]:
    """The old positions in their new order after items ``a`` and ``b`` trade places."""
    order = list(range(count))
    order[a], order[b] = order[b], order[a]
    return order


def parse_tab_move(word: str, current: int, count: int, base: int) -> int:
    """The position (from 0) a tab goes to: ``"N"`` is tab number N, ``"+N"``/``"-N"``
    are places right/left of ``current``; ``ValueError`` with the reason otherwise."""
    text = str(word).strip()
    last = base + count - 1
    try:
        number = int(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a tab number; use N ({base}..{last}) or +N/-N to move right/left"
        ) from None
    position = current + number if text[:1] in "+-" else number - base
    if not 0 <= position < count:
        shown = (
            text if text[:1] not in "+-" else f"{position + base} ({text} from {current + base})"
        )
        raise ValueError(f"no tab {shown}; tabs are {base}..{last}")
    return position


# -- the status line ----------------------------------------------------------------------------


def status_tab_at(
    left: Sequence[tuple[str, bool]],
    right: Sequence[tuple[str, bool]],
    cols: int,
    labels: Sequence[str],
    x: int,
) -> int | None:
    """Which tab's label is at column ``x`` of the status line, or None.

    ``left`` and ``right`` are the shown segments (text, is it the tabs
    segment), laid out as the renderer does: the left ones from column 0,
    the right ones ending at the last column, one space between segments.
    ``labels`` are the tabs' labels (``0:code*``) in order, found in that
    order inside the tabs segment.
    """
    starts: list[tuple[int, str]] = []
    column = 0
    for text, is_tabs in left:
        if is_tabs:
            starts.append((column, text))
        column += text_width(text) + 1
    left_width = max(column - 1, 0)
    right_width = sum(text_width(text) for text, _ in right) + max(len(right) - 1, 0)
    if right and cols - left_width - right_width >= 1:  # else the right side is clipped
        column = cols - right_width
        for text, is_tabs in right:
            if is_tabs:
                starts.append((column, text))
            column += text_width(text) + 1
    for start, text in starts:
        at = 0
        for index, label in enumerate(labels):
            found = text.find(label, at)
            if found < 0:
                break
            x0 = start + text_width(text[:found])
            if x0 <= x < x0 + text_width(label) and x < cols:
                return index
            at = found + len(label)
    return None
