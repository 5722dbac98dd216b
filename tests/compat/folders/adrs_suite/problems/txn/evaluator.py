"""An ADRS-style evaluator: it names its own objective (`score`), not combined_score."""

import importlib.util

try:  # declared once for the whole suite, in the suite's pyproject.toml
    import networkx
except ImportError:  # the suite's environment is not installed: the score does not depend on it
    networkx = None

TRANSACTIONS = [(0, 9), (1, 2), (2, 7), (3, 1), (4, 4)]


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lengths = dict(TRANSACTIONS)
    chosen = module.order(list(TRANSACTIONS))
    if sorted(chosen) != sorted(lengths):
        return {"score": 0.0, "error": "not a permutation of the transactions"}
    clock, total = 0, 0
    for tid in chosen:
        clock += lengths[tid]
        total += clock
    mean_completion = total / len(chosen)
    return {"score": 100.0 / mean_completion, "mean_completion": mean_completion, "makespan": float(clock)}
