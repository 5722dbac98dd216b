"""The simulator: `python simulate.py --strategy-file=PATH` prints the strategy's total reward.

Like a simulator that logs every run to an experiment tracker, it cannot start when the tracker is
neither logged in nor turned off (WANDB_MODE)."""

import importlib.util
import os
import sys

if os.environ.get("WANDB_MODE") not in ("disabled", "offline"):
    sys.exit("UsageError: No API key configured. Use `wandb login` to log in.")
path = sys.argv[1].split("=", 1)[1]
spec = importlib.util.spec_from_file_location("strategy", path)
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
print("reward", sum(strategy.decide(step) for step in range(12)))
