"""`python -m llmsim ...` entry point."""

import sys

from llmsim.cli import main

sys.exit(main())
