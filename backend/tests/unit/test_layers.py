"""The package's import graph: every import between taskapi's packages points down the layers below, and no
module imports itself through others (no circle), so that any part can be read, tested and reused (the MCP
server on the task operations) without dragging in what sits above it."""

import ast
from pathlib import Path

import taskapi

ROOT = Path(taskapi.__file__).parent
# Top to bottom: a package may import only those below it (packages on one line are peers and import nothing of
# each other).
LAYERS = [
    ("app", "cli"),
    ("mcp",),
    ("batch", "push", "calendar", "quickadd"),
    ("sync",),
    ("lists",),
    ("tasks",),
    ("ordering",),
    ("auth",),
    ("http",),
    ("db",),
    ("tables", "contract", "errors", "settings"),
]
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("taskapi", *path.relative_to(ROOT).with_suffix("").parts))
        modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Each module's imports of other taskapi modules (a `from package import module` counts as the module)."""
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("taskapi"):
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("taskapi."))
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def _package(module: str) -> str:
    return module.split(".")[1]


def test_every_package_has_its_layer():
    packages = {_package(name) for name in _modules() if name != "taskapi"}
    assert packages == set(RANK), "add a new package to LAYERS, where it belongs"


def test_no_import_points_up_or_sideways():
    arrows = [
        f"{source} → {target}"
        for source, targets in _imports(_modules()).items()
        if source != "taskapi"
        for target in targets
        if _package(source) != _package(target) and RANK[_package(source)] >= RANK[_package(target)]
    ]
    assert not arrows, arrows


def test_no_module_imports_itself_through_others():
    graph = _imports(_modules())
    circles = []

    def visit(module: str, path: list[str], done: set[str]) -> None:
        for target in graph[module]:
            if target in path:
                circles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target], done)
        done.add(module)

    done: set[str] = set()
    for module in graph:
        if module not in done:
            visit(module, [module], done)
    assert not circles, circles
