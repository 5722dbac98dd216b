"""One benchmark run from the tools folder: `python tools/bench.py ARGS` or `cd tools && python bench.py ARGS`.

It knows nothing of Glia: it reports no runs to any ledger."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queuesim.bench import main  # noqa: E402

main()
