"""Scripted replies and faults written in each provider's real JSON shapes.

Written independently of `glia.llm`'s adapters, from the public API references, so the adapters are
tested against the protocols rather than against themselves.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from tests.fake_llm.script import Fault, Reply, reasoning_text

OPENAI = "openai"
ANTHROPIC = "anthropic"
RESPONSES = "openai-responses"  # OpenAI's Responses API (/v1/responses); errors look like OPENAI's

_OPENAI_FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}
_ANTHROPIC_STOP = {"content_filter": "refusal"}


@dataclass(frozen=True)
class WireResponse:
    """What to send. `raw` replaces the JSON body (HTML pages, broken JSON) with its `content_type`."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes | None = None
    content_type: str = "application/json"

    def payload(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.body).encode()


NGINX_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n"
    "<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully "
    "installed and working.</p>\n</body>\n</html>\n"
)
UNSUPPORTED_PAGE = (
    '<!DOCTYPE HTML>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error response</title>\n'
    "</head>\n<body>\n<h1>Error response</h1>\n<p>Error code: 501</p>\n"
    "<p>Message: Unsupported method ('POST').</p>\n</body>\n</html>\n"
)


class IdSource:
    """Unique ids for responses and tool calls within one server."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next:06d}"


def encode_reply(
    protocol: str, item: Reply, model: str, request_body: dict[str, Any], ids: IdSource
) -> WireResponse:
    """A chat completion or an Anthropic message (the Responses protocol lives in responses.py)."""
    input_tokens, output_tokens, stop = reply_tokens(item, request_body)
    if protocol == OPENAI:
        body = _openai_completion(item, model, stop, input_tokens, output_tokens, ids)
    else:
        body = _anthropic_message(item, model, stop, input_tokens, output_tokens, ids)
    return WireResponse(200, body, {})


def reply_tokens(item: Reply, request_body: dict[str, Any]) -> tuple[int, int, str]:
    """(input tokens, output tokens, neutral stop reason) of a scripted reply, estimated when not given."""
    input_tokens = item.input_tokens if item.input_tokens is not None else _estimate_tokens(request_body)
    if item.output_tokens is not None:
        output_tokens = item.output_tokens
    else:
        reply_size = item.text + "".join(arguments_text(call.arguments) for call in item.tool_calls)
        output_tokens = max(1, len(reply_size) // 4) + item.reasoning_tokens
    return input_tokens, output_tokens, item.stop_reason or ("tool_use" if item.tool_calls else "end_turn")


def _openai_completion(
    item: Reply, model: str, stop: str, input_tokens: int, output_tokens: int, ids: IdSource
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": item.text or None, "refusal": None}
    if item.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id or ids("call_"),
                "type": "function",
                "function": {"name": call.name, "arguments": arguments_text(call.arguments)},
            }
            for call in item.tool_calls
        ]
    if item.reasoning:
        message["reasoning_content"] = reasoning_text(item)  # as vLLM / DeepSeek-style servers send it
    return {
        "id": ids("chatcmpl-fake"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": _OPENAI_FINISH.get(stop, stop),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "prompt_tokens_details": {"cached_tokens": item.cached_input_tokens},
            "completion_tokens_details": {"reasoning_tokens": item.reasoning_tokens},
        },
    }


def _anthropic_message(
    item: Reply, model: str, stop: str, input_tokens: int, output_tokens: int, ids: IdSource
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if item.reasoning:
        content.append(
            {"type": "thinking", "thinking": reasoning_text(item), "signature": f"fake-signature-{ids('')}"}
        )
    if item.text:
        content.append({"type": "text", "text": item.text})
    for call in item.tool_calls:
        # A str `input` stays as sent: the real API never does this, a misbehaving proxy might.
        content.append(
            {"type": "tool_use", "id": call.id or ids("toolu_"), "name": call.name, "input": call.arguments}
        )
    uncached = max(input_tokens - item.cached_input_tokens - item.cache_write_tokens, 0)
    return {
        "id": ids("msg_fake"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _ANTHROPIC_STOP.get(stop, stop),
        "stop_sequence": None,
        "usage": {
            "input_tokens": uncached,
            "cache_creation_input_tokens": item.cache_write_tokens,
            "cache_read_input_tokens": item.cached_input_tokens,
            "output_tokens": output_tokens,
        },
    }


def encode_fault(protocol: str, item: Fault, model: str) -> WireResponse:
    """Status, error body and headers as the real provider sends them for this fault."""
    headers = dict(item.headers)
    if item.retry_after is not None:
        headers["retry-after"] = _seconds_text(item.retry_after)
    misconfigured = _misconfigured_endpoint(item, headers)
    if misconfigured is not None:
        return misconfigured
    status, openai_error, anthropic_error = _fault_shape(item, model)
    if item.kind == "quota" and protocol == ANTHROPIC:
        status = 400  # Anthropic refuses the request outright
    if protocol in (OPENAI, RESPONSES):
        error_type, code, message = openai_error
        body: dict[str, Any] = {
            "error": {"message": message, "type": error_type, "param": None, "code": code}
        }
    else:
        error_type, message = anthropic_error
        body = {"type": "error", "error": {"type": error_type, "message": message}}
    return WireResponse(status, body, headers)


def error_response(protocol: str, status: int, message: str) -> WireResponse:
    """A plain error in the protocol's shape, used for the fake's own complaints (script ran out)."""
    kind = "invalid_request_error" if status < 500 else "api_error"
    if status == 404:
        kind = "not_found_error" if protocol == ANTHROPIC else "invalid_request_error"
    if protocol in (OPENAI, RESPONSES):
        return WireResponse(
            status, {"error": {"message": message, "type": kind, "param": None, "code": None}}, {}
        )
    return WireResponse(status, {"type": "error", "error": {"type": kind, "message": message}}, {})


def _misconfigured_endpoint(item: Fault, headers: dict[str, str]) -> WireResponse | None:
    """What a server that is not a model API answers: a web page, broken JSON, the wrong JSON, a 501."""
    if item.kind == "html":
        page = item.message or NGINX_PAGE
        return WireResponse(item.status or 200, {}, headers, page.encode(), "text/html; charset=utf-8")
    if item.kind == "not_json":
        text = item.message or "upstream connect error or disconnect/reset before headers"
        return WireResponse(item.status or 200, {}, headers, text.encode(), "application/json")
    if item.kind == "no_choices":
        body = {"status": "ok", "detail": item.message or "service is running"}
        return WireResponse(item.status or 200, body, headers)
    if item.kind == "no_route":
        return WireResponse(404, {"detail": item.message or "Not Found"}, headers)
    if item.kind == "not_implemented":
        page = item.message or UNSUPPORTED_PAGE
        return WireResponse(501, {}, headers, page.encode(), "text/html;charset=utf-8")
    return None


def _fault_shape(item: Fault, model: str) -> tuple[int, tuple[str, str | None, str], tuple[str, str]]:
    """(status, (openai type, openai code, message), (anthropic type, message)) for a fault kind."""
    kind = item.kind
    if kind == "rate_limit":
        text = item.message or f"Rate limit reached for {model} on tokens per min. Please try again later."
        return 429, ("tokens", "rate_limit_exceeded", text), ("rate_limit_error", text)
    if kind == "quota":
        openai_text = item.message or (
            "You exceeded your current quota, please check your plan and billing details."
        )
        anthropic_text = item.message or "Your credit balance is too low to access the Anthropic API."
        return (
            429,
            ("insufficient_quota", "insufficient_quota", openai_text),
            ("invalid_request_error", anthropic_text),
        )
    if kind == "server_error":
        text = item.message or "The server had an error while processing your request."
        return 500, ("server_error", None, text), ("api_error", text)
    if kind == "overloaded":
        text = item.message or "Overloaded"
        return (
            529 if item.status is None else item.status,
            ("server_error", None, text),
            ("overloaded_error", text),
        )
    if kind == "context_length":
        openai_text = item.message or (
            "This model's maximum context length is 128000 tokens. However, your messages resulted in "
            "131072 tokens. Please reduce the length of the messages."
        )
        anthropic_text = item.message or "prompt is too long: 210345 tokens > 200000 maximum"
        return (
            400,
            ("invalid_request_error", "context_length_exceeded", openai_text),
            ("invalid_request_error", anthropic_text),
        )
    if kind == "auth":
        text = item.message or "Incorrect API key provided."
        return 401, ("invalid_request_error", "invalid_api_key", text), ("authentication_error", text)
    if kind == "permission":
        text = item.message or "Your API key does not have permission to use this model."
        return 403, ("invalid_request_error", None, text), ("permission_error", text)
    if kind == "not_found":
        text = item.message or f"The model `{model}` does not exist or you do not have access to it."
        return 404, ("invalid_request_error", "model_not_found", text), ("not_found_error", text)
    if kind == "bad_request":
        text = item.message or "Invalid request: messages: field required"
        return 400, ("invalid_request_error", None, text), ("invalid_request_error", text)
    status = item.status or 500
    text = item.message or f"fake status {status}"
    error_type = "api_error" if status >= 500 else "invalid_request_error"
    return status, (error_type, None, text), (error_type, text)


def arguments_text(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _estimate_tokens(request_body: dict[str, Any]) -> int:
    """About four characters per token over the prompt parts of the request (any of the protocols)."""
    parts = [request_body.get("system"), request_body.get("messages"), request_body.get("tools")]
    parts += [request_body[key] for key in ("instructions", "input") if key in request_body]
    prompt = json.dumps(parts)
    return max(1, len(prompt) // 4)


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
