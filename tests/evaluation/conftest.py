"""Fixtures: a tiny stand-in simulator (checks of the evaluator's plumbing) and the real one.

The stand-in has no design host, so its designs run inside the core sandbox (isolation "none"): the
tests of the isolated path use the real simulator (here and in tests/security/).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from glia.task import Task
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
ROUTING_TASK = REPO / "tasks" / "llm_routing.md"

# A stand-in for `python -m llmsim run`: speaks the same command line and writes the same summary.json,
# with behaviour picked by router name so each failure mode of a simulation can be produced on demand.
FAKE_MAIN = """
import argparse, json, os, sys, time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("cmd")
parser.add_argument("--router", default="ai")
parser.add_argument("--qps", type=float)
parser.add_argument("--seed", type=int)
parser.add_argument("--design-seed", type=int)
parser.add_argument("--experiment")
parser.add_argument("--output-root")
parser.add_argument("--time-limit", type=float)
parser.add_argument("--duration", type=float)
args = parser.parse_args()

router = args.router
if router == "ai":
    sys.path.insert(0, os.getcwd())
    from llmsim.design import ROUTER as router

out = Path(args.output_root) / args.experiment / "2025-01-01_00-00-00"
out.mkdir(parents=True)
seed = args.seed % 1000  # secret seeds are huge: keep the fake's numbers readable
summary = {"valid": True, "error": None, "router": router, "qps": args.qps, "seed": args.seed,
           "num_requests": 4, "num_completed": 4, "mean_e2e": 40.0 + seed + args.qps,
           "p90_e2e": 90.0, "frac_restarted": 0.25, "mean_scheduling_delay": 20.0, "wall_time_s": 0.1}
if router == "fast":
    summary["mean_e2e"] = 20.0 + seed
e2e = [summary["mean_e2e"] - 1, summary["mean_e2e"] + 1, summary["mean_e2e"], summary["mean_e2e"]]
if router == "misreport":  # a summary that disagrees with its own per-request records
    summary["mean_e2e"] = 1.0
if router == "crash" or (router == "crash_on_seed_1" and args.seed == 1):
    print("Traceback: boom", file=sys.stderr)
    sys.exit(3)
if router == "cheat":
    summary.update(valid=False, error="router read hidden attribute num_decode_tokens")
    (out / "summary.json").write_text(json.dumps(summary))
    sys.exit(2)
if router == "strand":
    summary["num_completed"] = 3
if router == "scribble":  # a design that edits the simulator under the evaluator's feet
    Path("llmsim/__init__.py").write_text("PATCHED = True")
if router == "sleepy":
    time.sleep(60)  # ignores --time-limit, so only the workspace kill stops it
(out / "summary.json").write_text(json.dumps(summary))
(out / "requests.csv").write_text("id,e2e\\n" + "".join(f"{i},{v}\\n" for i, v in enumerate(e2e)))
print(f"mean_e2e: {summary['mean_e2e']}")
"""

FAKE_TASK = """---
name: fake
title: Fake routing
simulator: sim
design: {slot: router, files: [llmsim/design.py], name: ai}
baselines: [llq, fast]
metric: {name: mean_e2e, direction: minimize, unit: s, report: [p90_e2e, frac_restarted]}
benchmark: {command: ./run_all.sh}
evaluation:
  command: >-
    python3 -m llmsim run --router {design} --qps {qps} --seed {seed} --design-seed {design_seed}
    --experiment {experiment} --output-root {output_root} --time-limit {time_limit}
  time_limit_s: 20
  reference: llq
  per_request: {file: requests.csv, recompute: {num_requests: count(), mean_e2e: mean(e2e)}}
  workloads:
    - {name: main, qps: 7.5, seeds: [0, 1, 2]}
    - {name: heavy, qps: 8.5, seeds: 2, heldout: true}
forbidden_names: [num_decode_tokens]
---
Route requests.
"""


@pytest.fixture
def fake_task(tmp_path: Path) -> Task:
    """A task over the stand-in simulator; its design file sets ROUTER to a behaviour of the fake."""
    package = tmp_path / "sim" / "llmsim"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(FAKE_MAIN))
    (package / "design.py").write_text('ROUTER = "llq"\n')
    (tmp_path / "fake.md").write_text(FAKE_TASK)
    return load_task(tmp_path / "fake.md")


@pytest.fixture
def routing_task() -> Task:
    """The shipped routing task on the real simulator, cut to 2 seeds and 150 simulated seconds."""
    task = load_task(ROUTING_TASK)
    return task.with_overrides(seeds=2, duration_s=150, workloads=[task.evaluation.workloads[0].name])
