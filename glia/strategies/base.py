"""What a strategy is: its names, how it counts contexts, and the loop that runs them.

A strategy's loop sees the run only through `StrategyHost` (the orchestrator implements it), so this
module and every strategy module import nothing above `glia.strategies`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class StrategyHost(Protocol):
    """The services a strategy's loop uses: the run's contexts, launching more, and the stop flag."""

    stop: threading.Event
    config: Any  # the run's RunConfig (e.g. max_contexts_seq)

    def context_indices(self) -> list[int]:
        """Indices of the contexts run.json lists now, in order."""
        ...

    def advance_context(self, index: int) -> None:
        """Run (or continue) context `index` to its end, then judge its designs."""
        ...

    def launch_context(self) -> int:
        """Add a pending context to run.json and return its index."""
        ...

    def stop_launching(self, reason: str) -> None:
        """Record why no further context is launched (an open-ended strategy's end)."""
        ...

    def budget_exhausted(self) -> str | None:
        """Which budget has run out, if any."""
        ...

    def target_met(self) -> bool:
        """Whether the best trusted design beats the reference by the run's target improvement."""
        ...

    def run_blackbox(self) -> None:
        """Run the configured black-box method as context 1."""
        ...


@dataclass(frozen=True)
class Strategy:
    """One strategy of `glia solve` and `glia compare`.

    `name` is the canonical name (`--strategy`, run.json's `strategy`); `label` the paper's name, to
    which a counted strategy appends its context count (`MCG-Par4`). `help` is the strategy's part of
    `glia solve --help` (empty: described together with the entry before it).
    """

    name: str
    label: str
    run: Callable[[StrategyHost], None]
    help: str = ""
    counted: bool = False  # the name may carry the context count: mcg-par-4, mcg-par4
    one_context: bool = False  # always exactly one context, whatever --contexts says
    parallel: bool = False  # its contexts run at once (the CLI's plan line counts them)
    open_ended: bool = False  # launches contexts as it goes: run.json starts with none
    blackbox: bool = False  # a black-box search recorded as context 1 instead of Glia's contexts
    live_judging: bool = True  # designs are judged while contexts work (the trusted curve)
    contexts_setting: str | None = None  # the RunConfig field that `--contexts` also sets

    def label_for(self, contexts: int) -> str:
        return f"{self.label}{contexts}" if self.counted else self.label

    def contexts_for(self, contexts: int) -> int:
        """The run's context count once this strategy has its say."""
        return 1 if self.one_context else contexts

    def initial_contexts(self, contexts: int) -> int:
        """How many contexts a prepared run's run.json lists before any work."""
        return 0 if self.open_ended else contexts

    def at_once(self, contexts: int) -> int:
        """How many contexts work at the same time."""
        return contexts if self.parallel else 1
