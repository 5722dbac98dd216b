"""Every design slot gives bit-identical results in the simulator's process and in a process of its own.

The core runs `python -m llmsim run` with GLIA_DESIGN_ENDPOINT set; the design runs in
`python -m llmsim.design_host`, which learns which slot it serves from the core's first call. The
replica scheduler, the autoscaler, and a router whose replicas come and go under an autoscaler must all
decide exactly as in process; a design's failures must read the same; nothing about the workload
reaches the design process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "sim_repo_template"
FIXTURES = REPO / "tests" / "fixtures" / "designs"
SCHEDULER = "llmsim/replica_schedulers/ai_replica_scheduler.py"
AUTOSCALER = "llmsim/autoscalers/ai_autoscaler.py"
ROUTER = "llmsim/global_schedulers/ai_global_scheduler.py"

# Uses all a policy may: its RNG, remembered requests across calls, holding back, the snapshot helpers.
EVERYTHING_POLICY = """
from llmsim.replica_schedulers.policy import ReplicaPolicy


class AIReplicaScheduler(ReplicaPolicy):
    def __init__(self, replica_id, seed=0):
        super().__init__(replica_id, seed)
        self.waited = {}

    def select(self, replica):
        for request in replica.waiting:
            self.waited.setdefault(request, replica.now)
        if self.rng.random() < 0.2 and replica.num_running > 2:
            return []  # hold for now
        age = lambda r: replica.now - self.waited[r]
        chosen = sorted(replica.waiting, key=lambda r: (r.num_prefill_tokens - 50 * age(r) - 30 * r.num_restarts, r.id))
        return [r for r in chosen if replica.fits(r) or r is chosen[0]]
"""

# Uses all an autoscaler may: its RNG, memory across calls, explicit decisions, per-replica counts.
EVERYTHING_AUTOSCALER = """
import math

from llmsim.autoscalers.base import Autoscaler, ScalingDecision


