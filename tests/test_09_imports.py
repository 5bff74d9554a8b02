"""No import cycles inside s1flood: the import graph of src/s1flood, read with `ast`.

Every ``import`` and ``from ... import`` counts, at module level and inside functions (a
function-level import only postpones a cycle, it does not remove it); imports under
``if TYPE_CHECKING:`` do not (they never run), and ``importlib.import_module("literal")``
does. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
``pkg``; a package is its ``__init__``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "s1flood"


@dataclass(frozen=True)
class Edge:
    """One import: ``source`` imports ``target`` at ``source``'s line ``line``."""

    source: str
    target: str
    line: int


def module_names(src: Path = SRC, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (packages as __init__)."""
    names: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_module_call(node: ast.AST) -> ast.Import | None:
    """``importlib.import_module("a.b")`` (a literal name) as the ``import a.b`` it does."""
    if not (isinstance(node, ast.Call) and node.args):
        return None
    func, arg = node.func, node.args[0]
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name != "import_module" or not isinstance(arg, ast.Constant):
        return None
    if not isinstance(arg.value, str) or arg.value.startswith("."):
        return None
    return ast.Import(names=[ast.alias(name=arg.value)], lineno=node.lineno, col_offset=0)


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in a tree, skipping ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        call = _import_module_call(node)
        if call is not None:
            found.append(call)
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name a ``from`` import names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """`name`, or its longest prefix that is a module of the package (None outside it)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    """Every import from one module of the package to another (or to itself)."""
    edges: list[Edge] = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [_known(alias.name, modules) for alias in node.names]
            else:
                base = _resolve(module, is_package, node)
                targets = [
                    _known(f"{base}.{alias.name}", modules)
                    if f"{base}.{alias.name}" in modules
                    else _known(base, modules)
                    for alias in node.names
                ]
            edges.extend(
                Edge(module, target, node.lineno) for target in dict.fromkeys(targets) if target
            )
    return edges


def find_cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One cycle per strongly connected component (Tarjan), as the edges that close it."""
    graph: dict[str, list[Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, []).append(edge)
        graph.setdefault(edge.target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph[node]:
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles = []
    for component in components:
        members = set(component)
        looped = any(e.target == e.source for e in graph[component[0]])
        if len(component) > 1 or looped:
            cycles.append(_cycle_through(min(component), members, graph))
    return sorted(cycles, key=lambda cycle: cycle[0].source)


def _cycle_through(start: str, members: set[str], graph: dict[str, list[Edge]]) -> list[Edge]:
    """A shortest cycle from `start` back to itself within a component (breadth first)."""
    paths: dict[str, list[Edge]] = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for edge in sorted(graph[node], key=lambda e: e.target):
            if edge.target == start:
                return [*paths[node], edge]
            if edge.target in members and edge.target not in paths:
                paths[edge.target] = [*paths[node], edge]
                queue.append(edge.target)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def describe(cycle: list[Edge]) -> str:
    """``a -> b (a.py:12) -> a (b.py:3)``."""
    steps = [cycle[0].source]
    for edge in cycle:
        steps.append(f"{edge.target} ({edge.source}:{edge.line})")
    return " -> ".join(steps)


def test_no_import_cycles() -> None:
    modules = module_names()
    assert "s1flood" in modules
    assert "s1flood.discovery.registry" in modules
    cycles = find_cycles(import_edges(modules))
    report = "\n".join(describe(cycle) for cycle in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s) inside s1flood:\n{report}"


def test_discovery_registry_imports_the_catalogues_not_the_reverse() -> None:
    modules = module_names()
    edges = import_edges(modules)
    implementations = {
        f"s1flood.discovery.{name}" for name in ("cdse", "stac_api", "asf", "dhus", "local")
    }
    registry = {e.target for e in edges if e.source == "s1flood.discovery.registry"}
    assert implementations <= registry
    for edge in edges:
        if edge.source in implementations:
            assert edge.target not in {"s1flood.discovery", "s1flood.discovery.registry"}, edge
            assert edge.target not in implementations, edge


def test_the_graph_reader_finds_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.a import thing\n")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n\nthing = 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\n"
        "from .. import a\n"
    )
    (pkg / "c.py").write_text("from pkg.sub import b\n")
    (pkg / "d.py").write_text("import importlib\nimportlib.import_module('pkg.c')\n")
    modules = module_names(tmp_path, "pkg")
    assert set(modules) == {"pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.c", "pkg.d"}
    edges = import_edges(modules)
    assert Edge("pkg.a", "pkg.sub.b", 2) in edges  # function level, `from pkg.sub import b`
    assert Edge("pkg.sub.b", "pkg.a", 4) in edges  # relative, `from .. import a`
    assert not any(e.source == "pkg.sub.b" and e.target == "pkg.c" for e in edges)
    assert Edge("pkg.d", "pkg.c", 2) in edges  # importlib.import_module with a literal
    cycles = find_cycles(edges)
    assert [describe(c) for c in cycles] == ["pkg.a -> pkg.sub.b (pkg.a:2) -> pkg.a (pkg.sub.b:4)"]
