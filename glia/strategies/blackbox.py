"""The black-box methods (sample, loop, openevolve, eoh, funsearch) as strategies: one search process,
recorded as context 1 (the methods themselves live in `glia.blackbox`, their names in its `names`)."""

from __future__ import annotations

from glia.strategies.base import Strategy, StrategyHost
from glia.strategies.method_names import EOH, FUNSEARCH, LABELS, LOOP, METHODS, OPENEVOLVE, SAMPLE

_HELP = {
    SAMPLE: "sample (independent designs from one prompt)",
    LOOP: "loop (generate-and-verify)",
    OPENEVOLVE: "openevolve (needs glia[baselines])",
    EOH: "eoh and funsearch (the LLM4AD package)",
    FUNSEARCH: "",  # described with eoh
}


def run(host: StrategyHost) -> None:
    host.run_blackbox()


STRATEGIES = tuple(
    Strategy(
        name=method,
        label=LABELS[method],
        run=run,
        help=_HELP.get(method, method),
        one_context=True,
        blackbox=True,
        live_judging=False,
    )  # fmt: skip
    for method in METHODS
)
