"""A stand-in for the trusted evaluator in the comparison tests (the routing tests of the methods use the real one):
same constructor and methods, scoring the simple problem's designs exactly as its evaluator does
(`return n + K` scores 3 + K), instantly, so a comparison of many runs takes minutes, not an hour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from glia.evaluation import Evaluation, SeedResult, WorkloadScore
from glia.metric import Metric

SCORE = Metric("combined_score", "maximize")


def evaluation(label: str, score: float | None, reason: str = "invalid design") -> Evaluation:
    if score is None:
        return Evaluation.invalid(label, reason)
    main = WorkloadScore.from_seeds(
        "main", {}, False, False, [SeedResult(seed=0, values={"combined_score": score})], SCORE
    )
    return Evaluation(
        label=label, valid=True, reason=None, score=score, workloads={"main": main}, design="program"
    )


class SimpleEvaluator:
    evaluated: list[tuple[str, float | None]] = []

    def __init__(self, task: Any, work_dir: Path, **options: Any) -> None:
        self.task = task

    def baselines(self) -> dict[str, Evaluation]:
        return {"initial_program": evaluation("initial_program", 4.0)}

    def evaluate_design(self, files: dict[str, str], label: str) -> Evaluation:
        match = re.search(r"return n \+ (\d+)", files["initial_program.py"])
        score = 3.0 + int(match.group(1)) if match else None
        SimpleEvaluator.evaluated.append((label, score))
        return evaluation(label, score)
