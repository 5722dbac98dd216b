"""The second model and GPU, built from their public specifications: shapes, bytes, memory, timings."""

import pytest
from llmsim.execution_model import ExecutionTimeModel
from llmsim.hardware import A10, H100_SXM, LLAMA3_8B, LLAMA33_70B_FP8, ModelSpec
from llmsim.memory_planner import plan_kv_blocks


def parameters_from_shapes(model: ModelSpec) -> int:
    """Every weight of a Llama decoder from config.json shapes: attention, MLP, two norms per layer,
    the final norm, the input embedding and the untied output head."""
    h, kv = model.hidden_size, model.num_kv_heads * model.head_dim
    attention = h * model.attention_width + 2 * h * kv + model.attention_width * h
    mlp = 3 * h * model.intermediate_size
    per_layer = attention + mlp + 2 * h
    return model.num_layers * per_layer + h + 2 * model.vocab_size * h


@pytest.mark.parametrize("model", [LLAMA3_8B, LLAMA33_70B_FP8])
def test_parameter_counts_follow_from_the_shapes(model):
    assert model.num_parameters == parameters_from_shapes(model)


def test_fp8_checkpoint_bytes():
    m = LLAMA33_70B_FP8
    embed = 128256 * 8192
    assert m.weight_bytes == m.layer_parameters * 1 + 2 * embed * 2  # FP8 blocks, bf16 embedding and head
    assert m.weight_bytes == pytest.approx(72.66e9, rel=1e-3)  # 67.7 GiB, what vLLM reports loading
    assert m.weight_bytes_read_per_iteration == m.layer_parameters + embed * 2
    assert m.kv_bytes_per_token == 2 * 80 * 8 * 128 * 1  # FP8 cache: 160 KiB per token
    # the 8B model's numbers are unchanged by the precision fields
    assert LLAMA3_8B.weight_bytes == LLAMA3_8B.num_parameters * 2
    assert LLAMA3_8B.kv_bytes_per_token == 128 * 1024


def test_memory_planner_on_one_h100():
    blocks = plan_kv_blocks(LLAMA33_70B_FP8, H100_SXM, block_size=16, max_batch_tokens=8192)
    # 0.9 x 80 GiB - 72.66 GB weights - 8192 x 330,240 B activations = 1.95 GB of KV at 2.62 MB a block
    assert blocks == 743
    assert blocks * 16 > 8192 + 8 * 16  # the longest request (8192 tokens) fits above the watermark
    assert plan_kv_blocks(LLAMA3_8B, A10) == 2254  # the routing benchmark's planner is untouched


def test_h100_70b_timings_from_physics():
    model = ExecutionTimeModel(LLAMA33_70B_FP8, H100_SXM)
    floor = LLAMA33_70B_FP8.weight_bytes_read_per_iteration / (3.35e12 * 0.8)
    assert floor == pytest.approx(0.0263, rel=0.01)  # 70.6 GB streamed per iteration
    assert model.decode_time(1, 2048) == pytest.approx(0.0277, rel=0.01)
    assert model.decode_time(1, 2048) > floor
    assert model.prefill_time(2048) == pytest.approx(0.269, rel=0.01)
    assert model.prefill_time(7437) == pytest.approx(1.07, rel=0.01)
    # block matmuls run on FP8 tensor cores: 2 x params / (1979 TFLOP/s x 0.55) per token
    per_token = (model.prefill_time(8192) - model.prefill_time(4096)) / 4096
    assert 2 * LLAMA33_70B_FP8.layer_parameters / (1979e12 * 0.55) < per_token < 1.7e-4  # + attention


def test_a10_has_no_fp8():
    with pytest.raises(ValueError, match="no fp8 tensor cores"):
        ExecutionTimeModel(LLAMA33_70B_FP8, A10)
