"""Neutral types <-> OpenAI chat-completions JSON (also spoken by vLLM, Ollama, llama.cpp servers).

Pure functions over plain dicts, so the translation is tested without any network or SDK.
"""

from __future__ import annotations

import json
import re
from typing import Any

from glia.llm.base import CONTENT_FILTER, END_TURN, MAX_TOKENS, REFUSAL, TOOL_USE, ParsedReply
from glia.llm.tool_calls import parse_arguments
from glia.llm.types import MalformedReply, Message, ToolCall, ToolSpec, Usage

# Chat completions has no error flag on tool results, so a failed tool says so in its first words.
TOOL_ERROR_PREFIX = "ERROR: "

# o-series and GPT-5 models reason before answering: they take max_completion_tokens and a reasoning
# effort, and reject temperature. "gpt-5-chat" is the non-reasoning chat variant.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5(?!-chat))")

_STOP_REASONS = {
    "stop": END_TURN,
    "tool_calls": TOOL_USE,
    "function_call": TOOL_USE,
    "length": MAX_TOKENS,
    "content_filter": CONTENT_FILTER,
}


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING_MODEL.match(model))


def build_request(
    model: str,
    system: str,
    messages: list[Message],
    tools: list[ToolSpec],
    *,
    max_output_tokens: int,
    temperature: float | None = None,
    reasoning_effort: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create` (equally, the JSON body of the request)."""
    request: dict[str, Any] = {"model": model, "messages": to_wire_messages(system, messages)}
    if tools:
        request["tools"] = [to_wire_tool(tool) for tool in tools]
    if is_reasoning_model(model):
        request["max_completion_tokens"] = max_output_tokens
    else:
        # Local servers all understand the older name; OpenAI accepts it for non-reasoning models.
        request["max_tokens"] = max_output_tokens
        if temperature is not None:
            request["temperature"] = temperature
    if reasoning_effort is not None:
        request["reasoning_effort"] = reasoning_effort
    return request


def to_wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def to_wire_messages(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "user":
            wire.append({"role": "user", "content": message.content})
        elif message.role == "tool":
            content = TOOL_ERROR_PREFIX + message.content if message.is_error else message.content
            wire.append({"role": "tool", "tool_call_id": message.tool_call_id or "", "content": content})
        else:
            wire.append(_assistant_to_wire(message))
    return wire


def _assistant_to_wire(message: Message) -> dict[str, Any]:
    # Null content is only valid next to tool calls; a bare empty turn is sent as "".
    entry: dict[str, Any] = {
        "role": "assistant",
        "content": message.content or (None if message.tool_calls else ""),
    }
    if message.tool_calls:
        entry["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                # Always valid JSON: servers that re-parse history (vLLM templates) reject broken strings;
                # the tool error answering a malformed call already tells the model what was wrong.
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    return entry


def from_wire_messages(wire: list[dict[str, Any]]) -> tuple[str, list[Message]]:
    """Inverse of `to_wire_messages`: read a recorded request back into (system, messages)."""
    system_parts: list[str] = []
    messages: list[Message] = []
    tool_names: dict[str, str] = {}
    for entry in wire:
        role = entry.get("role")
        content = _text_of(entry.get("content"))
        if role in ("system", "developer"):
            system_parts.append(content)
        elif role == "user":
            messages.append(Message("user", content))
        elif role == "tool":
            call_id = entry.get("tool_call_id", "")
            is_error = content.startswith(TOOL_ERROR_PREFIX)
            text = content[len(TOOL_ERROR_PREFIX) :] if is_error else content
            messages.append(
                Message("tool", text, tool_call_id=call_id, name=tool_names.get(call_id), is_error=is_error)
            )
        elif role == "assistant":
            message = _assistant_from_wire(entry)
            tool_names.update({call.id: call.name for call in message.tool_calls})
            messages.append(message)
    return "\n\n".join(system_parts), messages


def parse_response(data: dict[str, Any], requested_model: str) -> ParsedReply:
    """Read a chat-completion response (as a dict) into neutral types."""
    choices = data.get("choices") or []
    if not choices:
        raise MalformedReply(f"{requested_model}: the server returned a chat completion without choices")
    choice = choices[0]
    message = _assistant_from_wire(choice.get("message") or {})
    finish = choice.get("finish_reason") or "stop"
    stop_reason = _STOP_REASONS.get(finish, finish)
    refusal = (choice.get("message") or {}).get("refusal")
    if refusal:
        message.content = message.content or refusal
        stop_reason = REFUSAL
    if message.tool_calls and stop_reason == END_TURN:
        stop_reason = TOOL_USE  # some compatible servers say "stop" even when they called tools
    return ParsedReply(
        message=message,
        usage=_usage_from_wire(data.get("usage") or {}),
        stop_reason=stop_reason,
        model=data.get("model") or requested_model,
    )


def _assistant_from_wire(entry: dict[str, Any]) -> Message:
    calls: list[ToolCall] = []
    for index, wire_call in enumerate(entry.get("tool_calls") or []):
        function = wire_call.get("function") or {}
        raw = function.get("arguments")
        raw_text = raw if isinstance(raw, str) else json.dumps(raw if raw is not None else {})
        arguments, error = parse_arguments(raw_text)
        calls.append(
            ToolCall(
                id=wire_call.get("id") or f"call_{index}",
                name=function.get("name") or "",
                arguments=arguments,
                raw_arguments=raw_text,
                error=error,
            )
        )
    # OpenAI-compatible reasoning servers (vLLM, DeepSeek, llama.cpp) return the thinking text here.
    reasoning = entry.get("reasoning_content") or entry.get("reasoning") or None
    return Message(
        "assistant",
        _text_of(entry.get("content")),
        tool_calls=calls,
        reasoning=reasoning if isinstance(reasoning, str) else None,
    )


def _usage_from_wire(usage: dict[str, Any]) -> Usage:
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=int(usage.get("prompt_tokens") or 0),
        cached_input_tokens=int(prompt_details.get("cached_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def _text_of(content: Any) -> str:
    """Message content is a string, None, or a list of parts of which we keep the text ones."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))
