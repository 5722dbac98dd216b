"""Calling the problem's evaluator and turning its answer into Glia's `summary.json`.

An OpenEvolve evaluator returns a dict of metrics, or an `EvaluationResult` (metrics plus artifacts),
or anything with `metrics` and `artifacts` attributes. Numeric metrics become keys of the summary;
other values (an `"error": "..."` string, say) are kept as text; artifacts are kept, size-capped. The
objective is the task's metric; when the evaluator does not report it and the metric is OpenEvolve's
default `combined_score`, it is the mean of the numeric metrics, as OpenEvolve computes fitness.
"""

from __future__ import annotations

import importlib.util
import json
import math
import numbers
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cascade import StagedResult, StageFailed, cascade_entry
from .missing import requirement_hint
from .offline import apply_environment
from .settings import ProblemSettings
from .text import exception_text, value_text

MAX_TEXT_CHARS = 2000
MAX_ARTIFACT_CHARS = 64 * 1024
MAX_ARTIFACTS_CHARS = 512 * 1024
MAX_METRICS = 200
RESERVED = frozenset({"valid", "error", "objective", "objective_source", "metrics_text", "artifacts"})
RESERVED |= {"wall_time_s", "arguments", "program", "notes"}


@dataclass
class Outcome:
    """One evaluation: validity, numbers, texts, artifacts, and what went wrong."""

    valid: bool
    error: str | None = None
    metrics: dict[str, float | bool | None] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    objective_source: str | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls(valid=False, error=error[:MAX_TEXT_CHARS])

    def summary(
        self, settings: ProblemSettings, wall_time_s: float, arguments: Mapping[str, Any]
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "valid": self.valid,
            "error": self.error,
            "objective": settings.metric,
            "objective_source": self.objective_source,
            "wall_time_s": round(wall_time_s, 6),
            "arguments": dict(arguments),
        }
        for key, value in self.metrics.items():
            data[key if key not in RESERVED else f"metric_{key}"] = value
        data["metrics_text"] = self.texts
        data["artifacts"] = self.artifacts
        if self.notes:
            data["notes"] = self.notes
        return data


