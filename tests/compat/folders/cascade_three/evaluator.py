"""A cascade of our own, in OpenEvolve's style: a cheap check, then a small and a large workload."""

import importlib.util
import random


def _program(path):
    spec = importlib.util.spec_from_file_location("program", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _accuracy(path, count, longest, seed):
    rng = random.Random(seed)
    sort_values = _program(path).sort_values
    cases = [[rng.randint(0, 99) for _ in range(rng.randint(1, longest))] for _ in range(count)]
    return sum(sort_values(list(case)) == sorted(case) for case in cases) / count


def evaluate_stage1(program_path):
    ok = _program(program_path).sort_values([3, 1, 2]) == [1, 2, 3]
    return {"sorts_three": ok, "combined_score": 1.0 if ok else 0.0, "error": "" if ok else "wrong order"}


def evaluate_stage2(program_path):
    accuracy = _accuracy(program_path, 40, 6, seed=1)
    return {"small_accuracy": accuracy, "combined_score": accuracy, "stage": 2}


def evaluate_stage3(program_path):
    accuracy = _accuracy(program_path, 20, 60, seed=2)
    return {"large_accuracy": accuracy, "combined_score": (1.0 + accuracy) / 2, "stage": 3}


def evaluate(program_path):
    return {"combined_score": -1.0}  # OpenEvolve calls the stages instead when the cascade is on
