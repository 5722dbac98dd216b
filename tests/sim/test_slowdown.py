"""Slowdown's denominator is the time a request takes alone on an idle replica, and the new summary
numbers are what the per-request records say."""

import numpy as np
import pytest
from llmsim.config import SimulationConfig
from llmsim.execution_model import ExecutionTimeModel
from llmsim.hardware import A10, H100_SXM, LLAMA3_8B, LLAMA33_70B_FP8
from llmsim.ideal import ideal_times
from llmsim.runner import metrics_of, simulate, summary_of

from tests.sim.conftest import make_requests, run_sim


@pytest.mark.parametrize(
    ("prompt", "output", "chunk"),
    [(137, 287, 8192), (1, 1, 8192), (5000, 40, 2048), (8000, 190, 8192), (300, 1, 512)],
)
@pytest.mark.parametrize("hardware", ["a10", "h100"])
def test_ideal_time_equals_a_lone_request_on_an_idle_replica(prompt, output, chunk, hardware):
    settings = (
        {"model": "llama-3-8b", "device": "a10", "spec": (LLAMA3_8B, A10)}
        if hardware == "a10"
        else {"model": "llama-3.3-70b-fp8", "device": "h100", "spec": (LLAMA33_70B_FP8, H100_SXM)}
    )
    model, device = settings.pop("spec")
    sim = run_sim(
        make_requests([(1.0, prompt, output)]), router="llq", chunk_size=chunk, num_replicas=1, **settings
    )
    alone = sim.requests[0].completed_at - sim.requests[0].arrived_at
    ideal = ideal_times([prompt], [output], ExecutionTimeModel(model, device), chunk)[0]
    assert ideal == pytest.approx(alone, rel=1e-9)


def test_slowdown_is_at_least_one_and_summaries_match_the_records():
    config = SimulationConfig(router="llq", duration=200, seed=2)
    result = simulate(config)
    metrics = metrics_of(result, config)
    summary = summary_of(result, metrics)
    assert (metrics.slowdown >= 1 - 1e-9).all()  # nothing beats running alone
    assert summary["p95_slowdown"] == pytest.approx(np.percentile(metrics.slowdown, 95))
    assert summary["p90_ttft"] == pytest.approx(np.percentile(metrics.ttft, 90))
    assert summary["makespan"] == metrics.completed_at.max()
    assert summary["throughput_rps"] == pytest.approx(len(metrics) / summary["makespan"])
    # a fixed cluster's GPU-hours: every replica from t = 0 to the last completion
    assert summary["gpu_hours"] == pytest.approx(4 * summary["makespan"] / 3600)
    assert summary["max_replicas_used"] == 4 and summary["num_scale_ups"] == summary["num_scale_downs"] == 0
