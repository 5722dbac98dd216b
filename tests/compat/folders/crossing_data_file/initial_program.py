import json
import os

import scoring

HERE = os.path.dirname(os.path.abspath(__file__))


# EVOLVE-BLOCK-START
def weigh(items):
    """Reads the folder's data file: fine in process, absent in the program's sandbox."""
    with open(os.path.join(HERE, "weights.json")) as handle:
        weights = json.load(handle)
    return scoring.total(weights, items)


# EVOLVE-BLOCK-END
