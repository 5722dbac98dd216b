"""`run_shinka_eval`: ShinkaEvolve's evaluation contract, written for Glia (standard library only).

Load the program, call its experiment function `num_runs` times (keyword arguments from
`get_experiment_kwargs(run_index)`, else `seed=run_index + 1`), check each result with `validate_fn`,
aggregate them with `aggregate_metrics_fn`, add the run statistics, and write `metrics.json` and
`correct.json` (`{"correct": bool, "error": str | None}`) into `results_dir`. Runs are sequential;
early stopping and worker processes are accepted and ignored, so every run is made.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

ON_ERROR = {"combined_score": 0.0, "execution_time_mean": 0.0, "execution_time_std": 0.0,
            "num_successful_runs": 0, "num_valid_runs": 0, "num_invalid_runs": 0}  # fmt: skip


def load_program(program_path: str) -> Any:
    spec = importlib.util.spec_from_file_location("program", program_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {program_path} as a module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_json_results(
    results_dir: str, metrics: dict[str, Any], correct: bool, error: str | None = None
) -> None:
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "correct.json"), "w", encoding="utf-8") as handle:
        json.dump({"correct": correct, "error": error}, handle, indent=2)
    with open(os.path.join(results_dir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2, default=str)


def run_shinka_eval(
    program_path: str,
    results_dir: str,
    experiment_fn_name: str,
    num_runs: int,
    get_experiment_kwargs: Callable[[int], dict[str, Any]] | None = None,
    aggregate_metrics_fn: Callable[[list[Any]], dict[str, Any]] | None = None,
    validate_fn: Callable[[Any], tuple[bool, str | None]] | None = None,
    plotting_fn: Callable[[Any], list[Any]] | None = None,
    default_metrics_on_error: dict[str, Any] | None = None,
    **ignored: Any,
) -> tuple[dict[str, Any], bool, str | None]:
    correct, first_error, errors = True, None, []
    results, times, valid_runs, invalid_runs = [], [], 0, 0
    try:
        module = load_program(program_path)
        function = getattr(module, experiment_fn_name, None)
        if function is None:
            raise AttributeError(f"experiment function {experiment_fn_name!r} not found in {program_path}")
        for index in range(num_runs):
            kwargs = get_experiment_kwargs(index) if get_experiment_kwargs else {"seed": index + 1}
            started = time.perf_counter()
            result = function(**kwargs)
            times.append(time.perf_counter() - started)
            results.append(result)
            if validate_fn:
                ok, message = validate_fn(result)
                if ok:
                    valid_runs += 1
                else:
                    invalid_runs += 1
                    correct = False
                    if message and first_error is None:
                        first_error = f"Validation failed: {message}"
                    if message and message not in errors:
                        errors.append(message)
        if aggregate_metrics_fn:
            metrics = aggregate_metrics_fn(results)
        else:
            metrics = {"num_successful_runs": len(results)}
        metrics["execution_time_mean"] = statistics.fmean(times) if times else 0.0
        metrics["execution_time_std"] = statistics.pstdev(times) if times else 0.0
        if validate_fn:
            metrics.update(
                num_valid_runs=valid_runs, num_invalid_runs=invalid_runs, all_validation_errors=errors
            )
        score = metrics.get("combined_score")
        if isinstance(score, int | float) and not math.isfinite(score):
            correct = False
            first_error = first_error or f"combined_score is {score}"
    except Exception as exc:  # noqa: BLE001 - ShinkaEvolve records a failing program as incorrect
        metrics = {**ON_ERROR, **(default_metrics_on_error or {})}
        correct, first_error = False, f"{type(exc).__name__}: {exc}"
    save_json_results(results_dir, metrics, correct, first_error)
    return metrics, correct, first_error
