"""What is retried, what fails at once, Retry-After and the bounds on attempts and total wait."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from structlog.testing import capture_logs

from glia.llm import (
    ContextLengthExceeded,
    EndpointUnreachable,
    EndpointUnsupported,
    InvalidBaseURL,
    ProviderRejected,
    RetriesExhausted,
    RetryPolicy,
)
from glia.llm.retry import ErrorKind, RetryableReply, call_with_retries, classify, retry_after_s

_REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
NO_JITTER = RetryPolicy(
    max_attempts=6, max_total_wait_s=120, initial_wait_s=1.0, max_wait_per_retry_s=60, jitter_s=0
)

STATUS_ERRORS = {
    ("openai", 400): openai.BadRequestError,
    ("openai", 401): openai.AuthenticationError,
    ("openai", 403): openai.PermissionDeniedError,
    ("openai", 404): openai.NotFoundError,
    ("openai", 409): openai.ConflictError,
    ("openai", 422): openai.UnprocessableEntityError,
    ("openai", 429): openai.RateLimitError,
    ("anthropic", 400): anthropic.BadRequestError,
    ("anthropic", 401): anthropic.AuthenticationError,
    ("anthropic", 404): anthropic.NotFoundError,
    ("anthropic", 429): anthropic.RateLimitError,
    ("anthropic", 529): anthropic.OverloadedError,
}


def status_error(
    provider: str, status: int, message: str = "boom", headers: dict | None = None, **fields: Any
):
    """An SDK status error as the SDK itself would raise it for this response."""
    response = httpx2.Response(status, headers=headers or {}, request=_REQUEST)
    sdk = openai if provider == "openai" else anthropic
    cls = STATUS_ERRORS.get(
        (provider, status), sdk.InternalServerError if status >= 500 else sdk.APIStatusError
    )
    if provider == "openai":
        body = {"message": message, "type": fields.get("type"), "code": fields.get("code")}
    else:
        body = {"type": "error", "error": {"type": fields.get("type", "api_error"), "message": message}}
    return cls(message, response=response, body=body)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retried(provider: str, status: int) -> None:
    assert classify(status_error(provider, status)) is ErrorKind.RETRY


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_refusals_fail_at_once(provider: str, status: int) -> None:
    assert classify(status_error(provider, status)) is ErrorKind.REJECTED


def test_connection_errors_and_timeouts_are_retried() -> None:
    for error in (
        openai.APIConnectionError(request=_REQUEST),
        openai.APITimeoutError(request=_REQUEST),
        anthropic.APIConnectionError(request=_REQUEST),
        anthropic.APITimeoutError(request=_REQUEST),
    ):
        assert classify(error) is ErrorKind.RETRY


def test_other_exceptions_are_not_ours_to_classify() -> None:
    assert classify(ValueError("bug")) is None


def test_context_length_errors_in_each_providers_words() -> None:
    examples = [
        status_error(
            "openai",
            400,
            "This model's maximum context length is 128000 tokens.",
            code="context_length_exceeded",
        ),
        status_error("openai", 400, "too long", code="context_length_exceeded"),
        status_error(
            "anthropic",
            400,
            "prompt is too long: 210345 tokens > 200000 maximum",
            type="invalid_request_error",
        ),
        status_error("openai", 400, "the request exceeds the available context size, try increasing it"),
        status_error("anthropic", 413, "Request exceeds the maximum allowed number of bytes."),
    ]
    assert [classify(error) for error in examples] == [ErrorKind.CONTEXT_LENGTH] * 5


def test_retry_after_headers() -> None:
    assert retry_after_s(status_error("openai", 429, headers={"retry-after": "7"})) == 7.0
    assert retry_after_s(status_error("openai", 429, headers={"retry-after": "0.25"})) == 0.25
    assert (
        retry_after_s(status_error("openai", 429, headers={"retry-after-ms": "1500", "retry-after": "9"}))
        == 1.5
    )
    assert retry_after_s(status_error("openai", 429)) is None
    http_date = retry_after_s(
        status_error("openai", 429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    )
    assert http_date == 0.0  # a date in the past: no wait


class FlakyCall:
    """Raises the queued errors in order, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(call: Callable[[], str], policy: RetryPolicy = NO_JITTER) -> tuple[str, int, list[float]]:
    sleeps: list[float] = []
    result, retries = call_with_retries(call, policy, model="openai:test", sleep=sleeps.append)
    return result, retries, sleeps


def test_backoff_doubles_and_retries_are_counted() -> None:
    call = FlakyCall(*(status_error("openai", 500) for _ in range(4)))
    assert run(call) == ("ok", 4, [1.0, 2.0, 4.0, 8.0])


def test_retry_after_is_honoured_when_longer_than_backoff() -> None:
    call = FlakyCall(
        status_error("anthropic", 429, headers={"retry-after": "10"}),
        status_error("anthropic", 529, type="overloaded_error"),
    )
    assert run(call) == ("ok", 2, [10.0, 2.0])


def test_attempts_are_bounded() -> None:
    call = FlakyCall(*(openai.APITimeoutError(request=_REQUEST) for _ in range(10)))
    sleeps: list[float] = []
    with pytest.raises(RetriesExhausted, match=r"gave up after 6 attempts"):
        call_with_retries(call, NO_JITTER, model="openai:test", sleep=sleeps.append)
    assert call.calls == 6 and sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_total_wait_is_bounded_and_an_over_long_retry_after_gives_up_at_once() -> None:
    policy = RetryPolicy(max_attempts=20, max_total_wait_s=10, initial_wait_s=1.0, jitter_s=0)
    call = FlakyCall(*(status_error("openai", 503) for _ in range(20)))
    sleeps: list[float] = []
    with pytest.raises(RetriesExhausted, match=r"HTTP 503"):
        call_with_retries(call, policy, model="openai:test", sleep=sleeps.append)
    assert sleeps == [1.0, 2.0, 4.0] and sum(sleeps) <= 10 and call.calls == 4

    call = FlakyCall(status_error("openai", 429, headers={"retry-after": "3600"}))
    sleeps = []
    with pytest.raises(RetriesExhausted):
        call_with_retries(call, policy, model="openai:test", sleep=sleeps.append)
    assert sleeps == [] and call.calls == 1


