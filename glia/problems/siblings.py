"""The problem folder's own modules that a program imports: what its sandbox gets beside it.

In process, a program next to `helper_sim.py` can `import helper_sim`: the evaluator's folder is on
`sys.path`. The trusted evaluation runs the program in a sandbox of its own, which must hold those
modules too, or the import fails there and a typical evaluator, which catches every exception, scores
a silent 0. So the design sandbox gets the pristine copies of the folder's Python modules that the
program imports, directly or through each other, found by reading their `import` statements (and
`importlib.import_module("name")` calls with a literal name). Never the evaluator, never Glia's
support files, never data: those stay with the judge.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import PurePosixPath

from glia.problems.support.settings import SETTINGS_FILE
from glia.problems.template import BENCHMARK_SCRIPT, SUPPORT_DIR
from glia.workspace.tree import TreeEntry

MAX_MODULES = 500


def imported_names(source: str | bytes) -> set[str]:
    """Top-level names of the modules `source` imports (absolute imports; none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and _called_name(node.func) in ("import_module", "__import__")
        ):
            names.add(node.args[0].value.split(".")[0])
    return names


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def program_modules(
    template: Mapping[str, TreeEntry], design_files: Mapping[str, str], program: str, evaluator: str
) -> dict[str, TreeEntry]:
    """The folder's modules (relpath -> entry) that the program `program` imports, transitively."""
    excluded = {program, evaluator, BENCHMARK_SCRIPT, *design_files}
    candidates = {
        path: entry
        for path, entry in template.items()
        if path.endswith(".py")
        and not entry.is_symlink
        and path not in excluded
        and not path.startswith(f"{SUPPORT_DIR}/")
    }
    home = str(PurePosixPath(program).parent)
    search = list(dict.fromkeys([home, "."]))
    chosen: dict[str, TreeEntry] = {}
    pending = [design_files.get(program, "")]
    seen: set[str] = set()
    while pending and len(chosen) < MAX_MODULES:
        for name in imported_names(pending.pop()) - seen:
            seen.add(name)
            found = {path: path for path in _module_files(name, search, candidates)}
            if not found:
                found = _nested_module(name, home, candidates)
            for target, path in found.items():
                if target not in chosen:
                    chosen[target] = candidates[path]
                    pending.append(candidates[path].data.decode("utf-8", "replace"))
    return chosen


def _nested_module(name: str, home: str, candidates: Mapping[str, TreeEntry]) -> dict[str, str]:
    """A module or package `name` found only deeper in the folder (ADRS's `simulator/sky_spot/`, which
    its evaluator's simulator imports from its own folder): placed beside the program, as target ->
    source path, when exactly one folder at the shallowest depth holds it; else nothing."""
    places: dict[str, list[str]] = {}
    for path in candidates:
        pure = PurePosixPath(path)
        if pure.name == f"{name}.py":
            places.setdefault(str(pure.parent), []).append(path)
        elif pure.name == "__init__.py" and pure.parent.name == name:
            places.setdefault(str(pure.parent.parent), [])
    if not places:
        return {}
    depth = min(len(PurePosixPath(folder).parts) for folder in places)
    shallowest = [folder for folder in places if len(PurePosixPath(folder).parts) == depth]
    if len(shallowest) != 1:
        return {}  # two modules of that name: which one the evaluator would import is not known
    folder = shallowest[0]
    package = f"{folder}/{name}/"
    sources = (
        [path for path in candidates if path.startswith(package)]
        if f"{package}__init__.py" in candidates
        else [f"{folder}/{name}.py"]
    )
    prefix = "" if home in (".", "") else f"{home}/"
    return {f"{prefix}{path[len(folder) + 1 :]}": path for path in sources}


def _module_files(name: str, search: list[str], candidates: Mapping[str, TreeEntry]) -> list[str]:
    """The files of module or package `name` in the first search folder that has it."""
    for folder in search:
        prefix = "" if folder in (".", "") else f"{folder}/"
        single = f"{prefix}{name}.py"
        if single in candidates:
            return [single]
        package = f"{prefix}{name}/"
        if f"{package}__init__.py" in candidates:
            return [path for path in candidates if path.startswith(package)]
    return []


def design_sandbox_modules(
    template: Mapping[str, TreeEntry], design_files: Mapping[str, str]
) -> dict[str, TreeEntry]:
    """For a problem's trusted evaluation: the folder's modules the program's sandbox gets beside it."""
    settings = template.get(f"{SUPPORT_DIR}/{SETTINGS_FILE}")
    if settings is None:
        return {}
    data = json.loads(settings.data)
    return program_modules(template, design_files, str(data["program"]), str(data["evaluator"]))
