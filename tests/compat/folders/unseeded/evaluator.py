"""An evaluator with randomness it never seeds: every evaluation draws new targets."""

import importlib.util
import random


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    targets = [random.random() for _ in range(20)]
    error = sum(abs(module.guess() - t) for t in targets) / len(targets)
    return {"combined_score": 1.0 - error}
