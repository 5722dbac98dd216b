"""Neutral types <-> OpenAI Responses API JSON, used statelessly (`store: false`).

Why this API: OpenAI's reasoning models (o-series, GPT-5) keep their chain of thought across tool calls
only when the turn's reasoning items are sent back with the function calls and their outputs; Chat
Completions has no place for them, so there the reasoning is lost after every tool call and no summary
of it is ever returned. Nothing is stored on OpenAI's side: each reasoning item comes back with its
`encrypted_content` (asked for with `include`), is kept in `Message.provider_state[STATE_KEY]` together
with the rest of the turn's output items, and is replayed in its original place on every later request.

Pure functions over plain dicts, so the translation is tested without any network or SDK.
"""

from __future__ import annotations

import json
from typing import Any

from glia.llm.base import CONTENT_FILTER, END_TURN, MAX_TOKENS, REFUSAL, TOOL_USE, ParsedReply
from glia.llm.openai_wire import TOOL_ERROR_PREFIX, is_reasoning_model
from glia.llm.retry import RetryableReply
from glia.llm.tool_calls import parse_arguments
from glia.llm.types import Message, ProviderRejected, ToolCall, ToolSpec, Usage

STATE_KEY = "openai_responses"
ENCRYPTED_REASONING = "reasoning.encrypted_content"
SUMMARY_CHOICES = ("auto", "concise", "detailed")
# Output items replayed as input. Others (built-in tools) are never requested by Glia.
_REPLAYABLE = ("reasoning", "message", "function_call")
# Codes of a `failed` reply worth another attempt; any other failure is final.
_TRANSIENT_FAILURES = ("server_error", "rate_limit_exceeded", "vector_store_timeout")
_INCOMPLETE_REASONS = {"max_output_tokens": MAX_TOKENS, "content_filter": CONTENT_FILTER}


def build_request(
    model: str,
    system: str,
    messages: list[Message],
    tools: list[ToolSpec],
    *,
    max_output_tokens: int,
    temperature: float | None = None,
    reasoning_effort: str | None = None,
    reasoning_summary: str | None = "auto",
) -> dict[str, Any]:
    """Keyword arguments for `responses.create` (equally, the JSON body of the request)."""
    request: dict[str, Any] = {
        "model": model,
        "input": to_wire_input(messages),
        "store": False,
        "max_output_tokens": max_output_tokens,
    }
    if system:
        request["instructions"] = system
    if tools:
        request["tools"] = [to_wire_tool(tool) for tool in tools]
    if is_reasoning_model(model):
        reasoning: dict[str, Any] = {}
        if reasoning_effort is not None:
            reasoning["effort"] = reasoning_effort
        if reasoning_summary is not None:
            reasoning["summary"] = reasoning_summary
        if reasoning:
            request["reasoning"] = reasoning
        request["include"] = [ENCRYPTED_REASONING]  # without it, store=false reasoning cannot be replayed
    else:
        if temperature is not None:
            request["temperature"] = temperature  # reasoning models reject it
        if reasoning_effort is not None:
            request["reasoning"] = {"effort": reasoning_effort}  # the user asked; let the API judge
    return request


def to_wire_tool(tool: ToolSpec) -> dict[str, Any]:
    # strict=False: Glia's schemas have optional fields, which strict mode does not allow.
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "strict": False,
    }


def to_wire_input(messages: list[Message]) -> list[dict[str, Any]]:
    """Input items: user messages, each assistant turn's items (replayed verbatim when recorded), and
    one `function_call_output` per tool result."""
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "user":
            items.append({"role": "user", "content": message.content})
        elif message.role == "tool":
            output = TOOL_ERROR_PREFIX + message.content if message.is_error else message.content
            items.append(
                {"type": "function_call_output", "call_id": message.tool_call_id or "", "output": output}
            )
        else:
            items.extend(replayed_items(message) or _assistant_items(message))
    return items


def replayed_items(message: Message) -> list[dict[str, Any]] | None:
    """The turn's recorded output items, reasoning included, or None when there are none or they no
    longer match the message (then the message is sent from its neutral fields, without reasoning)."""
    state = message.provider_state.get(STATE_KEY)
    if not isinstance(state, dict):
        return None
    items = [
        dict(item)
        for item in state.get("items") or []
        if isinstance(item, dict) and item.get("type") in _REPLAYABLE
    ]
    call_ids = [item.get("call_id") for item in items if item["type"] == "function_call"]
    if call_ids != [call.id for call in message.tool_calls] or _message_text(items) != message.content:
        return None
    # A reasoning item is only valid followed by the item it led to; a turn cut off after reasoning
    # (max_output_tokens) ends in one, which the API would refuse.
    while items and items[-1]["type"] == "reasoning":
        items.pop()
    return items or None


