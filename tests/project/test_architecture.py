"""The shape of the code, checked from its source (docs/architecture.md, "Layers").

- Every import in `attrgraph_cli/` (function-level ones included: they are read with `ast`, not run) goes
  to a module of the same layer or a lower one, and no modules import each other in a loop.
- The package never imports the test and benchmark support (`attrgraph_testing`, `tests`, `benchmarks`).
- No function body is over 80 lines (its signature aside; a leading docstring is not counted).
"""

from __future__ import annotations

import ast
import warnings
from functools import cache
from pathlib import Path

from attrgraph_testing.paths import REPO

ROOT = REPO
PACKAGE = "attrgraph_cli"

#: The layers, lowest first. A module belongs to the layer of the longest prefix that names it (a package
#: or a module); it may import its own layer and the ones below, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("attrgraph_cli", "errors", "jsontypes", "resources", "safetext", "clip", "defaults")),
    ("graph", ("graph",)),
    ("extension", ("extension",)),
    ("network and shipped data", ("net", "neuronpedia", "demo_model")),
    ("io", ("io",)),
    ("validate", ("validate",)),
    ("stages", ("stages",)),
    ("models and runners", ("models", "runners")),
    ("trace and intervene", ("trace", "intervene")),
    (
        "stages built on them",
        (
            "cluster",
            "autointerp",
            "neuronpedia.publish",
            "demo_model.train",
            "demo_model.evaluate",
            "demo_model.card",
            "demo_model.card_controls",
            "demo_model.city_lookup",
            "demo_model.mechanism",
        ),
    ),
    ("report", ("report",)),
    ("commands", ("commands",)),
    ("cli", ("cli", "__main__")),
]

#: what the package must never import: the test and benchmark support
TEST_SUPPORT = ("attrgraph_testing", "tests", "benchmarks")

MAX_BODY_LINES = 80
#: long functions another change is splitting now (each owner's note); remove an entry once it is split
PENDING_SPLITS: dict[str, str] = {}


