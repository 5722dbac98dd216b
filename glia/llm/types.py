"""Provider-neutral conversation types.

Agents build conversations only from these types; adapters translate them to and from each provider's
wire format. Keeping one format means transcripts, tests and budgets never care which provider runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: name, description and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ToolCall:
    """One tool call from an assistant turn.

    `arguments` is the parsed JSON object; when the model sent something unusable, `error` says why
    (bad JSON, unknown tool, missing field) and the caller answers with a tool error the model can fix.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str = ""
    error: str | None = None


@dataclass
class Message:
    """One conversation message.

    - user: `content` is the text (supervisor words arrive as user messages, marked in the text).
    - assistant: `content` text, optional `reasoning` summary, `tool_calls`.
    - tool: the result of the tool call `tool_call_id`; `is_error` marks a failed call.
    """

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    reasoning: str | None = None
    # Opaque wire data an adapter must send back unchanged with this turn on later calls: Anthropic
    # thinking blocks (signed), OpenAI Responses reasoning items (encrypted). One key per adapter, so a
    # conversation that changes provider keeps each adapter's state apart. JSON-serialisable; agents
    # and transcripts store it as-is and never interpret it.
    provider_state: dict[str, Any] = field(default_factory=dict)


@dataclass
class Usage:
    """Token counts of one call. `cached_input_tokens` is the part of `input_tokens` served from cache."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.output_tokens + other.output_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass
class LLMResponse:
    """An assistant turn plus what it cost. `cost_usd` is None when the model's price is unknown."""

    message: Message
    usage: Usage
    stop_reason: str
    model: str
    latency_s: float
    cost_usd: float | None = None
    retries: int = 0


class LLMProvider(Protocol):
    """What agents need from a model: one completion call over the neutral format."""

    model: str

    def complete(
        self,
        system: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        max_output_tokens: int | None = None,
    ) -> LLMResponse: ...


class LLMError(Exception):
    """A model call failed for good (after retries, or at once for non-retryable errors)."""


class ContextLengthExceeded(LLMError):
    """The conversation no longer fits the model's context window: end or compact the context."""


class MissingAPIKey(LLMError):
    """No key in the environment for the chosen provider; the message names the variable to set."""


class UnknownModel(LLMError):
    """A model string that names no known provider."""


class ProviderRejected(LLMError):
    """The provider refused the request (bad key, no permission, unknown model, invalid request).

    Raised at once: retrying cannot help. The message carries the provider's own explanation.
    """


class RetriesExhausted(LLMError):
    """Transient failures (rate limits, overload, 5xx, timeouts) outlasted the retry budget."""


class EndpointError(LLMError):
    """The endpoint is not a working model API (bad URL, nothing listening, wrong kind of server).

    `fix` says what the user can change; the CLI prints it under the one-line message.
    """

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class InvalidBaseURL(EndpointError):
    """A base URL that cannot be requested at all (no http:// or https:// scheme, no host)."""


class EndpointUnreachable(RetriesExhausted, EndpointError):
    """Nothing answered at the endpoint (connection refused, unknown host, timeouts) after retries."""


class EndpointUnsupported(EndpointError):
    """The server answered that it does not implement the API's route (HTTP 501, or 404/405 without an
    API error body): a different kind of server, or a base URL missing its `/v1`. Not retried."""


class MalformedReply(EndpointError):
    """The server answered, but not in the protocol: an HTML page, a non-JSON body, or JSON without
    the reply's required fields (`choices`, `output`, `content`). Not retried: it will not change."""
