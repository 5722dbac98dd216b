"""The OpenEvolve adapter against the real package (installed by the `test` extra), without Docker: OpenEvolve's own classes (its model
interface, its EvaluationResult, its controller) talk to Glia's broker over the socket; the session
behind the broker is a stand-in that records what it was asked."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openevolve.evaluation_result import EvaluationResult
from openevolve.llm.base import LLMInterface

from glia.blackbox.broker import INVALID_SCORE, Broker, candidate_metrics
from glia.blackbox.openevolve_bridge import (
    BROKER_SCHEME,
    BrokerLLM,
    broker_client,
    evaluate_through_broker,
    evaluator_source,
)
from glia.blackbox.openevolve_method import latest_checkpoint
from glia.blackbox.session import Generation, MethodEnded
from glia.blackbox.store import INVALID, VALID, CandidateRecord
from glia.metric import Constraint, Metric

LATENCY = Metric(
    "mean_e2e", "minimize", "s", constraints=(Constraint("p90_e2e", "<=", 100.0),), report=("p90_e2e",)
)


class StandIn:
    """What the broker needs of a MethodSession."""

    def __init__(
        self, metric: Metric = LATENCY, reason: str | None = None, fail: MethodEnded | None = None
    ) -> None:
        self.metric = metric
        self.reason = reason
        self.fail = fail
        self.calls: list[tuple[str, list[Any]]] = []
        self.settled: list[tuple[dict[str, str], Generation | None, dict[str, Any]]] = []

    def stop_reason(self) -> str | None:
        return self.reason

    def generate(self, system: str, messages: list[Any]) -> Generation:
        if self.fail:
            raise self.fail
        self.calls.append((system, messages))
        return Generation(text=f"reply to {messages[-1].content}", tokens=123, cost_usd=0.01, latency_s=0.0)

    def settle_files(self, files: dict[str, str], generation: Generation | None, idea: str | None,
                     origin: dict[str, Any]) -> CandidateRecord:  # fmt: skip
        self.settled.append((files, generation, origin))
        score = float(len(files["design.py"]))
        return CandidateRecord(n=len(self.settled), method="openevolve", status=VALID, claimed_score=score,
                               values={"mean_e2e": score, "p90_e2e": 2 * score})  # fmt: skip


@pytest.fixture
def broker() -> Any:
    stops: list[int] = []
    session = StandIn()
    made = Broker(session, "design.py", lambda: stops.append(1))  # type: ignore[arg-type]
    made.start()
    yield SimpleNamespace(broker=made, session=session, stops=stops)
    made.close()


def test_minimised_objectives_are_flipped_and_failures_rank_last() -> None:
    valid = CandidateRecord(
        1, "openevolve", VALID, claimed_score=30.0, values={"mean_e2e": 30.0, "p90_e2e": 50.0}
    )
    metrics, artifacts = candidate_metrics(valid, LATENCY)
    assert metrics == {"combined_score": -30.0, "mean_e2e": 30.0, "p90_e2e": 50.0} and artifacts == {}
    over = CandidateRecord(
        2, "openevolve", VALID, claimed_score=20.0, values={"mean_e2e": 20.0, "p90_e2e": 150.0}
    )
    assert "p90_e2e" in candidate_metrics(over, LATENCY)[1]["constraints"]
    failed = CandidateRecord(3, "openevolve", INVALID, error="RouterError: boom")
    metrics, artifacts = candidate_metrics(failed, LATENCY)
    assert metrics == {"combined_score": INVALID_SCORE} and "RouterError: boom" in artifacts["glia_error"]
    hits = Metric("hit_rate", "maximize")
    assert (
        candidate_metrics(CandidateRecord(4, "x", VALID, claimed_score=0.7), hits)[0]["combined_score"] == 0.7
    )


def test_openevolves_model_interface_is_answered_by_glias_provider(broker: Any) -> None:
    client = broker_client(
        SimpleNamespace(api_base=f"{BROKER_SCHEME}{broker.broker.path}", system_message="sys")
    )
    assert isinstance(client, LLMInterface)
    text = asyncio.run(
        client.generate_with_context("the system", [{"role": "user", "content": "improve it"}])
    )
    assert text == "reply to improve it"
    system, messages = broker.session.calls[0]
    assert system == "the system" and messages[0].role == "user"
    assert client.last_usage["total_tokens"] == 123  # type: ignore[index]


def test_the_evaluator_sends_the_program_text_and_links_it_to_its_generation(
    broker: Any, tmp_path: Path
) -> None:
    client = BrokerLLM(SimpleNamespace(api_base=f"{BROKER_SCHEME}{broker.broker.path}", system_message=""))
    asyncio.run(client.generate("write a program"))
    program = tmp_path / "candidate.py"
    program.write_text("x = 1\n")
    result = evaluate_through_broker(str(broker.broker.path), str(program))
    assert isinstance(result, EvaluationResult)
    assert result.metrics["combined_score"] == -6.0 and result.metrics["mean_e2e"] == 6.0
    files, generation, origin = broker.session.settled[0]
    assert files == {"design.py": "x = 1\n"}
    assert generation is not None and generation.tokens == 123  # the call that wrote it pays for it
    assert origin["worker"] == os.getpid()


def test_a_stopping_run_refuses_model_calls_and_asks_openevolve_to_stop(broker: Any) -> None:
    broker.session.reason = "simulation_budget"
    client = BrokerLLM(SimpleNamespace(api_base=f"{BROKER_SCHEME}{broker.broker.path}", system_message=""))
    with pytest.raises(RuntimeError, match="simulation_budget"):
        asyncio.run(client.generate("more"))
    assert broker.stops and broker.session.calls == []


def test_a_failing_model_ends_the_method_with_its_reason(broker: Any) -> None:
    broker.session.fail = MethodEnded("model_error", "RetriesExhausted: overloaded")
    client = BrokerLLM(SimpleNamespace(api_base=f"{BROKER_SCHEME}{broker.broker.path}", system_message=""))
    with pytest.raises(RuntimeError, match="overloaded"):
        asyncio.run(client.generate("more"))
    assert broker.broker.fatal is not None and broker.broker.fatal.reason == "model_error"


def test_an_unreachable_broker_is_a_failed_design_not_an_exception(tmp_path: Path) -> None:
    program = tmp_path / "p.py"
    program.write_text("x = 1\n")
    result = evaluate_through_broker(str(tmp_path / "nobody.sock"), str(program))
    assert result.metrics == {"combined_score": INVALID_SCORE}
    assert "glia_error" in result.artifacts


def test_the_generated_evaluator_file_is_what_openevolve_loads(broker: Any, tmp_path: Path) -> None:
    from openevolve.config import EvaluatorConfig
    from openevolve.evaluator import Evaluator

    path = tmp_path / "glia_evaluator.py"
    path.write_text(evaluator_source(str(broker.broker.path)))
    evaluator = Evaluator(EvaluatorConfig(cascade_evaluation=False, max_retries=0), str(path), None, None)
    metrics = asyncio.run(evaluator.evaluate_program("y = 22\n", "p1"))
    assert metrics["combined_score"] == -7.0


def test_the_newest_checkpoint_is_found_by_number(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path / "none") is None
    for n in (2, 10, 9):
        (tmp_path / f"checkpoint_{n}").mkdir()
    (tmp_path / "checkpoint_x").mkdir()
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint_10"
