"""A simulator that reports nothing to Glia's ledger still has a budget: each benchmark command counts.

`folders/uncounted_sim/` is a simulator of our own that knows nothing of Glia (no ledger client). Its
task's template holds Glia's stand-in for the benchmark script; the runs here go through a real ledger
over its real unix socket, with a real budget, as in a context's sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from glia.agents.ledger import SimulationLedger
from glia.budget import Budget
from glia.record.transcript import Transcript
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from tests.agents.ledger_helpers import FakeSnapshots, wait_until
from tests.compat.conftest import FOLDERS

TASK = FOLDERS / "uncounted_sim.md"


def bench(work: Path, ledger: Path | None, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GLIA_LEDGER"}
    if ledger is not None:
        env["GLIA_LEDGER"] = str(ledger)
    return subprocess.run(
        [sys.executable, "run.py", *options], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )


def test_each_benchmark_command_counts_as_one_simulation_and_the_budget_holds(tmp_path: Path) -> None:
    task = load_task(TASK)
    author = FOLDERS / "uncounted_sim"
    assert task.simulator != author and not (author / "run.uncounted.py").exists()  # never written to
    assert (task.simulator / "run.uncounted.py").read_bytes() == (author / "run.py").read_bytes()
    work = Path(shutil.copytree(task.simulator, tmp_path / "work"))
    # outside Glia the stand-in is the author's script: the same output, byte for byte
    alone = bench(Path(shutil.copytree(author, tmp_path / "author")), None, "--seed", "3")
    assert alone.returncode == 0 and bench(work, None, "--seed", "3").stdout == alone.stdout

    transcript = Transcript(tmp_path / "transcript.jsonl")
    budget = Budget(BudgetLimits(simulations=2))
    snapshots = FakeSnapshots()
    ledger = SimulationLedger(budget, transcript, snapshots, task.metric, task.benchmark.conditions)
    try:
        socket_path = ledger.listen(tmp_path)
        claim = bench(work, socket_path, "--policy", "policy", "--seed", "0")
        experiment = bench(work, socket_path, "--seed", "1", "--experiment", "other")
        assert claim.returncode == 0 and experiment.returncode == 0, claim.stderr + experiment.stderr
        refused = bench(work, socket_path, "--seed", "2")  # the budget of 2 is spent: it must not run
        wait_until(lambda: ledger.running == 0)
        assert ledger.count == 2 and len(snapshots.messages) == 2
        assert refused.returncode == 1 and "Glia refused this run" in refused.stderr
        assert not (work / "results" / "bench" / "seed-2").exists()
        first, second = ledger.records
        assert first.is_claim and not second.is_claim  # `benchmark.conditions: {policy: policy}`
        assert first.conditions == {"policy": "policy", "seed": 0} and first.valid and first.ended
        assert first.claimed_score == json.loads(claim.stdout)["mean_wait"]
        assert (
            second.values is not None
            and second.values["mean_wait"] == json.loads(experiment.stdout)["mean_wait"]
        )
    finally:
        ledger.close()
        transcript.close()


def test_a_command_glia_cannot_wrap_is_left_to_the_cpu_time_bound(tmp_path: Path) -> None:
    (tmp_path / "uncounted_sim").symlink_to(FOLDERS / "uncounted_sim")
    path = tmp_path / "task.md"
    path.write_text(TASK.read_text().replace("command: python run.py --seed 0", "command: ./run_all.sh"))
    assert load_task(path).simulator == (tmp_path / "uncounted_sim").resolve()
