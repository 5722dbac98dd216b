"""A simulator's benchmark command cannot run uncounted by its form.

For a simulator that reports nothing to Glia's ledger, Glia counts each benchmark command
(`glia.problems.counting`). Before, a command Glia could not read ran with no count at all: the
interpreter reached through `/usr/bin/env`, a script in a subfolder (its stand-in could not find the
author's file), a script that is a link, a name already taken by `NAME.uncounted.py`, a file made at
run time, a command substitution. Here each such command, run the way Glia's benchmark runs it (`sh -c`
in Glia's copy, with a real ledger over its socket and a budget of one), counts exactly one
simulation and is refused once the budget is spent; the simulator's own result is what is reported.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from glia.agents.ledger import SimulationLedger
from glia.budget import Budget
from glia.record.transcript import Transcript
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from tests.agents.ledger_helpers import FakeSnapshots, wait_until

SIM = '''"""A simulator that knows nothing of Glia: one run, its summary under results/."""
import json, os, sys
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
os.makedirs(f"results/run-{seed}", exist_ok=True)
summary = {"valid": True, "latency": 10.0 + seed}
json.dump(summary, open(f"results/run-{seed}/summary.json", "w"))
print(json.dumps(summary))
'''

TASK = """---
name: dodge
title: Route requests
simulator: sim
design:
  slot: policy
  files: [policy.py]
  name: policy
metric:
  name: latency
  direction: minimize
benchmark:
  command: {command}
  results_dir: results
evaluation:
  command: python bench.py --design {{design}} --seed {{seed}} --out {{output_root}}
  time_limit_s: 60
  reference: base
  workloads:
    - {{name: main, seeds: 1}}
baselines:
  - {{name: base, file: sim/policy.py}}
---
Route requests well.
"""

DODGES = {  # the author's benchmark command -> what made it uncounted before
    "/usr/bin/env python bench.py --seed 1": "`env` named by its path was taken for a file of the simulator",
    "python tools/run.py --seed 1": "the stand-in of a script in a subfolder looked for the author's file in the caller's folder",
    "python linked.py --seed 1": "a script that is a link cannot be stood in for",
    "python taken.py --seed 1": "`taken.uncounted.py` is a file of the simulator already",
    "sh -c 'python bench.py --seed 1'": "`sh -c` names no file",
    "python $(echo bench.py) --seed 1": "a command substitution",
    'printf \'import runpy; runpy.run_path("bench.py", run_name="__main__")\' > made.py && python made.py': (
        "a script made at run time"
    ),
    "cd tools && cd .. && python bench.py --seed 1": "two folder changes",
    "python sub/../bench.py --seed 1": "a path that is not written plainly",
}


def simulator(root: Path) -> Path:
    sim = root / "sim"
    (sim / "tools").mkdir(parents=True)
    (sim / "sub").mkdir()
    (sim / "sub" / "notes.txt").write_text("data of the simulator\n")
    (sim / "bench.py").write_text(SIM)
    (sim / "taken.py").write_text(SIM)
    (sim / "taken.uncounted.py").write_text("raise SystemExit('not this one')\n")
    (sim / "linked.py").symlink_to("bench.py")
    (sim / "tools" / "run.py").write_text(
        "import os, runpy, sys\n"
        "runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bench.py'), run_name='__main__')\n"
    )
    (sim / "policy.py").write_text("def route(request):\n    return 0\n")
    return sim


@pytest.mark.parametrize("command", list(DODGES), ids=list(DODGES.values()))
def test_a_benchmark_command_counts_whatever_its_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("GLIA_CACHE", str(tmp_path / "cache"))
    simulator(tmp_path)
    (tmp_path / "task.md").write_text(TASK.format(command=json.dumps(command)))
    task = load_task(tmp_path / "task.md")
    assert task.simulator != (tmp_path / "sim").resolve()  # Glia's counted copy
    work = tmp_path / "work"
    subprocess.run(["cp", "-a", f"{task.simulator}/.", str(work)], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    (bin_dir / "python").chmod(0o755)

    transcript = Transcript(tmp_path / "transcript.jsonl")
    ledger = SimulationLedger(
        Budget(BudgetLimits(simulations=1)),
        transcript,
        FakeSnapshots(),
        task.metric,
        task.benchmark.conditions,
    )
    env = {k: v for k, v in os.environ.items() if k != "GLIA_LEDGER"}
    env |= {
        "PATH": f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
        "GLIA_LEDGER": str(ledger.listen(tmp_path)),
    }
    try:

        def benchmark() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["sh", "-c", task.benchmark.command],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )

        first = benchmark()
        assert first.returncode == 0, first.stderr
        second = benchmark()
        wait_until(lambda: ledger.running == 0)
        assert ledger.count == 1, f"{command}: {ledger.count} simulations counted"
        assert second.returncode != 0 and "Glia refused this run" in second.stderr
        (record,) = ledger.records
        assert record.valid and record.values is not None
        assert record.values["latency"] == json.loads(first.stdout.splitlines()[-1])["latency"]
    finally:
        ledger.close()
        transcript.close()
