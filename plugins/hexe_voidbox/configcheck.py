"""What ``hexe config check`` learns from voidbox's settings.

``hexe_sandbox_files``: how a path inside the sandbox maps to the host (a
``rootfs``, the ``mounts`` in order, a fresh ``/tmp`` with a mount
namespace), so the core finds a pane's ``cwd`` and command as the sandbox
will. ``hexe_check_pane``: a bind whose source is missing, and a ``mask`` of a
path that does not exist (an error, as at spawn: hexe creates nothing in your
tree, and hiding a path that appears later is not promised).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hexe import hookimpl

if TYPE_CHECKING:
    from hexe.config.model import PaneSpec
    from hexe.isolation import Isolation


class SandboxView:
    """The file system as the pane's sandbox will see it (``SandboxFiles``)."""

    def __init__(self, iso: Isolation) -> None:
        self.rootfs = iso.get("rootfs")
        self.fresh_tmp = "mount" in iso.get("namespaces", ())
        self.mounts = list(iso.get("mounts", ()))

    def changes_anything(self) -> bool:
        return bool(self.rootfs or self.mounts or self.fresh_tmp)

    def host_path(self, path: str) -> str | None:
        """Where ``path`` (inside) is on the host; None when the sandbox hides it."""
        path = os.path.normpath(path)
        for m in reversed(self.mounts):  # the last action on a path wins
            if _under(path, m.target):
                if m.kind == "mask":
                    return None
                if m.kind == "tmpfs":
                    return None if path != m.target else m.target
                return os.path.join(m.source or m.target, os.path.relpath(path, m.target))
        if self.fresh_tmp and _under(path, "/tmp") and path != "/tmp":
            return None  # a fresh, empty /tmp
        if self.rootfs:
            return os.path.join(self.rootfs, path.lstrip("/"))
        return path


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


@hookimpl
def hexe_sandbox_files(isolation: Isolation) -> SandboxView | None:
    view = SandboxView(isolation)
    return view if view.changes_anything() else None


@hookimpl
def hexe_check_pane(pane: PaneSpec, isolation: Isolation) -> list[str]:
    """Binds whose source is missing; masks of paths that do not exist."""
    problems = []
    rootfs = isolation.get("rootfs")
    for m in isolation.get("mounts", ()):
        where = f"{m.label} ({m})" if m.label else f"{pane.where}: {m}"
        if m.kind in ("ro", "rw") and m.source and not os.path.exists(m.source):
            problems.append(f"{where}: the source {m.source} does not exist")
        elif m.kind == "mask":
            target = os.path.join(rootfs, m.target.lstrip("/")) if rootfs else m.target
            if not os.path.lexists(target):
                problems.append(
                    f"{where}: {m.target} does not exist, so the pane would fail to start;"
                    " create it or remove the mask"
                )
    return problems