class AIAutoscaler(Autoscaler):
    def __init__(self, seed=0):
        super().__init__(seed)
        self.history = []

    def scale(self, cluster):
        self.history.append(sum(r.decode_tokens for r in cluster.replicas) / cluster.interval)
        want = math.ceil(cluster.num_in_flight / 25) + (1 if self.rng.random() < 0.3 else 0)
        if cluster.num_replicas > want and cluster.starting:
            return ScalingDecision(remove=(cluster.starting[-1].replica_id,))
        if len(self.history) % 3 == 0:
            return ScalingDecision(add=max(0, want - cluster.num_replicas))
        return want
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the template plus glia_isolation, as Glia lays out an evaluation sandbox."""
    copy = tmp_path / "repo"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("simulator_results", "__pycache__"))
    shutil.copytree(REPO / "glia" / "isolation", copy / ".glia" / "lib" / "glia_isolation")
    return copy


def run(repo: Path, remote: bool, *args: str, host_wait: float = 30) -> tuple[dict, str, str, str, str]:
    """(summary, request_metrics.csv text, scaling_log.csv text, the core's output, the design's output)."""
    env = {**os.environ, "PYTHONPATH": str(repo / ".glia" / "lib")}
    env.pop("GLIA_LEDGER", None)
    env.pop("GLIA_DESIGN_ENDPOINT", None)
    out = repo / ("remote" if remote else "local")
    shutil.rmtree(out, ignore_errors=True)
    host = None
    if remote:
        endpoint = str(repo / "design.sock")
        env["GLIA_DESIGN_ENDPOINT"] = endpoint
        host = subprocess.Popen(
            [sys.executable, "-m", "llmsim.design_host", "--listen", endpoint, "--accept-timeout", "60"],
            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "llmsim", "run", "--output-root", str(out), *args],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    host_output = ""
    if host is not None:
        try:
            host_output = host.communicate(timeout=host_wait)[0]
        except subprocess.TimeoutExpired:  # the core never connected (it failed before the design ran)
            host.kill()
            host_output = host.communicate()[0]
    (run_dir,) = out.glob("*/*")
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = (run_dir / "request_metrics.csv").read_text() if summary["valid"] else ""
    scaling = (run_dir / "scaling_log.csv").read_text() if (run_dir / "scaling_log.csv").exists() else ""
    return summary, metrics, scaling, done.stdout + done.stderr, host_output


def identical(repo: Path, *args: str) -> dict:
    local = run(repo, False, *args)
    remote = run(repo, True, *args)
    assert local[0]["valid"] and remote[0]["valid"], local[3] + remote[3] + remote[4]
    assert local[1] == remote[1]  # every request's record, byte for byte
    assert local[2] == remote[2]  # every autoscaler decision
    for key in ("mean_e2e", "gpu_hours", "p95_slowdown", "p90_ttft", "num_router_calls", "num_preemptions"):
        assert local[0][key] == remote[0][key], key
    return local[0]


@pytest.mark.parametrize("design", ["spf", "everything"])
def test_replica_scheduler_isolated_and_in_process_are_identical(repo: Path, design: str) -> None:
    text = (FIXTURES / "spf_replica_scheduler.py").read_text() if design == "spf" else EVERYTHING_POLICY
    (repo / SCHEDULER).write_text(text)
    summary = identical(repo, "--router", "llq", "--replica-scheduler", "ai", "--qps", "7.5", "--seed", "3",
                        "--duration", "200", "--design-seed", "11")  # fmt: skip
    assert summary["num_requests"] == 1500


@pytest.mark.parametrize("design", ["inflight", "everything"])
def test_autoscaler_isolated_and_in_process_are_identical(repo: Path, design: str) -> None:
    text = (
        (FIXTURES / "inflight_autoscaler.py").read_text() if design == "inflight" else EVERYTHING_AUTOSCALER
    )
    (repo / AUTOSCALER).write_text(text)
    summary = identical(repo, "--router", "llq", "--autoscaler", "ai", "--arrivals", "sinusoid", "--period", "400",
                        "--duration", "400", "--seed", "2", "--design-seed", "5", "--cold-start", "30")  # fmt: skip
    assert summary["num_scale_ups"] > 0 and summary["num_scale_downs"] > 0


def test_a_router_whose_replicas_come_and_go_is_identical_isolated(repo: Path) -> None:
    (repo / ROUTER).write_text((FIXTURES / "headroom_router.py").read_text())
    (repo / AUTOSCALER).write_text(EVERYTHING_AUTOSCALER)  # runs in the core: the design is the router
    summary = identical(repo, "--router", "ai", "--autoscaler", "threshold", "--arrivals", "sinusoid",
                        "--period", "300", "--duration", "300", "--qps-low", "4", "--qps-high", "12", "--seed", "4",
                        "--cold-start", "20")  # fmt: skip
    assert summary["num_scale_ups"] > 0


def test_slo_router_on_closed_loop_users_is_identical_isolated(repo: Path) -> None:
    (repo / ROUTER).write_text((FIXTURES / "late_binding_router.py").read_text())
    identical(repo, "--router", "ai", "--arrivals", "closed_loop", "--users", "45", "--lengths", "prefill_heavy",
              "--model", "llama-3.3-70b-fp8", "--device", "h100", "--num-replicas", "8", "--duration", "60",
              "--seed", "6")  # fmt: skip


def test_design_failures_read_the_same_in_both_processes(repo: Path) -> None:
    (repo / SCHEDULER).write_text(
        "from llmsim.replica_schedulers.policy import ReplicaPolicy\n\n\nclass AIReplicaScheduler(ReplicaPolicy):\n"
        "    def select(self, replica):\n        return sorted(replica.waiting, key=lambda r: r.num_decode_tokens)\n"
    )
    (repo / AUTOSCALER).write_text(
        "from llmsim.autoscalers.base import Autoscaler, ScalingDecision\n\n\nclass AIAutoscaler(Autoscaler):\n"
        "    def scale(self, cluster):\n        return ScalingDecision(remove=(77,))\n"
    )
    for args in (
        ("--router", "llq", "--replica-scheduler", "ai", "--duration", "30"),
        (
            "--router",
            "llq",
            "--autoscaler",
            "ai",
            "--arrivals",
            "sinusoid",
            "--duration",
            "60",
            "--period",
            "60",
        ),
    ):
        local, remote = run(repo, False, *args), run(repo, True, *args)
        assert not local[0]["valid"] and local[0]["error"] == remote[0]["error"]
    assert (
        "HiddenInformationError: replica scheduler read num_decode_tokens of request"
        in run(repo, True, "--router", "llq", "--replica-scheduler", "ai", "--duration", "30")[0]["error"]
    )


def test_two_design_slots_in_one_isolated_run_are_refused(repo: Path) -> None:
    summary = run(repo, True, "--router", "ai", "--replica-scheduler", "ai", "--duration", "20", host_wait=2)[
        0
    ]
    assert not summary["valid"] and "router and replica_scheduler are all 'ai'" in summary["error"]


@pytest.mark.parametrize("slot", ["replica_scheduler", "autoscaler"])
def test_the_design_process_is_told_nothing_of_the_workload(repo: Path, slot: str) -> None:
    spy = {
        "replica_scheduler": (SCHEDULER, "from llmsim.replica_schedulers.policy import ReplicaPolicy as Base",
                              "AIReplicaScheduler", "replica_id, seed=0", "replica_id, seed",
                              "def select(self, replica):\n        return list(replica.waiting)"),
        "autoscaler": (AUTOSCALER, "from llmsim.autoscalers.base import Autoscaler as Base", "AIAutoscaler",
                       "seed=0", "seed", "def scale(self, cluster):\n        return cluster.num_replicas"),
    }[slot]  # fmt: skip
    path, base, cls, params, args, method = spy
    (repo / path).write_text(
        f"import sys\n{base}\n\n\nclass {cls}(Base):\n    def __init__(self, {params}):\n"
        f"        super().__init__({args})\n        print('SEED', seed, 'ARGV', sys.argv[1:3], flush=True)\n\n"
        f"    {method}\n"
    )
    option = (
        ["--replica-scheduler", "ai"]
        if slot == "replica_scheduler"
        else ["--autoscaler", "ai", "--arrivals", "sinusoid"]
    )
    summary, _, _, core, design = run(repo, True, "--router", "llq", *option, "--seed", "987654321",
                                      "--design-seed", "5", "--duration", "40", "--period", "40")  # fmt: skip
    assert summary["valid"], core + design
    assert "SEED 5 ARGV ['--listen'" in design and "987654321" not in design
