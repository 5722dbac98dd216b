"""A router in a process of its own behaves exactly as in the simulator's process.

The core runs `python -m llmsim run` with GLIA_DESIGN_ENDPOINT set; the design runs in
`python -m llmsim.design_host`. Same decisions, same numbers, bit for bit: that is what lets trusted
evaluation isolate the design without changing what the Researcher measured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "sim_repo_template"
HEADROOM = REPO / "tests" / "fixtures" / "designs" / "headroom_router.py"
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"

# Uses everything a router may: its RNG, holding requests, replica lists, remembered requests' progress.
EVERYTHING_ROUTER = """
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def __init__(self, replicas, seed=0):
        super().__init__(replicas, seed)
        self.routed = []

    def schedule(self):
        progress = sum(r.num_processed_tokens + r.num_restarts for r in self.routed[-20:])
        busy = sum(r.num_active_requests for r in self.replicas.values())
        if busy > 40 and self.rng.random() < 0.5 and progress % 3:
            return []  # hold for now
        decisions = []
        while self.request_queue:
            request = self.request_queue.pop(0)
            waiting = {k: sum(q.num_prefill_tokens for q in r.pending_requests) for k, r in self.replicas.items()}
            choice = min(waiting, key=lambda k: (waiting[k] + self.replicas[k].num_allocated_blocks, k))
            if self.rng.random() < 0.1:
                choice = self.rng.choice(sorted(self.replicas))
            decisions.append((choice, request))
            self.routed.append(request)
        return decisions
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the template plus glia_isolation, as Glia lays out an evaluation sandbox."""
    copy = tmp_path / "repo"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("simulator_results", "__pycache__"))
    shutil.copytree(REPO / "glia" / "isolation", copy / ".glia" / "lib" / "glia_isolation")
    return copy


def _run(repo: Path, remote: bool, *args: str) -> tuple[dict, pd.DataFrame, str, str]:
    """(summary, per-request metrics, the core's output, the design process's output)."""
    env = {**os.environ, "PYTHONPATH": str(repo / ".glia" / "lib")}
    env.pop("GLIA_LEDGER", None)
    host = None
    out = repo / ("remote" if remote else "local")
    if remote:
        endpoint = str(repo / "design.sock")
        env["GLIA_DESIGN_ENDPOINT"] = endpoint
        host = subprocess.Popen(
            [sys.executable, "-m", "llmsim.design_host", "--listen", endpoint, "--accept-timeout", "60"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    done = subprocess.run(
        [sys.executable, "-m", "llmsim", "run", "--router", "ai", "--output-root", str(out), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    host_output = ""
    if host is not None:
        host_output = host.communicate(timeout=60)[0]
    (run_dir,) = out.glob("*/*")
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = pd.read_csv(run_dir / "request_metrics.csv") if summary["valid"] else pd.DataFrame()
    return summary, metrics, done.stdout + done.stderr, host_output


@pytest.mark.parametrize("design", ["headroom", "everything"])
def test_isolated_and_in_process_runs_are_identical(repo: Path, design: str) -> None:
    text = HEADROOM.read_text() if design == "headroom" else EVERYTHING_ROUTER
    (repo / DESIGN).write_text(text)
    args = ("--qps", "7.5", "--seed", "3", "--duration", "200", "--router-seed", "11")
    local, local_metrics, _, _ = _run(repo, False, *args)
    remote, remote_metrics, output, design_output = _run(repo, True, *args)
    assert local["valid"] and remote["valid"], output + design_output
    pd.testing.assert_frame_equal(local_metrics, remote_metrics, check_exact=True)
    for key in ("mean_e2e", "p90_e2e", "frac_restarted", "num_router_calls", "num_preemptions"):
        assert local[key] == remote[key], key


def test_the_design_process_is_told_nothing_of_the_workload(repo: Path) -> None:
    spy = """
import sys
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def __init__(self, replicas, seed=0):
        super().__init__(replicas, seed)
        print("SEED", seed, "ARGV", sys.argv[1:3], flush=True)

    def schedule(self):
        return self.route_all(lambda r: 0)
"""
    (repo / DESIGN).write_text(spy)
    summary, _, _, design_output = _run(
        repo, True, "--seed", "987654321", "--router-seed", "5", "--duration", "30"
    )
    assert summary["valid"]
    assert "SEED 5 ARGV ['--listen'" in design_output and "987654321" not in design_output


def test_a_design_stuck_in_one_call_is_stopped_by_its_own_processs_cpu_alarm(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The design host's backstop (llmsim/alarms.py, shared with the simulator's): after its CPU-time
    limit the design's endless loop is interrupted, the run ends invalid and says where."""
    stuck = """
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        while True:
            pass
"""
    (repo / DESIGN).write_text(stuck)
    monkeypatch.setenv("GLIA_DESIGN_CPU_LIMIT", "0.5")
    summary, _, output, design_output = _run(repo, True, "--duration", "30", "--time-limit", "60")
    assert not summary["valid"], output
    assert "SafetyLimitError: CPU-time limit of 0.5 s reached in the design's process" in summary["error"], (
        summary["error"],
        design_output,
    )
