"""MCG-Seq: contexts one after another, until the target is met, the budget ends or the cap is reached."""

from __future__ import annotations

from glia.strategies.base import Strategy, StrategyHost


def run(host: StrategyHost) -> None:
    for index in host.context_indices():  # those an earlier session launched
        host.advance_context(index)
    while True:
        reason = reason_to_stop(host)
        if reason is not None:
            host.stop_launching(reason)
            return
        host.advance_context(host.launch_context())


def reason_to_stop(host: StrategyHost) -> str | None:
    """Why no further context should start, or None to launch one."""
    if host.stop.is_set():
        return "interrupted"
    exhausted = host.budget_exhausted()
    if exhausted is not None:
        return exhausted
    if host.target_met():
        return "target_met"
    if len(host.context_indices()) >= host.config.max_contexts_seq:
        return "max_contexts"
    return None


STRATEGY = Strategy(
    name="mcg-seq",
    label="MCG-Seq",
    run=run,
    help="mcg-seq: contexts one after another",
    open_ended=True,
    contexts_setting="max_contexts_seq",
)
