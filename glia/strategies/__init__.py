"""The strategies of `glia solve` and `glia compare`, in one registry that every dispatcher reads.

Adding a strategy is one module defining a `Strategy` (its names, how it counts contexts, its loop
over a `StrategyHost`) plus one line in `_BUILTIN` below. Readers: the task file's `strategy` default
(`glia.task`), the run configuration (`glia.orchestrator.config`), the orchestrator's dispatch, run.json's
first record (`glia.record.run`), the comparison (`glia.compare`) and the CLI's choices.
"""

from __future__ import annotations

import re

from glia.registry import Registry
from glia.strategies import blackbox, mcg_par, mcg_seq, scg
from glia.strategies.base import Strategy, StrategyHost

__all__ = [
    "Strategy",
    "StrategyHost",
    "UnknownStrategy",
    "all_strategies",
    "get",
    "names",
    "parse",
    "register",
    "solve_help",
    "task_pattern",
    "task_choices",
    "unregister",
]

_BUILTIN: tuple[Strategy, ...] = (scg.STRATEGY, mcg_seq.STRATEGY, mcg_par.STRATEGY, *blackbox.STRATEGIES)


class UnknownStrategy(ValueError):
    """A strategy name no registered strategy answers to (the message lists those that do)."""


_STRATEGIES: Registry[Strategy] = Registry(
    "strategy {name!r} is already registered", lambda name: UnknownStrategy(_unknown(name))
)


def register(strategy: Strategy) -> None:
    """Add a strategy (its name must be new)."""
    _STRATEGIES.register(strategy)


def unregister(name: str) -> None:
    _STRATEGIES.unregister(name)


def all_strategies() -> tuple[Strategy, ...]:
    """Every strategy, in registration order (Glia's own first, then the black-box methods)."""
    return _STRATEGIES.items()


def names() -> tuple[str, ...]:
    return _STRATEGIES.names()


def get(name: str) -> Strategy:
    """The strategy of a canonical name (run.json's `strategy`)."""
    return _STRATEGIES.get(name)


def parse(text: str, contexts: int) -> tuple[Strategy, int]:
    """'mcg-par-4' -> (MCG-Par, 4); 'SCG' -> (SCG, 1). Checks that the context count fits."""
    name = text.strip().lower().replace("_", "-")
    strategy = _STRATEGIES.find(name)
    if strategy is None:
        for candidate in _STRATEGIES:
            match = candidate.counted and _counted_name(candidate.name).fullmatch(name)
            if match:
                strategy, contexts = candidate, int(match.group(1))
                break
    if strategy is None:
        raise UnknownStrategy(_unknown(text))
    if contexts < 1:
        raise UnknownStrategy(f"a run needs at least one context, got {contexts}")
    return strategy, strategy.contexts_for(contexts)


def task_pattern() -> re.Pattern[str]:
    """What a task file's `strategy` default may say: Glia's own strategies (with -N where counted)."""
    parts = [re.escape(s.name) + ("(-[1-9][0-9]*)?" if s.counted else "") for s in _glia()]
    return re.compile("|".join(parts))


def task_choices() -> str:
    """'one of scg, mcg-seq, mcg-par or mcg-par-N': the task file's choices in words."""
    items = [item for s in _glia() for item in (s.name, f"{s.name}-N")[: 2 if s.counted else 1]]
    return "one of " + _listed(items)


def solve_help() -> str:
    """The `--strategy` help of `glia solve`, built from each strategy's part."""
    own = "; ".join(s.help for s in _glia() if s.help)
    others = ", ".join(s.help for s in _STRATEGIES if s.blackbox and s.help)
    text = own + (f"; black-box search instead of Glia: {others}" if others else "")
    return text + " (default: the task's)"


def _glia() -> list[Strategy]:
    return [s for s in _STRATEGIES if not s.blackbox]


def _counted_name(name: str) -> re.Pattern[str]:
    return re.compile("-?".join(re.escape(part) for part in name.split("-")) + r"-?(\d+)")


def _unknown(text: str) -> str:
    items = [s.name + (f" ({s.name}-N)" if s.counted else "") for s in _STRATEGIES]
    return f"unknown strategy {text!r}: use {_listed(items)}"


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


for _strategy in _BUILTIN:
    register(_strategy)
