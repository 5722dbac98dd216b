"""Public specifications of the models and the GPUs the simulator knows about.

Numbers come from the model cards (`config.json` of Meta-Llama-3-8B and Llama-3.3-70B-Instruct) and
NVIDIA datasheets. Parameter counts are recomputed from the shapes (tests/sim/test_hardware_specs.py):
Llama-3-8B 8,030,261,248 and Llama-3.3-70B 70,553,706,496, as the model cards state.

Precision. Llama-3-8B is served in fp16/bf16: 2 bytes per weight, per activation and per KV value.
Llama-3.3-70B is served as the "FP8-dynamic" checkpoint: the linear layers of every transformer block
hold 1-byte FP8 weights and run FP8 matrix multiplies (activations quantised per token on the fly), while
the input embedding and the output head stay in bf16 (such checkpoints leave `lm_head` unquantised), and
so do attention and the activations. One 70B model on one 80 GB H100 leaves little memory, so the KV
cache is FP8 too (vLLM's `--kv-cache-dtype fp8`): with a bf16 cache the memory planner finds only
~5.9k tokens per GPU, less than the 8192-token context, and vLLM would refuse to start. (The RMS-norm
weights, 1.3 M values, are counted at the block weights' byte size: a 0.002% error.)
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class ModelSpec:
    """Shape of a decoder-only transformer; everything the time and memory models need."""

    name: str
    num_layers: int
    hidden_size: int
    num_query_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    num_parameters: int  # all weights, including the input embedding and the output head
    bytes_per_value: int = 2  # fp16 / bf16: activations, the embedding and output head (and, by default, all)
    block_weight_bytes: int | None = None  # bytes per transformer-block weight (None: bytes_per_value)
    kv_bytes_per_value: int | None = None  # bytes per cached K or V value (None: bytes_per_value)
    linear_precision: str = "fp16"  # tensor-core format of the block matmuls: "fp16" or "fp8"

    @property
    def embedding_parameters(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def layer_parameters(self) -> int:
        """Weights of the transformer blocks (Llama-3 has an untied input embedding and output head)."""
        return self.num_parameters - 2 * self.embedding_parameters

    @property
    def block_bytes_per_weight(self) -> int:
        return self.bytes_per_value if self.block_weight_bytes is None else self.block_weight_bytes

    @property
    def weight_bytes(self) -> int:
        """Everything the GPU holds: block weights, the input embedding and the output head."""
        return (
            self.layer_parameters * self.block_bytes_per_weight
            + 2 * self.embedding_parameters * self.bytes_per_value
        )

    @property
    def weight_bytes_read_per_iteration(self) -> int:
        """Every forward pass streams all block weights and the output head; the embedding is only indexed."""
        return (
            self.layer_parameters * self.block_bytes_per_weight
            + self.embedding_parameters * self.bytes_per_value
        )

    @property
    def kv_bytes_per_token(self) -> int:
        """K and V, for every layer and KV head (grouped-query attention keeps this small)."""
        kv_bytes = self.bytes_per_value if self.kv_bytes_per_value is None else self.kv_bytes_per_value
        return 2 * self.num_layers * self.num_kv_heads * self.head_dim * kv_bytes

    @property
    def attention_width(self) -> int:
        return self.num_query_heads * self.head_dim


@dataclass(frozen=True)
class DeviceSpec:
    """Peak figures of one GPU, as printed on its datasheet."""

    name: str
    memory_bytes: int
    memory_bandwidth: float  # bytes / s
    fp16_tensor_flops: float  # dense FLOP / s
    fp8_tensor_flops: float | None = None  # dense FLOP / s; None: no FP8 tensor cores

    def tensor_flops(self, precision: str) -> float:
        """Dense peak for matmuls in `precision` ("fp16" covers bf16 too)."""
        if precision == "fp16":
            return self.fp16_tensor_flops
        if precision == "fp8" and self.fp8_tensor_flops is not None:
            return self.fp8_tensor_flops
        raise ValueError(f"{self.name} has no {precision} tensor cores")


LLAMA3_8B = ModelSpec(
    name="Meta-Llama-3-8B",
    num_layers=32,
    hidden_size=4096,
    num_query_heads=32,
    num_kv_heads=8,
    head_dim=128,
    intermediate_size=14336,
    vocab_size=128256,
    num_parameters=8_030_261_248,
)

LLAMA33_70B_FP8 = ModelSpec(
    name="Llama-3.3-70B-Instruct-FP8-dynamic",
    num_layers=80,
    hidden_size=8192,
    num_query_heads=64,
    num_kv_heads=8,
    head_dim=128,
    intermediate_size=28672,
    vocab_size=128256,
    num_parameters=70_553_706_496,
    block_weight_bytes=1,
    kv_bytes_per_value=1,
    linear_precision="fp8",
)

A10 = DeviceSpec(name="a10", memory_bytes=24 * GIB, memory_bandwidth=600e9, fp16_tensor_flops=125e12)
A100_80GB = DeviceSpec(name="a100", memory_bytes=80 * GIB, memory_bandwidth=2039e9, fp16_tensor_flops=312e12)
# H100 SXM5 80 GB: HBM3 at 3.35 TB/s; 989 TFLOP/s dense bf16 and 1979 dense FP8 (the datasheet's 1979 and
# 3958 are with 2:4 sparsity, which serving does not use).
H100_SXM = DeviceSpec(
    name="h100",
    memory_bytes=80 * GIB,
    memory_bandwidth=3.35e12,
    fp16_tensor_flops=989e12,
    fp8_tensor_flops=1979e12,
)

MODELS = {"llama-3-8b": LLAMA3_8B, "llama-3.3-70b-fp8": LLAMA33_70B_FP8}
DEVICES = {"a10": A10, "a100": A100_80GB, "h100": H100_SXM}
