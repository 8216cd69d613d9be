"""The services' rooms and their stairs: imports go down and across domains, never in a circle.

Every import counts, the ones inside functions too (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import greenpark

SRC = Path(greenpark.__file__).resolve().parent
#: The layers above the services: the services never import them.
ABOVE = ("greenpark.web", "greenpark.cli", "greenpark.ingest", "greenpark.demo")
#: The services' domain packages, lowest first; a package imports only packages to its left.
ORDER = (
    "park",
    "notifications",
    "carbon",
    "environment",
    "plan",
    "roadmap",
    "pollution",
    "energy",
    "mrv",
    "portfolio",
)


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {i for i in out if i.startswith("greenpark.")}


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in (SRC / "services").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {i for i in _imports(path) if i in modules and i != name}
        graph[name] |= {i for i in _imports(path) if not i.startswith("greenpark.services")}
    return graph


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[2] in ORDER else None


def test_services_never_import_the_layers_above() -> None:
    bad = sorted(f"{m} imports {i}" for m, deps in _graph().items() for i in deps if i.startswith(ABOVE))
    assert not bad, bad


def test_every_service_module_lives_in_a_domain_package() -> None:
    floor = {p.stem for p in (SRC / "services").glob("*.py")} - {"__init__"}
    assert floor <= {"tabular", "illustrative"}, floor
    rooms = {p.name for p in (SRC / "services").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == set(ORDER)


def test_domain_packages_import_only_downwards() -> None:
    bad = []
    for module, deps in _graph().items():
        here = _package(module)
        for dep in deps:
            there = _package(dep)
            if here and there and ORDER.index(there) > ORDER.index(here):
                bad.append(f"{module} -> {dep}")
    assert not bad, bad


def test_no_import_circle_among_service_modules() -> None:
    graph = {m: {d for d in deps if d.startswith("greenpark.services")} for m, deps in _graph().items()}
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the path, 2 done
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state[nxt] == 1:
                circles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif state[nxt] == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if state[start] == 0:
            visit(start, [start])
    assert not circles, circles


def test_no_service_knows_the_demo() -> None:
    """The demo is one park created like any other (``greenpark/demo.py``): no service reads its
    files or names it."""
    bad = []
    for path in (SRC / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("DEMO_DIR", "data/demo", '"demo"', "xianning"):
            if needle in text:
                bad.append(f"{path.relative_to(SRC)}: {needle}")
    assert not bad, bad
