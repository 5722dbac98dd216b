"""What every provider adapter shares: retries, timing, reply checks, tool-call checks, cost, the call log.

An adapter only says how to send one request (`_send`) and how to read the reply (`_parse`); the
call around it is the same for all providers, so behaviour cannot drift between them. Reply bodies are
read here, not by the SDK's models, so an HTML page or a JSON body of the wrong shape becomes a
`MalformedReply` naming the endpoint instead of an AttributeError deep inside an adapter.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from glia.llm.endpoint import decode_reply, malformed_fix
from glia.llm.pricing import PriceTable
from glia.llm.retry import RetryPolicy, call_with_retries
from glia.llm.tool_calls import validate_tool_calls
from glia.llm.types import LLMResponse, Message, ToolSpec, Usage

_log = structlog.get_logger("glia.llm")

# Neutral stop reasons every adapter maps to; anything else is passed through as the provider said it.
END_TURN = "end_turn"
TOOL_USE = "tool_use"
MAX_TOKENS = "max_tokens"
CONTENT_FILTER = "content_filter"
REFUSAL = "refusal"


@dataclass(frozen=True)
class GenerationOptions:
    """Per-provider knobs fixed at construction; `max_output_tokens` may be lowered per call."""

    max_output_tokens: int = 16000
    temperature: float | None = None
    reasoning_effort: str | None = None  # OpenAI reasoning models; None: the model's own default
    reasoning_summary: str | None = "auto"  # OpenAI Responses API; None: no summaries asked for
    thinking_budget: int | None = None  # Anthropic extended thinking; None: off
    timeout_s: float = 600.0


@dataclass
class ParsedReply:
    """An adapter's reading of one wire response, before cost and checks are added."""

    message: Message
    usage: Usage
    stop_reason: str
    model: str


class BaseProvider(ABC):
    """A thread-safe `LLMProvider`: one SDK client shared by all threads, counters under a lock."""

    provider_name: ClassVar[str]
    key_env_var: ClassVar[str]
    sdk_client: ClassVar[Any]  # the official SDK's client class (openai.OpenAI, anthropic.Anthropic)
    api_name: ClassVar[str]  # which API of the provider this adapter speaks, for messages and logs
    reply_field: ClassVar[str]  # the list every well-formed reply holds ("choices", "content", "output")
    reply_name: ClassVar[str]  # what a reply is called in error messages ("a chat completion")
    reply_field_non_empty: ClassVar[bool] = False

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None,
        options: GenerationOptions,
        retry_policy: RetryPolicy,
        prices: PriceTable,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.options = options
        self.retry_policy = retry_policy
        self.prices = prices
        # max_retries=0: retries live in glia.llm.retry only.
        self._client = self.sdk_client(
            api_key=api_key, base_url=base_url, timeout=options.timeout_s, max_retries=0
        )
        self._counter_lock = threading.Lock()
        self.calls = 0
        self.malformed_tool_calls = 0

    def complete(
        self,
        system: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        max_output_tokens: int | None = None,
    ) -> LLMResponse:
        """One model turn. `latency_s` is the whole call, retries and their waits included."""
        tools = list(tools or [])
        limit = max_output_tokens or self.options.max_output_tokens
        started = time.monotonic()
        data, retries = call_with_retries(
            lambda: self._request(system, messages, tools, limit),
            self.retry_policy,
            model=self.label,
            key_env_var=self.key_env_var,
            base_url=self.base_url,
        )
        reply = self._parse(data)
        malformed = validate_tool_calls(reply.message, tools)
        latency = time.monotonic() - started
        cost = self.prices.cost(reply.usage, self.model, reply.model)
        with self._counter_lock:
            self.calls += 1
            self.malformed_tool_calls += malformed
        _log.info(
            "llm_call",
            provider=self.provider_name,
            api=self.api_name,
            model=self.model,
            served_by=reply.model,
            input_tokens=reply.usage.input_tokens,
            cached_input_tokens=reply.usage.cached_input_tokens,
            cache_write_tokens=reply.usage.cache_write_tokens,
            output_tokens=reply.usage.output_tokens,
            reasoning_tokens=reply.usage.reasoning_tokens,
            cost_usd=cost,
            latency_s=round(latency, 3),
            retries=retries,
            stop_reason=reply.stop_reason,
            tool_calls=len(reply.message.tool_calls),
            malformed_tool_calls=malformed,
        )
        return LLMResponse(
            message=reply.message,
            usage=reply.usage,
            stop_reason=reply.stop_reason,
            model=reply.model,
            latency_s=latency,
            cost_usd=cost,
            retries=retries,
        )

    @property
    def label(self) -> str:
        """`provider:model`, as the user wrote it; every error message starts with it."""
        return f"{self.provider_name}:{self.model}"

    def _request(
        self, system: str, messages: list[Message], tools: list[ToolSpec], max_output_tokens: int
    ) -> dict[str, Any]:
        """One attempt: send, then read the body as the protocol's JSON (or raise `MalformedReply`)."""
        http = self._send(system, messages, tools, max_output_tokens)
        data = decode_reply(
            status=http.status_code,
            content_type=http.headers.get("content-type", ""),
            text=http.text,
            url=str(http.url),
            model=self.label,
            required=self.reply_field,
            what=self.reply_name,
            fix=malformed_fix(self.base_url is not None),
            non_empty=self.reply_field_non_empty,
        )
        self._check_reply(data)
        return data

    def _check_reply(self, data: dict[str, Any]) -> None:  # noqa: B027 (optional hook, no-op by default)
        """Raise `RetryableReply` for a reply that reports a transient failure of its own."""

    @abstractmethod
    def _send(
        self, system: str, messages: list[Message], tools: list[ToolSpec], max_output_tokens: int
    ) -> Any:
        """Make one HTTP request through the SDK and return its HTTP response (the SDK's
        `with_raw_response`); raise the SDK's errors unchanged."""

    @abstractmethod
    def _parse(self, data: dict[str, Any]) -> ParsedReply:
        """Read the reply's JSON into neutral types."""
