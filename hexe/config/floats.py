"""``floats = { hexe.float { ... } }`` in a tab of ``hexe.layout``: its floating panes.

A float is written as a pane (``name``, ``command``, ``cwd``, ``env``,
``isolation``, ``remain_on_exit``: checked by the loader's pane rules) plus
where it sits: ``width``/``height``/``x``/``y`` (whole cells, or fractions of
the window between 0 and 1; unset: 60% of the window, centred) and ``shown``
(false: it starts hidden, one ``toggle-floats`` away). The loader calls
:func:`parse_floats` for a tab's ``floats`` key; nothing here runs Lua.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hexe.config.lua import NODE_KEY
from hexe.config.model import FloatSpec, Options
from hexe.errors import SettingError
from hexe.values import parse_bool

if TYPE_CHECKING:
    from hexe.config.loader import Loader

#: the keys of hexe.float that place it; the others are the pane's
GEOMETRY = ("width", "height", "x", "y")


def parse_floats(
    loader: Loader, value: Any, path: str, where: str, options: Options
) -> tuple[FloatSpec, ...]:
    """The floats of the tab at ``path`` (``value`` is its ``floats`` key, converted)."""
    from hexe.config.loader import Table, describe, lua_type

    if not isinstance(value, Table) or value.named:
        loader.problems.add(
            where,
            f"{path}.floats is {describe(value)}; use a list of floats: "
            "floats = { hexe.float { ... } }",
        )
        return ()
    out = []
    for i, node in enumerate(value.items):
        label = f"{path}.floats[{i}]"
        if lua_type(node) != "table" or loader.raw.rawget(node, NODE_KEY) != "float":
            loader.problems.add(where, f"{label} is {describe(node)}; use hexe.float {{ ... }}")
            continue
        found = _float(loader, node, label, options)
        if found is not None:
            out.append(found)
    return tuple(out)


def _float(loader: Loader, node: Any, path: str, options: Options) -> FloatSpec | None:
    from hexe.config.loader import describe, lua_type

    where = loader.where_of(node)
    spec = loader.raw.rawget(node, "spec")
    if lua_type(spec) != "table":
        loader.problems.add(where, f"{path}: hexe.float takes a table")
        return None
    size: dict[str, float] = {}
    shown = True
    pane: dict[Any, Any] = {}
    for key, item in list(spec.items()):
        if key in GEOMETRY:
            if _cells_or_fraction(item, zero=key in ("x", "y")):
                size[key] = item
            else:
                loader.problems.add(
                    where,
                    f"{path}.{key}={describe(item)} is not accepted; use whole cells (40) "
                    "or a fraction of the window between 0 and 1 (0.5)",
                )
        elif key == "shown":
            try:
                shown = parse_bool(f"{path}.shown", item)
            except SettingError as exc:
                loader.problems.add(where, exc.message)
        else:
            pane[key] = item
    found = loader.pane(loader.raw.lua.table_from(pane), path, where, options)
    if found is None:
        return None
    return FloatSpec(found, tuple(size.get(k) for k in GEOMETRY), shown)  # type: ignore[arg-type]


def _cells_or_fraction(value: Any, zero: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 < value < 1 or (value >= 1 and value == int(value)) or (zero and value == 0)
