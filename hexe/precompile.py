"""``python3 -m hexe.precompile``: compile now what each hexe process would
compile for itself, where its users cannot write it.

Python caches modules' bytecode (pip compiles it at install time), but not the
methods ``dataclasses`` generates: :mod:`hexe.methodcache` keeps those in a
table next to the bytecode, written by the first ``hexe`` that may write
there. In an install its users cannot write (pip as root, a distribution's
package) none of their runs ever writes it, and each compiles the methods
again (~15 ms of a ``hexe run``). Run this once, as the user who installed
hexe: it imports every module of hexe and of its plugins and writes the table
(the path printed). An editable or per-user install needs nothing: its first
runs write the table.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from hexe import methodcache


def modules_of(top: str) -> list[str]:
    """``top`` and every module under it (not ``__main__``), as importable names."""
    package = importlib.import_module(top)
    names = [top]
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), top + "."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def main() -> int:
    from hexe.plugin.manager import entry_points

    plugins = [ep.value.partition(":")[0].strip() for ep in entry_points("hexe")]
    failed = []
    for top in dict.fromkeys(["hexe", *plugins]):
        try:
            names = modules_of(top)
        except Exception as exc:  # a plugin that does not load: hexe says so when it runs
            failed.append(f"{top}: {type(exc).__name__}: {exc}")
            continue
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as exc:  # a module needing what this machine lacks
                failed.append(f"{name}: {type(exc).__name__}: {exc}")
    print(methodcache.write_now())
    for line in failed:
        print(f"hexe.precompile: not imported: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
