"""One benchmark run: python run_bench.py [--policy NAME] --seed N --output-root DIR --experiment NAME."""

import argparse
import json
from pathlib import Path

from faassim import policy
from faassim.core import simulate

parser = argparse.ArgumentParser()
parser.add_argument("--policy", default="policy")  # the design slot's name
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--output-root", default="results")
parser.add_argument("--experiment", default="bench")
args = parser.parse_args()
summary = {**simulate(policy, args.seed), "error": None}
run = Path(args.output_root) / args.experiment / "run"
run.mkdir(parents=True, exist_ok=True)
(run / "summary.json").write_text(json.dumps(summary))
print(json.dumps(summary))