def load_entry(folder: Path, settings: ProblemSettings) -> Callable[..., Any]:
    """The evaluator's entry function, imported from the problem folder as OpenEvolve does."""
    path = folder / settings.evaluator
    apply_environment(settings.environment)  # before the import: it may log to a service at import time
    sys.path.insert(0, str(folder))  # evaluators import helpers that sit beside them
    spec = importlib.util.spec_from_file_location("evaluation_module", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules["evaluation_module"] = module
    spec.loader.exec_module(module)
    if settings.cascade_thresholds is not None and callable(getattr(module, "evaluate_stage1", None)):
        return cascade_entry(module, settings.cascade_thresholds)  # as OpenEvolve, else `entry` directly
    entry = getattr(module, settings.entry, None)
    if not callable(entry):
        raise AttributeError(f"{settings.evaluator} has no function {settings.entry}()")
    return entry


def call_arguments(settings: ProblemSettings, seed: int | None, params: Mapping[str, Any]) -> dict[str, Any]:
    arguments = dict(params)
    if settings.seed_argument and seed is not None:
        arguments[settings.seed_argument] = seed
    return arguments


def evaluate(
    entry: Callable[..., Any], program_path: str, arguments: Mapping[str, Any], settings: ProblemSettings
) -> Outcome:
    """Call the evaluator; every failure becomes an invalid Outcome whose error says what happened."""
    try:
        result = entry(program_path, **arguments)
    except BaseException as exc:  # noqa: BLE001 - SystemExit from an evaluator is a failure too
        if isinstance(exc, KeyboardInterrupt):
            raise
        cause = exc.__cause__ if isinstance(exc, StageFailed) and exc.__cause__ else exc
        hint = requirement_hint(exception_text(cause)) if isinstance(cause, ImportError) else ""
        if isinstance(exc, StageFailed):
            return Outcome.failed(f"{exc}{hint}\n{_tail(cause)}")
        return Outcome.failed(
            f"{settings.entry}() raised {type(exc).__name__}: {exception_text(exc)}{hint}\n{_tail(exc)}"
        )
    outcome = unwrap(result, settings)
    missing = not outcome.valid and outcome.error is not None and "have no numeric" in outcome.error
    if isinstance(result, StagedResult):
        outcome.notes.extend(result.glia_notes)
        if missing and result.glia_notes:  # the cascade ran, and stopped where no stage gave the score
            outcome.error = f"{outcome.error}; {'; '.join(result.glia_notes)}"
    elif missing:
        outcome.error = f"{outcome.error}{_cascade_hint(entry)}"
    return outcome


def _cascade_hint(entry: Callable[..., Any]) -> str:
    """An evaluator written for OpenEvolve's cascade keeps its scores in `evaluate_stageN`, and its
    `evaluate` may be a placeholder: say which entry to name."""
    module = sys.modules.get(getattr(entry, "__module__", "") or "")
    stages = sorted(name for name in vars(module) if name.startswith("evaluate_stage")) if module else []
    if not stages:
        return ""
    return (
        f"; the evaluator keeps its scores in OpenEvolve's cascade stages ({', '.join(stages)}): "
        f"fix: name the last one in glia.yaml, `entry: {stages[-1]}`"
    )


def unwrap(result: Any, settings: ProblemSettings) -> Outcome:
    if isinstance(result, Mapping):
        metrics, artifacts = result, {}
    elif isinstance(getattr(result, "metrics", None), Mapping):
        metrics = result.metrics
        artifacts = getattr(result, "artifacts", None) or {}
    else:
        return Outcome.failed(
            f"{settings.entry}() returned a {type(result).__name__}, not a dict of metrics or an EvaluationResult"
        )
    outcome = Outcome(valid=True)
    for key, value in list(metrics.items())[:MAX_METRICS]:
        name = str(key)[:100]
        if isinstance(value, bool):
            outcome.metrics[name] = value
        elif isinstance(value, numbers.Real):
            number = float(value)
            outcome.metrics[name] = number if math.isfinite(number) else None
            if not math.isfinite(number):
                outcome.notes.append(f"metric {name} is {number}")
        elif type(value).__name__ == "bool_":  # numpy's boolean
            outcome.metrics[name] = bool(value)
        else:
            outcome.texts[name] = _text(value, MAX_TEXT_CHARS)
    if isinstance(artifacts, Mapping):
        outcome.artifacts = _artifacts(artifacts)
    _objective(outcome, metrics, settings)
    return outcome


def _objective(outcome: Outcome, metrics: Mapping[Any, Any], settings: ProblemSettings) -> None:
    name = settings.metric
    value = metrics.get(name)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        outcome.objective_source = "evaluator"
        if not math.isfinite(float(value)):
            outcome.valid = False
            outcome.error = f"the evaluator returned {name} = {float(value)}"
        return
    numeric = [v for k, v in outcome.metrics.items() if isinstance(v, float) and not isinstance(v, bool)]
    if settings.average_if_missing and numeric:
        outcome.metrics[name] = sum(numeric) / len(numeric)
        outcome.objective_source = "average"
        outcome.notes.append(f"{name} is the mean of the {len(numeric)} numeric metrics (OpenEvolve's rule)")
        return
    outcome.valid = False
    shown = ", ".join(sorted(str(k) for k in metrics)[:20]) or "nothing"
    outcome.error = (
        f"the evaluator's metrics have no numeric {name!r} (it returned: {shown}){_own_reason(outcome)}"
    )


def _own_reason(outcome: Outcome) -> str:
    """The evaluator's own account of a failure, on one line: its `error` text's first line and the
    last line of a `stderr` text (an evaluator running a simulator as a subprocess keeps it there)."""
    parts = []
    error = outcome.texts.get("error", "").strip()
    if error:
        parts.append(f"its error: {error.splitlines()[0][:300]}")
    stderr = [line.strip() for line in outcome.texts.get("stderr", "").splitlines() if line.strip()]
    if stderr:
        parts.append(f"its stderr ends: {stderr[-1][:300]}")
    return "".join(f"; {part}" for part in parts)


def _artifacts(artifacts: Mapping[Any, Any]) -> dict[str, str]:
    kept: dict[str, str] = {}
    total = 0
    for key, value in artifacts.items():
        if isinstance(value, bytes | bytearray):
            text = bytes(value[:MAX_ARTIFACT_CHARS]).decode("utf-8", "replace")
            if len(value) > MAX_ARTIFACT_CHARS:
                text += f"\n[... {len(value) - MAX_ARTIFACT_CHARS} more bytes]"
        else:
            text = _text(value, MAX_ARTIFACT_CHARS)
        if total + len(text) > MAX_ARTIFACTS_CHARS:
            kept["glia_note"] = f"further artifacts dropped: over {MAX_ARTIFACTS_CHARS} characters in all"
            break
        kept[str(key)[:100]] = text
        total += len(text)
    return kept


def _text(value: Any, limit: int) -> str:
    return value_text(value, limit)


def _tail(exc: BaseException, frames: int = 6) -> str:
    try:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    except Exception:  # noqa: BLE001 - an exception whose own text cannot be made
        return ""
    return "".join(lines[-frames:])[-1500:]


def write_summary(run_dir: Path, summary: Mapping[str, Any]) -> Path:
    """summary.json, written atomically, with NaN and infinities as null (strict JSON)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / "summary.json"
    partial = run_dir / f".summary.{os.getpid()}.tmp"
    partial.write_text(json.dumps(summary, indent=2, allow_nan=False, default=str) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


class Watchdog:
    """Ends the process with an invalid summary if the evaluation outlives its time limit.

    The evaluator runs in the main thread (OpenEvolve evaluators set signal handlers for their own
    timeouts, which only the main thread may do); this thread only watches the clock.
    """

    def __init__(self, seconds: float, on_timeout: Callable[[str], None], exit_code: int = 0) -> None:
        self.seconds = seconds
        self.on_timeout = on_timeout
        self.exit_code = exit_code
        self.lock = threading.Lock()
        self.done = False
        self._thread = threading.Thread(target=self._watch, name="glia-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def finish(self) -> bool:
        """Claim the right to write the result; False if the watchdog already wrote one."""
        with self.lock:
            if self.done:
                return False
            self.done = True
            return True

    def _watch(self) -> None:
        time.sleep(self.seconds)
        with self.lock:
            if self.done:
                return
            self.done = True
        try:
            self.on_timeout(f"the evaluation did not finish within its time limit of {self.seconds:g} s")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(
                self.exit_code
            )  # the summary says why; the evaluator and the program may be stuck in any state
