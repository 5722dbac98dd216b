"""The one retry policy for model calls, and how SDK errors become Glia errors.

Both SDKs are built with their own retries switched off (max_retries=0), so what is retried, how long
we wait and when we give up is decided here only:

- retried with exponential backoff, at least as long as the server's Retry-After: connection errors,
  timeouts, HTTP 408 / 409 / 429 and every 5xx (including Anthropic's 529 "overloaded"), and a reply
  the provider itself marks as failed for a transient reason (`RetryableReply`);
- a prompt that no longer fits the context window -> `ContextLengthExceeded`, at once;
- a server that does not implement the route (501, 505; 404 / 405 without an API error body) ->
  `EndpointUnsupported`, at once; an HTML page where an API error belongs (a web server, not a model
  API; except 502 / 503 / 504, which proxies serve while a backend restarts) -> `MalformedReply`, at once;
- a URL that cannot be requested (no scheme) -> `InvalidBaseURL`, at once;
- any other refusal (401, 403, 404, 400, 422, a 429 for an exhausted quota, ...) -> `ProviderRejected`,
  at once, with the provider's own message;
- attempts and the total time spent sleeping are both bounded -> `RetriesExhausted`, or its subclass
  `EndpointUnreachable` when the last attempt could not connect at all.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anthropic
import openai
import structlog
import tenacity

from glia.llm.endpoint import (
    describe_body,
    describe_json,
    looks_like_html,
    malformed_fix,
    unreachable_fix,
    unsupported_fix,
)
from glia.llm.types import (
    ContextLengthExceeded,
    EndpointUnreachable,
    EndpointUnsupported,
    InvalidBaseURL,
    LLMError,
    MalformedReply,
    ProviderRejected,
    RetriesExhausted,
)

T = TypeVar("T")

_log = structlog.get_logger("glia.llm.retry")

_CONNECTION_ERRORS = (openai.APIConnectionError, anthropic.APIConnectionError)  # timeouts included
_STATUS_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_UNSUPPORTED_STATUS = frozenset({501, 505})
_GATEWAY_STATUS = frozenset({502, 503, 504})  # proxies answer these with HTML while a backend restarts
_ROUTE_MISSING_STATUS = frozenset({404, 405})
# httpx's names for a URL it cannot request at all (no scheme, bad host): retrying cannot help.
_BAD_URL_ERRORS = frozenset({"UnsupportedProtocol", "InvalidURL", "LocalProtocolError"})
# Phrases servers use for an over-long prompt: OpenAI, Anthropic, vLLM, llama.cpp, generic proxies.
_CONTEXT_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "prompt is too long",
    "context window",
    "context size",
    "too many tokens",
)


class ErrorKind(enum.Enum):
    RETRY = "retry"
    CONTEXT_LENGTH = "context_length"
    REJECTED = "rejected"
    UNSUPPORTED = "unsupported"
    MALFORMED = "malformed"
    INVALID_URL = "invalid_url"


class RetryableReply(Exception):
    """A well-formed reply that reports a transient failure of its own (a Responses API reply with
    status `failed` and a server error): retried like a 5xx."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for one call: attempts in all, and seconds spent waiting between them in all."""

    max_attempts: int = 6
    max_total_wait_s: float = 120.0
    initial_wait_s: float = 1.0
    max_wait_per_retry_s: float = 60.0
    jitter_s: float = 1.0
    log_level: str = "warning"  # of the line logged before each retry; quieter for pre-run checks


def classify(exc: BaseException) -> ErrorKind | None:
    """What to do about an SDK error; None for exceptions that are not API errors (let them raise)."""
    if isinstance(exc, RetryableReply):
        return ErrorKind.RETRY
    if isinstance(exc, _CONNECTION_ERRORS):
        cause = exc.__cause__ or exc.__context__
        if cause is not None and type(cause).__name__ in _BAD_URL_ERRORS:
            return ErrorKind.INVALID_URL
        return ErrorKind.RETRY
    if not isinstance(exc, _STATUS_ERRORS):
        return None
    status = exc.status_code
    api_error = _is_api_error(getattr(exc, "body", None))
    if status == 413 or (status in (400, 422) and _mentions_context_length(exc)):
        return ErrorKind.CONTEXT_LENGTH
    if status in _UNSUPPORTED_STATUS or (status in _ROUTE_MISSING_STATUS and not api_error):
        return ErrorKind.UNSUPPORTED
    if status == 429 and _error_field(exc, "code") == "insufficient_quota":
        return ErrorKind.REJECTED  # no credit left: waiting does not add any
    if status >= 500 and status not in _GATEWAY_STATUS and not api_error and _body_is_html(exc):
        return ErrorKind.MALFORMED
    if status in _RETRYABLE_STATUS or status >= 500 or _error_field(exc, "type") == "overloaded_error":
        return ErrorKind.RETRY
    return ErrorKind.REJECTED


