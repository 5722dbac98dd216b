"""Quick static feedback on a program before Glia spends an evaluation on it.

A program runs in a sandbox of its own that holds nothing but its file, so unlike a simulator design it
needs no rules about builtins, imports or attributes: the sandbox is the guarantee. What is checked is
what would waste an evaluation or break the task's own rules: the file must be Python that parses, of a
sane size, and free of the task's forbidden names.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

MAX_PROGRAM_BYTES = 1024 * 1024


def program_problem(files: Mapping[str, str], forbidden_names: Iterable[str] = ()) -> str | None:
    """Why these program files must not be evaluated, or None."""
    for relpath, text in sorted(files.items()):
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_PROGRAM_BYTES:
            return f"{relpath} is {size} bytes, over the limit of {MAX_PROGRAM_BYTES}"
        for name in forbidden_names:
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text):
                return f"{relpath} uses the forbidden name {name!r}"
        if relpath.endswith(".py"):
            try:
                ast.parse(text, filename=relpath)
            except SyntaxError as exc:
                return f"{relpath}: line {exc.lineno}: not valid Python ({exc.msg})"
            except (ValueError, RecursionError, MemoryError) as exc:
                return f"{relpath}: cannot be parsed ({type(exc).__name__})"
    return None
