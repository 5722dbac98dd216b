"""What a scripted fake model says: replies (text, tool calls, usage) and faults to inject.

Protocol-neutral on purpose: one script drives an OpenAI-style or an Anthropic-style client alike.
Usage follows Glia's convention: `input_tokens` counts every prompt token, cached ones included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = (
    "rate_limit",  # 429 with Retry-After
    "quota",  # no credit left: OpenAI's 429 insufficient_quota, Anthropic's 400 "credit balance is too low"
    "server_error",  # 500
    "overloaded",  # Anthropic 529 overloaded_error; OpenAI-style 503
    "slow",  # answers only after `delay_s`, beyond a short client timeout
    "disconnect",  # closes the connection without an answer
    "context_length",  # each provider's real "prompt too long" error
    "auth",  # 401 bad key
    "permission",  # 403
    "not_found",  # 404 unknown model
    "bad_request",  # 400 invalid request
    "status",  # any other status code, given as `status`
    # Endpoint misconfigurations: not a model API at all (see tests/llm/test_endpoint.py)
    "html",  # an HTML page (status 200 unless given), as a web server at the wrong URL answers
    "not_json",  # a body that is not JSON although it says it is
    "no_choices",  # JSON of the wrong shape: no `choices` / `output` / `content`
    "not_implemented",  # 501 with the HTML error page of a server without the route
    "no_route",  # 404 {"detail": "Not Found"}: a web framework (FastAPI, as in vLLM) without the route
)


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call the fake model makes. `arguments` as a str is sent verbatim (e.g. broken JSON)."""

    name: str
    arguments: dict[str, Any] | str
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One successful model turn.

    `reasoning` is the model's thinking: Anthropic thinking text, the `reasoning_content` of compatible
    chat servers, or a Responses API reasoning item whose summary parts are the tuple's strings (a
    plain string is one part). The Responses protocol also emits a reasoning item (without summary)
    when only `reasoning_tokens` is set.
    """

    text: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    reasoning: str | tuple[str, ...] | None = None
    stop_reason: str | None = None  # neutral name; default end_turn, or tool_use when calling tools
    input_tokens: int | None = None  # None: estimated from the request size
    output_tokens: int | None = None  # None: estimated from the reply size
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    delay_s: float = 0.0


@dataclass(frozen=True)
class Fault:
    """A failure to serve instead of a reply; see FAULT_KINDS."""

    kind: str
    retry_after: float | None = None
    delay_s: float = 0.0
    status: int | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def tool_call(
    name: str, arguments: dict[str, Any] | str | None = None, *, id: str | None = None
) -> FakeToolCall:
    """A tool call; pass a string for `arguments` to send malformed JSON on purpose."""
    return FakeToolCall(name=name, arguments={} if arguments is None else arguments, id=id)


def reply(
    text: str = "",
    tool_calls: list[FakeToolCall] | tuple[FakeToolCall, ...] = (),
    *,
    reasoning: str | list[str] | tuple[str, ...] | None = None,
    stop_reason: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    delay_s: float = 0.0,
) -> Reply:
    return Reply(
        text=text,
        tool_calls=tuple(tool_calls),
        reasoning=tuple(reasoning) if isinstance(reasoning, list) else reasoning,
        stop_reason=stop_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        reasoning_tokens=reasoning_tokens,
        delay_s=delay_s,
    )


def fault(
    kind: str,
    *,
    retry_after: float | None = None,
    delay_s: float = 5.0,
    status: int | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> Fault:
    """A fault. `retry_after` (seconds) is sent as Retry-After; `delay_s` is used by "slow" only;
    `status` overrides the HTTP status of "html", "not_json" and "no_choices" (default 200);
    `message` replaces the default body text of every kind."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
    if kind == "status" and status is None:
        raise ValueError('fault("status") needs status=<HTTP code>')
    return Fault(
        kind=kind,
        retry_after=retry_after,
        delay_s=delay_s if kind == "slow" else 0.0,
        status=status,
        message=message,
        headers=dict(headers or {}),
    )


def reasoning_parts(item: Reply) -> tuple[str, ...]:
    """The reply's reasoning as summary parts (empty when it has none)."""
    if item.reasoning is None:
        return ()
    return (item.reasoning,) if isinstance(item.reasoning, str) else tuple(item.reasoning)


def reasoning_text(item: Reply) -> str | None:
    """The reply's reasoning as one text, for protocols that carry it in one piece."""
    parts = reasoning_parts(item)
    return "\n\n".join(parts) if parts else None
