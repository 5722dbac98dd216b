"""LLM4AD's loops swallow every exception and retry; one that fails before asking the model must end, with
its cause, instead of spinning forever out of reach of Glia's budgets and stop."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, NoReturn

import pytest

from glia.blackbox.llm4ad_guard import SpinGuard, guard_loops

llm4ad = pytest.importorskip("llm4ad")  # a test extra; .ci/test-deps.sh installs it

TEMPLATE = "def design_file() -> int:\n    return 1\n"


class Stopped(KeyboardInterrupt):
    pass


def _guard(limit: int) -> tuple[SpinGuard, list[str]]:
    ended: list[str] = []

    def end(detail: str) -> NoReturn:
        ended.append(detail)
        raise Stopped

    return SpinGuard(end, limit=limit), ended


def _in_thread(target: Any, seconds: float = 20.0) -> bool:
    """Runs `target`; True when it returned (or ended on the guard's stop) within `seconds`."""
    worker = threading.Thread(target=lambda: _quiet(target), daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive()


def _quiet(target: Any) -> None:
    with contextlib.suppress(Stopped):
        target()


def _evaluation() -> Any:
    from llm4ad.base import Evaluation

    class Nothing(Evaluation):
        def __init__(self) -> None:
            super().__init__(template_program=TEMPLATE, task_description="t", exec_code=False)

        def evaluate_program(self, program_str: str, callable_func: Any, **kwargs: Any) -> float | None:
            return None

    return Nothing()


class _NoModel(llm4ad.base.LLM):
    def draw_sample(self, prompt: Any, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("the failing pass never reaches the model")


def test_an_eoh_loop_failing_before_the_model_call_ends_with_its_cause() -> None:
    from llm4ad.method.eoh import EoH

    search = EoH(_NoModel(), _evaluation(), max_generations=None, max_sample_nums=5, pop_size=2,
                 num_samplers=1, num_evaluators=1)  # fmt: skip

    def broken_selection() -> NoReturn:
        raise ValueError("no parents to select")

    search._population.selection = broken_selection  # noqa: SLF001
    guard, ended = _guard(limit=50)
    guard_loops(search, guard)
    assert _in_thread(search._iteratively_use_eoh_operator)  # noqa: SLF001 - unguarded, this never returns
    assert len(ended) == 1 and "50 passes" in ended[0] and "EoH" in ended[0]


def test_a_funsearch_loop_failing_before_the_model_call_ends_with_its_cause() -> None:
    from llm4ad.method.funsearch import FunSearch

    search = FunSearch(_NoModel(), _evaluation(), num_samplers=1, num_evaluators=1, max_sample_nums=5)

    def broken_prompt() -> NoReturn:
        raise ValueError("an empty island")

    search._database.get_prompt = broken_prompt  # noqa: SLF001
    guard, ended = _guard(limit=50)
    guard_loops(search, guard)
    assert _in_thread(search._sample_evaluate_register)  # noqa: SLF001
    assert len(ended) == 1 and "FunSearch" in ended[0]


def test_a_model_call_resets_the_count() -> None:
    guard, ended = _guard(limit=3)
    for _ in range(10):
        guard.passed("x")
        guard.passed("x")
        guard.asked_model()
    assert ended == []
    with pytest.raises(Stopped):
        for _ in range(4):
            guard.passed("x")
    assert ended and "3 passes" in ended[0]
