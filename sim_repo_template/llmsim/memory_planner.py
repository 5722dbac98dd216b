"""How many KV-cache blocks fit on one replica (the same accounting as vidur's memory planner).

usable memory = (1 - margin) x device memory          (margin 10% for the CUDA context, fragmentation)
KV memory     = usable - all weights - peak activations of the largest batch
blocks        = KV memory / (KV bytes per token x block size)

Peak activations per batched token: the fp16 logits row (vocabulary size, the largest tensor),
one MLP intermediate and one residual vector. For Llama-3-8B on an A10 with 8192-token batches this
gives 2254 blocks of 16 tokens (~36k tokens), matching the ~2240 the Glia authors configured.
"""

from __future__ import annotations

from llmsim.hardware import DeviceSpec, ModelSpec


def activation_bytes_per_token(model: ModelSpec) -> int:
    return model.bytes_per_value * (model.vocab_size + model.intermediate_size + model.hidden_size)


def plan_kv_blocks(
    model: ModelSpec,
    device: DeviceSpec,
    block_size: int = 16,
    max_batch_tokens: int = 8192,
    memory_margin: float = 0.1,
) -> int:
    """Number of KV blocks available per replica; raises if the model does not fit at all."""
    usable = device.memory_bytes * (1 - memory_margin)
    kv_bytes = usable - model.weight_bytes - max_batch_tokens * activation_bytes_per_token(model)
    blocks = int(kv_bytes // (model.kv_bytes_per_token * block_size))
    if blocks <= 0:
        raise ValueError(f"{model.name} does not fit on {device.name}: no memory left for the KV cache")
    return blocks
