"""The layers of hexe, checked: no import circle, no import from a lower layer up.

Also: no module over 800 lines and no class over 40 methods outside the
terminal emulator (``OVERSIZE_*`` may list exceptions; it is empty), and
docs/architecture.md names only methods that exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEXE = ROOT / "hexe"

#: Lowest first. A module may import modules of its own layer or lower ones.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("hexe", "hexe.codec", "hexe.errors", "hexe.log", "hexe.procwait", "hexe.values")),
    ("plugin", ("hexe.plugin",)),
    ("vocabulary", ("hexe.isolation", "hexe.commands")),
    ("config", ("hexe.config",)),
    ("spawn", ("hexe.spawn", "hexe.run", "hexe.doctor")),
    ("mux", ("hexe.terminal", "hexe.mux", "hexe.wire", "hexe.server.paths")),
    ("server", ("hexe.server",)),
    ("client", ("hexe.client", "hexe.sessions")),
    ("cli", ("hexe.cli", "hexe.__main__")),
]

#: Still too big (issue 14). Lines or methods, at most. Empty: keep it so.
OVERSIZE_MODULES: dict[str, int] = {}
OVERSIZE_CLASSES: dict[str, int] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in HEXE.rglob("*.py")}


def layer_of(name: str) -> int:
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found >= 0, f"{name} is in no layer; add it to LAYERS"
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """Modules of hexe imported when ``path`` is imported (not under TYPE_CHECKING,
    not inside functions)."""
    out: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text()).body)
    return {m for m in out if m in known}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, set(mods)) for name, path in mods.items()}


def test_every_module_is_in_a_layer():
    for name in modules():
        layer_of(name)


def test_no_import_from_a_lower_layer_up():
    wrong = [
        f"{name} ({LAYERS[layer_of(name)][0]}) imports {dep} ({LAYERS[layer_of(dep)][0]})"
        for name, deps in graph().items()
        for dep in deps
        if layer_of(dep) > layer_of(name)
    ]
    assert wrong == []


def test_no_import_circle():
    edges = graph()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                walk(dep, [*path, dep])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            walk(node, [node])
    assert circles == []


def test_no_module_over_800_lines_outside_the_terminal():
    for path in HEXE.rglob("*.py"):
        rel = str(path.relative_to(ROOT))
        if rel.startswith("hexe/terminal/"):
            continue
        lines = len(path.read_text().splitlines())
        assert lines <= OVERSIZE_MODULES.get(rel, 800), f"{rel} has {lines} lines"


def test_no_class_over_40_methods_outside_the_terminal():
    for path in HEXE.rglob("*.py"):
        rel = str(path.relative_to(ROOT))
        if rel.startswith("hexe/terminal/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                methods = [
                    n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                most = OVERSIZE_CLASSES.get(f"{rel}:{node.name}", 40)
                assert len(methods) <= most, f"{rel}:{node.name} has {len(methods)} methods"


def test_architecture_doc_names_methods_that_exist():
    from hexe.server.server import Server

    doc = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`Server\.(\w+)`", doc))
    rooms = doc.split("## Rooms of the server")[1].split("## One keystroke")[0]
    for row in re.findall(r"^\| [a-z -]+ \| [^|]+ \| (.+) \|$", rooms, re.MULTILINE):
        named.update(m for m in re.findall(r"`(\w+)`", row) if not m.startswith("do_"))
    assert named, "no method named"
    missing = sorted(m for m in named if not hasattr(Server, m))
    assert missing == []


def _imported(path: Path) -> list[str]:
    """Every module ``path`` imports (``from X import y`` gives X)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def test_no_test_imports_another_test_module():
    tests = ROOT / "tests"
    wrong = []
    for path in tests.rglob("test_*.py"):
        for name in _imported(path):
            if name.split(".")[-1].startswith("test_") and name != path.stem:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


PLUGINS = ROOT / "plugins"


def test_no_plugin_module_over_800_lines():
    for path in PLUGINS.rglob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= 800, f"{path.relative_to(ROOT)} has {lines} lines"


def test_the_core_imports_no_plugin():
    """hexe/ knows the plugins only through hooks and the settings registry."""
    builtin = {p.name.replace("-", "_") for p in PLUGINS.iterdir() if p.is_dir()}
    builtin |= {"hexe_landlock"}
    wrong = []
    for path in HEXE.rglob("*.py"):
        wrong += [
            f"{path.relative_to(ROOT)} imports {n}"
            for n in _imported(path)
            if n.split(".")[0] in builtin
        ]
    assert wrong == []


def test_the_core_declares_no_isolation_model():
    """Profiles, namespaces, limits: declared by plugins (issue 14), not by the core."""
    import hexe.isolation
    from hexe.plugin.manager import settings_of

    assert not (HEXE / "policy.py").exists() and not (HEXE / "limits.py").exists()
    for name in ("BUILTIN_PROFILES", "NAMESPACES", "Limits", "FIELDS"):
        assert not hasattr(hexe.isolation, name), name
    core = settings_of(None)  # what the core declares with no plugin at all
    assert core.names() == ["profile"] and list(core.profiles) == ["none"]
