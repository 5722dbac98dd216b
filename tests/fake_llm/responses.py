"""The fake's OpenAI Responses API (/v1/responses): replies as output items, and the API's replay rules.

Written from the public API reference, independently of `glia.llm`. A reply is a list of output items:
a `reasoning` item (summary parts only when the request asked for summaries; `encrypted_content` only
when it asked for `include: ["reasoning.encrypted_content"]`), a `message` item, `function_call` items.

With `store: false` the real API remembers nothing, so it checks what clients send back. The fake keeps
a ledger of what it issued and refuses, with the real API's kind of 400, input that breaks those rules:
a reasoning item it never issued or without its encrypted content, encrypted content that was altered,
a reasoning item not followed by the item that followed it in the output, an output item sent back
without the reasoning item that preceded it, a function_call_output without its function_call, and a
function_call without its output.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fake_llm.script import Reply, reasoning_parts
from tests.fake_llm.wire import IdSource, WireResponse, arguments_text, reply_tokens

ENCRYPTED_REASONING = "reasoning.encrypted_content"
_INCOMPLETE = {"max_tokens": "max_output_tokens", "content_filter": "content_filter"}


@dataclass
class _Issued:
    encrypted_content: str
    successor: str | None  # id of the output item that followed the reasoning item, if any


@dataclass
class ReasoningLedger:
    """Every reasoning item the fake issued, and which reasoning item each later output item needs."""

    reasoning: dict[str, _Issued] = field(default_factory=dict)
    needs_reasoning: dict[str, str] = field(default_factory=dict)  # output item id -> reasoning id
    lock: threading.Lock = field(default_factory=threading.Lock)


def encode_responses_reply(
    item: Reply, model: str, request_body: dict[str, Any], ids: IdSource, ledger: ReasoningLedger
) -> WireResponse:
    input_tokens, output_tokens, stop = reply_tokens(item, request_body)
    output: list[dict[str, Any]] = []
    reasoning_id: str | None = None
    if item.reasoning is not None or item.reasoning_tokens:
        reasoning_id = ids("rs_")
        output.append(_reasoning_item(item, reasoning_id, request_body))
    if item.text:
        output.append(
            {
                "id": ids("msg_"),
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": item.text, "annotations": [], "logprobs": []}],
            }
        )
    for call in item.tool_calls:
        output.append(
            {
                "id": ids("fc_"),
                "type": "function_call",
                "call_id": call.id or ids("call_"),
                "name": call.name,
                "arguments": arguments_text(call.arguments),
                "status": "completed",
            }
        )
    if reasoning_id is not None:
        _remember(ledger, reasoning_id, output)
    incomplete = _INCOMPLETE.get(stop)
    body = {
        "id": ids("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "instructions": request_body.get("instructions"),
        "max_output_tokens": request_body.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "reasoning": request_body.get("reasoning") or {"effort": None, "summary": None},
        "store": bool(request_body.get("store", True)),
        "temperature": request_body.get("temperature"),
        "tool_choice": "auto",
        "tools": request_body.get("tools") or [],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": item.cached_input_tokens},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": item.reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
    }
    return WireResponse(200, body, {})


def _reasoning_item(item: Reply, reasoning_id: str, request_body: dict[str, Any]) -> dict[str, Any]:
    asked = request_body.get("reasoning") or {}
    summary = (
        [{"type": "summary_text", "text": part} for part in reasoning_parts(item)]
        if asked.get("summary")
        else []
    )
    result: dict[str, Any] = {"id": reasoning_id, "type": "reasoning", "summary": summary}
    if ENCRYPTED_REASONING in (request_body.get("include") or []):
        digest = hashlib.sha256(f"{reasoning_id}:{reasoning_parts(item)}".encode()).hexdigest()
        result["encrypted_content"] = f"gAAAAB-fake-{digest}"
    return result


def _remember(ledger: ReasoningLedger, reasoning_id: str, output: list[dict[str, Any]]) -> None:
    position = next(i for i, entry in enumerate(output) if entry["id"] == reasoning_id)
    successor = output[position + 1]["id"] if position + 1 < len(output) else None
    encrypted = str(output[position].get("encrypted_content") or "")
    with ledger.lock:
        ledger.reasoning[reasoning_id] = _Issued(encrypted, successor)
        for entry in output[position + 1 :]:
            ledger.needs_reasoning[entry["id"]] = reasoning_id


def replay_problem(request_body: dict[str, Any], ledger: ReasoningLedger) -> str | None:
    """The real API's complaint about the request's input items, or None when they follow the rules."""
    items = request_body.get("input")
    if not isinstance(items, list):
        return None
    with ledger.lock:
        issued = dict(ledger.reasoning)
        needs = dict(ledger.needs_reasoning)
    seen_reasoning: set[str] = set()
    calls: list[str] = []
    answered: set[str] = set()
    for position, entry in enumerate(items):
        kind = entry.get("type") or "message"
        item_id = entry.get("id")
        if kind == "reasoning":
            problem = _reasoning_problem(entry, items[position + 1 : position + 2], issued)
            if problem:
                return problem
            seen_reasoning.add(str(item_id))
        elif item_id in needs and needs[item_id] not in seen_reasoning:
            return (
                f"Item '{item_id}' of type '{kind}' was provided without its required 'reasoning' item: "
                f"'{needs[item_id]}'."
            )
        if kind == "function_call":
            calls.append(str(entry.get("call_id")))
        elif kind == "function_call_output":
            call_id = str(entry.get("call_id"))
            if call_id not in calls:
                return f"No tool call found for function call output with call_id {call_id}."
            answered.add(call_id)
    unanswered = [call_id for call_id in calls if call_id not in answered]
    if unanswered:
        return f"No tool output found for function call {unanswered[0]}."
    return None


def _reasoning_problem(
    entry: dict[str, Any], following: list[dict[str, Any]], issued: dict[str, _Issued]
) -> str | None:
    item_id = str(entry.get("id"))
    record = issued.get(item_id)
    if record is None or not entry.get("encrypted_content"):
        return (
            f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to false. "
            "Try again with `store` set to true, or remove this item from your input."
        )
    if entry["encrypted_content"] != record.encrypted_content:
        return f"The encrypted content for item {item_id} could not be verified."
    if not following or record.successor is None or following[0].get("id") != record.successor:
        return f"Item '{item_id}' of type 'reasoning' was provided without its required following item."
    return None
