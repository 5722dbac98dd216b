"""`python -m glia`: the same commands as the `glia` console script, for an environment without it on PATH."""

from __future__ import annotations

import sys

from glia.cli import main

if __name__ == "__main__":
    sys.exit(main())
