"""A ShinkaEvolve evaluator written the usual way: run_shinka_eval does the runs and writes the files."""

import argparse

from shinka.core import run_shinka_eval


def validate(points):
    inside = all(0.0 <= p <= 1.0 for p in points)
    return inside, None if inside else "a point is outside [0, 1]"


def aggregate(results):
    gaps = [min(b - a for a, b in zip(sorted(r), sorted(r)[1:], strict=False)) for r in results]
    return {"combined_score": sum(gaps) / len(gaps), "public": {"best_gap": max(gaps)}, "private": {}}


def main(program_path: str, results_dir: str):
    run_shinka_eval(
        program_path=program_path,
        results_dir=results_dir,
        experiment_fn_name="run_experiment",
        num_runs=4,
        get_experiment_kwargs=lambda i: {"seed": i, "size": 4},
        aggregate_metrics_fn=aggregate,
        validate_fn=validate,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--program_path", default="initial.py")
    parser.add_argument("--results_dir", default="results")
    args = parser.parse_args()
    main(args.program_path, args.results_dir)
