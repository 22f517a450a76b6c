"""The layout targets of issue #18, counted from the code: ``python -m annoris.tests.targets``.

Counted over the project's own modules, leaving out tests, migrations, bench and the GitHub
emulator: import cycles (lazy imports inside functions count), ``global`` statements,
exception classes, environment variables read by settings, modules over 300 lines, and the
read path's lines. ``test_import_graph.py`` fails on any cycle.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("annoris", "sessions_app", "projects_app", "sync_app")
SKIPPED = ("tests", "migrations", "github_emulator", "testing")
READ_PATH = ("sessions_app/readpath", "sessions_app/managers.py")


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every counted module."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if any(part in SKIPPED for part in parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` (annotations only, never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            yield from (inner for branch in node.orelse for inner in ast.walk(branch))
            continue
        yield node
        yield from _runtime_nodes(node)


def _imported(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> Iterator[str]:
    """What a module imports, anywhere in it: a lazy import inside a function counts, an import
    for type annotations only (``if TYPE_CHECKING:``) does not.

    ``from package import submodule`` imports the submodule, as import-linter reads it.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                name = f"{base}.{alias.name}"
                yield name if name in modules else base


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (at the top or inside a function)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for imported in _imported(tree, name, path.name == "__init__.py", set(modules)):
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def app_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(importing app, imported app) pairs across top-level packages."""
    return {
        (source.split(".")[0], target.split(".")[0])
        for source, targets in graph.items()
        for target in targets
        if source.split(".")[0] != target.split(".")[0]
    }


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def counts() -> dict[str, int]:
    modules = project_modules()
    graph = import_graph()
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in modules.items()}
    settings = (ROOT / "annoris" / "settings.py").read_text(encoding="utf-8")
    env_vars = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z0-9_]+)["']""", settings))
    return {
        "import cycles": len(cycles(graph)),
        "global statements": sum(
            isinstance(node, ast.Global) for tree in trees.values() for node in ast.walk(tree)
        ),
        "exception classes": len(exception_classes()),
        "env vars read by settings": len(env_vars),
        "modules over 300 lines": sum(_lines(path) > 300 for path in modules.values()),
        "read path lines": sum(
            _lines(path)
            for path in modules.values()
            if any(str(path.relative_to(ROOT)).startswith(prefix) for prefix in READ_PATH)
        ),
    }


def exception_names(trees: dict[str, ast.AST]) -> set[str]:
    """Names of classes that derive (through project classes) from a built-in exception."""
    bases: dict[str, list[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [ast.unparse(base).rpartition(".")[2] for base in node.bases]
    roots = {name for name in dir(builtins) if name.endswith(("Error", "Exception")) or name == "Warning"}
    roots |= {"DatabaseError", "APIException", "ValidationError", "HTTPError", "RequestException"}
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in found and any(p in roots or p in found for p in parents):
                found.add(name)
                changed = True
    return found


def exception_classes() -> list[str]:
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in project_modules().items()}
    names = exception_names(trees)
    return sorted(
        f"{module}.{node.name}"
        for module, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name in names
    )


def main() -> None:
    for name, value in counts().items():
        print(f"{name}: {value}")
    for component in cycles(import_graph()):
        print("cycle:", " <-> ".join(component))
    big = [
        f"{path.relative_to(ROOT)} ({_lines(path)})"
        for path in project_modules().values()
        if _lines(path) > 300
    ]
    print("over 300 lines:", ", ".join(big))


if __name__ == "__main__":
    main()
