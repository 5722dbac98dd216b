"""Endpoints that are not a model API: typed one-line errors at once, and the pre-run endpoint check."""

from __future__ import annotations

import time

import pytest

from glia.llm import (
    EndpointUnreachable,
    EndpointUnsupported,
    InvalidBaseURL,
    MalformedReply,
    Message,
    PriceTable,
    ProviderRejected,
    RetriesExhausted,
    check_endpoint,
    make_provider,
    unpriced_notice,
)
from glia.llm.base import BaseProvider
from glia.llm.retry import RetryPolicy
from tests.fake_llm import FakeLLMServer, closed_port_url, fault, reply, tool_call
from tests.llm.conftest import FAST_RETRIES

PROTOCOLS = ["openai", "responses", "anthropic"]
ROUTES = {"openai": "/v1/chat/completions", "responses": "/v1/responses", "anthropic": "/v1/messages"}
EXPECTED = {
    "openai": "a chat completion",
    "responses": "a Responses API reply",
    "anthropic": "a Messages API reply",
}
FIELD = {"openai": "choices", "responses": "output", "anthropic": "content"}
# Slow enough that a retried failure would show: 4 attempts with >= 0.5 s between them.
PATIENT = RetryPolicy(
    max_attempts=4, max_total_wait_s=10, initial_wait_s=0.5, max_wait_per_retry_s=1, jitter_s=0
)


def provider(protocol: str, base_url: str, model: str = "m", policy: RetryPolicy = PATIENT) -> BaseProvider:
    if protocol == "anthropic":
        made = make_provider(f"anthropic:{model}", base_url=base_url)
    else:
        api = "responses" if protocol == "responses" else "chat"
        made = make_provider(f"openai:{model}", base_url=base_url, openai_api=api)
    assert isinstance(made, BaseProvider)
    made.retry_policy = policy
    return made


def base_url(srv: FakeLLMServer, protocol: str) -> str:
    return srv.anthropic_base_url if protocol == "anthropic" else srv.openai_base_url


def fails_at_once(srv: FakeLLMServer, protocol: str, error: type[Exception]) -> str:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        provider(protocol, base_url(srv, protocol)).complete("sys", [Message("user", "hi")])
    assert time.monotonic() - started < 2.0, "not worth retrying (a retry would wait 0.5 s, then 1 s, ...)"
    assert len(srv.requests) == 1
    message = str(caught.value)
    assert "\n" not in message and getattr(caught.value, "fix", "")
    return message


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_html_page_is_named_not_parsed(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("html")])
    message = fails_at_once(srv, protocol, MalformedReply)
    url = f"{srv.openai_base_url.removesuffix('/v1')}{ROUTES[protocol]}"
    prefix = "anthropic:m" if protocol == "anthropic" else "openai:m"
    assert message == (
        f"{prefix}: {url} answered HTTP 200 with an HTML page titled 'Welcome to nginx!', not {EXPECTED[protocol]}"
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_json_of_the_wrong_shape_names_the_missing_field(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("no_choices")])
    message = fails_at_once(srv, protocol, MalformedReply)
    assert message.endswith(f"answered HTTP 200 with JSON without `{FIELD[protocol]}` (keys: detail, status), "
                            f"not {EXPECTED[protocol]}")  # fmt: skip


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_body_that_is_not_json(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("not_json")])
    message = fails_at_once(srv, protocol, MalformedReply)
    assert (
        "with a non-JSON body starting 'upstream connect error or disconnect/reset before headers'" in message
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_501_means_the_server_lacks_the_route(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("not_implemented")])
    error_type = EndpointUnsupported
    message = fails_at_once(srv, protocol, error_type)
    assert f"{ROUTES[protocol]} answered HTTP 501 with an HTML page titled 'Error response'" in message
    assert message.endswith("the server does not implement this API")


def test_a_server_without_the_responses_api_suggests_chat_completions(srv: FakeLLMServer) -> None:
    srv.script("m", [fault("not_implemented")])
    with pytest.raises(EndpointUnsupported) as caught:
        provider("responses", srv.openai_base_url).complete("sys", [Message("user", "hi")])
    assert "--openai-api chat" in caught.value.fix


def test_a_404_page_is_a_missing_route_but_a_404_api_error_is_the_providers_word(srv: FakeLLMServer) -> None:
    srv.script(
        "m",
        [fault("html", status=404, message="<html><title>404 Not Found</title></html>"), fault("not_found")],
    )
    chat = provider("openai", srv.openai_base_url)
    with pytest.raises(EndpointUnsupported, match="HTTP 404 with an HTML page titled '404 Not Found'"):
        chat.complete("sys", [Message("user", "hi")])
    with pytest.raises(ProviderRejected, match="HTTP 404: The model `m` does not exist"):
        chat.complete("sys", [Message("user", "hi")])


def test_a_framework_404_without_an_api_error_is_a_missing_route(srv: FakeLLMServer) -> None:
    srv.script("m", [fault("no_route")])
    with pytest.raises(EndpointUnsupported) as caught:
        provider("responses", srv.openai_base_url).complete("sys", [Message("user", "hi")])
    assert str(caught.value).endswith(
        '/v1/responses answered HTTP 404 with JSON {"detail": "Not Found"}: the server does not implement this API'
    )
    assert "--openai-api chat" in caught.value.fix
    assert len(srv.requests) == 1


