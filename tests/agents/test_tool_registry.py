"""The Researcher's tools come from one registry, and the context's turn dispatches every call through it.

A toy tool registered by a fixture is offered to a Researcher speaking the real OpenAI SDK to the fake
model server; the scripted Researcher calls it (once well formed, once failing the tool's own check),
then finishes. The toy's result reaches the model and the transcript, the malformed call is a format
error, and after the fixture unregisters the toy a new context is offered only the built-ins again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from glia.agents.tools import (
    BASH,
    FINISH,
    GO_ON,
    ToolHost,
    ToolOutcome,
    register,
    registered,
    researcher_tools,
    unregister,
)
from glia.budget import Budget
from glia.context import ContextSpec, run_context
from glia.llm import make_provider
from glia.llm.types import ToolCall, ToolSpec
from glia.record import events as ev
from glia.record.transcript import read_events
from glia.task import BudgetLimits
from glia.workspace.base import Limits
from tests.agents.scripting import make_task, write_template
from tests.fake_llm import FakeLLMServer, reply, tool_call

TOY = "count_words"


class CountWords:
    """A toy tool: counts the words of its `text` argument, without touching the sandbox."""

    name = TOY

    def __init__(self) -> None:
        self.ran: list[str] = []

    def spec(self, limits: Limits) -> ToolSpec:
        return ToolSpec(
            name=TOY,
            description="Count the words of a text.",
            parameters={
                "type": "object",
                "properties": {"text": {"type": "string", "description": "The text."}},
                "required": ["text"],
            },
        )

    def check(self, call: ToolCall) -> str | None:
        return "The `text` argument is empty." if not call.arguments["text"].strip() else None

    def run(self, host: ToolHost, call: ToolCall) -> ToolOutcome:
        text = call.arguments["text"]
        self.ran.append(text)
        host.answer(call, f"{len(text.split())} words")
        return GO_ON


@pytest.fixture
def toy_tool() -> Iterator[CountWords]:
    tool = CountWords()
    register(tool)
    try:
        yield tool
    finally:
        unregister(TOY)


def _spec(tmp_path: Path, srv: FakeLLMServer, name: str) -> ContextSpec:
    template = tmp_path / name
    template.mkdir()
    return ContextSpec(
        run_id="run-tools",
        index=1,
        ctx_dir=tmp_path / name / "run" / "ctx-1",
        task=make_task(write_template(template)),
        researcher=make_provider("openai:researcher-model", base_url=srv.openai_base_url, max_retries=1),
        supervisor=make_provider(
            "anthropic:supervisor-model", base_url=srv.anthropic_base_url, max_retries=1
        ),
        backend="local",
        baselines={"llq": 40.0},
        max_steps=10,
    )


FINISH_ARGS = {"design": "none", "evidence": "none", "tried_and_rejected": "none"}


def test_a_registered_tool_is_offered_and_called_through_the_real_turn(tmp_path, toy_tool):
    assert [t.name for t in registered()][:2] == [BASH, FINISH]
    with FakeLLMServer() as srv:
        srv.script(
            "researcher-model",
            [
                reply("Counting.", [tool_call(TOY, {"text": "one two three"})]),
                reply("Again, empty.", [tool_call(TOY, {"text": "  "})]),
                reply("Done.", [tool_call(FINISH, FINISH_ARGS)]),
            ],
        )
        srv.script("supervisor-model", [reply("Fine.\nVERDICT: APPROVE")])
        spec = _spec(tmp_path, srv, "with-toy")
        outcome = run_context(spec, Budget(BudgetLimits(simulations=5)), threading.Event())
        srv.assert_script_consumed()
        requests = srv.requests_for("researcher-model")

    assert outcome.end_reason == "finished"
    assert toy_tool.ran == ["one two three"]  # the check kept the empty call from running
    assert all(r.tool_names == [BASH, FINISH, TOY] for r in requests)
    assert [r["content"] for r in requests[1].tool_results] == ["3 words"]
    assert (
        requests[2].tool_results[-1]["content"] == "ERROR: The `text` argument is empty."
    )  # as OpenAI sees errors

    typed = [ev.parse_event(e) for e in read_events(spec.ctx_dir / "transcript.jsonl")]
    results = [e for e in typed if isinstance(e, ev.ToolResult)]
    assert [(r.name, r.output, r.is_error) for r in results] == [
        (TOY, "3 words", False),
        (TOY, "The `text` argument is empty.", True),
    ]
    assert [e.detail for e in typed if isinstance(e, ev.FormatError)] == ["The `text` argument is empty."]
    assert not any(isinstance(e, ev.CommandStarted) for e in typed)  # the toy ran no command


def test_an_unregistered_tool_is_no_longer_offered_or_run(tmp_path):
    assert TOY not in [t.name for t in researcher_tools(Limits())]
    with FakeLLMServer() as srv:
        srv.script(
            "researcher-model",
            [
                reply("Counting.", [tool_call(TOY, {"text": "one"})]),
                reply("Done.", [tool_call(FINISH, FINISH_ARGS)]),
            ],
        )
        srv.script("supervisor-model", [reply("Fine.\nVERDICT: APPROVE")])
        spec = _spec(tmp_path, srv, "without-toy")
        outcome = run_context(spec, Budget(BudgetLimits(simulations=5)), threading.Event())
        requests = srv.requests_for("researcher-model")

    assert outcome.end_reason == "finished"
    assert requests[0].tool_names == [BASH, FINISH]
    unknown = requests[1].tool_results[-1]["content"]
    assert unknown == f"ERROR: Unknown tool {TOY!r}. Available tools: bash, finish."


def test_a_tool_name_is_registered_once():
    class Clash(CountWords):
        name = BASH

    with pytest.raises(ValueError, match="'bash' is registered already"):
        register(Clash())
    assert [t.name for t in registered()] == [BASH, FINISH]
