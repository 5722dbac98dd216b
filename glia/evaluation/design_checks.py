"""Static checks on a submitted design, run before any simulation is spent on it.

Quick feedback, not the guarantee: they catch honest mistakes and the easy cheats early (naming a
hidden attribute, editing files that do not count, importing modules that reach past the design's
interface, the builtins and introspection attributes that open a path around the rules, names looked up
at run time). What makes a trusted score trustworthy is structural: the design runs in a sandbox of its
own that holds no hidden data and can only send decisions (see `glia/evaluation/sandboxes.py`). A check
that is bypassed therefore costs nothing but a wasted evaluation.

Every check treats the source as hostile: an oversized or pathologically nested file is rejected with a
message rather than crashing the checker.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

# Builtins that run arbitrary code, touch files, or hand out namespaces.
BANNED_BUILTINS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "__import__",
        "open",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "setattr",
        "delattr",
    }
)
# Attributes that walk from any object to module globals, classes' internals or the import system.
BANNED_ATTRIBUTES = frozenset(
    {
        "__globals__", "__builtins__", "__subclasses__", "__code__", "__closure__", "__dict__",
        "__getattribute__", "__loader__", "__spec__", "__mro__", "__bases__", "__base__", "__self__",
        "__func__", "__reduce__", "__reduce_ex__", "__setattr__", "__delattr__", "f_globals", "f_back",
        "f_locals", "f_code", "f_builtins", "tb_frame", "tb_next", "__traceback__", "gi_frame", "gi_code",
        "cr_frame", "cr_code", "ag_frame", "ag_code", "__getattr__", "__class_getitem__", "__init_subclass__",
    }
)  # fmt: skip
# Looking an attribute up by a name computed at run time defeats every name check: allowed with a literal.
DYNAMIC_LOOKUPS = frozenset({"getattr", "hasattr", "delattr", "setattr"})
MAX_SOURCE_BYTES = 512 * 1024
# Which static checks a task runs (its `static_checks` field). `llmsim`: every rule below, written for the
# llmsim simulator's interface (a design reads simulator state and never writes it). `basic`: the file must
# parse, be of a sane size, avoid the task's forbidden names and attributes and import only what the task
# allows, if it says; a policy may keep state on any object. `none`: only that the files are the design's.
# Whatever a task picks, isolation still holds: the design runs in a sandbox of its own.
STATIC_CHECKS = ("llmsim", "basic", "none")
MAX_NODES = 200_000


def design_problem(
    files: Mapping[str, str],
    design_files: Iterable[str],
    forbidden_names: Iterable[str],
    allowed_imports: Iterable[str] | None = None,
    forbidden_attributes: Iterable[str] = (),
    rules: str = "llmsim",
) -> str | None:
    """Why this design must be rejected without running it, or None if it may be evaluated.

    `rules` is one of STATIC_CHECKS (the task's `static_checks`).

    `allowed_imports` lists module names a design may import (a name also allows its submodules);
    None allows any import. Imports under `if TYPE_CHECKING:` never run and are always allowed.
    `forbidden_attributes` are attribute names (say, simulator methods that mutate state) a design may
    not touch in code; unlike `forbidden_names`, comments may mention them.
    """
    if rules not in STATIC_CHECKS:
        raise ValueError(f"unknown static checks {rules!r} (one of {', '.join(STATIC_CHECKS)})")
    problem = files_problem(files, design_files)
    if problem or rules == "none":
        return problem
    forbidden = tuple(forbidden_names)
    modules = None if allowed_imports is None else tuple(allowed_imports)
    for relpath, text in sorted(files.items()):
        problem = _text_problem(relpath, text, forbidden)
        if problem is None and PurePosixPath(relpath).suffix == ".py":
            problem = _code_problem(
                relpath, text, forbidden, modules, frozenset(forbidden_attributes), rules == "llmsim"
            )
        if problem:
            return problem
    return None


def files_problem(files: Mapping[str, str], design_files: Iterable[str]) -> str | None:
    """Why these are not the design's files (none given, or one outside the design), else None."""
    allowed = set(design_files)
    if not files:
        return "the design supplies no files"
    for relpath in sorted(files):
        if relpath not in allowed:
            return f"{relpath}: not a design file (only {', '.join(sorted(allowed))} may be changed)"
    return None


def _text_problem(relpath: str, text: str, forbidden: tuple[str, ...]) -> str | None:
    for name in forbidden:
        match = _whole_word(name).search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            return f"{relpath}:{line}: uses forbidden name '{name}'"
    return None


def _code_problem(
    relpath: str,
    text: str,
    forbidden: tuple[str, ...],
    modules: tuple[str, ...] | None,
    forbidden_attributes: frozenset[str],
    llmsim: bool = True,
) -> str | None:
    if len(text.encode("utf-8", errors="replace")) > MAX_SOURCE_BYTES:
        return f"{relpath}: is over {MAX_SOURCE_BYTES // 1024} KiB; a design file is source code, not data"
    try:
        tree = ast.parse(text, filename=relpath)
        nodes = list(ast.walk(tree))
        if len(nodes) > MAX_NODES:
            return f"{relpath}: has over {MAX_NODES} syntax nodes; too large to check"
        return _walk_problem(relpath, tree, nodes, forbidden, modules, forbidden_attributes, llmsim)
    except SyntaxError as exc:
        return f"{relpath}:{exc.lineno}: does not parse ({exc.msg})"
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        return f"{relpath}: is too deeply nested or too large to check ({type(exc).__name__})"


def _walk_problem(
    relpath: str,
    tree: ast.AST,
    nodes: list[ast.AST],
    forbidden: tuple[str, ...],
    modules: tuple[str, ...] | None,
    forbidden_attributes: frozenset[str],
    llmsim: bool = True,
) -> str | None:
    type_only = _type_checking_imports(tree)
    aliases = _module_aliases(nodes, modules)
    for node in nodes:
        where = f"{relpath}:{getattr(node, 'lineno', '?')}"
        literal = _constant_string(node)
        if literal is not None:
            for name in forbidden:
                if _whole_word(name).search(literal):
                    return f"{where}: builds forbidden name '{name}' from string literals"
            if llmsim and literal in BANNED_ATTRIBUTES:
                return f"{where}: names the banned attribute '{literal}' in a string"
        if llmsim and isinstance(node, ast.Name) and node.id in BANNED_BUILTINS:
            return f"{where}: uses the banned builtin '{node.id}'"
        if llmsim and isinstance(node, ast.Call):
            problem = _lookup_problem(node)
            if problem:
                return f"{where}: {problem}"
        if isinstance(node, ast.Attribute):
            problem = _attribute_problem(node, forbidden_attributes, llmsim) or _module_attribute_problem(
                node, aliases, modules
            )
            if problem:
                return f"{where}: {problem}"
        if literal is not None and literal in forbidden_attributes:
            return f"{where}: names the forbidden attribute '{literal}' in a string"
        if (
            modules is not None
            and isinstance(node, ast.Import | ast.ImportFrom)
            and id(node) not in type_only
        ):
            problem = _import_problem(node, modules)
            if problem:
                return f"{where}: {problem}"
    return None


def _import_problem(node: ast.Import | ast.ImportFrom, modules: tuple[str, ...]) -> str | None:
    """The module, and for `from M import n` also what `n` is: a module there must be allowed too."""
    allowed = ", ".join(modules)
    for module in _imported_modules(node):
        if not _allowed_module(module, modules):
            return f"imports '{module}' (designs may import only: {allowed})"
    if isinstance(node, ast.ImportFrom) and not node.level:
        for alias in node.names:
            if alias.name == "*":
                return f"uses 'from {node.module} import *' (name what you import)"
            reached = _module_reached(node.module or "", alias.name, modules)
            if reached is not None and not _allowed_module(reached, modules):
                return (
                    f"imports the module '{reached}' through 'from {node.module} import {alias.name}' "
                    f"(designs may import only: {allowed})"
                )
    return None


def _allowed_module(module: str, modules: tuple[str, ...]) -> bool:
    return any(module == m or module.startswith(m + ".") for m in modules)


def _module_reached(module: str, name: str, modules: tuple[str, ...]) -> str | None:
    """The module that `module.name` is, if it is one (e.g. `dataclasses.sys` is `sys`).

    Only allowed modules are inspected, and only ones already imported here or in the standard
    library: the design's text decides which names are looked up, so it must not decide what the host
    imports.
    """
    if not _allowed_module(module, modules):
        return None
    parent = _loaded_module(module)
    if parent is None:
        return None
    value = getattr(parent, name, None)
    if isinstance(value, types.ModuleType):
        return value.__name__
    if hasattr(parent, "__path__"):  # a package: `name` may be a submodule not imported yet
        try:
            if importlib.util.find_spec(f"{module}.{name}") is not None:
                return f"{module}.{name}"
        except (ImportError, ValueError, AttributeError):
            return None
    return None


def _loaded_module(module: str) -> types.ModuleType | None:
    """An allowed module the checker may look into: already imported, or in the standard library."""
    if module in sys.modules:
        return sys.modules[module]
    if module.split(".")[0] not in sys.stdlib_module_names:
        return None  # never import a design's third-party dependencies on the host just to check it
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a module that cannot be imported here reaches nothing here
        return None


def _module_aliases(nodes: list[ast.AST], modules: tuple[str, ...] | None) -> dict[str, str]:
    """Local names bound to modules by import statements (`import numpy as np` -> np: numpy)."""
    aliases: dict[str, str] = {}
    if modules is None:
        return aliases
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                reached = _module_reached(node.module, alias.name, modules)
                if reached is not None:
                    aliases[alias.asname or alias.name] = reached
    return aliases


def _module_attribute_problem(
    node: ast.Attribute, aliases: Mapping[str, str], modules: tuple[str, ...] | None
) -> str | None:
    """`dataclasses.sys`: an attribute chain from an imported module that lands on another module."""
    if modules is None:
        return None
    chain: list[str] = []
    value: ast.AST = node
    while isinstance(value, ast.Attribute):
        chain.append(value.attr)
        value = value.value
    if not isinstance(value, ast.Name) or value.id not in aliases:
        return None
    current = aliases[value.id]
    for attr in reversed(chain):
        reached = _module_reached(current, attr, modules)
        if reached is None:
            return None
        if not _allowed_module(reached, modules):
            return f"reaches the module '{reached}' through '{current}.{attr}'"
        current = reached
    return None


def _lookup_problem(node: ast.Call) -> str | None:
    """getattr(obj, name) and friends: only with a literal name, and never a name the rules ban."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name not in DYNAMIC_LOOKUPS or len(node.args) < 2:
        return None
    attr = _constant_string(node.args[1])
    if attr is None:
        return f"looks an attribute up by a name computed at run time ({name} with a non-literal name)"
    target_is_self = isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls")
    # banned and forbidden literal names are reported by the string checks, which see every literal
    if attr.startswith("_") and not attr.startswith("__") and not target_is_self:
        return f"looks up the private attribute '{attr}' of an object other than self with {name}"
    return None


def _attribute_problem(
    node: ast.Attribute, forbidden_attributes: frozenset[str], llmsim: bool = True
) -> str | None:
    """Dunder escapes, forbidden methods, private fields of other objects, writes to other objects."""
    name = node.attr
    if not llmsim:
        return f"uses the forbidden attribute '{name}'" if name in forbidden_attributes else None
    if name in BANNED_ATTRIBUTES:
        return f"uses the banned attribute '{name}'"
    on_self_or_cls = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
    if name in BANNED_BUILTINS and not on_self_or_cls:
        return f"reaches the banned builtin '{name}' as an attribute"
    if name in forbidden_attributes:
        return f"uses the forbidden attribute '{name}'"
    on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
    if name.startswith("_") and not name.startswith("__") and not on_self:
        return f"reads the private attribute '{name}' of an object other than self"
    if isinstance(node.ctx, ast.Store | ast.Del) and not on_self:
        return f"changes attribute '{name}' of an object other than self (simulator state is read-only)"
    return None


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative imports reach sibling simulator modules
        return ["." * node.level + (node.module or "")]
    return [node.module or ""]


def _type_checking_imports(tree: ast.AST) -> set[int]:
    """ids of import nodes inside `if TYPE_CHECKING:` blocks (they are never executed)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        found.add(id(inner))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _whole_word(name: str) -> re.Pattern[str]:
    """Match `name` as a whole identifier: `decode_tokens` must not match inside `my_decode_tokens_x`."""
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


def _constant_string(node: ast.AST) -> str | None:
    """The value of a string expression built only from literals ('a' + 'b', f'{"a"}b'), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_string(node.left), _constant_string(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            text = _constant_string(inner)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
        separator = _constant_string(node.func.value)
        if separator is not None and len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple):
            items = [_constant_string(item) for item in node.args[0].elts]
            if all(item is not None for item in items):
                return separator.join(items)  # type: ignore[arg-type]
    return None
