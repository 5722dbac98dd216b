import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


# EVOLVE-BLOCK-START
def weigh(items):
    """Reads the folder's data file: fine in process, absent in the program's sandbox."""
    with open(os.path.join(HERE, "weights.json")) as handle:
        weights = json.load(handle)
    return sum(weights.get(item, 0.0) for item in items)


# EVOLVE-BLOCK-END
