"""A whole context with o3 on the Responses API, or Claude with extended thinking (fake server, real SDK):
reasoning kept across tool calls and across an interruption and resume, shown in the notes and to the
Supervisor, and priced.

The Researcher and the Supervisor use the same model. The context is interrupted while the Researcher's
third call is still unanswered; the resumed context must send all three turns' reasoning items back in
their places (the fake refuses anything else, as the real API does) and then finish with approval.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glia.budget import Budget
from glia.context import ContextSpec, run_context
from glia.llm import make_provider
from glia.llm.anthropic_wire import THINKING_STATE_KEY
from glia.llm.openai_responses_wire import STATE_KEY
from glia.record.transcript import read_events
from glia.task import BudgetLimits, Task
from tests.agents.scripting import make_task, write_template
from tests.fake_llm import FakeLLMServer, RecordedRequest, reply, tool_call

LONG_THOUGHT = (
    "**Reading the simulator**\n\n"
    + (
        "The score is whatever number design.txt holds, so the design space is one number. Before changing "
        "anything I want the current value and one measurement to compare against; a lower number should give "
        "a lower mean latency, but I should confirm the direction with a run rather than assume it. "
    )
    * 2
)
SHORT_THOUGHT = "Lower the number, then measure."
SUMMARY = {"design": "30 instead of 40", "evidence": "one run: 30.0", "tried_and_rejected": "nothing"}


def researcher_script(stop: threading.Event):
    def respond(request: RecordedRequest):
        turn = request.assistant_turns
        if turn == 0:
            return reply(
                tool_calls=[tool_call("bash", {"command": "cat design.txt"})],
                reasoning=LONG_THOUGHT,
                reasoning_tokens=400,
            )
        if turn == 1:
            return reply(
                "Trying 30.",
                [tool_call("bash", {"command": "echo 30 > design.txt && python sim.py"})],
                reasoning=SHORT_THOUGHT,
                reasoning_tokens=60,
            )
        if turn == 2:
            stop.set()  # Ctrl-C while the model answers: its call is left unanswered
            return reply(
                tool_calls=[tool_call("bash", {"command": "python sim.py"})],
                reasoning="**Check again**\n\nOne more run to be sure.",
                reasoning_tokens=30,
            )
        return reply(
            tool_calls=[tool_call("finish", SUMMARY)],
            reasoning="**Done**\n\n30 beats the starting 40.",
            reasoning_tokens=20,
        )

    return respond


def supervisor_reply(request: RecordedRequest):
    return reply(
        "The measurement supports it.\nVERDICT: APPROVE", reasoning="**Judging**\n\nOne run is enough here."
    )


def spec(task: Task, ctx_dir: Path, make: Callable[[], Any]) -> ContextSpec:
    return ContextSpec(
        run_id="reasoning",
        index=1,
        ctx_dir=ctx_dir,
        task=task,
        researcher=make(),
        supervisor=make(),
        backend="local",
        baselines={"llq": 40.0},
        max_steps=10,
    )


@dataclass
class Story:
    resumed: Any
    researcher_requests: list[RecordedRequest]
    supervisor_requests: list[RecordedRequest]
    events: list[dict[str, Any]]
    notes: str


def interrupted_and_resumed(tmp_path: Path, model: str, make: Callable[[FakeLLMServer], Any]) -> Story:
    """Run the scripted context until the interruption, resume it with fresh providers, let it finish."""
    first_stop = threading.Event()
    ctx_dir = tmp_path / "run" / "ctx-1"
    with FakeLLMServer() as srv:
        srv.handler(model, lambda request: researcher_or_supervisor(request, first_stop))
        budget = Budget(BudgetLimits(simulations=10))
        task = make_task(write_template(tmp_path))
        interrupted = run_context(spec(task, ctx_dir, lambda: make(srv)), budget, first_stop)
        assert interrupted.end_reason == "interrupted", interrupted.error
        resumed = run_context(spec(task, ctx_dir, lambda: make(srv)), budget, threading.Event(), resume=True)
        assert srv.problems == []  # every replay passed the fake's checks
        requests = srv.requests
    assert (resumed.end_reason, resumed.error, resumed.simulations) == ("finished", None, 1)
    story = Story(
        resumed=resumed,
        researcher_requests=[r for r in requests if r.tool_names],
        supervisor_requests=[r for r in requests if not r.tool_names],
        events=read_events(ctx_dir / "transcript.jsonl"),
        notes=(ctx_dir / "notes.md").read_text(),
    )
    assert len(story.researcher_requests) == 4 and len(story.supervisor_requests) == 1
    return story


def check_supervisor_and_notes(story: Story) -> None:
    # the Supervisor read the Researcher's reasoning, not only its commands
    review = story.supervisor_requests[0].last_user_text
    assert re.search(rf"\(reasoning\)\n<<untrusted-\w+>>\n{re.escape(SHORT_THOUGHT)}", review)
    assert "**Reading the simulator**" in review
    assert re.search(r"\(command\)\n<<untrusted-\w+>>\necho 30 > design.txt && python sim.py\n", review)
    # the notes show the thinking before each action: short inline, long folded under its heading
    notes = story.notes
    assert "### Turn 1 · Reading the simulator" in notes
    assert "<details><summary>💭 Thinking: Reading the simulator</summary>" in notes
    assert f"💭 *Thinking:* {SHORT_THOUGHT}" in notes
    assert notes.index("💭 Thinking: Reading the simulator") < notes.index("cat design.txt")
    assert "### Turn 4 · Done" in notes


def test_o3_reasoning_survives_an_interruption_and_reaches_notes_and_supervisor(
    tmp_path: Path, no_keys: None
) -> None:
    story = interrupted_and_resumed(
        tmp_path,
        "o3",
        lambda srv: make_provider(
            "openai:o3", base_url=srv.openai_base_url, openai_api="responses", max_retries=1
        ),
    )
    # the transcript kept each turn's reasoning items; the resumed request sent them all, in place
    turns = [e for e in story.events if e["type"] == "assistant"]
    recorded = [item for turn in turns[:3] for item in turn["provider_state"][STATE_KEY]["items"]]
    after_resume = story.researcher_requests[3]
    replayed = ("reasoning", "message", "function_call")
    sent = [item for item in after_resume.input_items if item.get("type") in replayed]
    assert sent == recorded and [item["type"] for item in sent].count("reasoning") == 3
    kinds = [item.get("type") or item.get("role") for item in after_resume.input_items]
    # the unanswered call was answered as interrupted, then the resume note followed
    assert kinds[-3:] == ["function_call", "function_call_output", "user"]
    assert "[not run: the session was interrupted" in after_resume.input_items[-2]["output"]
    check_supervisor_and_notes(story)

    # reasoning tokens are recorded and priced as o3 output tokens
    calls = [e for e in story.events if e["type"] == "model_call" and e["agent"] == "researcher"]
    assert [c["usage"]["reasoning_tokens"] for c in calls] == [400, 60, 30, 20]
    for call in calls:
        usage = call["usage"]
        expected = usage["input_tokens"] * 2e-6 + usage["output_tokens"] * 8e-6  # nothing cached here
        assert call["cost_usd"] == pytest.approx(expected)


@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
def test_claude_thinking_survives_an_interruption_and_reaches_notes_and_supervisor(
    tmp_path: Path, no_keys: None
) -> None:
    story = interrupted_and_resumed(
        tmp_path,
        "claude-sonnet-4-5",
        lambda srv: make_provider(
            "anthropic:claude-sonnet-4-5",
            base_url=srv.anthropic_base_url,
            thinking_budget=2048,
            max_retries=1,
        ),
    )
    turns = [e for e in story.events if e["type"] == "assistant"]
    recorded = [turn["provider_state"][THINKING_STATE_KEY] for turn in turns[:3]]
    after_resume = story.researcher_requests[3]
    assert after_resume.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    sent = [m["content"][:1] for m in after_resume.messages if m["role"] == "assistant"]
    assert sent == recorded and all(block[0]["signature"].startswith("fake-signature-") for block in sent)
    check_supervisor_and_notes(story)


def researcher_or_supervisor(request: RecordedRequest, stop: threading.Event):
    """One model name for both agents: the Supervisor is the one called without tools."""
    if not request.tool_names:
        return supervisor_reply(request)
    return researcher_script(stop)(request)
