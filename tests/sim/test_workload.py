"""Traces: deterministic per seed, the documented shape, and the shipped files."""

import numpy as np
import pandas as pd
import pytest
from llmsim.errors import WorkloadError
from llmsim.workload import TRACE_COLUMNS, WorkloadSpec, generate_trace, read_trace, write_trace

TRACES = "data/processed_traces"


def test_shipped_benchmark_trace_equals_generated_workload(template_dir):
    shipped = read_trace(template_dir / TRACES / "sharegpt_7.5.csv")
    generated = generate_trace(WorkloadSpec(qps=7.5, seed=0, duration=1000))
    pd.testing.assert_frame_equal(shipped, generated, check_exact=True, check_dtype=False)


@pytest.mark.parametrize(
    "name, qps, seed",
    [
        ("sharegpt_7.5_seed1", 7.5, 1),
        ("sharegpt_7.5_seed2", 7.5, 2),
        ("sharegpt_7.5_seed3", 7.5, 3),
        ("sharegpt_6.5_seed1", 6.5, 1),
        ("sharegpt_8.5_seed2", 8.5, 2),
    ],
)
def test_held_out_traces_come_from_the_same_generator(template_dir, name, qps, seed):
    shipped = read_trace(template_dir / TRACES / f"{name}.csv")
    generated = generate_trace(WorkloadSpec(qps=qps, seed=seed))
    pd.testing.assert_frame_equal(shipped, generated, check_exact=True, check_dtype=False)


def test_same_seed_same_trace_other_seed_other_trace():
    a = generate_trace(WorkloadSpec(seed=5, duration=200))
    b = generate_trace(WorkloadSpec(seed=5, duration=200))
    c = generate_trace(WorkloadSpec(seed=6, duration=200))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.equals(c)


def test_rate_count_and_burstiness():
    trace = generate_trace(WorkloadSpec(qps=7.5, duration=1000, seed=0))
    assert len(trace) == 7500
    assert trace.arrived_at.iloc[-1] == pytest.approx(1000.0, abs=1e-6)
    assert trace.arrived_at.is_monotonic_increasing
    gaps = np.diff(trace.arrived_at.to_numpy())
    # log-normal(sigma=2) gaps: very bursty, coefficient of variation far above Poisson's 1
    assert gaps.std() / gaps.mean() > 3
    assert np.log(gaps[gaps > 0]).std() == pytest.approx(2.0, rel=0.1)


def test_lengths_follow_documented_figures():
    trace = generate_trace(WorkloadSpec(qps=7.5, duration=1000, seed=0))
    prompts, decodes = trace.num_prefill_tokens, trace.num_decode_tokens
    # log-normal bodies: median = mean x exp(-sigma^2 / 2)
    assert prompts.median() == pytest.approx(137 * np.exp(-(0.93**2) / 2), rel=0.1)
    assert decodes.median() == pytest.approx(287 * np.exp(-(0.54**2) / 2), rel=0.1)
    # 5% of each inflated 10x: means grow by 0.95 + 0.05 x 10 = 1.45 (less a little context clipping)
    assert prompts.mean() == pytest.approx(137 * 1.45, rel=0.1)
    assert decodes.mean() == pytest.approx(287 * 1.45, rel=0.1)
    assert (prompts + decodes <= 8192).all() and (prompts >= 1).all() and (decodes >= 1).all()
    assert abs(np.corrcoef(prompts, decodes)[0, 1]) < 0.1  # independent


def test_exactly_five_percent_of_each_length_is_inflated():
    base = generate_trace(WorkloadSpec(seed=3, duration=400, inflated_fraction=0.0))
    inflated = generate_trace(WorkloadSpec(seed=3, duration=400))
    n = len(base)
    raw_prompt = np.minimum(base.num_prefill_tokens * 10, 8191)
    prompt_changed = inflated.num_prefill_tokens != base.num_prefill_tokens
    assert prompt_changed.sum() == pytest.approx(0.05 * n, abs=2)  # (x10 of an 8191 clip is a no-op)
    assert (inflated.num_prefill_tokens[prompt_changed] == raw_prompt[prompt_changed]).all()
    decode_grew = inflated.num_decode_tokens > base.num_decode_tokens
    assert decode_grew.sum() <= round(0.05 * n)
    assert decode_grew.sum() >= round(0.05 * n) - prompt_changed.sum()


def test_trace_round_trip_and_validation(tmp_path):
    trace = generate_trace(WorkloadSpec(seed=1, duration=50))
    path = tmp_path / "t.csv"
    write_trace(trace, path)
    pd.testing.assert_frame_equal(read_trace(path), trace, check_exact=True)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"arrived_at": [0.0], "num_prefill_tokens": [3]}).to_csv(bad, index=False)
    with pytest.raises(WorkloadError, match="num_decode_tokens"):
        read_trace(bad)
    with pytest.raises(WorkloadError, match="not found"):
        read_trace(tmp_path / "missing.csv")
    assert list(read_trace(path).columns) == TRACE_COLUMNS
