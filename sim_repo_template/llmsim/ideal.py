"""A request's load-free time: how long it takes alone on an idle replica (the slowdown denominator).

The Glia paper measures *slowdown*: a request's response time under the evaluated system divided by its
response time in an ideal, load-free setting. Here the load-free time comes from the same execution-time
model as every simulated batch: the prompt is prefilled alone (in chunks of the scheduler's token budget,
each chunk one iteration with a batch of one), the iteration that ends the prefill yields the first token,
and each further token is one decode iteration of a batch of one whose context grows by a token each
time (contexts prompt + 1, ..., prompt + output - 1). No queueing, no batching with others, no restarts.
A slowdown of 1 means the request saw no interference at all; 5 means it took five times as long.
"""

from __future__ import annotations

import numpy as np

from llmsim.execution_model import ExecutionTimeModel


def ideal_times(
    prompts: np.ndarray, outputs: np.ndarray, model: ExecutionTimeModel, chunk_size: int
) -> np.ndarray:
    """Load-free seconds of requests with these prompt and output lengths (arrays of equal length)."""
    prompts = np.asarray(prompts, dtype=np.int64)
    outputs = np.asarray(outputs, dtype=np.int64)
    total = np.zeros(len(prompts))
    done = np.zeros(len(prompts), dtype=np.int64)
    while True:  # prefill, one chunk per iteration
        left = prompts - done
        active = left > 0
        if not active.any():
            break
        chunk = np.minimum(left, chunk_size)
        pairs = chunk * (done + chunk / 2)
        total += np.where(active, model.iteration_times(1, chunk, pairs), 0.0)
        done += np.where(active, chunk, 0)
    a, c = model.decode_coefficients(1)
    steps = outputs - 1  # the first token came with the prefill
    context = steps * prompts + steps * (steps + 1) / 2  # sum of prompt + j for j = 1 .. steps
    return total + steps * a + c * context
