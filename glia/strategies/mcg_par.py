"""MCG-Par-N: N contexts at once, one thread each, sharing the run's budget."""

from __future__ import annotations

import threading

from glia.strategies.base import Strategy, StrategyHost

POLL_S = 0.2  # short joins keep the main thread free to take Ctrl-C


def run(host: StrategyHost) -> None:
    indices = host.context_indices()
    if len(indices) == 1:
        host.advance_context(indices[0])
        return
    errors: list[BaseException] = []

    def advance(index: int) -> None:
        try:
            host.advance_context(index)
        except BaseException as exc:  # handed to the main thread, which fails the run with it
            errors.append(exc)

    threads = [
        threading.Thread(target=advance, args=(k,), name=f"glia-ctx-{k}", daemon=True) for k in indices
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(POLL_S)
    if errors:
        raise errors[0]


STRATEGY = Strategy(
    name="mcg-par",
    label="MCG-Par",
    run=run,
    help="mcg-par: N contexts at once",
    counted=True,
    parallel=True,
)
