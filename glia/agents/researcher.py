"""The Researcher: a model with a shell in its own copy of the simulator, working on one task.

This module keeps the Researcher's conversation (in the neutral message format) and knows how that
conversation is written to and rebuilt from the transcript, so a resumed context sends the model exactly
what it would have seen had nothing happened. The loop that drives it lives in `glia/context.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glia.llm.types import LLMProvider, LLMResponse, Message, ToolCall, ToolSpec
from glia.record.events import (
    AssistantTurn,
    BudgetNote,
    CallRecord,
    CommandStarted,
    SupervisorSpoke,
    ToolResult,
    UserMessage,
    parse_event,
)
from glia.record.simulations import ENDED, Simulation

INTERRUPTED_CALL_OUTPUT = "[not run: the session was interrupted before this call ran]"
SKIPPED_AFTER_FINISH_OUTPUT = "[not run: `finish` was called earlier in the same turn]"
INTERRUPTED_OUTPUT_TAIL_BYTES = 4000
RESUMED_NOTE = (
    "[Session resumed after an interruption. Your repository is as you left it; commands that were "
    "running in the background were stopped, so check any run you had started before relying on it.]"
)


def interrupted_call_output(
    started: CommandStarted, simulations: Sequence[Simulation], remaining: Mapping[str, Any]
) -> str:
    """What the model is told, on resume, about a command that was running when its session stopped.

    `started` is the command's `command_started` event, `simulations` the ledger's records of the runs it
    started (now settled), `remaining` the budget left. The tail of its output log is included: it is
    Glia's own capture of the command's output on the host."""
    from glia.agents.ledger import format_remaining

    lines = [
        "[interrupted: this command was running when the Glia session stopped (it was stopped or killed); "
        "it may have done part of its work, so check its effects before relying on them.]"
    ]
    if simulations:
        described = "; ".join(_simulation_line(record) for record in simulations)
        lines.append(f"[Simulations it started: {described}.]")
    else:
        lines.append("[It started no simulation.]")
    lines.append(f"[Remaining budget: {format_remaining(dict(remaining))}.]")
    tail = _log_tail(started.output_path)
    if tail:
        lines.append(f"[Its output so far (the last {len(tail)} characters):]\n{tail}")
    return "\n".join(lines)


def _simulation_line(record: Simulation) -> str:
    head = f"#{record.index} ({'benchmark run' if record.is_claim else 'experiment'})"
    if record.outcome != ENDED:
        return f"{head} {record.error or 'did not finish'}"
    if not record.valid:
        return f"{head} invalid: {record.error or 'no reason given'}"
    score = record.claimed_score
    return f"{head} valid" + (f", claimed {score:.3f}" if isinstance(score, int | float) else "")


def _log_tail(path: Any) -> str:
    if not isinstance(path, str) or not path:
        return ""
    try:
        with Path(path).open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - INTERRUPTED_OUTPUT_TAIL_BYTES))
            data = handle.read(INTERRUPTED_OUTPUT_TAIL_BYTES)
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace").strip()


def tool_call_fields(call: ToolCall) -> dict[str, Any]:
    """A tool call as stored in an `assistant` event (raw text and error only when useful)."""
    fields: dict[str, Any] = {"id": call.id, "name": call.name, "arguments": call.arguments}
    if call.error:
        fields["error"] = call.error
        fields["raw_arguments"] = call.raw_arguments
    return fields


def assistant_event_fields(message: Message) -> dict[str, Any]:
    """The fields of an `assistant` event; `provider_state` is kept so resume can send it back."""
    fields: dict[str, Any] = {
        "text": message.content,
        "reasoning": message.reasoning,
        "tool_calls": [tool_call_fields(call) for call in message.tool_calls],
    }
    if message.provider_state:
        fields["provider_state"] = message.provider_state
    return fields


def _call_from_record(record: CallRecord) -> ToolCall:
    return ToolCall(
        id=record.id,
        name=record.name,
        arguments=dict(record.arguments),
        raw_arguments=record.raw_arguments,
        error=record.error,
    )


@dataclass
class _Rebuild:
    messages: list[Message] = field(default_factory=list)
    open_calls: list[ToolCall] = field(default_factory=list)  # of the last assistant turn, unanswered

    def close_open_calls(self) -> None:
        for call in self.open_calls:
            self.messages.append(
                Message(
                    role="tool",
                    content=INTERRUPTED_CALL_OUTPUT,
                    tool_call_id=call.id,
                    name=call.name,
                    is_error=True,
                )
            )
        self.open_calls = []


def rebuild_conversation(events: Sequence[Mapping[str, Any]]) -> list[Message]:
    """The Researcher's conversation as it stood after `events` (read as typed events).

    `user` events and supervisor words delivered as user messages become user messages; `assistant`
    events become assistant turns with their tool calls; `tool_result` events become tool messages,
    with any `budget` note that followed appended as it was. Calls left unanswered by a crash are
    answered with an 'interrupted' result, so providers accept the conversation.
    """
    state = _Rebuild()
    for event in map(parse_event, events):
        if isinstance(event, UserMessage) or (
            isinstance(event, SupervisorSpoke) and event.delivered == "user"
        ):
            state.close_open_calls()
            text = event.text if isinstance(event, UserMessage) else event.message
            state.messages.append(Message(role="user", content=text))
        elif isinstance(event, AssistantTurn):
            state.close_open_calls()
            calls = [_call_from_record(c) for c in event.tool_calls]
            state.messages.append(
                Message(
                    role="assistant",
                    content=event.text,
                    tool_calls=calls,
                    reasoning=event.reasoning or None,
                    provider_state=dict(event.provider_state),
                )
            )
            state.open_calls = list(calls)
        elif isinstance(event, ToolResult):
            state.open_calls = [c for c in state.open_calls if c.id != event.id]
            state.messages.append(
                Message(
                    role="tool",
                    content=event.output,
                    tool_call_id=event.id,
                    name=event.name,
                    is_error=event.is_error,
                )
            )
        elif isinstance(event, BudgetNote) and state.messages and state.messages[-1].role == "tool":
            last = state.messages[-1]
            last.content = f"{last.content}\n\n{event.detail}"
    state.close_open_calls()
    return state.messages


def unanswered_calls(events: Sequence[Mapping[str, Any]]) -> list[ToolCall]:
    """Tool calls of the last assistant turn that have no `tool_result` yet (a crash mid-turn)."""
    typed = [parse_event(e) for e in events]
    last_assistant = max((i for i, e in enumerate(typed) if isinstance(e, AssistantTurn)), default=None)
    if last_assistant is None:
        return []
    turn = typed[last_assistant]
    assert isinstance(turn, AssistantTurn)
    answered = {e.id for e in typed[last_assistant + 1 :] if isinstance(e, ToolResult)}
    return [_call_from_record(c) for c in turn.tool_calls if c.id not in answered]


class Researcher:
    """The Researcher's side of the conversation: its prompt, its tools and every message so far."""

    def __init__(
        self,
        provider: LLMProvider,
        system_prompt: str,
        tools: list[ToolSpec],
        messages: list[Message] | None = None,
    ) -> None:
        self.provider = provider
        self.system_prompt = system_prompt
        self.tools = tools
        self.messages: list[Message] = list(messages or [])

    def respond(self) -> LLMResponse:
        """One model turn over the conversation so far; the reply joins the conversation."""
        response = self.provider.complete(self.system_prompt, self.messages, self.tools)
        self.messages.append(response.message)
        return response

    def add_user(self, text: str) -> None:
        self.messages.append(Message(role="user", content=text))

    def add_tool_result(self, call: ToolCall, output: str, is_error: bool = False) -> None:
        self.messages.append(
            Message(role="tool", content=output, tool_call_id=call.id, name=call.name, is_error=is_error)
        )

    def append_to_last_tool_result(self, text: str) -> None:
        """Add a note (the simulation count and budget) to the tool result the model is about to read."""
        last = self.messages[-1]
        if last.role != "tool":
            raise ValueError("the last message is not a tool result")
        last.content = f"{last.content}\n\n{text}"
