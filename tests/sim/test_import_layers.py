"""llmsim's modules import one another without circles, type-only and function-level imports included.

A circle makes a module's meaning depend on which of its members loads first; in the simulator it used
to hide a design slot's real dependencies (router slot <-> design slots) and a request that called back
into its replica. The graph is read from the sources (no import runs), so the test is fast and exact.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sim_repo_template" / "llmsim"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the llmsim modules it imports anywhere in its source (a package import counts as one
    of its `__init__`; `from pkg import mod` counts as the submodule)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets.update([node.module, *(f"{node.module}.{alias.name}" for alias in node.names)])
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def test_llmsim_has_no_import_circle() -> None:
    graph = import_graph()
    assert {"llmsim.replica", "llmsim.request", "llmsim.router_slot", "llmsim.design_slots"} <= set(graph)
    assert "llmsim.request" in graph["llmsim.replica"]  # the reader sees real edges
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import circle in llmsim: {' -> '.join(exc.args[1])}") from None
