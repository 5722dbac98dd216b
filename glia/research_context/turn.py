"""One Researcher turn: the model replies, and each of its tool calls is dispatched through the registry.

The turn knows no tool by name: `glia.agents.tools` says which tool a call names, whether it is well
formed, and what running it did to the turn (go on, end the context, answer the later calls "not run").
"""

from __future__ import annotations

import threading
from typing import Protocol

from glia.agents.researcher import SKIPPED_AFTER_FINISH_OUTPUT, assistant_event_fields
from glia.agents.tools import NO_TOOL_CALL_REMINDER, Streak, ToolHost, tool_named, validate_call
from glia.llm.types import LLMResponse, ToolSpec
from glia.research_context.spending import Spending
from glia.research_context.supervision import Supervision


class TurnHost(ToolHost, Protocol):
    """The context a turn runs in (`glia.context`): a `ToolHost` with its loop's state."""

    stop: threading.Event
    tools: list[ToolSpec]
    format_streak: Streak
    spending: Spending
    supervision: Supervision | None

    def say(self, text: str) -> None: ...


def researcher_turn(host: TurnHost) -> LLMResponse:
    """The Researcher's next reply, recorded and charged."""
    assert host.researcher is not None
    response = host.researcher.respond()
    host.spending.steps += 1
    host.events.assistant(**assistant_event_fields(response.message))
    host.spending.record_model_call("researcher", response)
    return response


def run_tool_calls(host: TurnHost, response: LLMResponse) -> str | None:
    """Run the turn's calls in order; returns an end reason, or None to go on."""
    calls = response.message.tool_calls
    if not calls:
        host.events.format_error("the reply had no tool call")
        host.say(NO_TOOL_CALL_REMINDER)
        return "format_errors" if host.format_streak.hit() else None
    supervised = False
    valid_calls = 0
    turn_ended = False
    for call in calls:
        if host.stop.is_set():
            return "interrupted"  # calls left unanswered are answered on resume
        if turn_ended:
            host.answer(call, SKIPPED_AFTER_FINISH_OUTPUT, is_error=True)
            continue
        tool = tool_named(call.name)
        problem = validate_call(call, host.tools) or (None if tool else f"Unknown tool {call.name!r}.")
        if problem or tool is None:  # (a tool offered to this model but unregistered since: unknown)
            problem = problem or f"Unknown tool {call.name!r}."
            host.events.format_error(problem)
            host.answer(call, problem, is_error=True)
            continue
        valid_calls += 1
        outcome = tool.run(host, call)
        if outcome.end:
            return outcome.end
        turn_ended = turn_ended or outcome.ends_turn
        supervised = supervised or outcome.supervised
    if valid_calls:
        host.format_streak.reset()
    elif host.format_streak.hit():
        return "format_errors"
    if not supervised and host.supervision is not None and host.researcher is not None:
        host.supervision.maybe_check_in(host.researcher)
    return None
