"""Glia's layers, listed once, and the test that every import in `glia/` points down them with no circles.

`LAYERS` runs from the top (the command line) to the bottom (plain helpers). A module may import from its
own package or from any lower layer; packages sharing a layer do not import each other. Every import
counts: at module level, inside a function (imported late only to save time) and under TYPE_CHECKING;
importing `a.b.c` counts as importing that module only, not the packages `a` and `a.b` Python runs first.
`docs/architecture.md` ("Layers") draws the same list; the last test checks that it still does.

A new package or top-level module goes into the layer whose packages it imports and is imported by; an
import that cannot point down yet is named in `KNOWN_UPWARD` with its reason, and only shrinks.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "glia"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("glia.__main__",),
    ("glia.cli",),
    ("glia.web",),
    ("glia.compare",),
    ("glia.report",),
    ("glia.orchestrator",),
    ("glia.blackbox", "glia.context"),
    ("glia.research_context",),
    ("glia.agents", "glia.notes"),
    ("glia.progress",),
    ("glia.cluster",),
    ("glia.evaluation",),
    ("glia.task_kinds",),
    ("glia.problems",),
    ("glia.record",),
    ("glia.workspace",),
    ("glia.task",),
    ("glia.strategies",),
    ("glia.llm",),
    (
        "glia.budget",
        "glia.config",
        "glia.cores",
        "glia.logging_setup",
        "glia.metric",
        "glia.registry",
        "glia.run_store",
    ),
    ("glia.errors",),
    ("glia.isolation", "glia.safe_text"),
)

# (importer, imported) -> why it still points up. Each is an import inside a function, so no module
# circle at import time; each names what would remove it.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


@functools.cache
def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, is a package's __init__)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


@functools.cache
def _graph() -> dict[str, dict[str, int]]:
    """Importer -> {imported glia module: first line}. `from pkg import sub` counts as importing `sub`."""

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    modules = _modules()
    graph: dict[str, dict[str, int]] = defaultdict(dict)
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                found = known(target) if target.split(".")[0] == "glia" else None
                if found and found != name:
                    graph[name].setdefault(found, node.lineno)
    return dict(graph)


def _layer_of(module: str) -> tuple[int, str] | None:
    """(layer index, the layer's entry holding `module`), by the longest matching entry."""
    best = None
    for index, layer in enumerate(LAYERS):
        for entry in layer:
            if (module == entry or module.startswith(entry + ".")) and (
                best is None or len(entry) > len(best[1])
            ):
                best = (index, entry)
    return best


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer() -> None:
    missing = sorted(m for m in _modules() if m != "glia" and _layer_of(m) is None)
    assert not missing, f"modules in no layer of tests/test_layers.py LAYERS (add them): {missing}"
    listed = [entry for layer in LAYERS for entry in layer]
    absent = [entry for entry in listed if entry not in _modules()]
    assert not absent, f"LAYERS names modules that do not exist (remove them): {absent}"


def test_imports_point_down_the_layers() -> None:
    graph = _graph()
    wrong, used = [], set()
    for importer, targets in sorted(graph.items()):
        source = _layer_of(importer)
        for target, line in sorted(targets.items()):
            goal = _layer_of(target)
            if target == "glia" or source is None or goal is None:
                continue
            if goal[0] < source[0] or (goal[0] == source[0] and goal[1] != source[1]):
                if (importer, target) in KNOWN_UPWARD:
                    used.add((importer, target))
                    continue
                how = "imports a sibling" if goal[0] == source[0] else "imports upward"
                wrong.append(f"{importer} (line {line}, layer {source[1]}) {how}: {target} (layer {goal[1]})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)
    stale = sorted(set(KNOWN_UPWARD) - used)
    assert not stale, f"KNOWN_UPWARD lists imports that are gone (remove them): {stale}"


def test_no_import_circles() -> None:
    circles = _cycles(_graph())
    assert not circles, "import circles in glia/:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_the_checker_sees_circles_and_upward_imports() -> None:
    """The graph finds late, relative and `from pkg import module` imports, and Tarjan finds the circle."""
    graph = {"a.x": {"a.y": 1}, "a.y": {"a.z": 2}, "a.z": {"a.x": 3}, "a.w": {"a.x": 4}}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
    imports = _graph()
    assert "glia.record.transcript" in imports["glia.context"]  # module level
    assert "glia.workspace.image" in imports["glia.workspace"]  # inside a function
    assert _layer_of("glia.cli.explain") == (1, "glia.cli")
    assert _layer_of("glia.safe_text.console") == (len(LAYERS) - 1, "glia.safe_text")


def test_the_architecture_doc_draws_these_layers() -> None:
    """docs/architecture.md's "Layers" block: one line a layer, top first, `a | b`, then two spaces and what."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- layers: start -->\n```\n(.*?)```\n<!-- layers: end -->", text, re.S)
    assert block, "docs/architecture.md has no layers block (<!-- layers: start --> ... <!-- layers: end -->)"
    names = [re.split(r"\s{2,}", line.strip())[0] for line in block.group(1).splitlines() if line.strip()]
    drawn = [tuple(name.strip() for name in line.split("|")) for line in names]
    assert drawn == [tuple(entry.removeprefix("glia.") for entry in layer) for layer in LAYERS]
