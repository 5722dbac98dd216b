"""`python simulate.py --strategy-file=PATH`: the cost of the strategy over a day (lower is better),
printed as its negative (the score)."""

import importlib.util
import sys

from fleet.prices import hourly_price

path = sys.argv[1].split("=", 1)[1]
spec = importlib.util.spec_from_file_location("strategy", path)
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
cost = sum(hourly_price(hour, strategy.choose(hour)) for hour in range(24))
print("score", -cost)
