"""The one retry policy for model calls, and how SDK errors become Glia errors.

Both SDKs are built with their own retries switched off (max_retries=0), so what is retried, how long
we wait and when we give up is decided here only:

- retried with exponential backoff, at least as long as the server's Retry-After: connection errors,
  timeouts, HTTP 408 / 409 / 429 and every 5xx (including Anthropic's 529 "overloaded");
- a prompt that no longer fits the context window -> `ContextLengthExceeded`, at once;
- any other refusal (401, 403, 404, 400, 422, ...) -> `ProviderRejected`, at once, with the
  provider's own message;
- attempts and the total time spent sleeping are both bounded -> `RetriesExhausted`.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anthropic
import openai
import structlog
import tenacity

from glia.llm.types import ContextLengthExceeded, LLMError, ProviderRejected, RetriesExhausted

T = TypeVar("T")

_log = structlog.get_logger("glia.llm.retry")

_CONNECTION_ERRORS = (openai.APIConnectionError, anthropic.APIConnectionError)  # timeouts included
_STATUS_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)
_RETRYABLE_STATUS = frozenset({408, 409, 429})
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


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for one call: attempts in all, and seconds spent waiting between them in all."""

    max_attempts: int = 6
    max_total_wait_s: float = 120.0
    initial_wait_s: float = 1.0
    max_wait_per_retry_s: float = 60.0
    jitter_s: float = 1.0


def classify(exc: BaseException) -> ErrorKind | None:
    """What to do about an SDK error; None for exceptions that are not API errors (let them raise)."""
    if isinstance(exc, _CONNECTION_ERRORS):
        return ErrorKind.RETRY
    if not isinstance(exc, _STATUS_ERRORS):
        return None
    status = exc.status_code
    if status == 413 or (status in (400, 422) and _mentions_context_length(exc)):
        return ErrorKind.CONTEXT_LENGTH
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
    """The human-readable part of a provider error, without SDK boilerplate."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", None) or exc)


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    model: str,
    key_env_var: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run `call` under `policy`; return its result and the number of retries it took.

    Raises an `LLMError` subclass for API errors; other exceptions pass through untouched.
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
        _log.warning(
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
            exc, kind, model=model, attempts=attempts, waited_s=waited, key_env_var=key_env_var
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
) -> LLMError:
    """A one-line Glia error naming the model, the HTTP status and the provider's own words."""
    status = getattr(exc, "status_code", None)
    where = f"{model}: HTTP {status}" if status else f"{model}: {type(exc).__name__}"
    message = f"{where}: {provider_message(exc)}"
    if kind is ErrorKind.CONTEXT_LENGTH:
        return ContextLengthExceeded(message)
    if kind is ErrorKind.RETRY:
        return RetriesExhausted(f"{message} (gave up after {attempts} attempts, {waited_s:.1f} s waiting)")
    if status == 401 and key_env_var:
        message += f" (check {key_env_var})"
    return ProviderRejected(message)


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