@cache
def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The dotted name an `from X import ...` statement names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if modules()[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owner(name: str) -> str | None:
    """The package module a dotted name lives in (`attrgraph_cli.io.load_graph` -> `attrgraph_cli.io`)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, node: ast.AST) -> list[str]:
    """Dotted names an import statement (or an `import_module("...")` call with a literal) names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _absolute(module, node)
        return [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base for alias in node.names
        ]
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


@cache
def imports() -> dict[str, list[tuple[str, int]]]:
    """module -> [(imported name, line)], every import statement at any depth of the module."""
    found: dict[str, list[tuple[str, int]]] = {}
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found[module] = [(name, node.lineno) for node in ast.walk(tree) for name in _targets(module, node)]
    return found


def edges() -> dict[str, set[tuple[str, int]]]:
    """module -> {(module of this package it imports, line)}; self-imports left out."""
    graph: dict[str, set[tuple[str, int]]] = {}
    for module, names in imports().items():
        graph[module] = set()
        for name, line in names:
            target = _owner(name) if name.split(".")[0] == PACKAGE else None
            if target is not None and target != module:
                graph[module].add((target, line))
    return graph


def layer_of(module: str) -> int | None:
    """Index in `LAYERS` of the longest prefix naming `module` (None: no layer names it)."""
    best, best_len = None, -1
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            full = PACKAGE if prefix == PACKAGE else f"{PACKAGE}.{prefix}"
            if (module == full or module.startswith(full + ".")) and len(full) > best_len:
                best, best_len = index, len(full)
    return best


def cycles() -> list[list[str]]:
    """Groups of modules that import each other in a loop."""
    return _components(edges())


def _components(edge_map: dict[str, set[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    graph = {m: sorted({t for t, _ in ts}) for m, ts in edge_map.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _where(module: str) -> str:
    return str(modules()[module].relative_to(ROOT))


def test_every_module_has_a_layer():
    missing = [m for m in modules() if layer_of(m) is None]
    assert not missing, f"modules no layer names (add them to LAYERS and docs/architecture.md): {missing}"


def test_no_import_runs_up_the_layers():
    wrong = []
    for module, targets in sorted(edges().items()):
        here = layer_of(module)
        for target, line in sorted(targets):
            there = layer_of(target)
            if here is not None and there is not None and there > here:
                wrong.append(
                    f"{_where(module)}:{line} imports {target} "
                    f"(layer '{LAYERS[here][0]}' imports the higher layer '{LAYERS[there][0]}')"
                )
    assert not wrong, "imports up the layers:\n" + "\n".join(wrong)


def test_no_import_cycle():
    found = cycles()
    shown = []
    for component in found:
        members = set(component)
        ties = [
            f"{_where(m)}:{line} -> {t}" for m in component for t, line in sorted(edges()[m]) if t in members
        ]
        shown.append(" | ".join(ties))
    assert not found, "modules that import each other in a loop:\n" + "\n".join(shown)


def test_the_package_never_imports_test_support():
    wrong = [
        f"{_where(module)}:{line} imports {name}"
        for module, names in imports().items()
        for name, line in names
        if name.split(".")[0] in TEST_SUPPORT
    ]
    assert not wrong, "\n".join(wrong)


def test_tests_and_benchmarks_share_support_only_through_attrgraph_testing():
    """tests/ never imports benchmarks/ and benchmarks/ never imports tests/ (what both need is in
    attrgraph_testing/), and neither edits sys.path to reach the other."""
    wrong = []
    for folder, other in (("tests", "benchmarks"), ("benchmarks", "tests")):
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = path.relative_to(ROOT)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    names = []
                wrong += [f"{where}:{node.lineno} imports {n}" for n in names if n.split(".")[0] == other]
                call = node.func if isinstance(node, ast.Call) else None
                if isinstance(call, ast.Attribute) and call.attr in ("insert", "append"):
                    if isinstance(call.value, ast.Attribute) and call.value.attr == "path":
                        if getattr(call.value.value, "id", None) == "sys":
                            wrong.append(f"{where}:{node.lineno} edits sys.path")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_function_level_and_relative_imports():
    """The control: an import inside a function and a relative import are both edges the checks read."""
    # io/torch_files.py imports io/pt_numpy.py inside load_pt only
    assert any(t == "attrgraph_cli.io.pt_numpy" for t, _ in edges()["attrgraph_cli.io.torch_files"])
    tree = ast.parse("def f():\n    from .sibling import x\n    from .. import errors\n")
    names = [n for node in ast.walk(tree) for n in _targets("attrgraph_cli.io.torch_files", node)]
    assert names == ["attrgraph_cli.io.sibling", "attrgraph_cli.errors"]
    cyclic = {"a.b": {("a.c", 1)}, "a.c": {("a.b", 2)}}
    assert _components(cyclic) == [["a.b", "a.c"]]
    assert layer_of("attrgraph_cli.neuronpedia.publish") > layer_of("attrgraph_cli.neuronpedia.client")


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement of the body (a leading docstring skipped) to the last."""
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1


def long_functions() -> dict[str, int]:
    """`path:qualified name` -> body lines, for every function over `MAX_BODY_LINES`."""
    found = {}
    for path in modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef) and body_lines(child) > MAX_BODY_LINES:
                        found[f"{path.relative_to(ROOT)}:{name}"] = body_lines(child)
                    stack.append((child, name + "."))
                else:
                    stack.append((child, prefix))
    return found


def test_no_function_body_over_80_lines():
    long = {k: v for k, v in long_functions().items() if k not in PENDING_SPLITS}
    assert not long, f"functions over {MAX_BODY_LINES} body lines (split them along their phases): {long}"


def test_pending_splits_are_still_pending():
    """A PENDING_SPLITS entry that is split already is said (a warning: the list should only shrink)."""
    long = long_functions()
    done = [k for k in PENDING_SPLITS if k not in long]
    if done:
        warnings.warn(f"split now, remove from PENDING_SPLITS: {done}", stacklevel=1)


def test_body_lines_counts_the_body_only():
    tree = ast.parse('def f(\n    a,\n    b,\n):\n    """Doc\n    string."""\n    x = 1\n    return x\n')
    assert body_lines(tree.body[0]) == 2
