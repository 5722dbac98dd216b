"""A ShinkaEvolve-style evaluator: main(program_path, results_dir) writes metrics.json and correct.json."""

import argparse
import importlib.util
import json
import os


def main(program_path: str, results_dir: str) -> None:
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scores, error = [], None
    for width in (3, 5, 8):
        picked = module.run_experiment(width)
        if any(x >= 10 for x in picked) or len(picked) != width:
            error = f"width {width}: a number is 10 or more, or the count is wrong"
            break
        scores.append(sum(picked) / width)
    correct = error is None
    metrics = {
        "combined_score": sum(scores) / len(scores) if correct else 0.0,
        "public": {"runs": len(scores)},
        "private": {"widths": 3},
        "text_feedback": error or "all widths valid",
    }
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    with open(os.path.join(results_dir, "correct.json"), "w") as f:
        json.dump({"correct": correct, "error": error}, f)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--program_path", default="initial.py")
    parser.add_argument("--results_dir", default="results")
    args = parser.parse_args()
    main(args.program_path, args.results_dir)
