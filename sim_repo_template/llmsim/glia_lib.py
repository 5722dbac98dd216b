"""Where Glia's own helpers live in this repository: ``.glia/lib`` (copied in by Glia, never edited here).

Glia puts the isolation channel (``glia_isolation``) and the judge's static checks (``glia_checks``)
there, in the Researcher's workspace and in the trusted evaluation's sandboxes alike, so that
``python -m llmsim.design_host`` and ``python -m llmsim check`` work without setting ``PYTHONPATH``.
"""

from __future__ import annotations

import sys
from pathlib import Path

LIB_DIR = Path(__file__).resolve().parents[1] / ".glia" / "lib"


def add_glia_lib() -> Path:
    """Make ``.glia/lib`` importable (once); returns its path, which may not exist outside Glia."""
    path = str(LIB_DIR)
    if LIB_DIR.is_dir() and path not in sys.path:
        sys.path.append(path)
    return LIB_DIR
