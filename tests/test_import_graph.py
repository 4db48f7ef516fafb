"""The import graph of ``sagan/`` has no cycle.

Imports inside functions count too: a lazy import only postpones a cycle to the first call,
and it still ties the two modules (and their packages) together. Imports under
``if TYPE_CHECKING:`` never run, so they do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Package-level cycles allowed. Empty: a new cycle fails, and so would an entry that no
# longer is one (delete it).
KNOWN_PACKAGE_CYCLES: set[frozenset[str]] = set()

# Every direct child of sagan/ by layer, top to bottom: a module imports only from its own
# layer or below. A new top-level module or package must be placed here.
LAYER_OF = {
    # 0: entry points and what reads a whole study
    **dict.fromkeys(["cli", "cli_errors", "cli_types", "study", "report", "bench", "forecast"], 0),
    # 1: training, scoring and costing one run
    **dict.fromkeys(["train", "metrics", "cost", "memory_fit"], 1),
    # 2: the networks
    **dict.fromkeys(["models", "nn"], 2),
    # 3: data, files and plain settings
    **dict.fromkeys(
        [
            "data",
            "io",
            "errors",
            "registry",
            "config",
            "images",
            "layout",
            "run_folder",
            "arms",
            "package_files",
            "schema",
            "study_checks",
            "gpu_pool",
            "locks",
            "streams",
        ],
        3,
    ),
}

# (lower, upper): the lower package never imports the upper one, even lazily.
LAYERS = [("sagan.cost", "sagan.bench")]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every dotted name an ``import`` or ``from ... import`` of the module can load,
    anywhere in it (functions included), relative imports made absolute."""
    names: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            # ``from a import b``: b is a submodule of a or a name in a; try both
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
        stack.extend(ast.iter_child_nodes(node))
    return names


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the sagan modules it imports (the longest dotted prefix that is a module)."""
    files = {module_name(p, root): p for p in (root / "sagan").rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        for name in imported_names(tree, module, path.name == "__init__.py"):
            while name and name not in files:
                name = name.rpartition(".")[0]
            # a module's own package is not a dependency on another concept
            if name and name != module and not module.startswith(name + "."):
                graph[module].add(name)
    return graph


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between ``sagan``'s direct children (sub-packages and top modules)."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(top(module), set())
        out[top(module)] |= {top(t) for t in targets if top(t) != top(module)}
    return out


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = {stack.pop()}
            while v not in component:
                component.add(stack.pop())
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_sees_a_lazy_import_cycle(tmp_path):
    pkg = tmp_path / "sagan"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from sagan.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from sagan import a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sagan.a\n"
    )
    graph = module_graph(tmp_path)
    assert graph["sagan.c"] == set()
    assert cycles(graph) == [frozenset({"sagan.a", "sagan.b"})]


def test_no_module_imports_itself_back():
    found = cycles(module_graph())
    assert not found, "import cycles between modules: " + "; ".join(
        " <-> ".join(sorted(c)) for c in found
    )


def test_package_cycles_only_shrink():
    found = set(cycles(package_graph(module_graph())))
    new = found - KNOWN_PACKAGE_CYCLES
    gone = KNOWN_PACKAGE_CYCLES - found
    assert not new, f"new import cycles between packages: {[sorted(c) for c in new]}"
    assert not gone, (
        f"no longer cycles, delete from KNOWN_PACKAGE_CYCLES: {[sorted(c) for c in gone]}"
    )


@pytest.mark.parametrize(("lower", "upper"), LAYERS)
def test_lower_layer_never_imports_upper(lower, upper):
    graph = module_graph()
    offenders = sorted(
        m
        for m, targets in graph.items()
        if m.startswith(lower + ".") or m == lower
        if any(t == upper or t.startswith(upper + ".") for t in targets)
    )
    assert not offenders, f"{lower} must not import {upper}: {offenders}"


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports from a higher layer, and sagan children with no layer, as readable lines."""
    out = []
    for package, targets in sorted(package_graph(graph).items()):
        name = package.removeprefix("sagan.")
        if package == "sagan":
            continue
        if name not in LAYER_OF:
            out.append(f"{package} has no layer: add it to LAYER_OF")
            continue
        for target in sorted(targets):
            other = target.removeprefix("sagan.")
            if other in LAYER_OF and LAYER_OF[other] < LAYER_OF[name]:
                out.append(
                    f"{package} (layer {LAYER_OF[name]}) imports {target} (layer {LAYER_OF[other]})"
                )
    return out


def test_the_layers_read_top_to_bottom():
    found = layer_violations(module_graph())
    assert not found, "imports against the layering:\n" + "\n".join(found)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    pkg = tmp_path / "sagan"
    (pkg / "nn").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "nn" / "__init__.py").write_text("")
    (pkg / "nn" / "block.py").write_text("def f():\n    from sagan.study import runs\n")
    (pkg / "study.py").write_text("from sagan.nn.block import f\n")
    (pkg / "extra.py").write_text("")
    assert layer_violations(module_graph(tmp_path)) == [
        "sagan.extra has no layer: add it to LAYER_OF",
        "sagan.nn (layer 2) imports sagan.study (layer 0)",
    ]
