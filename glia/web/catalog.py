"""What the viewer may show: the run and comparison folders directly under its root, named safely.

Every name in an address is checked here before any file is opened: a plain folder name (no separators,
no dot-dot, no hidden names) whose resolved path sits directly under the root. Anything else is
"not found", never a path outside the root.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glia.compare.plan import COMPARE_FILE
from glia.run_store import RUN_FILE

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")


class NotFound(LookupError):
    """No such run, comparison or context under the root (or a name that is not allowed)."""


@dataclass(frozen=True)
class Catalog:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())

    def _folder(self, name: str, marker: str) -> Path:
        if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
            raise NotFound(name)
        folder = (self.root / name).resolve()
        if folder.parent != self.root or not (folder / marker).is_file():
            raise NotFound(name)
        return folder

    def run_dir(self, name: str) -> Path:
        return self._folder(name, RUN_FILE)

    def compare_dir(self, name: str) -> Path:
        return self._folder(name, COMPARE_FILE)

    def runs(self) -> list[Path]:
        return self._listing(RUN_FILE)

    def comparisons(self) -> list[Path]:
        return self._listing(COMPARE_FILE)

    def _listing(self, marker: str) -> list[Path]:
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.iterdir()):
            if NAME.fullmatch(path.name) and not path.is_symlink() and (path / marker).is_file():
                found.append(path)
        return found


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or {} (missing, half-written or not an object)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
