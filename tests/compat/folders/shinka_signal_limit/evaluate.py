"""A ShinkaEvolve evaluator whose program keeps time with signals (in the program's own module)."""

import argparse

from shinka.core import run_shinka_eval


def aggregate(results):
    return {"combined_score": sum(results) / len(results), "public": {}, "private": {}}


def main(program_path: str, results_dir: str):
    run_shinka_eval(
        program_path=program_path,
        results_dir=results_dir,
        experiment_fn_name="run_game",
        num_runs=2,
        get_experiment_kwargs=lambda i: {"rounds": 4 + i},
        aggregate_metrics_fn=aggregate,
        validate_fn=lambda total: (total > 0, None if total > 0 else "no points"),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--program_path", default="initial.py")
    parser.add_argument("--results_dir", default="results")
    args = parser.parse_args()
    main(args.program_path, args.results_dir)
