"""The time-varying, prefill-heavy and closed-loop workloads: their documented shape, determinism and
held-out variants."""

import math

import numpy as np
import pytest
from llmsim.arrivals import Sinusoid, sinusoid_arrivals
from llmsim.closed_loop import ClosedLoopSource, ClosedLoopSpec
from llmsim.config import SimulationConfig
from llmsim.errors import WorkloadError
from llmsim.lengths import PREFILL_HEAVY_OUTPUTS, PREFILL_HEAVY_PROMPTS, prefill_heavy_lengths
from llmsim.runner import load_workload
from llmsim.workload import WorkloadSpec, generate_trace


def test_sinusoid_rate_stays_between_its_bounds_and_follows_the_curve():
    curve = Sinusoid(7.5, 22.5, 3600)
    times = sinusoid_arrivals(np.random.default_rng(0), curve, 3600)
    assert np.all(np.diff(times) >= 0) and times[0] >= 0 and times[-1] <= 3600
    assert curve.rate(0.0) == pytest.approx(7.5) and curve.rate(1800.0) == pytest.approx(22.5)
    assert len(times) == pytest.approx(15 * 3600, rel=0.02)  # the integral of the rate
    counts, _ = np.histogram(times, bins=36, range=(0, 3600))
    rates = counts / 100.0
    expected = np.array([curve.integral(100 * (i + 1)) - curve.integral(100 * i) for i in range(36)]) / 100
    # each 100 s window: within 4 Poisson standard deviations of the curve, and within the bounds
    assert np.all(np.abs(rates - expected) < 4 * np.sqrt(expected / 100))
    assert rates.min() > 7.5 * 0.8 and rates.max() < 22.5 * 1.2
    assert rates[:3].mean() < 9 and rates[16:20].mean() > 20  # trough at the start, peak half way


def test_sinusoid_inverse_is_exact():
    curve = Sinusoid(5, 30, 1000)
    s = np.linspace(0, float(curve.integral(2500)), 101)
    assert np.allclose(curve.integral(curve.invert(s)), s, atol=1e-7)


def test_generated_workloads_are_deterministic_per_seed():
    config = SimulationConfig(arrivals="sinusoid", duration=600, period=600, seed=4)
    first, again = load_workload(config), load_workload(config)
    assert first.equals(again)
    other = load_workload(SimulationConfig(arrivals="sinusoid", duration=600, period=600, seed=5))
    assert not first.equals(other)
    heavy = load_workload(SimulationConfig(arrivals="bursty", lengths="prefill_heavy", duration=300, seed=4))
    assert heavy.equals(
        load_workload(SimulationConfig(arrivals="bursty", lengths="prefill_heavy", duration=300, seed=4))
    )


def test_secret_sized_seeds_work():
    big = 2**63 - 25
    assert len(load_workload(SimulationConfig(arrivals="sinusoid", duration=60, seed=big))) > 100
    source = ClosedLoopSource(ClosedLoopSpec(users=3, think_time=1.0, duration=10, seed=big))
    assert len(source.requests) == 3


def test_prefill_heavy_lengths_match_the_azure_code_trace():
    prompts, outputs = prefill_heavy_lengths(np.random.default_rng(1), np.random.default_rng(2), 400_000)
    assert prompts.mean() == pytest.approx(2048, rel=0.02)  # the trace: 2047.8
    assert outputs.mean() == pytest.approx(27.9, rel=0.05)
    assert np.median(prompts) == pytest.approx(1469, abs=3) and np.median(outputs) == 13
    assert np.percentile(prompts, 90) == pytest.approx(5188, abs=20)
    assert np.percentile(outputs, 99) == pytest.approx(251, abs=5)
    assert 65 < prompts.mean() / outputs.mean() < 80  # "a prompt-to-decode ratio of about 70"
    assert prompts.max() <= 7437 and outputs.min() >= 6 and (prompts + outputs).max() <= 8192
    assert PREFILL_HEAVY_PROMPTS.mean() / PREFILL_HEAVY_OUTPUTS.mean() == pytest.approx(71.7, abs=0.5)


def test_sharegpt_benchmark_trace_is_unchanged_by_the_new_profiles():
    spec = WorkloadSpec(qps=7.5, duration=1000, seed=0)
    assert generate_trace(spec).equals(
        generate_trace(WorkloadSpec(qps=7.5, duration=1000, seed=0, lengths="sharegpt"))
    )


