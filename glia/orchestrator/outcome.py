"""How a context ended: `glia.record.outcome` defines it (one type for the context, run.json and the
judge); this module keeps the orchestrator's import path and turns a runner's return into it."""

from __future__ import annotations

from typing import Any

from glia.record.outcome import ContextOutcome, SnapshotRef

__all__ = ["ContextOutcome", "SnapshotRef", "as_outcome"]


def as_outcome(index: int, result: Any) -> ContextOutcome:
    """The outcome a context runner returned, checked: a runner must return a `ContextOutcome`."""
    if not isinstance(result, ContextOutcome):
        raise TypeError(f"context {index}: the runner returned {type(result).__name__}, not a ContextOutcome")
    if result.index != index:
        result.index = index
    return result
