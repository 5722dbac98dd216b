"""A bound on LLM4AD's retry loops: a pass that fails before it asks the model must not retry forever.

EoH's and FunSearch's sampling loops catch every exception and start the next pass. Glia checks its
budgets and the run's stop when a loop asks the model (`draw_sample`), so a pass that fails before that
(a population that cannot select parents, a database that cannot build a prompt) would retry without end:
a core burnt, no budget or Ctrl-C ever checked. `SpinGuard` counts the passes since the last model call
and ends the search, with the cause, once they pass a limit far above any loop's normal passes per call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

PASSES_WITHOUT_MODEL = 200  # a working loop asks the model on every pass: 200 failed passes is a fault


class SpinGuard:
    """Counts loop passes between model calls; `end` stops the search (it raises) when they are too many."""

    def __init__(self, end: Callable[[str], NoReturn], limit: int = PASSES_WITHOUT_MODEL) -> None:
        self._end = end
        self._limit = limit
        self._passes = 0

    def asked_model(self) -> None:
        self._passes = 0

    def passed(self, where: str) -> None:
        self._passes += 1
        if self._passes > self._limit:
            self._end(
                f"LLM4AD's loop failed {self._limit} passes in a row before asking the model (at {where}); "
                "its own exceptions are swallowed, see the run's glia.log"
            )


def guard_loops(search: Any, guard: SpinGuard) -> None:
    """Make the one call each LLM4AD loop makes on every pass report to `guard` (EoH: its loop
    condition; FunSearch: its database's prompt), on this search object only."""
    if hasattr(search, "_continue_loop"):  # EoH
        condition = search._continue_loop  # noqa: SLF001

        def continue_loop() -> bool:
            guard.passed("EoH's loop condition")
            return condition()

        search._continue_loop = continue_loop  # noqa: SLF001
    database = getattr(search, "_database", None)  # FunSearch
    if database is not None and hasattr(database, "get_prompt"):
        prompt = database.get_prompt

        def get_prompt() -> Any:
            guard.passed("FunSearch's prompt from its database")
            return prompt()

        database.get_prompt = get_prompt