def retry_after_s(exc: BaseException) -> float | None:
    """The server's requested pause (Retry-After / retry-after-ms headers), if it sent one."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(parsed.timestamp() - time.time(), 0.0)


def provider_message(exc: BaseException) -> str:
    """The human-readable part of a provider error, without SDK boilerplate or a whole HTML page."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str) and inner:
            return inner  # Ollama's {"error": "model 'x' not found"}
        return describe_json(body)
    response = getattr(exc, "response", None)
    if response is not None and not isinstance(body, dict):
        text = body if isinstance(body, str) else _response_text(response)
        if text.strip():
            return describe_body(text, response.headers.get("content-type", ""))
    if isinstance(exc, _CONNECTION_ERRORS):
        cause = exc.__cause__ or exc.__context__
        if cause is not None and str(cause):
            return f"{getattr(exc, 'message', None) or exc} ({cause})"
    return str(getattr(exc, "message", None) or exc)


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    model: str,
    key_env_var: str | None = None,
    base_url: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run `call` under `policy`; return its result and the number of retries it took.

    Raises an `LLMError` subclass for API errors; other exceptions pass through untouched.
    `base_url` is the user's own endpoint, if any: it shapes the fix suggested for endpoint errors.
    """

    def wait(state: tenacity.RetryCallState) -> float:
        backoff = min(policy.initial_wait_s * 2 ** (state.attempt_number - 1), policy.max_wait_per_retry_s)
        backoff += random.uniform(0, policy.jitter_s)
        requested = retry_after_s(state.outcome.exception()) if state.outcome else None
        return max(backoff, requested or 0.0)

    def out_of_wait_budget(state: tenacity.RetryCallState) -> bool:
        return state.idle_for + (state.upcoming_sleep or 0.0) > policy.max_total_wait_s

    def log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        getattr(_log, policy.log_level)(
            "llm_retry",
            model=model,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=type(exc).__name__,
            status=getattr(exc, "status_code", None),
        )

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda exc: classify(exc) is ErrorKind.RETRY),
        wait=wait,
        stop=tenacity.stop_after_attempt(policy.max_attempts) | out_of_wait_budget,
        before_sleep=log_retry,
        sleep=sleep,
        reraise=True,
    )
    state: tenacity.RetryCallState | None = None
    try:
        for attempt in retrying:
            state = attempt.retry_state
            with attempt:
                result = call()
    except Exception as exc:
        kind = classify(exc)
        if kind is None:
            raise
        attempts = state.attempt_number if state else 1
        waited = state.idle_for if state else 0.0
        raise to_llm_error(
            exc,
            kind,
            model=model,
            attempts=attempts,
            waited_s=waited,
            key_env_var=key_env_var,
            base_url=base_url,
        ) from exc
    assert state is not None
    return result, state.attempt_number - 1


def to_llm_error(
    exc: BaseException,
    kind: ErrorKind,
    *,
    model: str,
    attempts: int = 1,
    waited_s: float = 0.0,
    key_env_var: str | None = None,
    base_url: str | None = None,
) -> LLMError:
    """A one-line Glia error naming the model, the HTTP status and the provider's own words."""
    status = getattr(exc, "status_code", None)
    custom = base_url is not None
    url = _request_url(exc)
    if kind is ErrorKind.INVALID_URL:
        return InvalidBaseURL(
            f"{model}: cannot request {url or base_url}: {provider_message(exc)}",
            "write the whole URL with its scheme, e.g. --base-url http://localhost:8000/v1",
        )
    if kind is ErrorKind.UNSUPPORTED:
        return EndpointUnsupported(
            f"{model}: {url} answered HTTP {status} with {provider_message(exc)}: "
            "the server does not implement this API",
            unsupported_fix(custom, _path_of(url)),
        )
    if kind is ErrorKind.MALFORMED:
        return MalformedReply(
            f"{model}: {url} answered HTTP {status} with {provider_message(exc)}, not an API error",
            malformed_fix(custom),
        )
    if status:
        where = f"{model}: HTTP {status}"
    else:
        where = model if isinstance(exc, RetryableReply) else f"{model}: {type(exc).__name__}"
    message = f"{where}: {provider_message(exc)}"
    if kind is ErrorKind.CONTEXT_LENGTH:
        return ContextLengthExceeded(message)
    if kind is ErrorKind.RETRY:
        gave_up = f"(gave up after {attempts} attempts, {waited_s:.1f} s waiting)"
        if isinstance(exc, _CONNECTION_ERRORS) and not _is_timeout(exc):
            return EndpointUnreachable(
                f"{model}: nothing answers at {url or base_url or 'the provider'}: "
                f"{provider_message(exc)} {gave_up}",
                unreachable_fix(custom),
            )
        return RetriesExhausted(f"{message} {gave_up}")
    if status == 401 and key_env_var:
        message += f" (check {key_env_var})"
    if status == 429:
        message += " (no quota left: check the account's billing)"
    return ProviderRejected(message)


def _is_api_error(body: Any) -> bool:
    """A model API's error object (`{"error": ...}`), as opposed to a web framework's 404 page or
    `{"detail": "Not Found"}`, which say the route itself is missing."""
    if not isinstance(body, dict):
        return False
    # The openai SDK unwraps `{"error": {...}}` into the inner object; the anthropic SDK does not.
    return isinstance(body.get("error"), dict | str) or isinstance(body.get("message"), str)


def _request_url(exc: BaseException) -> str:
    for holder in (getattr(exc, "response", None), exc):
        try:
            request = getattr(holder, "request", None)
        except RuntimeError:  # httpx raises when a response has no request attached
            request = None
        if request is not None:
            return str(request.url)
    return ""


def _path_of(url: str) -> str:
    return urlsplit(url).path if url else ""


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, openai.APITimeoutError | anthropic.APITimeoutError)


def _response_text(response: Any) -> str:
    try:
        return str(response.text)
    except Exception:  # a streamed or closed body: nothing more to say
        return ""


def _body_is_html(exc: Any) -> bool:
    body = getattr(exc, "body", None)
    response = getattr(exc, "response", None)
    text = body if isinstance(body, str) else (_response_text(response) if response is not None else "")
    content_type = response.headers.get("content-type", "") if response is not None else ""
    return looks_like_html(text, content_type)


def _mentions_context_length(exc: Any) -> bool:
    text = f"{provider_message(exc)} {_error_field(exc, 'code')}".lower()
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


def _error_field(exc: Any, name: str) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get(name) or "")
    return ""
