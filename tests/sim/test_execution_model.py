"""The analytic time model against vidur's A100 profiles, and the A10 physics it is built from."""

import pytest
from llmsim.execution_model import ExecutionTimeModel
from llmsim.hardware import A10, A100_80GB, LLAMA3_8B
from llmsim.memory_planner import plan_kv_blocks


def vidur_a100_decode_ms(batch: int, context: int) -> float:
    return 10.4 + 0.04 * batch + 8.3e-5 * batch * context


def vidur_a100_prefill_ms(chunk: int) -> float:
    return 8 + 0.083 * chunk + 1.5e-6 * chunk**2


@pytest.mark.parametrize("batch", [1, 2, 8, 32, 64, 128])
@pytest.mark.parametrize("context", [512, 1024, 2048, 4096])
def test_a100_decode_within_25_percent_of_vidur(batch, context):
    model = ExecutionTimeModel(LLAMA3_8B, A100_80GB)
    ours = model.decode_time(batch, batch * context) * 1e3
    assert ours == pytest.approx(vidur_a100_decode_ms(batch, context), rel=0.25)


@pytest.mark.parametrize("chunk", [512, 1024, 2048, 4096, 8192])
def test_a100_prefill_within_25_percent_of_vidur(chunk):
    ours = ExecutionTimeModel(LLAMA3_8B, A100_80GB).prefill_time(chunk) * 1e3
    assert ours == pytest.approx(vidur_a100_prefill_ms(chunk), rel=0.25)


def test_a100_quoted_points():
    model = ExecutionTimeModel(LLAMA3_8B, A100_80GB)
    assert model.decode_time(32, 32 * 1024) * 1e3 == pytest.approx(14.4, rel=0.25)
    assert model.decode_time(128, 128 * 2048) * 1e3 == pytest.approx(37.4, rel=0.25)
    for chunk, ms in [(512, 42), (2048, 190), (4096, 374), (8192, 787)]:
        assert model.prefill_time(chunk) * 1e3 == pytest.approx(ms, rel=0.25)


def test_a10_decode_is_bandwidth_bound():
    model = ExecutionTimeModel(LLAMA3_8B, A10)
    floor = LLAMA3_8B.weight_bytes_read_per_iteration / A10.memory_bandwidth
    assert floor == pytest.approx(0.025, rel=0.05)  # 15 GB of weights at 600 GB/s
    one = model.decode_time(1, 512)
    assert floor < one < 0.040
    # each extra context token costs its KV bytes at the achieved bandwidth
    a, c = model.decode_coefficients(16)
    assert c == pytest.approx(131072 / (600e9 * 0.8))
    assert model.decode_time(16, 20000) == pytest.approx(a + c * 20000)


def test_a10_prefill_is_compute_bound_and_prior_context_adds_attention():
    model = ExecutionTimeModel(LLAMA3_8B, A10)
    t4k, t8k = model.prefill_time(4096), model.prefill_time(8192)
    assert 2.0 < t8k / t4k < 2.3  # linear FLOPs plus a quadratic attention term
    flops = 2 * LLAMA3_8B.layer_parameters * 8192
    assert t8k > flops / A10.fp16_tensor_flops  # never faster than peak
    assert model.prefill_time(1024, prior_context=4096) > model.prefill_time(1024)


def test_mixed_batch_costs_more_than_its_decodes_alone():
    model = ExecutionTimeModel(LLAMA3_8B, A10)
    decodes = model.iteration_time(32, 32, 32 * 1000, 0.0)
    mixed = model.iteration_time(33, 32 + 2048, 32 * 1000, 2048 * 1024)
    assert decodes == pytest.approx(model.decode_time(32, 32 * 1000))
    assert mixed > decodes + 0.2


def test_memory_planner_gives_about_2240_blocks_on_a10():
    blocks = plan_kv_blocks(LLAMA3_8B, A10, block_size=16, max_batch_tokens=8192)
    assert blocks == pytest.approx(2240, rel=0.02)
    assert LLAMA3_8B.kv_bytes_per_token == 128 * 1024
    assert plan_kv_blocks(LLAMA3_8B, A100_80GB) > 10 * blocks
    assert plan_kv_blocks(LLAMA3_8B, A10, max_batch_tokens=4096) > blocks
