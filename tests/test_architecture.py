"""The package's shape: imports flow one way through the layers, no cycles, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "crmkit"

# Layers from the top; a module may import its own layer and any layer below it, except that
# present and metrics sit side by side and never import each other.
LAYERS = ["run", "topics", "present", "metrics", "load", "core"]
MAY_IMPORT = {
    "run": {"run", "topics", "present", "metrics", "load", "core"},
    "topics": {"topics", "present", "metrics", "load", "core"},
    "present": {"present", "load", "core"},
    "metrics": {"metrics", "load", "core"},
    "load": {"load", "core"},
    "core": {"core"},
}

# Files allowed past ~600 lines, and why.
LONG_FILES = {
    "run/sample.py": "the generator's plans, word lists and planted effects read as one story",
    "topics/registry.py": "every topic's declaration in one list, read side by side",
}


def modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def imports_of(path: Path) -> set[str]:
    """crmkit modules a file imports, at the top or inside functions (not TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("crmkit.")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crmkit."):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found & set(modules())


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.mark.parametrize("module", sorted(m for m in modules() if layer(m)))
def test_imports_flow_down_the_layers(module):
    path = modules()[module]
    wrong = sorted(m for m in imports_of(path) if layer(m) not in MAY_IMPORT[layer(module)])
    assert not wrong, f"{module} ({layer(module)}) must not import {wrong}"


def test_no_import_cycles():
    graph = {m: imports_of(p) - {m} for m, p in modules().items()}
    for package in [m for m in graph if modules()[m].name == "__init__.py"]:
        graph[package] = set()  # a package's lazy re-exports are not a load-time edge
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for child in sorted(graph.get(module, ())):
            if state.get(child) == 1:
                pytest.fail(f"import cycle: {' → '.join([*trail, module, child])}")
            if child not in state:
                visit(child, [*trail, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_the_test_sees_imports():
    # the checks above would pass on a parser that finds nothing
    funnel_topic = modules()["crmkit.topics.funnel"]
    assert "crmkit.metrics.funnel" in imports_of(funnel_topic)


@pytest.mark.parametrize("module", sorted(modules()))
def test_modules_stay_small(module):
    path = modules()[module]
    relative = path.relative_to(PACKAGE).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 650 or relative in LONG_FILES, f"{relative} has {lines} lines"
