"""The package's shape: no import circle, each wing importing only what it may, small modules.

The imports are read from the source (``ast``), at any depth of a module (an import inside a
function counts: it is a dependency all the same, only later); those under ``if
TYPE_CHECKING:`` are left out: they name a type for the checker and are never run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xlfunding"
WINGS = ("read", "write", "month", "year", "opendata", "web", "cli")
# What each part may import, besides itself. The core is the flat modules of the package;
# ``validate`` is the core's one module above ``read`` (it checks what the reader read).
MAY_IMPORT = {
    "core": {"core"},
    "validate": {"core", "read"},
    "read": {"core"},
    "write": {"core"},
    "month": {"core", "validate", "read", "write"},
    "year": {"core", "validate", "read", "write"},
    "opendata": {"core", "validate", "read", "write", "month", "year"},
    "web": {"core", "validate", "read", "write", "month", "year", "opendata"},
    "cli": {"core", "validate", "read", "write", "month", "year", "opendata", "web"},
    "package": set(WINGS) | {"core", "validate"},  # __init__ (lazy exports) and __main__
}
MAX_LINES = 350


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("xlfunding", *path.relative_to(PACKAGE).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (``from x import module`` counts the module)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in _run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            subs = {f"{base}.{alias.name}" for alias in node.names} & known
            found |= subs or {base}
    return {m for m in found & known if m != name}


def _run_time_nodes(tree: ast.AST):  # type: ignore[no-untyped-def]
    """Every node but those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_run_time_nodes(child)])
            continue
        yield node
        yield from _run_time_nodes(node)


def part(name: str) -> str:
    pieces = name.split(".")
    if len(pieces) == 1 or pieces[1] == "__main__":
        return "package"
    if pieces[1] in WINGS:
        return pieces[1]
    return "validate" if pieces[1] == "validate" else "core"


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_no_import_circle(graph: dict[str, set[str]]) -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert circles == []


def test_each_part_imports_only_what_it_may(graph: dict[str, set[str]]) -> None:
    forbidden = sorted(
        (name, other)
        for name, others in graph.items()
        for other in others
        if part(other) != part(name) and part(other) not in MAY_IMPORT[part(name)]
    )
    assert forbidden == []


def test_the_package_has_the_wings_it_says() -> None:
    for wing in ("read", "write", "month", "year", "opendata", "web"):
        doc = ast.get_docstring(ast.parse((PACKAGE / wing / "__init__.py").read_text()))
        assert doc and "import" in doc, wing  # what it owns, and what it may import


def test_no_module_above_350_lines() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_nothing_but_the_command_line_imports_the_web_wing(graph: dict[str, set[str]]) -> None:
    importers = {
        name
        for name, others in graph.items()
        if part(name) not in ("web", "cli") and any(part(o) == "web" for o in others)
    }
    assert importers == set()


def test_the_walker_sees_imports_at_any_depth(graph: dict[str, set[str]]) -> None:
    assert "xlfunding.read.template" in graph["xlfunding.validate"]  # at the top of the module
    assert "xlfunding.month.job" in graph["xlfunding.cli.month"]  # inside a function
    assert "xlfunding.settings" not in graph["xlfunding.layout"]  # a type only
