"""What to add when an import fails at run time: the package's PyPI name and where to declare it.

Standard library only: it runs in the sandboxes with the rest of `glia_support`. The static check on
setup (`glia.problems.folder`) catches the imports it can see; this covers what only a run shows (an
import inside a function, a module a dependency imports, a program the Researcher wrote).
"""

from __future__ import annotations

import re
import sys

# Projects whose import name is not their project name (import name -> PyPI name).
PROJECT_NAMES = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow", "bs4": "beautifulsoup4",
                 "cv2": "opencv-python", "dateutil": "python-dateutil", "attr": "attrs",
                 "skimage": "scikit-image"}  # fmt: skip

MISSING = re.compile(r"No module named '([A-Za-z_][A-Za-z0-9_.]*)'")
DECLARE = "the folder's requirements.txt (a task file: its `requirements` field)"


def missing_module(text: str) -> str | None:
    """The top-level module an error text says is missing ("No module named 'a.b'" -> "a")."""
    found = MISSING.search(text)
    return found.group(1).split(".")[0] if found else None


def project_name(module: str) -> str:
    return PROJECT_NAMES.get(module, module.replace("_", "-"))


def requirement_hint(text: str, declare: str = DECLARE, own: frozenset[str] = frozenset()) -> str:
    """ "; fix: add `networkx` to ..." for an error naming a missing package, else "" (nothing to suggest):
    not for the standard library, Glia's own modules or `own` (modules of the task's own repository)."""
    module = missing_module(text)
    if module is None or module in sys.stdlib_module_names or module.startswith("glia") or module in own:
        return ""
    return f"; fix: add `{project_name(module)}` to {declare}"
