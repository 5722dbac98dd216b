"""Where a run's requests come from: a trace file, a generated open-loop workload, or closed-loop users.

| ``arrivals``  | requests                                                                        |
| ------------- | ------------------------------------------------------------------------------- |
| ``bursty``    | ``qps x duration`` requests, log-normal gaps (sigma 2): the routing benchmark   |
| ``sinusoid``  | a Poisson process whose rate swings from ``qps_low`` to ``qps_high`` and back   |
|               | every ``period`` seconds (``llmsim/arrivals.py``): the autoscaling workload     |
| ``closed_loop`` | ``users`` users, each sending its next request ``think_time`` (mean) after its |
|               | previous answer (``llmsim/closed_loop.py``): the SLO-routing workload           |

``lengths`` picks the request lengths of a generated workload: ``sharegpt`` (chat) or ``prefill_heavy``
(code completion; ``llmsim/lengths.py``). A ``--trace`` file fixes arrivals and lengths itself.

An open-loop source knows every request before the run starts; a closed-loop source makes each user's
next request when its previous one completes (``next_after``). Either way the same configuration and
seed give the same requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from llmsim.columns import Columns
from llmsim.config import ARRIVALS, LENGTH_PROFILES, SimulationConfig
from llmsim.errors import WorkloadError
from llmsim.request import Request
from llmsim.workload import (
    TRACE_COLUMNS,
    WorkloadSpec,
    generate_columns,
    read_trace_columns,
    sharegpt_lengths,
)

if TYPE_CHECKING:  # the time-varying and closed-loop generators load only for runs that use them
    import pandas as pd

    from llmsim.closed_loop import ClosedLoopSource, ClosedLoopSpec


@dataclass
class OpenLoopSource:
    """Every request is known before the run starts."""

    requests: list[Request]
    trace: Columns = field(repr=False)
    closed = False

    def next_after(self, request: Request, now: float) -> Request | None:
        return None


def requests_from_frame(trace: Columns | pd.DataFrame) -> list[Request]:
    """One Request per row of a trace (Columns or a DataFrame with TRACE_COLUMNS)."""
    return [
        Request(i, t, p, d)
        for i, (t, p, d) in enumerate(
            zip(
                np.asarray(trace["arrived_at"], dtype=np.float64).tolist(),
                np.asarray(trace["num_prefill_tokens"]).astype(np.int64).tolist(),
                np.asarray(trace["num_decode_tokens"]).astype(np.int64).tolist(),
                strict=True,
            )
        )
    ]


def check_choices(config: SimulationConfig) -> None:
    if config.arrivals not in ARRIVALS:
        raise WorkloadError(f"unknown arrivals {config.arrivals!r}; choose from {', '.join(ARRIVALS)}")
    if config.lengths not in LENGTH_PROFILES:
        raise WorkloadError(f"unknown lengths {config.lengths!r}; choose from {', '.join(LENGTH_PROFILES)}")


def open_loop_frame(config: SimulationConfig) -> pd.DataFrame:
    """The requests of a generated open-loop workload as a trace (a DataFrame with TRACE_COLUMNS)."""
    return open_loop_columns(config).frame()


def open_loop_columns(config: SimulationConfig) -> Columns:
    """The requests of a generated open-loop workload as a trace (TRACE_COLUMNS), without pandas."""
    check_choices(config)
    if config.arrivals == "bursty":
        return generate_columns(
            WorkloadSpec(qps=config.qps, duration=config.duration, seed=config.seed, lengths=config.lengths)
        )
    if config.arrivals == "sinusoid":
        return sinusoid_columns(config)
    raise WorkloadError("a closed-loop workload has no trace: its requests depend on the run")


def sinusoid_columns(config: SimulationConfig) -> Columns:
    from llmsim.arrivals import Sinusoid, sinusoid_arrivals
    from llmsim.lengths import prefill_heavy_lengths

    curve = Sinusoid(config.qps_low, config.qps_high, config.period)
    arrivals_rng, prompt_rng, decode_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3)
    )
    times = sinusoid_arrivals(arrivals_rng, curve, config.duration)
    if config.lengths == "prefill_heavy":
        prompts, decodes = prefill_heavy_lengths(prompt_rng, decode_rng, len(times))
    else:
        prompts, decodes = sharegpt_lengths(prompt_rng, len(times), WorkloadSpec())
    trace = Columns({"arrived_at": times, "num_prefill_tokens": prompts, "num_decode_tokens": decodes})
    return trace.select(TRACE_COLUMNS)


def closed_loop_spec(config: SimulationConfig) -> ClosedLoopSpec:
    from llmsim.closed_loop import ClosedLoopSpec

    return ClosedLoopSpec(
        users=config.users,
        think_time=config.think_time,
        duration=config.duration,
        seed=config.seed,
        lengths=config.lengths,
    )


def build_source(
    config: SimulationConfig, trace: Columns | pd.DataFrame | None = None
) -> OpenLoopSource | ClosedLoopSource:
    """The source of a run's requests (`trace`: the open-loop requests, if already loaded)."""
    check_choices(config)
    if trace is not None:
        return OpenLoopSource(requests_from_frame(trace), trace)
    if config.trace:
        frame = read_trace_columns(config.trace)
        return OpenLoopSource(requests_from_frame(frame), frame)
    if config.arrivals == "closed_loop":
        from llmsim.closed_loop import ClosedLoopSource

        return ClosedLoopSource(closed_loop_spec(config))
    frame = open_loop_columns(config)
    return OpenLoopSource(requests_from_frame(frame), frame)


def workload_label(config: SimulationConfig) -> str:
    """The workload as the ledger reports it (a trace's path is reported by the ledger itself)."""
    lengths = "" if config.lengths == "sharegpt" else f",lengths={config.lengths}"
    base = f"seed={int(config.seed)},duration={float(config.duration):g}{lengths}"
    if config.arrivals == "sinusoid":
        return (
            f"generated:sinusoid,qps_low={float(config.qps_low):g},qps_high={float(config.qps_high):g},"
            f"period={float(config.period):g},{base}"
        )
    if config.arrivals == "closed_loop":
        return (
            f"generated:closed_loop,users={int(config.users)},think_time={float(config.think_time):g},{base}"
        )
    return f"generated:qps={float(config.qps):g},{base}"


def experiment_label(config: SimulationConfig) -> str:
    """The workload part of a result folder's default name."""
    if config.trace:
        return Path(config.trace).stem
    prefix = "sharegpt" if config.lengths == "sharegpt" else "prefillheavy"
    if config.arrivals == "sinusoid":
        return f"{prefix}_sinusoid{config.qps_low:g}-{config.qps_high:g}_seed{config.seed}"
    if config.arrivals == "closed_loop":
        return f"{prefix}_closed{config.users}_seed{config.seed}"
    return f"{prefix}_{config.qps:g}_seed{config.seed}"
