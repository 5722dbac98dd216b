"""Scores 0 on any exception, as many evaluators do; the exception comes from a missing package."""

import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    try:
        program.smooth([[1.0, 2.0], [3.0, 4.0]])
    except Exception:
        return {"combined_score": 0.0}
    return {"combined_score": 1.0}


def evaluate_with_report(program_path):
    """The evaluator's own lazy import fails (ADRS evaluators import their plotting or solver late)."""
    from sklearn.metrics import r2_score

    return {"combined_score": float(r2_score([1.0, 2.0], [1.0, 2.0]))}
