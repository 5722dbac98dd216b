"""One benchmark run: python -m queuesim.bench --policy NAME --seed N [--output-root DIR] [--experiment NAME].

It knows nothing of Glia: it reports no runs to any ledger. `run.py`, `run.sh` and `python -m queuesim`
are other ways in, as a simulator's README might document them."""

import argparse
import json
import random
from pathlib import Path

from . import policy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policy", default="policy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-root", default="results")
    parser.add_argument("--experiment", default="bench")
    args = parser.parse_args()
    jobs = [random.Random(args.seed).randint(1, 9) for _ in range(8)]
    clock, waits = 0, []
    for job in policy.order(jobs):
        waits.append(clock)
        clock += job
    summary = {"valid": True, "mean_wait": sum(waits) / len(waits), "seed": args.seed, "error": None}
    run = Path(args.output_root) / args.experiment / f"seed-{args.seed}"
    run.mkdir(parents=True, exist_ok=True)
    (run / "summary.json").write_text(json.dumps(summary))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