def test_jitter_stays_within_its_bound() -> None:
    policy = RetryPolicy(initial_wait_s=1.0, jitter_s=0.5)
    for _ in range(20):
        _, _, sleeps = run(FlakyCall(status_error("openai", 500)), policy)
        assert 1.0 <= sleeps[0] <= 1.5


def test_refusals_raise_at_once_with_the_providers_message() -> None:
    call = FlakyCall(status_error("openai", 401, "Incorrect API key provided: sk-xyz."))
    with pytest.raises(ProviderRejected) as caught:
        call_with_retries(
            call, NO_JITTER, model="openai:o3", key_env_var="OPENAI_API_KEY", sleep=lambda s: None
        )
    assert (
        str(caught.value) == "openai:o3: HTTP 401: Incorrect API key provided: sk-xyz. (check OPENAI_API_KEY)"
    )
    assert call.calls == 1


def test_context_length_raises_at_once() -> None:
    call = FlakyCall(status_error("anthropic", 400, "prompt is too long: 210345 tokens > 200000 maximum"))
    with pytest.raises(ContextLengthExceeded, match="prompt is too long"):
        call_with_retries(call, NO_JITTER, model="anthropic:claude-sonnet-4-5", sleep=lambda s: None)
    assert call.calls == 1


def test_programming_errors_pass_through_unchanged() -> None:
    with pytest.raises(KeyError):
        call_with_retries(FlakyCall(KeyError("x")), NO_JITTER, model="m", sleep=lambda s: None)


def raw_status_error(status: int, text: str, content_type: str = "text/html") -> openai.APIStatusError:
    """A status error whose body is not an API error object (a web page, a framework's 404)."""
    response = httpx2.Response(status, headers={"content-type": content_type}, text=text, request=_REQUEST)
    cls = openai.InternalServerError if status >= 500 else openai.APIStatusError
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return cls(f"Error code: {status}", response=response, body=body)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (status_error("openai", 501), ErrorKind.UNSUPPORTED),
        (status_error("anthropic", 505), ErrorKind.UNSUPPORTED),
        (raw_status_error(404, "<html><title>404 Not Found</title></html>"), ErrorKind.UNSUPPORTED),
        (
            raw_status_error(405, '{"detail": "Method Not Allowed"}', "application/json"),
            ErrorKind.UNSUPPORTED,
        ),
        (status_error("openai", 404, "The model `o9` does not exist"), ErrorKind.REJECTED),
        (raw_status_error(500, "<!DOCTYPE html><html><title>Oops</title></html>"), ErrorKind.MALFORMED),
        (raw_status_error(502, "<html><title>502 Bad Gateway</title></html>"), ErrorKind.RETRY),
        (raw_status_error(500, "Internal Server Error", "text/plain"), ErrorKind.RETRY),
        (
            status_error("openai", 429, "You exceeded your current quota", code="insufficient_quota"),
            ErrorKind.REJECTED,
        ),
        (RetryableReply("the reply failed (server_error)"), ErrorKind.RETRY),
    ],
)
def test_what_is_not_worth_retrying(error: BaseException, kind: ErrorKind) -> None:
    assert classify(error) is kind


def test_a_url_the_client_cannot_request_is_not_retried() -> None:
    class UnsupportedProtocol(Exception):  # httpx's name; only the name is looked at
        pass

    error = openai.APIConnectionError(request=_REQUEST)
    error.__cause__ = UnsupportedProtocol("Request URL has an unsupported protocol 'localhost://'.")
    call = FlakyCall(error)
    with pytest.raises(InvalidBaseURL, match="unsupported protocol 'localhost://'") as caught:
        call_with_retries(
            call, NO_JITTER, model="openai:m", base_url="localhost:8000/v1", sleep=lambda s: None
        )
    assert call.calls == 1 and "--base-url http://" in caught.value.fix


def test_endpoint_errors_name_the_url_and_what_answered() -> None:
    call = FlakyCall(raw_status_error(501, "<html><head><title>Error response</title></head></html>"))
    with pytest.raises(EndpointUnsupported) as caught:
        call_with_retries(call, NO_JITTER, model="openai:m", base_url="http://h/v1", sleep=lambda s: None)
    assert str(caught.value) == (
        "openai:m: http://127.0.0.1/v1/chat/completions answered HTTP 501 with an HTML page titled "
        "'Error response': the server does not implement this API"
    )
    assert "/v1/chat/completions" in caught.value.fix and call.calls == 1


def test_connection_failures_that_outlast_the_retries_say_nothing_answers() -> None:
    call = FlakyCall(*(openai.APIConnectionError(request=_REQUEST) for _ in range(6)))
    with pytest.raises(EndpointUnreachable, match=r"nothing answers at http://127.0.0.1/v1/chat/completions"):
        call_with_retries(
            call, NO_JITTER, model="openai:m", base_url="http://127.0.0.1/v1", sleep=lambda s: None
        )


def test_retry_lines_can_be_quiet() -> None:
    quiet = RetryPolicy(max_attempts=3, initial_wait_s=0, jitter_s=0, log_level="debug")
    with capture_logs() as logs:
        call_with_retries(FlakyCall(status_error("openai", 500)), quiet, model="m", sleep=lambda s: None)
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [("llm_retry", "debug")]
