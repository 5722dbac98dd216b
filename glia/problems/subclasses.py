"""The program's classes that subclass a class of the problem folder's own modules.

ADRS's cant-be-late-multi program is `class EvolutionaryStrategy(MultiRegionStrategy)`, a subclass of
the simulator's own framework class, which the simulator finds (`issubclass(obj, Strategy)`) and drives
(its methods read the simulator's `self.env`). Isolated, the evaluator's side gets a stand-in for the
class: not a subclass of its framework class, and its objects live in the program's sandbox, apart from
the evaluator's objects. When such a folder's isolated score differs from its own, this is the cause to
name, instead of a generic fix.
"""

from __future__ import annotations

import ast
from pathlib import Path

from glia.problems.folder import folder_module


def framework_subclasses(folder: Path, program: str) -> list[str]:
    """`Class(Base from module)` for each top-level class of the program whose base is imported from a
    module or package of `folder` (beside the program or deeper in the folder)."""
    try:
        tree = ast.parse((folder / program).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    origins: dict[str, str] = {}  # a name the program binds -> the folder's module it came from
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if folder_module(folder, node.module.split(".")[0]):
                origins.update({(a.asname or a.name): node.module for a in node.names})
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if folder_module(folder, alias.name.split(".")[0]):
                    origins[alias.asname or alias.name.split(".")[0]] = alias.name
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for base in node.bases:
            root = base
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in origins:
                found.append(f"{node.name}({ast.unparse(base)} from {origins[root.id]})")
    return found