def _assistant_items(message: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if message.content:
        items.append({"role": "assistant", "content": message.content})
    items.extend(
        {
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
            # Always valid JSON, as on Chat Completions; the tool error already told the model what was wrong.
            "arguments": json.dumps(call.arguments),
        }
        for call in message.tool_calls
    )
    return items


def from_wire_input(
    items: list[dict[str, Any]], instructions: str | None = None
) -> tuple[str, list[Message]]:
    """Inverse of `to_wire_input`: read a recorded request back into (system, messages)."""
    messages: list[Message] = []
    names: dict[str, str] = {}
    turn: list[dict[str, Any]] = []

    def close_turn() -> None:
        if turn:
            message = _assistant_from_items(list(turn))
            names.update({call.id: call.name for call in message.tool_calls})
            messages.append(message)
            turn.clear()

    for item in items:
        kind = item.get("type")
        role = item.get("role")
        if kind in ("reasoning", "function_call") or (role == "assistant"):
            turn.append(item)
            continue
        close_turn()
        if kind == "function_call_output":
            call_id = str(item.get("call_id") or "")
            text = _content_text(item.get("output"))
            is_error = text.startswith(TOOL_ERROR_PREFIX)
            messages.append(
                Message(
                    "tool",
                    text[len(TOOL_ERROR_PREFIX) :] if is_error else text,
                    tool_call_id=call_id,
                    name=names.get(call_id),
                    is_error=is_error,
                )
            )
        elif role == "user":
            messages.append(Message("user", _content_text(item.get("content"))))
    close_turn()
    return instructions or "", messages


def check_status(data: dict[str, Any], label: str) -> None:
    """A reply with status `failed`: `RetryableReply` for transient causes, `ProviderRejected` otherwise."""
    if data.get("status") != "failed":
        return
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    code = str(error.get("code") or "unknown")
    text = f"the reply failed ({code}): {error.get('message') or 'no reason given'}"
    if code in _TRANSIENT_FAILURES:
        raise RetryableReply(text)
    raise ProviderRejected(f"{label}: {text}")


def parse_response(data: dict[str, Any], requested_model: str) -> ParsedReply:
    """Read a Responses API reply (as a dict) into neutral types; its output items go to provider_state."""
    output = [item for item in data.get("output") or [] if isinstance(item, dict)]
    message = _assistant_from_items(output)
    refused = any(
        part.get("type") == "refusal"
        for item in output
        if item.get("type") == "message"
        for part in item.get("content") or []
        if isinstance(part, dict)
    )
    details = data.get("incomplete_details") if isinstance(data.get("incomplete_details"), dict) else {}
    if message.tool_calls:
        stop_reason = TOOL_USE
    elif refused:
        stop_reason = REFUSAL
    elif data.get("status") == "incomplete":
        reason = str(details.get("reason") or "incomplete")
        stop_reason = _INCOMPLETE_REASONS.get(reason, reason)
    else:
        stop_reason = END_TURN
    return ParsedReply(
        message=message,
        usage=_usage_from_wire(data.get("usage") or {}),
        stop_reason=stop_reason,
        model=data.get("model") or requested_model,
    )


def _assistant_from_items(items: list[dict[str, Any]]) -> Message:
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    kept: list[dict[str, Any]] = []
    has_reasoning = False
    for item in items:
        kind = item.get("type") or ("message" if item.get("role") == "assistant" else None)
        if kind not in _REPLAYABLE:
            continue
        if kind == "reasoning":
            has_reasoning = True
            thoughts.extend(_reasoning_texts(item))
        elif kind == "function_call":
            calls.append(_tool_call(item, len(calls)))
        kept.append(_without_nulls(item))
    message = Message(
        "assistant", _message_text(kept), tool_calls=calls, reasoning="\n\n".join(thoughts) or None
    )
    if has_reasoning:
        message.provider_state[STATE_KEY] = {"items": kept}
    return message


def _reasoning_texts(item: dict[str, Any]) -> list[str]:
    """Summary parts; or the raw reasoning text some compatible servers return instead."""
    summary = [p.get("text") for p in item.get("summary") or [] if isinstance(p, dict) and p.get("text")]
    if summary:
        return [str(text).strip() for text in summary]
    return [
        str(p.get("text")).strip()
        for p in item.get("content") or []
        if isinstance(p, dict) and p.get("type") == "reasoning_text" and p.get("text")
    ]


def _message_text(items: list[dict[str, Any]]) -> str:
    """The turn's answer text: output_text parts of its messages, or the refusal when that is all."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in items:
        if item.get("type", "message") != "message" or item.get("role", "assistant") != "assistant":
            continue
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content or []:
            if not isinstance(part, dict):
                continue
            if part.get("type") in ("output_text", "input_text", "text"):
                texts.append(str(part.get("text") or ""))
            elif part.get("type") == "refusal":
                refusals.append(str(part.get("refusal") or ""))
    return "".join(texts) or "".join(refusals)


def _tool_call(item: dict[str, Any], index: int) -> ToolCall:
    raw = item.get("arguments")
    raw_text = raw if isinstance(raw, str) else json.dumps(raw if raw is not None else {})
    arguments, error = parse_arguments(raw_text)
    return ToolCall(
        id=str(item.get("call_id") or item.get("id") or f"call_{index}"),
        name=str(item.get("name") or ""),
        arguments=arguments,
        raw_arguments=raw_text,
        error=error,
    )


def _usage_from_wire(usage: dict[str, Any]) -> Usage:
    """Responses usage: `input_tokens` counts cached ones too; `output_tokens` counts reasoning too."""
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        cached_input_tokens=int(input_details.get("cached_tokens") or 0),
        cache_write_tokens=int(input_details.get("cache_write_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        reasoning_tokens=int(output_details.get("reasoning_tokens") or 0),
    )


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))


def _without_nulls(value: Any) -> Any:
    """A JSON value without null fields: the API rejects some of them (e.g. `content: null`) as input."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
