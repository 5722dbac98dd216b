"""The three stack tasks load, their benchmark commands are claims of their design, their evaluation
commands run the simulator as they say, and their head-room designs pass the tasks' static checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from glia.agents.ledger import is_claim
from glia.evaluation.design_checks import design_problem
from glia.task_kinds import load_task
from tests.tasks.conftest import FIXTURES, HEADROOM, STACK_TASKS, TEMPLATE, task_path

SLOTS = {"batch_scheduling": "replica_scheduler", "autoscaling": "autoscaler", "slo_routing": "router"}


def test_each_task_names_its_slot_baselines_metric_and_secret_seeds(stack_task):
    task = stack_task
    assert task.design.slot == SLOTS[task.name] and task.design.name == "ai"
    assert task.design.host == "python -m llmsim.design_host"
    assert all((task.simulator / f).is_file() for f in task.design_files)
    primary = task.evaluation.primary
    assert primary.secret and primary.count == 10
    assert [w.heldout for w in task.evaluation.workloads] == [False, True, True]
    assert all(w.secret for w in task.evaluation.workloads)
    assert task.evaluation.reference_baseline in task.evaluation.baselines
    # every constraint and objective that is a per-request aggregate is recomputed on the host
    recompute = set(task.evaluation.per_request.recompute)
    for key in (task.metric.name, *(c.key for c in task.metric.constraints)):
        assert key in recompute or key in {"gpu_hours", "throughput_rps"}, key
    assert "num_requests" in recompute


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("batch_scheduling", "minimize mean_e2e (s)"),
        ("autoscaling", "minimize gpu_hours (GPU-h) subject to p95_slowdown <= 5"),
        ("slo_routing", "maximize throughput_rps (req/s) subject to p90_ttft <= 1.5"),
    ],
)
def test_objectives_are_the_issues(name, expected):
    assert load_task(task_path(name)).metric.describe() == expected


def reported_conditions(ledger, command: list[str]) -> dict:
    env = {**os.environ, "GLIA_LEDGER": ledger.path}
    env.pop("GLIA_DESIGN_ENDPOINT", None)
    done = subprocess.run(command, cwd=TEMPLATE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "refused" in done.stderr, done.stdout + done.stderr
    return ledger.starts[-1]["conditions"]


@pytest.mark.parametrize("name", STACK_TASKS)
def test_the_benchmark_command_is_a_claim_and_a_baseline_run_is_not(name, refusing_ledger):
    task = load_task(task_path(name))
    script = task.benchmark.command
    assert (TEMPLATE / script).is_file() and os.access(TEMPLATE / script, os.X_OK)
    ours = reported_conditions(refusing_ledger, [script])
    assert is_claim(ours, task.benchmark.conditions), (ours, dict(task.benchmark.conditions))
    baseline = reported_conditions(refusing_ledger, [script, task.evaluation.reference_baseline])
    assert not is_claim(baseline, task.benchmark.conditions)
    shorter = reported_conditions(refusing_ledger, [script, "--duration", "100"])
    assert not is_claim(shorter, task.benchmark.conditions)


@pytest.mark.parametrize("name", STACK_TASKS)
def test_the_evaluation_command_runs_the_workload_it_names(name, tmp_path):
    """The trusted command, rendered for one short public seed, runs the task's design slot."""
    task = load_task(task_path(name)).with_overrides(seeds=[7], workloads=["main"], duration_s=60)
    repo = tmp_path / "repo"
    shutil.copytree(TEMPLATE, repo, ignore=shutil.ignore_patterns("simulator_results", "__pycache__"))
    command = task.evaluation.render_command(task.evaluation.reference_baseline, task.evaluation.primary, 7,
                                             "main-0", "out", design_seed=3)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("GLIA_LEDGER", "GLIA_DESIGN_ENDPOINT")}
    done = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (summary_path,) = (repo / "out" / "main-0").glob("*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["valid"] and summary["seed"] == 7 and summary["duration"] == 60
    for key in task.metric.keys:
        assert isinstance(summary[key], float | int), key


@pytest.mark.parametrize("name", STACK_TASKS)
def test_headroom_fixtures_pass_the_static_checks_and_cheats_do_not(name):
    task = load_task(task_path(name))
    design_file = task.design_files[0]
    fixture = (FIXTURES / HEADROOM[name]).read_text()
    checks = (task.forbidden_names, task.allowed_imports, task.forbidden_attributes)
    assert design_problem({design_file: fixture}, task.design_files, *checks) is None
    template = (TEMPLATE / design_file).read_text()
    assert design_problem({design_file: template}, task.design_files, *checks) is None
    cheats = [
        fixture + "\n\ndef peek(request):\n    return request.num_decode_tokens\n",
        "import os\n" + fixture,
        fixture + "\n\ndef grab(replica):\n    return replica._pool\n",
        fixture + "\n\ndef steal(replica):\n    return replica.admit\n",
    ]
    for cheat in cheats:
        assert design_problem({design_file: cheat}, task.design_files, *checks) is not None


def test_headroom_fixtures_are_not_in_the_template():
    shipped = "\n".join(p.read_text() for p in TEMPLATE.rglob("*.py"))
    for fixture in HEADROOM.values():
        body = (FIXTURES / fixture).read_text().split('"""', 2)[2]
        assert body.strip() not in shipped, fixture
