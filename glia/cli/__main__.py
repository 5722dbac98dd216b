"""`python -m glia.cli`: the same as the `glia` console script."""

import sys

from glia.cli import main

sys.exit(main())
