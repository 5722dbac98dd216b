"""An evaluation in LLM4AD's shape: a subclass of its Evaluation whose evaluate_program(program_str,
callable_func) returns the score (higher is better). Written for Glia's tests."""

from __future__ import annotations

import random

from llm4ad.base import Evaluation
from template import task_description, template_program


def bins_used(pick, items: list[int], capacity: int = 10) -> int:
    bins = [capacity] * len(items)
    for item in items:
        bins[pick(item, bins)] -= item
    return sum(1 for free in bins if free != capacity)


class FirstFitEvaluation(Evaluation):
    def __init__(self, timeout_seconds: int = 20) -> None:
        super().__init__(
            template_program=template_program,
            task_description=task_description,
            timeout_seconds=timeout_seconds,
        )
        self.items = [random.Random(0).randint(1, 9) for _ in range(50)]

    def evaluate_program(self, program_str: str, callable_func) -> float:
        return -float(bins_used(callable_func, self.items))
