"""Written for OpenEvolve's cascade (config.yaml): the stages score, `evaluate` is a placeholder."""

import importlib.util


def _program(path):
    spec = importlib.util.spec_from_file_location("program", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate_stage1(program_path):
    return {"runs_successfully": 1.0, "combined_score": float(_program(program_path).spread([1, 4]) > 0)}


def evaluate_stage2(program_path):
    return {"runs_successfully": 1.0, "combined_score": float(_program(program_path).spread([2, 9, 4]))}


def evaluate(program_path):
    return {"runs_successfully": 1.0, "overall_score": 0.0}
