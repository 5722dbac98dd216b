"""Neutral types <-> Anthropic Messages JSON (content blocks, tool_use / tool_result, thinking).

Two Anthropic rules shape this module: tool results travel inside a *user* turn (so consecutive tool
and user messages merge into one turn), and during tool use the assistant's thinking blocks must be
sent back unchanged, signatures included (kept in `Message.provider_state`).
"""

from __future__ import annotations

import json
from typing import Any

from glia.llm.base import END_TURN, MAX_TOKENS, REFUSAL, TOOL_USE, ParsedReply
from glia.llm.tool_calls import parse_arguments
from glia.llm.types import Message, ToolCall, ToolSpec, Usage

THINKING_STATE_KEY = "anthropic_thinking"
_CACHE_POINT = {"type": "ephemeral"}
_THINKING_TYPES = ("thinking", "redacted_thinking")
_EMPTY_TEXT = "(empty)"  # the API rejects empty text blocks
_MIN_ANSWER_TOKENS = 1024  # room left for the answer after an extended-thinking budget

_STOP_REASONS = {
    "end_turn": END_TURN,
    "stop_sequence": END_TURN,
    "tool_use": TOOL_USE,
    "max_tokens": MAX_TOKENS,
    "refusal": REFUSAL,
}


def build_request(
    model: str,
    system: str,
    messages: list[Message],
    tools: list[ToolSpec],
    *,
    max_output_tokens: int,
    temperature: float | None = None,
    thinking_budget: int | None = None,
    cache: bool = True,
) -> dict[str, Any]:
    """Keyword arguments for `messages.create` (equally, the JSON body of the request).

    With `cache`, the system prompt and the last message block are cache breakpoints, so each turn
    re-reads the long, stable research context from the cache instead of paying full price for it.
    """
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": max_output_tokens,
        "messages": to_wire_messages(messages),
    }
    if system:
        block: dict[str, Any] = {"type": "text", "text": system}
        if cache:
            block["cache_control"] = dict(_CACHE_POINT)
        request["system"] = [block]
    last_block = request["messages"][-1]["content"][-1] if request["messages"] else None
    if cache and last_block is not None and last_block["type"] not in _THINKING_TYPES:
        last_block["cache_control"] = dict(_CACHE_POINT)
    if tools:
        request["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in tools
        ]
    if thinking_budget:
        request["thinking"] = {"type": "enabled", "budget_tokens": thinking_budget}
        request["max_tokens"] = max(max_output_tokens, thinking_budget + _MIN_ANSWER_TOKENS)
    elif temperature is not None:
        request["temperature"] = temperature  # not allowed together with extended thinking
    return request


def to_wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Alternating user / assistant turns; tool results and user text merge into one user turn."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _assistant_blocks(message) if role == "assistant" else _user_blocks(message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":  # within a user turn, tool results must come before any text
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return turns


def _user_blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id or "",
            "content": message.content or _EMPTY_TEXT,
        }
        if message.is_error:
            block["is_error"] = True
        return [block]
    return [{"type": "text", "text": message.content or _EMPTY_TEXT}]


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    blocks = [dict(block) for block in message.provider_state.get(THINKING_STATE_KEY, [])]
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    )
    return blocks or [{"type": "text", "text": _EMPTY_TEXT}]


def from_wire_messages(wire: list[dict[str, Any]]) -> list[Message]:
    """Inverse of `to_wire_messages`: read a recorded request back into neutral messages."""
    messages: list[Message] = []
    tool_names: dict[str, str] = {}
    for turn in wire:
        content = turn.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        if turn.get("role") == "assistant":
            message = _assistant_from_blocks(blocks)
            tool_names.update({call.id: call.name for call in message.tool_calls})
            messages.append(message)
            continue
        texts: list[str] = []
        for block in blocks:
            if block.get("type") == "tool_result":
                call_id = block.get("tool_use_id", "")
                messages.append(
                    Message(
                        "tool",
                        _text_of(block.get("content")),
                        tool_call_id=call_id,
                        name=tool_names.get(call_id),
                        is_error=bool(block.get("is_error")),
                    )
                )
            elif block.get("type") == "text":
                texts.append(block.get("text", ""))
        if texts:
            messages.append(Message("user", "\n".join(texts)))
    return messages


def parse_response(data: dict[str, Any], requested_model: str) -> ParsedReply:
    """Read a Messages API response (as a dict) into neutral types."""
    message = _assistant_from_blocks(list(data.get("content") or []))
    stop = data.get("stop_reason") or "end_turn"
    stop_reason = _STOP_REASONS.get(stop, stop)
    if message.tool_calls and stop_reason == END_TURN:
        stop_reason = TOOL_USE
    return ParsedReply(
        message=message,
        usage=_usage_from_wire(data.get("usage") or {}),
        stop_reason=stop_reason,
        model=data.get("model") or requested_model,
    )


def _assistant_from_blocks(blocks: list[dict[str, Any]]) -> Message:
    texts: list[str] = []
    thoughts: list[str] = []
    thinking_blocks: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind in _THINKING_TYPES:
            thinking_blocks.append({key: value for key, value in block.items() if key != "cache_control"})
            if block.get("thinking"):
                thoughts.append(block["thinking"])
        elif kind == "tool_use":
            calls.append(_tool_call_from_block(block))
    message = Message("assistant", "\n".join(texts), tool_calls=calls, reasoning="\n".join(thoughts) or None)
    if thinking_blocks:
        message.provider_state[THINKING_STATE_KEY] = thinking_blocks
    return message


def _tool_call_from_block(block: dict[str, Any]) -> ToolCall:
    raw_input = block.get("input")
    if isinstance(raw_input, dict):
        arguments, raw_text, error = raw_input, json.dumps(raw_input), None
    else:
        # The API always sends an object; a string here comes from a misbehaving proxy or test double.
        raw_text = raw_input if isinstance(raw_input, str) else json.dumps(raw_input)
        arguments, error = parse_arguments(raw_text)
    return ToolCall(
        id=block.get("id", ""),
        name=block.get("name", ""),
        arguments=arguments,
        raw_arguments=raw_text,
        error=error,
    )


def _usage_from_wire(usage: dict[str, Any]) -> Usage:
    """Anthropic's `input_tokens` excludes cache reads and writes; neutral input counts them all."""
    uncached = int(usage.get("input_tokens") or 0)
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_write = int(usage.get("cache_creation_input_tokens") or 0)
    return Usage(
        input_tokens=uncached + cache_read + cache_write,
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=int(usage.get("output_tokens") or 0),
    )


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content if isinstance(block, dict))
