"""OpenEvolve's cascade evaluation, run as OpenEvolve runs it, so a cascade folder scores the same here.

An evaluator written for the cascade defines `evaluate_stage1`, `evaluate_stage2` and maybe
`evaluate_stage3`; OpenEvolve (its `Evaluator._cascade_evaluate`, with `evaluator.cascade_evaluation`,
on by default) runs stage 1, and the next stage only when the metrics so far pass
`cascade_thresholds[i]`: their `combined_score` if they have a number there, else the mean of their
numbers but `error`. A program stopped at stage 1 keeps stage 1's metrics as they are; a later stage's
numeric metrics (but `error`) overwrite and extend those before it. There are three stages at most.

One difference, on purpose: where OpenEvolve turns a stage's exception into a low but valid score,
here it makes the evaluation invalid with that stage named (Glia never records a failure as a number).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .text import exception_text

MAX_STAGES = 3
MAX_REASON_CHARS = 2000
STAGE = "evaluate_stage{}"


class StageFailed(Exception):
    """A stage raised or returned no metrics; the message is the one-line reason."""


@dataclass
class StagedResult:
    """What the cascade returns: read like OpenEvolve's EvaluationResult (`metrics`, `artifacts`)."""

    metrics: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)
    glia_notes: list[str] = field(default_factory=list)


def passes(metrics: Mapping[str, Any], threshold: float) -> bool:
    """OpenEvolve's `_passes_threshold`: combined_score when numeric, else the mean of numbers but `error`."""
    if not metrics:
        return False
    score = metrics.get("combined_score")
    if "combined_score" in metrics and isinstance(score, int | float):
        return float(score) >= threshold
    numbers = [float(v) for k, v in metrics.items() if k != "error" and isinstance(v, int | float)]
    return bool(numbers) and sum(numbers) / len(numbers) >= threshold


def cascade_entry(module: ModuleType, thresholds: Sequence[float]) -> Callable[..., StagedResult]:
    """The entry Glia calls for a cascade folder: `entry(program_path, **arguments)`, like any other.

    Each stage gets the arguments it declares (OpenEvolve passes only the program path)."""

    def run_cascade(program_path: str, **arguments: Any) -> StagedResult:
        result = _stage(module, 1, program_path, arguments)
        merged: StagedResult | None = None
        for number in range(2, MAX_STAGES + 1):
            current = merged or result
            index = number - 2
            if not callable(getattr(module, STAGE.format(number), None)):
                return current
            if index >= len(thresholds) or not passes(current.metrics, thresholds[index]):
                current.glia_notes.append(_stopped(number, thresholds, index))
                return current
            following = _stage(module, number, program_path, arguments)
            if merged is None:
                merged = StagedResult(_numbers(result.metrics), dict(result.artifacts))
            merged.metrics.update(_numbers(following.metrics))
            merged.artifacts.update(following.artifacts)
        assert merged is not None
        return merged

    run_cascade.__module__ = module.__name__
    return run_cascade


def _stage(module: ModuleType, number: int, program_path: str, arguments: Mapping[str, Any]) -> StagedResult:
    name = STAGE.format(number)
    function = getattr(module, name)
    try:
        result = function(program_path, **_accepted(function, arguments))
    except BaseException as exc:  # noqa: BLE001 - SystemExit from a stage is a failure too
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = exception_text(exc)[:MAX_REASON_CHARS]
        raise StageFailed(f"cascade stage {number}: {name}() raised {type(exc).__name__}: {text}") from exc
    try:  # reading the answer runs the evaluator's code too (a Mapping's own keys, items, getattr)
        return _staged(result)
    except StageFailed as exc:
        raise StageFailed(f"cascade stage {number}: {name}() returned {exc}") from None
    except BaseException as exc:  # noqa: BLE001 - as for a raising stage
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = exception_text(exc)[:MAX_REASON_CHARS]
        raise StageFailed(
            f"cascade stage {number}: {name}() returned a result that could not be read: "
            f"{type(exc).__name__}: {text}"
        ) from exc


def _staged(result: Any) -> StagedResult:
    """The stage's answer as plain dicts: a Mapping, or an EvaluationResult-like object."""
    if isinstance(result, Mapping):
        return StagedResult(dict(result))
    metrics = getattr(result, "metrics", None)
    if isinstance(metrics, Mapping):
        artifacts = getattr(result, "artifacts", None)
        return StagedResult(dict(metrics), dict(artifacts) if isinstance(artifacts, Mapping) else {})
    raise StageFailed(f"a {type(result).__name__}, not a dict of metrics")


def _accepted(function: Callable[..., Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return dict(arguments)
    names = {p.name for p in parameters}
    return {k: v for k, v in arguments.items() if k in names}


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    """What OpenEvolve keeps of a stage when merging: numbers (booleans too) as floats, never `error`."""
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and k != "error"}


def _stopped(number: int, thresholds: Sequence[float], index: int) -> str:
    if index >= len(thresholds):
        return f"OpenEvolve's cascade: stage {number} not run (cascade_thresholds has {len(thresholds)} value(s))"
    return f"OpenEvolve's cascade: stage {number} not run (the metrics so far miss the threshold {thresholds[index]:g})"
