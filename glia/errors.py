"""Predictable failures turned into one clear message and the fix, instead of a traceback.

The CLI catches exceptions at its edge and asks `glia.cli.explain` for a `UserError`; anything it cannot
explain is a bug and keeps its traceback. Exit code 2 marks "you can fix this yourself". This module sits at
the bottom of the layers (every package may raise these); the mapping of other packages' exceptions lives
at the top, in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

USER_ERROR_EXIT = 2


class GliaUsageError(Exception):
    """A problem with what the user asked for, raised by the CLI itself; carries its own fix."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class BudgetTooSmall(GliaUsageError):
    """The budget cannot pay for even one step (e.g. zero simulations or no dollars)."""


class RunMissing(GliaUsageError):
    """A RUN argument names neither a run id under the workspaces root nor a run folder."""


@dataclass(frozen=True)
class UserError:
    """What to print: the problem in one sentence, then what to do about it."""

    message: str
    fix: str
    exit_code: int = USER_ERROR_EXIT

    def render(self) -> str:
        """Two lines at most, whatever the message quotes: its parts go through the console sanitiser."""
        from glia.safe_text import console_plain

        message = f"error: {console_plain(self.message, 2000)}"
        return f"{message}\n  fix: {console_plain(self.fix, 1000)}" if self.fix else message


def check_budget(
    max_dollars: float | None, max_simulations: int | None, max_minutes: float | None, max_steps: int | None
) -> None:
    """Refuse a budget that cannot pay for a single step before any container or model is started."""
    problems = []
    if max_simulations is not None and max_simulations <= 0:
        problems.append(f"max simulations is {max_simulations}")
    if max_dollars is not None and max_dollars <= 0:
        problems.append(f"max dollars is {max_dollars:g}")
    if max_minutes is not None and max_minutes <= 0:
        problems.append(f"max minutes is {max_minutes:g}")
    if max_steps is not None and max_steps <= 0:
        problems.append(f"max steps is {max_steps}")
    if problems:
        raise BudgetTooSmall(
            "budget too small to start: " + ", ".join(problems),
            "raise --max-simulations / --max-dollars / --max-minutes / --max-steps (or the task's "
            "`budgets:`) to a positive value",
        )
