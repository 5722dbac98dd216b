"""Make the simulator template importable as `llmsim` and offer small helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "sim_repo_template"
if str(TEMPLATE) not in sys.path:
    sys.path.insert(0, str(TEMPLATE))

from llmsim.config import SimulationConfig  # noqa: E402
from llmsim.request import Request  # noqa: E402
from llmsim.simulator import Simulator, requests_from_trace  # noqa: E402
from llmsim.workload import WorkloadSpec, generate_trace  # noqa: E402


@pytest.fixture(scope="session")
def template_dir() -> Path:
    return TEMPLATE


def make_requests(rows: list[tuple[float, int, int]]) -> list[Request]:
    """Requests from (arrived_at, prompt tokens, decode tokens) rows."""
    return [Request(i, t, p, d) for i, (t, p, d) in enumerate(rows)]


def small_workload(qps: float = 7.5, duration: float = 60.0, seed: int = 0) -> list[Request]:
    return requests_from_trace(generate_trace(WorkloadSpec(qps=qps, duration=duration, seed=seed)))


def run_sim(requests: list[Request], router_cls=None, **config) -> Simulator:
    """Run a simulation and return the Simulator (its requests carry the outcome)."""
    config.setdefault("check_invariants", True)
    sim = Simulator(SimulationConfig(**config), requests, router_cls)
    sim.result = sim.run()
    return sim
