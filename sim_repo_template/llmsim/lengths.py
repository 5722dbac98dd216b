"""Request length profiles: how many prompt and output tokens each generated request has.

Two profiles, each from a documented public workload:

* ``sharegpt`` (the routing benchmark's chat workload): log-normal prompt and output lengths with the
  ShareGPT means and spreads, plus 5% of prompts and, independently, 5% of outputs made ten times
  longer. Its parameters and its exact random draws live in ``llmsim/workload.py`` (the benchmark
  trace is generated there, and must stay bit-identical).
* ``prefill_heavy``: the coding workload of Microsoft's public Azure LLM inference trace (2023,
  ``AzureLLMInferenceTrace_code.csv``: 8,819 requests of one hour of a production code-completion
  service). Prompts average 2048 tokens (median 1469, p90 5188, p99 7436, at most 7437: an 8k-context
  service), outputs 28 tokens (median 13, p90 55, p99 251), so prompts are 73 times longer than outputs
  on average: the paper's "prompt-to-decode ratio of about 70". Prompt and output lengths are
  uncorrelated in the trace (Pearson 0.001, Spearman -0.02), so they are drawn independently, each by
  inverse transform sampling from the trace's quantiles below (linear between the tabulated points,
  rounded). The table reproduces the trace's means within 1-3% and its median, p90 and p99 within a
  token or two.

Every draw comes from the random generator it is given, so a workload is the same for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmsim.config import LENGTH_PROFILES

# Percentile levels (0-100) and the trace's lengths at them (numpy.percentile of the trace's columns).
AZURE_CODE_LEVELS = (
    0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0,
    70.0, 75.0, 80.0, 85.0, 90.0, 95.0, 96.0, 97.0, 98.0, 99.0, 99.5, 99.9, 100.0,
)  # fmt: skip
AZURE_CODE_PROMPTS = (
    3, 75, 147, 232, 386, 578, 770, 939, 1075, 1261, 1469, 1690, 1909, 2164,
    2433, 2744, 3192, 3920, 5188, 7303, 7430, 7435, 7436, 7436, 7436, 7437, 7437,
)  # fmt: skip
AZURE_CODE_OUTPUTS = (
    6, 6, 7, 7, 8, 9, 9, 10, 11, 12, 13, 14, 16, 18,
    20, 24, 29, 39, 55, 90, 105, 128, 171, 251, 359, 825, 1899,
)  # fmt: skip

PROFILES = LENGTH_PROFILES


@dataclass(frozen=True)
class QuantileLengths:
    """A length distribution given by its quantiles: (percentile level, tokens) pairs."""

    levels: tuple[float, ...]
    tokens: tuple[int, ...]

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` lengths by inverse transform sampling (at least 1 token each)."""
        u = rng.random(count) * 100.0
        return np.maximum(1, np.rint(np.interp(u, self.levels, self.tokens))).astype(np.int64)

    def mean(self) -> float:
        """The distribution's mean (exact for the piecewise-linear quantile function, before rounding)."""
        levels = np.asarray(self.levels) / 100.0
        tokens = np.asarray(self.tokens, dtype=float)
        return float(np.sum(np.diff(levels) * (tokens[1:] + tokens[:-1]) / 2))


PREFILL_HEAVY_PROMPTS = QuantileLengths(AZURE_CODE_LEVELS, AZURE_CODE_PROMPTS)
PREFILL_HEAVY_OUTPUTS = QuantileLengths(AZURE_CODE_LEVELS, AZURE_CODE_OUTPUTS)


def prefill_heavy_lengths(
    prompt_rng: np.random.Generator, decode_rng: np.random.Generator, count: int, max_context: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(prompts, outputs) of `count` code-completion requests, within `max_context` tokens together."""
    prompts = np.minimum(PREFILL_HEAVY_PROMPTS.draw(prompt_rng, count), max_context - 1)
    outputs = np.minimum(PREFILL_HEAVY_OUTPUTS.draw(decode_rng, count), max_context - prompts)
    return prompts, outputs