def test_unknown_profiles_and_bad_curves_are_refused():
    with pytest.raises(WorkloadError, match="unknown lengths"):
        load_workload(SimulationConfig(lengths="long", duration=10))
    with pytest.raises(WorkloadError, match="low <= high"):
        load_workload(SimulationConfig(arrivals="sinusoid", qps_low=10, qps_high=5, duration=10))
    with pytest.raises(WorkloadError, match="at least one user"):
        ClosedLoopSpec(users=0, think_time=0, duration=10, seed=0)


def drive(source: ClosedLoopSource, service_time: float) -> list:
    """Answer every request `service_time` after it is sent, as a cluster would; returns all requests."""
    pending = sorted(source.requests, key=lambda r: (r.arrived_at, r.id))
    done = []
    while pending:
        request = pending.pop(0)
        finished = request.arrived_at + service_time
        done.append((request, finished))
        following = source.next_after(request, finished)
        if following is not None:
            pending.append(following)
            pending.sort(key=lambda r: (r.arrived_at, r.id))
    return done


def test_closed_loop_users_never_have_two_requests_in_flight():
    spec = ClosedLoopSpec(users=20, think_time=2.0, duration=300, seed=3, lengths="prefill_heavy")
    source = ClosedLoopSource(spec)
    done = drive(source, service_time=1.5)
    by_user: dict[int, list] = {}
    for request, finished in done:
        by_user.setdefault(source.user_of[request.id], []).append((request.arrived_at, finished))
    assert len(by_user) == 20
    for spans in by_user.values():
        spans.sort()
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))
    events = sorted(
        [(start, 1) for start, _ in sum(by_user.values(), [])]
        + [(end, -1) for _, end in sum(by_user.values(), [])]
    )
    in_flight = np.cumsum([delta for _, delta in sorted(events, key=lambda e: (e[0], e[1]))])
    assert in_flight.max() <= 20
    assert all(request.arrived_at <= 300 for request, _ in done)
    # about users x duration / (think + service) requests
    assert len(done) == pytest.approx(20 * 300 / 3.5, rel=0.1)


def test_closed_loop_requests_do_not_depend_on_timing():
    """User u's k-th request has the same lengths whatever the cluster does; only its time changes."""
    spec = ClosedLoopSpec(users=5, think_time=1.0, duration=100, seed=9)
    fast, slow = ClosedLoopSource(spec), ClosedLoopSource(spec)
    fast_done, slow_done = drive(fast, 0.5), drive(slow, 3.0)

    def sequences(source, done):
        seq: dict[int, list] = {}
        for request, _ in sorted(done, key=lambda d: d[0].arrived_at):
            seq.setdefault(source.user_of[request.id], []).append(
                (request.num_prompt_tokens, request._total_tokens)
            )
        return seq

    a, b = sequences(fast, fast_done), sequences(slow, slow_done)
    assert len(fast_done) > len(slow_done)
    for user in range(5):
        n = min(len(a[user]), len(b[user]))
        assert n > 3 and a[user][:n] == b[user][:n]


def test_zero_think_time_starts_everyone_at_once():
    source = ClosedLoopSource(ClosedLoopSpec(users=45, think_time=0.0, duration=60, seed=1))
    assert len(source.requests) == 45 and {r.arrived_at for r in source.requests} == {0.0}
    nxt = source.next_after(source.requests[0], 2.5)
    assert nxt.arrived_at == 2.5 and nxt.id == 45
    assert math.isclose(source.requests[3].arrived_at, 0.0)


def test_closed_loop_simulations_keep_at_most_n_in_flight_and_are_exact():
    from llmsim.metrics import request_metrics
    from llmsim.runner import build_simulator

    runs = []
    for skip in (True, False):
        config = SimulationConfig(
            router="llq", arrivals="closed_loop", users=12, think_time=0.5, lengths="prefill_heavy",
            duration=90, model="llama-3.3-70b-fp8", device="h100", num_replicas=2, seed=8,
            skip_ahead=skip, check_invariants=not skip,
        )  # fmt: skip
        result = build_simulator(config).run()
        runs.append(result)
        metrics = request_metrics(result.requests, users=result.users)
        spans = sorted(zip(metrics.arrived_at, metrics.completed_at, metrics.user_id, strict=True))
        events = sorted(
            [(a, 1) for a, _, _ in spans] + [(c, -1) for _, c, _ in spans], key=lambda e: (e[0], e[1])
        )
        assert max(np.cumsum([d for _, d in events])) <= 12  # never more than N requests in the system
        for user in set(metrics.user_id):
            mine = [(a, c) for a, c, u in spans if u == user]
            assert all(later[0] >= earlier[1] for earlier, later in zip(mine, mine[1:], strict=False))
        assert metrics.arrived_at.max() <= 90 and len(metrics) > 100
    assert request_metrics(runs[0].requests).equals(request_metrics(runs[1].requests))
