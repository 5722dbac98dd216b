"""Public specifications of the model and the GPUs the simulator knows about.

Numbers come from the model card (Meta-Llama-3-8B `config.json`) and NVIDIA datasheets.
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
    bytes_per_value: int = 2  # fp16 / bf16 weights, activations and KV cache

    @property
    def embedding_parameters(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def layer_parameters(self) -> int:
        """Weights of the transformer blocks (Llama-3 has an untied input embedding and output head)."""
        return self.num_parameters - 2 * self.embedding_parameters

    @property
    def weight_bytes(self) -> int:
        return self.num_parameters * self.bytes_per_value

    @property
    def weight_bytes_read_per_iteration(self) -> int:
        """Every forward pass streams all block weights and the output head; the embedding is only indexed."""
        return (self.layer_parameters + self.embedding_parameters) * self.bytes_per_value

    @property
    def kv_bytes_per_token(self) -> int:
        """K and V, for every layer and KV head (grouped-query attention keeps this small)."""
        return 2 * self.num_layers * self.num_kv_heads * self.head_dim * self.bytes_per_value

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

A10 = DeviceSpec(name="a10", memory_bytes=24 * GIB, memory_bandwidth=600e9, fp16_tensor_flops=125e12)
A100_80GB = DeviceSpec(name="a100", memory_bytes=80 * GIB, memory_bandwidth=2039e9, fp16_tensor_flops=312e12)

MODELS = {"llama-3-8b": LLAMA3_8B}
DEVICES = {"a10": A10, "a100": A100_80GB}
