"""Static checks on a submitted design, run before any simulation is spent on it.

They catch honest mistakes and the easy cheats: naming a hidden attribute (even spelled out of string
pieces), editing files that do not count, importing modules that reach past the router interface
(files, processes, the simulator's internals), or the builtins and dunder attributes that open a path
around every other rule. This is a screen, not a sandbox: the simulator's run-time guard and the
container are what stop determined obfuscation.
"""

from __future__ import annotations

import ast
import re
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
    }
)  # fmt: skip


def design_problem(
    files: Mapping[str, str],
    design_files: Iterable[str],
    forbidden_names: Iterable[str],
    allowed_imports: Iterable[str] | None = None,
    forbidden_attributes: Iterable[str] = (),
) -> str | None:
    """Why this design must be rejected without running it, or None if it may be evaluated.

    `allowed_imports` lists module names a design may import (a name also allows its submodules);
    None allows any import. Imports under `if TYPE_CHECKING:` never run and are always allowed.
    `forbidden_attributes` are attribute names (say, simulator methods that mutate state) a design may
    not touch in code; unlike `forbidden_names`, comments may mention them.
    """
    allowed = set(design_files)
    if not files:
        return "the design supplies no files"
    for relpath in sorted(files):
        if relpath not in allowed:
            return f"{relpath}: not a design file (only {', '.join(sorted(allowed))} may be changed)"
    forbidden = tuple(forbidden_names)
    modules = None if allowed_imports is None else tuple(allowed_imports)
    for relpath, text in sorted(files.items()):
        problem = _text_problem(relpath, text, forbidden)
        if problem is None and PurePosixPath(relpath).suffix == ".py":
            problem = _code_problem(relpath, text, forbidden, modules, frozenset(forbidden_attributes))
        if problem:
            return problem
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
) -> str | None:
    try:
        tree = ast.parse(text, filename=relpath)
    except SyntaxError as exc:
        return f"{relpath}:{exc.lineno}: does not parse ({exc.msg})"
    type_only = _type_checking_imports(tree)
    for node in ast.walk(tree):
        where = f"{relpath}:{getattr(node, 'lineno', '?')}"
        literal = _constant_string(node)
        if literal is not None:
            for name in forbidden:
                if _whole_word(name).search(literal):
                    return f"{where}: builds forbidden name '{name}' from string literals"
            if literal in BANNED_ATTRIBUTES:
                return f"{where}: names the banned attribute '{literal}' in a string"
        if isinstance(node, ast.Name) and node.id in BANNED_BUILTINS:
            return f"{where}: uses the banned builtin '{node.id}'"
        if isinstance(node, ast.Attribute):
            problem = _attribute_problem(node, forbidden_attributes)
            if problem:
                return f"{where}: {problem}"
        if literal is not None and literal in forbidden_attributes:
            return f"{where}: names the forbidden attribute '{literal}' in a string"
        if (
            modules is not None
            and isinstance(node, ast.Import | ast.ImportFrom)
            and id(node) not in type_only
        ):
            for module in _imported_modules(node):
                if not any(module == m or module.startswith(m + ".") for m in modules):
                    return f"{where}: imports '{module}' (designs may import only: {', '.join(modules)})"
    return None


def _attribute_problem(node: ast.Attribute, forbidden_attributes: frozenset[str]) -> str | None:
    """Dunder escapes, forbidden methods, private fields of other objects, writes to other objects."""
    name = node.attr
    if name in BANNED_ATTRIBUTES:
        return f"uses the banned attribute '{name}'"
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
