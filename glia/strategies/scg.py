"""SCG: a single context generation; one context, run to its end and judged."""

from __future__ import annotations

from glia.strategies.base import Strategy, StrategyHost


def run(host: StrategyHost) -> None:
    for index in host.context_indices():
        host.advance_context(index)


STRATEGY = Strategy(name="scg", label="SCG", run=run, help="scg: one context", one_context=True)