def test_an_incomplete_probe_reply_still_proves_the_endpoint(srv: FakeLLMServer) -> None:
    """o3 may spend all 16 probe tokens on reasoning: the reply is incomplete, and that is fine."""
    srv.script(
        "o3", [reply(reasoning="thinking", reasoning_tokens=16, output_tokens=16, stop_reason="max_tokens")]
    )
    made = make_provider("openai:o3", base_url=srv.openai_base_url, openai_api="responses")
    response = check_endpoint(made)
    assert response.stop_reason == "max_tokens" and response.message.content == ""


def test_an_html_500_fails_at_once_but_a_gateway_page_is_retried(srv: FakeLLMServer) -> None:
    srv.script("m", [fault("html", status=500)])
    fails_at_once(srv, "openai", MalformedReply)
    srv.script(
        "m", [fault("html", status=502, message="<html><title>502 Bad Gateway</title></html>"), reply("ok")]
    )
    fast = provider("openai", srv.openai_base_url, policy=FAST_RETRIES)
    assert fast.complete("sys", [Message("user", "hi")]).retries == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_exhausted_quota_is_not_waited_for(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("quota")])
    message = fails_at_once_plain(srv, protocol, ProviderRejected)
    if protocol == "anthropic":
        assert "HTTP 400: Your credit balance is too low" in message
    else:
        assert message.startswith("openai:m: HTTP 429: You exceeded your current quota")
        assert message.endswith("(no quota left: check the account's billing)")


def fails_at_once_plain(srv: FakeLLMServer, protocol: str, error: type[Exception]) -> str:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        provider(protocol, base_url(srv, protocol)).complete("sys", [Message("user", "hi")])
    assert time.monotonic() - started < 2.0 and len(srv.requests) == 1
    return str(caught.value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_nothing_listening_is_unreachable_after_a_short_retry(no_keys: None, protocol: str) -> None:
    url = closed_port_url()
    target = url.removesuffix("/v1") if protocol == "anthropic" else url
    with pytest.raises(EndpointUnreachable) as caught:
        provider(protocol, target, policy=FAST_RETRIES).complete("sys", [Message("user", "hi")])
    message = str(caught.value)
    assert isinstance(caught.value, RetriesExhausted)  # callers that retry on their own still see it so
    assert "nothing answers at http://127.0.0.1:" in message and "Connection refused" in message
    assert "gave up after 4 attempts" in message and "\n" not in message
    assert caught.value.fix.startswith("start the model server, or correct --base-url")


@pytest.mark.parametrize("url", ["localhost:8000/v1", "127.0.0.1:8000/v1", "ftp://host/v1", "http:///v1"])
def test_a_base_url_without_scheme_or_host_is_refused_before_any_request(no_keys: None, url: str) -> None:
    with pytest.raises(InvalidBaseURL) as caught:
        make_provider("openai:qwen", base_url=url)
    assert str(caught.value).startswith(f"openai:qwen: base URL {url!r} has no")
    assert caught.value.fix.startswith("write the whole URL, e.g. --base-url http://")


def test_check_endpoint_sends_the_smallest_request(srv: FakeLLMServer) -> None:
    srv.script("o3", [reply("ok", tool_calls=[tool_call("bash", {"command": "ls"})])])
    made = make_provider(
        "openai:o3",
        base_url=srv.openai_base_url,
        openai_api="responses",
        reasoning_effort="low",
        timeout_s=900,
    )
    before = (made.retry_policy, made.options)
    response = check_endpoint(made)
    assert response.message.content == "ok"
    body = srv.requests[0].body
    assert body["max_output_tokens"] == 16 and "tools" not in body
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}  # the run's own settings
    assert (made.retry_policy, made.options) == before  # the probe used a copy


def test_check_endpoint_leaves_extended_thinking_out(srv: FakeLLMServer) -> None:
    srv.script("claude-haiku-4-5", [reply("ok")])
    made = make_provider("anthropic:claude-haiku-4-5", base_url=srv.anthropic_base_url, thinking_budget=8000)
    check_endpoint(made)
    body = srv.requests[0].body
    assert body["max_tokens"] == 16 and "thinking" not in body


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (fault("html"), MalformedReply),
        (fault("not_implemented"), EndpointUnsupported),
        (fault("auth"), ProviderRejected),
    ],
)
def test_check_endpoint_raises_the_typed_error_quickly(srv: FakeLLMServer, item, error) -> None:
    srv.script("m", [item])
    started = time.monotonic()
    with pytest.raises(error):
        check_endpoint(provider("openai", srv.openai_base_url))
    assert time.monotonic() - started < 2.0 and len(srv.requests) == 1


def test_check_endpoint_gives_up_on_a_dead_endpoint_in_seconds(no_keys: None) -> None:
    started = time.monotonic()
    with pytest.raises(EndpointUnreachable, match="gave up after 3 attempts"):
        check_endpoint(make_provider("openai:qwen", base_url=closed_port_url()))
    assert time.monotonic() - started < 10


def test_unpriced_models_are_named_with_how_to_price_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLIA_PRICES", raising=False)
    assert unpriced_notice("openai:o3") is None
    assert unpriced_notice("openai:gpt-4o-2024-08-06") is None  # a dated snapshot of a priced model
    notice = unpriced_notice("openai:gpt-99-turbo")
    assert notice is not None and "\n" not in notice
    assert notice.startswith("openai:gpt-99-turbo has no price in Glia's price table")
    assert '{"models": {"gpt-99-turbo": {"input": 1.0, "output": 4.0}}}' in notice
    assert "GLIA_PRICES (or the config key `prices`)" in notice
    priced = PriceTable.load({"gpt-99-turbo": {"input": 1.0, "output": 2.0}})
    assert unpriced_notice("openai:gpt-99-turbo", priced) is None
