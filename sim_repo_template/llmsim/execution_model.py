"""How long one batch iteration takes on a GPU: an analytic roofline model.

One iteration runs every request in the batch through all layers once. Its time is the sum of
four physical costs:

1. **Linear layers.** Every iteration streams all weights from GPU memory (``W`` bytes) and does
   ``2 x params`` FLOPs per batched token. Whichever is slower bounds it (a roofline): a decode
   batch of a few dozen tokens is bandwidth-bound, a prefill chunk of thousands of tokens is
   compute-bound. The output head (vocabulary projection) runs once per *sequence*, not per token.
2. **Attention over the KV cache** for decode tokens: each decode token reads the K and V of its
   whole context (128 KiB per token for Llama-3-8B): bandwidth-bound.
3. **Attention FLOPs** of prefill chunks: ``4 x heads x head_dim`` FLOPs per (query, key) pair per
   layer, causal within the chunk, full over earlier context.
4. **Fixed and per-sequence overheads**: kernel launches and the scheduler's CPU work per
   iteration, sampling and bookkeeping per sequence.

Efficiency factors (fractions of datasheet peaks that real kernels reach):

* ``bandwidth_efficiency = 0.8``: streaming kernels (GEMV, paged attention) typically sustain
  ~80% of DRAM peak; this reproduces vidur's profiled A100 decode floor (10.4 ms for 15 GB of
  weights at 2039 GB/s) and its 8.3e-5 ms per context token.
* ``matmul_efficiency = 0.55``: large fp16 GEMMs in serving stacks reach ~50-60% of dense
  tensor peak; vidur's A100 prefill slope (0.083 ms / token) implies 0.54.
* ``attention_efficiency = 0.55``: FlashAttention-2 on long prompts reaches a similar fraction;
  vidur's quadratic prefill term (1.5e-6 ms x c^2) implies ~0.56.
* ``fixed_overhead_s = 1.2 ms`` per iteration and ``per_sequence_overhead_s = 30 us``: CPU-side
  costs, which do not depend on the GPU; both read off vidur's A100 fits.

The same constants with the A10 datasheet give the benchmark's timings; with the A100 datasheet
they agree with vidur's A100 profiles within 25% (tests/sim/test_execution_model.py checks).

The same constants serve every device: what differs is the datasheet and the model's precision.
For Llama-3.3-70B FP8 on an H100 the block matmuls run on FP8 tensor cores (1979 TFLOP/s dense; FP8
GEMMs with per-token activation quantisation reach a similar fraction of peak as fp16 ones), the head
and attention on bf16 ones, and every iteration streams 70.6 GB of weights (68.5 GB of FP8 blocks and
the 2.1 GB bf16 head) at 0.8 x 3.35 TB/s: a decode step alone costs 27.7 ms (batch 1, context 2048),
a 2048-token prefill 270 ms, an 8192-token one 1.19 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmsim.hardware import DeviceSpec, ModelSpec


@dataclass(frozen=True)
class Efficiency:
    """Fractions of datasheet peaks that real kernels achieve (see the module docstring)."""

    bandwidth: float = 0.8
    matmul: float = 0.55
    attention: float = 0.55
    fixed_overhead_s: float = 1.2e-3
    per_sequence_overhead_s: float = 30e-6


class ExecutionTimeModel:
    """Iteration time for a batch; pure arithmetic, no state, cheap enough for the hot path."""

    def __init__(self, model: ModelSpec, device: DeviceSpec, efficiency: Efficiency | None = None):
        self.model = model
        self.device = device
        self.efficiency = efficiency or Efficiency()
        eff = self.efficiency
        bandwidth = device.memory_bandwidth * eff.bandwidth
        linear_peak = device.tensor_flops(model.linear_precision)  # FP8 for an FP8 checkpoint's blocks
        self._weight_read_s = model.weight_bytes_read_per_iteration / bandwidth
        self._linear_s_per_token = 2 * model.layer_parameters / (linear_peak * eff.matmul)
        # the output head and attention stay in bf16 (see hardware.py)
        self._head_s_per_sequence = 2 * model.embedding_parameters / (device.fp16_tensor_flops * eff.matmul)
        self._kv_read_s_per_token = model.kv_bytes_per_token / bandwidth
        self._attention_s_per_pair = (
            4 * model.num_layers * model.attention_width / (device.fp16_tensor_flops * eff.attention)
        )

    def iteration_time(
        self,
        num_sequences: int,
        num_tokens: int,
        decode_context_tokens: int,
        prefill_attention_pairs: float,
    ) -> float:
        """Seconds for one iteration.

        num_sequences: requests in the batch; num_tokens: tokens processed (1 per decode plus the
        prefill chunk sizes); decode_context_tokens: sum of the decode requests' context lengths;
        prefill_attention_pairs: sum over prefill chunks of chunk x (earlier context + chunk / 2).
        """
        linear = max(
            self._weight_read_s,
            self._linear_s_per_token * num_tokens + self._head_s_per_sequence * num_sequences,
        )
        return (
            self.efficiency.fixed_overhead_s
            + self.efficiency.per_sequence_overhead_s * num_sequences
            + linear
            + self._kv_read_s_per_token * decode_context_tokens
            + self._attention_s_per_pair * prefill_attention_pairs
        )

    def iteration_times(self, num_sequences: int, num_tokens, prefill_attention_pairs):
        """``iteration_time`` for arrays of token counts and attention pairs (no decodes in the batch)."""
        linear = np.maximum(
            self._weight_read_s,
            self._linear_s_per_token * num_tokens + self._head_s_per_sequence * num_sequences,
        )
        return (
            self.efficiency.fixed_overhead_s
            + self.efficiency.per_sequence_overhead_s * num_sequences
            + linear
            + self._attention_s_per_pair * prefill_attention_pairs
        )

    def decode_coefficients(self, batch_size: int) -> tuple[float, float]:
        """(a, c) such that a decode-only iteration of ``batch_size`` requests whose contexts sum
        to S tokens takes exactly ``a + c * S`` seconds (used by both the step-by-step path and the
        skip-ahead path, so they compute bit-identical times)."""
        linear = max(
            self._weight_read_s,
            (self._linear_s_per_token + self._head_s_per_sequence) * batch_size,
        )
        a = self.efficiency.fixed_overhead_s + self.efficiency.per_sequence_overhead_s * batch_size + linear
        return a, self._kv_read_s_per_token

    def decode_time(self, batch_size: int, context_tokens: int) -> float:
        a, c = self.decode_coefficients(batch_size)
        return a + c * context_tokens

    def prefill_time(self, chunk_tokens: int, prior_context: int = 0) -> float:
        """One prefill chunk alone in a batch."""
        pairs = chunk_tokens * (prior_context + chunk_tokens / 2)
        return self.iteration_time(1, chunk_tokens, 0, pairs)
