"""ShareGPT-like synthetic traces: heavy-tailed lengths, bursty arrivals, deterministic per seed.

A trace is a CSV with one row per request: ``arrived_at`` (seconds), ``num_prefill_tokens``,
``num_decode_tokens``. The simulator replays it.

How lengths are drawn (documented figures, not tuned constants):
* Base lengths are log-normal, the usual shape of conversation lengths.
* Scale: the ShareGPT request means measured in the vLLM paper (Kwon et al., SOSP'23, Fig. 11:
  mean input 161.31 and mean output 337.99 tokens, "8.4x longer prompts and 5.8x longer outputs
  than Alpaca"). That is the single-request form of ShareGPT that serving benchmarks replay (a
  user message and the reply to it), so it fits a trace of independent requests. Llama-3's
  128k-entry tokenizer needs ~15% fewer tokens for the same text than the ~32-50k-entry
  tokenizers these counts come from (Meta's Llama-3 release notes, against Llama-2), so the means
  are 161.31 x 0.85 = 137 prompt and 337.99 x 0.85 = 287 decode tokens (medians 89 and 248 with
  the spreads below: chat-like, decode medians longer than prompt medians).
  An earlier version used the LMSYS-Chat-1M *per-turn* means (94.5 / 348.5 Llama-2 tokens, so
  80 / 296): per-turn prompts include every short follow-up ("continue", "thanks") and so
  understate the prompts of independent requests (a 52-token median); with them LLQ sat just
  below the paper's regime and round robin was 1.6x worse than LLQ on the benchmark trace.
* Shape: from the spread of vidur's processed ShareGPT file (see README): prompts have
  p90 / median = 5696 / 1730 = 3.29, i.e. log-space sigma = ln(3.29) / 1.2816 = 0.93; decodes have
  p90 / median = 834 / 415 = 2.0, i.e. sigma = 0.54 (outputs are bounded by generation limits, so
  their tail is lighter than the prompts').
* Reasoning-like tails, as in the Glia paper: 5% of prompt lengths and, independently, 5% of decode
  lengths are multiplied by 10. Inflated requests still respect the model's 8192-token context
  (a serving engine caps prompt + output at ``max_model_len``): prompts at 8191 tokens, decodes at
  what the context leaves.
* Arrivals are bursty: inter-arrival gaps are log-normal with sigma = 2, scaled so that exactly
  ``round(qps x duration)`` requests arrive over ``duration`` seconds (the target rate exactly).
Each random quantity has its own seeded stream, so the same (qps, seed, duration) always gives the
same trace, and changing one knob does not reshuffle the others.

Usage: ``python -m llmsim.workload --qps 7.5 --seed 0 --out data/processed_traces/sharegpt_7.5.csv``
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from llmsim.columns import Columns
from llmsim.config import LENGTH_PROFILES
from llmsim.errors import WorkloadError

if TYPE_CHECKING:
    import pandas as pd

TRACE_COLUMNS = ["arrived_at", "num_prefill_tokens", "num_decode_tokens"]


@dataclass(frozen=True)
class WorkloadSpec:
    qps: float = 7.5
    duration: float = 1000.0
    seed: int = 0
    prompt_mean: float = 137.0  # 161.31 x 0.85 (vLLM paper ShareGPT mean, Llama-3 tokenizer)
    decode_mean: float = 287.0  # 337.99 x 0.85
    prompt_sigma: float = 0.93
    decode_sigma: float = 0.54
    max_context: int = 8192
    inflated_fraction: float = 0.05
    inflation_factor: int = 10
    arrival_sigma: float = 2.0
    lengths: str = "sharegpt"  # or "prefill_heavy" (see llmsim/lengths.py); the arrivals are the same


def _lognormal_lengths(rng: np.random.Generator, mean: float, sigma: float, size: int) -> np.ndarray:
    mu = np.log(mean) - sigma**2 / 2  # so that the distribution's mean is `mean`
    return np.maximum(1, np.rint(rng.lognormal(mu, sigma, size))).astype(np.int64)


def _inflate(rng: np.random.Generator, lengths: np.ndarray, spec: WorkloadSpec) -> np.ndarray:
    chosen = rng.choice(len(lengths), size=round(spec.inflated_fraction * len(lengths)), replace=False)
    out = lengths.copy()
    out[chosen] = out[chosen] * spec.inflation_factor
    return out


def _arrival_times(rng: np.random.Generator, spec: WorkloadSpec, count: int) -> np.ndarray:
    mean_gap = 1.0 / spec.qps
    gaps = rng.lognormal(np.log(mean_gap) - spec.arrival_sigma**2 / 2, spec.arrival_sigma, count)
    times = np.cumsum(gaps)
    times *= spec.duration / times[-1]
    # Microsecond resolution, rounded exactly as the CSV stores it, so replaying the shipped file
    # and generating on the fly give identical floats.
    return np.array([float(f"{t:.6f}") for t in times])


def generate_trace(spec: WorkloadSpec) -> pd.DataFrame:
    """The trace for ``spec`` as a DataFrame with TRACE_COLUMNS, sorted by arrival."""
    return generate_columns(spec).frame()


def generate_columns(spec: WorkloadSpec) -> Columns:
    """The trace for ``spec`` (TRACE_COLUMNS, sorted by arrival), without pandas."""
    count = round(spec.qps * spec.duration)
    if count < 1:
        raise WorkloadError("qps x duration must give at least one request")
    arrivals_rng, prompt_rng, decode_rng, prompt_tail_rng, decode_tail_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(5)
    )
    if spec.lengths == "prefill_heavy":
        from llmsim.lengths import prefill_heavy_lengths

        prompts, decodes = prefill_heavy_lengths(prompt_rng, decode_rng, count, spec.max_context)
    elif spec.lengths == "sharegpt":
        prompts = _lognormal_lengths(prompt_rng, spec.prompt_mean, spec.prompt_sigma, count)
        decodes = _lognormal_lengths(decode_rng, spec.decode_mean, spec.decode_sigma, count)
        prompts = _inflate(prompt_tail_rng, prompts, spec)
        decodes = _inflate(decode_tail_rng, decodes, spec)
        prompts = np.minimum(prompts, spec.max_context - 1)
        decodes = np.minimum(decodes, spec.max_context - prompts)
    else:
        raise WorkloadError(
            f"unknown length profile {spec.lengths!r}; choose from {', '.join(LENGTH_PROFILES)}"
        )
    return Columns(
        {
            "arrived_at": _arrival_times(arrivals_rng, spec, count),
            "num_prefill_tokens": prompts,
            "num_decode_tokens": decodes,
        }
    )


def sharegpt_lengths(
    rng: np.random.Generator, count: int, spec: WorkloadSpec
) -> tuple[np.ndarray, np.ndarray]:
    """(prompts, outputs) of `count` independent ShareGPT-like requests from one generator, for workloads
    that make requests one by one (the closed loop): the same log-normal bases as the trace generator,
    each prompt and, independently, each output made `inflation_factor` times longer with probability
    `inflated_fraction` (the trace generator inflates exactly that fraction of a whole trace instead)."""
    prompts = _lognormal_lengths(rng, spec.prompt_mean, spec.prompt_sigma, count)
    decodes = _lognormal_lengths(rng, spec.decode_mean, spec.decode_sigma, count)
    prompts = np.where(rng.random(count) < spec.inflated_fraction, prompts * spec.inflation_factor, prompts)
    decodes = np.where(rng.random(count) < spec.inflated_fraction, decodes * spec.inflation_factor, decodes)
    prompts = np.minimum(prompts, spec.max_context - 1)
    return prompts, np.minimum(decodes, spec.max_context - prompts)


def write_trace(trace: pd.DataFrame, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    trace.to_csv(path, index=False, float_format="%.6f")


def read_trace(path: str | Path) -> pd.DataFrame:
    """Load a trace CSV and check it is usable (a DataFrame with TRACE_COLUMNS)."""
    return read_trace_columns(path).frame()


def read_trace_columns(path: str | Path) -> Columns:
    """Load a trace CSV and check it is usable, without pandas. Parsed with Python's float() so arrival
    times are exactly the numbers written (the same on every numpy and pandas version)."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise WorkloadError(f"trace file not found: {path}") from None
    columns = rows[0].keys() if rows else []
    missing = [c for c in TRACE_COLUMNS if c not in columns]
    if missing:
        raise WorkloadError(
            f"trace {path} lacks columns {missing} (or has no rows); expected {TRACE_COLUMNS}"
        )
    try:
        trace = Columns(
            {
                "arrived_at": np.array([float(r["arrived_at"]) for r in rows], dtype=np.float64),
                "num_prefill_tokens": np.array([int(r["num_prefill_tokens"]) for r in rows], dtype=np.int64),
                "num_decode_tokens": np.array([int(r["num_decode_tokens"]) for r in rows], dtype=np.int64),
            }
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise WorkloadError(f"trace {path}: unreadable value ({exc})") from None
    if (trace["num_prefill_tokens"] < 1).any() or (trace["num_decode_tokens"] < 1).any():
        raise WorkloadError(f"trace {path}: token counts must be >= 1")
    arrivals = trace["arrived_at"]
    if not (arrivals[1:] >= arrivals[:-1]).all():  # NaN counts as out of order, as in pandas
        trace = trace.take(np.argsort(arrivals, kind="stable"))
    return trace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmsim.workload", description=__doc__.split("\n")[0])
    add_generate_arguments(parser)
    return generate_command(parser.parse_args(argv))


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--qps", type=float, default=7.5, help="target queries per second (default 7.5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--duration", type=float, default=1000.0, help="seconds of arrivals (default 1000)")
    parser.add_argument("--out", required=True, help="CSV path to write")


def generate_command(args: argparse.Namespace) -> int:
    trace = generate_trace(WorkloadSpec(qps=args.qps, duration=args.duration, seed=args.seed))
    write_trace(trace, args.out)
    print(
        f"wrote {len(trace)} requests to {args.out}: mean prompt {trace.num_prefill_tokens.mean():.0f}, "
        f"mean decode {trace.num_decode_tokens.mean():.0f} tokens"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
