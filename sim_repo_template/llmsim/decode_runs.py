"""Planning a run of identical decode iterations: when each ends, and what it reserves.

A run of k decode-only iterations of a fixed batch (see ``replica.py``, skip-ahead) is fully determined
by the batch: iteration i takes ``a + c * (context + i * size)`` seconds (the same formula, evaluated in
the same order, as a single decode batch), and before iteration i (i >= 1) the decodes whose processed
tokens sit on a block boundary need one more block each (``residue_counts``). The run stops before the
first iteration whose blocks exceed what is free (that one must preempt, so it is formed step by step).

Two equivalent planners: a plain loop for short runs, and a numpy one for long runs (the event loop
often truncates a long plan when a request arrives, so planning must be cheap per iteration). Both
accumulate end times and execution times strictly left to right (``np.add.accumulate`` is a sequential
fold), so they give bit-identical floats; tests/sim/test_decode_runs.py compares them.
"""

from __future__ import annotations

import numpy as np

SHORT_RUN = 128  # plans up to this many iterations use the loop (numpy's fixed cost dominates below)


def plan_short_run(
    now: float, a: float, c: float, context: int, size: int, exec_time: float, first: int, limit: int,
    free: int, counts: list[int], block_size: int,
) -> tuple[list[float], list[int], list[float]]:  # fmt: skip
    """(end times, blocks reserved before iterations 0..i, cumulative execution time) of the run."""
    if limit < 1:
        return [], [], []
    duration = a + c * context  # iteration 0 reserves nothing more (its blocks were reserved already)
    t = now + duration
    exec_time = exec_time + duration
    ends = [t]
    cum_blocks = [0]
    cum_exec = [exec_time]
    add_end, add_blocks, add_exec = ends.append, cum_blocks.append, cum_exec.append
    reserved = 0
    residue = 1 - first  # (1 - first - i) % block_size is counts' index before iteration i >= 1
    for _ in range(1, limit):
        residue -= 1
        need = counts[residue % block_size]
        if need > free:
            break
        free -= need
        reserved += need
        context += size
        duration = a + c * context
        t = t + duration
        exec_time = exec_time + duration
        add_end(t)
        add_blocks(reserved)
        add_exec(exec_time)
    return ends, cum_blocks, cum_exec


def plan_long_run(
    now: float, a: float, c: float, context: int, size: int, exec_time: float, first: int, limit: int,
    free: int, counts: list[int], block_size: int,
) -> tuple[list[float], list[int], list[float]]:  # fmt: skip
    """The same plan as ``plan_short_run``, computed with numpy."""
    steps = np.arange(1, limit, dtype=np.int64)
    need = np.asarray(counts, dtype=np.int64)[(1 - first - steps) % block_size]
    cum = np.cumsum(need)
    length = 1 + int(np.searchsorted(cum, free, side="right"))  # iteration i >= 1 needs cum[i - 1] <= free
    contexts = context + size * np.arange(length, dtype=np.int64)
    durations = a + c * contexts
    ends = np.add.accumulate(np.concatenate(([now], durations)))[1:]
    execs = np.add.accumulate(np.concatenate(([exec_time], durations)))[1:]
    cum_blocks = np.concatenate(([0], cum[: length - 1]))
    return ends.tolist(), cum_blocks.tolist(), execs.tolist()
