"""The real openai / anthropic SDKs, through our adapters, against the fake server: replies and faults.

"responses" is OpenAI's Responses API adapter: every retry and error path of the other two holds for it.
"""

from __future__ import annotations

import threading
import time

import pytest
from structlog.testing import capture_logs

from glia.llm import (
    ContextLengthExceeded,
    CostTracker,
    Message,
    ProviderRejected,
    RetriesExhausted,
    ToolSpec,
    Usage,
    make_provider,
)
from glia.llm.anthropic_wire import THINKING_STATE_KEY
from glia.llm.base import BaseProvider
from tests.fake_llm import ANY_MODEL, FakeLLMServer, RecordedRequest, fault, reply, tool_call
from tests.llm.conftest import fast

PROTOCOLS = ["openai", "anthropic"]
ALL_PROTOCOLS = ["openai", "responses", "anthropic"]
PROVIDER_OF = {"openai": "openai", "responses": "openai", "anthropic": "anthropic"}
TOOLS = [
    ToolSpec(
        "bash",
        "Run a shell command.",
        {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
    ),
    ToolSpec(
        "submit", "Submit the design.", {"type": "object", "properties": {"summary": {"type": "string"}}}
    ),
]


def provider_for(srv: FakeLLMServer, protocol: str, model: str, **options: object) -> BaseProvider:
    """`protocol` "responses" is the OpenAI adapter forced onto the Responses API."""
    if protocol == "responses":
        options = {"openai_api": "responses", **options}
    base_url = srv.anthropic_base_url if protocol == "anthropic" else srv.openai_base_url
    return fast(make_provider(f"{PROVIDER_OF[protocol]}:{model}", base_url=base_url, **options))


def ask(provider: BaseProvider, text: str = "Go.") -> object:
    return provider.complete("You are a researcher.", [Message("user", text)], TOOLS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_tool_loop_round_trips_through_the_sdk(srv: FakeLLMServer, protocol: str) -> None:
    srv.script(
        "researcher",
        [
            reply(
                "Looking around.",
                [tool_call("bash", {"command": "ls"}), tool_call("bash", {"command": "pwd"})],
                reasoning="Start with the layout.",
            ),
            reply("Done.", [tool_call("submit", {"summary": "LLQ with admission control"})]),
        ],
    )
    provider = provider_for(srv, protocol, "researcher")
    first = provider.complete("You are a researcher.", [Message("user", "Improve routing.")], TOOLS)
    assert first.stop_reason == "tool_use"
    assert first.message.content == "Looking around."
    assert first.message.reasoning == "Start with the layout."
    assert [(c.name, c.arguments, c.error) for c in first.message.tool_calls] == [
        ("bash", {"command": "ls"}, None),
        ("bash", {"command": "pwd"}, None),
    ]
    ls_call, pwd_call = first.message.tool_calls
    conversation = [
        Message("user", "Improve routing."),
        first.message,
        Message("tool", "README.md", tool_call_id=ls_call.id, name="bash"),
        Message("tool", "permission denied", tool_call_id=pwd_call.id, name="bash", is_error=True),
    ]
    second = provider.complete("You are a researcher.", conversation, TOOLS)
    assert second.message.tool_calls[0].arguments == {"summary": "LLQ with admission control"}

    sent = srv.requests[1]
    assert sent.system == "You are a researcher."
    assert sent.tool_names == ["bash", "submit"]
    results = [(r["id"], r["content"]) for r in sent.tool_results]
    if protocol == "openai":
        assert results == [(ls_call.id, "README.md"), (pwd_call.id, "ERROR: permission denied")]
    else:
        assert results == [(ls_call.id, "README.md"), (pwd_call.id, "permission denied")]
        assert [r["is_error"] for r in sent.tool_results] == [False, True]
        # Thinking goes back unchanged, signature included, ahead of the tool calls.
        assert sent.messages[1]["content"][0] == first.message.provider_state[THINKING_STATE_KEY][0]
        assert sent.messages[1]["content"][0]["signature"].startswith("fake-signature-")
    srv.assert_script_consumed()


@pytest.mark.parametrize(
    ("protocol", "model", "usage", "expected_cost"),
    [
        # gpt-4o: $2.50 input, $1.25 cached, $10 output per million.
        (
            "openai",
            "gpt-4o",
            Usage(10_000, 8_000, 500, 200, 0),
            2_000 * 2.5e-6 + 8_000 * 1.25e-6 + 500 * 10e-6,
        ),
        # claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
        (
            "anthropic",
            "claude-sonnet-4-5",
            Usage(10_000, 6_000, 500, 0, 3_000),
            1_000 * 3e-6 + 6_000 * 0.3e-6 + 3_000 * 3.75e-6 + 500 * 15e-6,
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
def test_usage_and_cost_with_cached_tokens(
    srv: FakeLLMServer, protocol: str, model: str, usage: Usage, expected_cost: float
) -> None:
    srv.script(
        model,
        [
            reply(
                "ok",
                input_tokens=usage.input_tokens,
                cached_input_tokens=usage.cached_input_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                output_tokens=usage.output_tokens,
                reasoning_tokens=usage.reasoning_tokens,
            )
        ],
    )
    response = ask(provider_for(srv, protocol, model))
    assert response.usage == usage
    assert response.cost_usd == pytest.approx(expected_cost)
    assert response.model == model and response.retries == 0 and response.latency_s > 0


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_rate_limit_waits_as_long_as_retry_after_says(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("rate_limit", retry_after=0.3), reply("ok")])
    response = ask(provider_for(srv, protocol, "m"))
    assert response.message.content == "ok"
    assert response.retries == 1
    assert response.latency_s >= 0.3  # the backoff alone would have waited 0.01 s
    assert [r.served for r in srv.requests] == ["rate_limit", "reply"]


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_server_errors_overload_and_dropped_connections_are_retried(
    srv: FakeLLMServer, protocol: str
) -> None:
    srv.script("m", [fault("server_error"), fault("overloaded"), fault("disconnect"), reply("ok")])
    response = ask(provider_for(srv, protocol, "m"))
    assert (response.message.content, response.retries) == ("ok", 3)
    srv.assert_script_consumed()


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_a_reply_slower_than_the_timeout_is_retried(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("slow", delay_s=3.0), reply("on time")])
    started = time.monotonic()
    response = ask(provider_for(srv, protocol, "m", timeout_s=0.4))
    assert (response.message.content, response.retries) == ("on time", 1)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_persistent_failure_exhausts_the_attempts(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("server_error", message="engine on fire")] * 4)
    with pytest.raises(RetriesExhausted, match=r"HTTP 500: engine on fire \(gave up after 4 attempts"):
        ask(provider_for(srv, protocol, "m"))
    assert len(srv.requests) == 4


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_context_length_error_is_raised_at_once(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [fault("context_length")])
    with pytest.raises(ContextLengthExceeded) as caught:
        ask(provider_for(srv, protocol, "m"))
    expected = "prompt is too long" if protocol == "anthropic" else "maximum context length is 128000"
    assert expected in str(caught.value)
    assert len(srv.requests) == 1


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
@pytest.mark.parametrize(
    ("kind", "status", "words"),
    [
        ("auth", 401, "Incorrect API key provided."),
        ("permission", 403, "does not have permission"),
        ("not_found", 404, "does not exist"),
        ("bad_request", 400, "field required"),
    ],
)
def test_refusals_fail_fast_with_the_providers_words(
    srv: FakeLLMServer, protocol: str, kind: str, status: int, words: str
) -> None:
    srv.script("m", [fault(kind)])
    with pytest.raises(ProviderRejected) as caught:
        ask(provider_for(srv, protocol, "m"))
    message = str(caught.value)
    provider = PROVIDER_OF[protocol]
    assert message.startswith(f"{provider}:m: HTTP {status}: ") and words in message
    if kind == "auth":
        assert message.endswith(f"(check {provider.upper()}_API_KEY)")
    assert len(srv.requests) == 1


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_malformed_tool_calls_become_errors_not_crashes(srv: FakeLLMServer, protocol: str) -> None:
    srv.script(
        "m",
        [
            reply(
                tool_calls=[
                    tool_call("bash", '{"command": "ls'),
                    tool_call("python", {"code": "1"}),
                    tool_call("bash", {}),
                    tool_call("bash", {"command": "ls"}),
                ]
            )
        ],
    )
    provider = provider_for(srv, protocol, "m")
    calls = ask(provider).message.tool_calls
    assert [c.error is not None for c in calls] == [True, True, True, False]
    assert "not valid JSON" in (calls[0].error or "")
    assert calls[0].raw_arguments == '{"command": "ls'
    assert calls[1].error == "unknown tool 'python'; available tools: bash, submit"
    assert calls[2].error == "missing required argument(s) for bash: command"
    assert provider.malformed_tool_calls == 3


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_a_script_that_runs_out_fails_the_call_and_the_check(srv: FakeLLMServer, protocol: str) -> None:
    srv.script("m", [reply("only one")])
    provider = provider_for(srv, protocol, "m")
    ask(provider)
    with pytest.raises(ProviderRejected, match=r"fake LLM: script for model 'm' ran out after 1 item"):
        ask(provider)
    assert len(srv.requests) == 2  # a 400, so not retried
    with pytest.raises(AssertionError, match="ran out after 1 item"):
        srv.assert_script_consumed()


def test_unused_items_and_unknown_models_fail_the_check(srv: FakeLLMServer) -> None:
    srv.script("m", [reply("a"), reply("b")])
    provider = provider_for(srv, "openai", "m")
    ask(provider)
    with pytest.raises(AssertionError, match=r"model 'm': 1 scripted item\(s\) never requested"):
        srv.assert_script_consumed()
    with pytest.raises(ProviderRejected, match=r"no script or handler for model 'other' \(known: m\)"):
        ask(provider_for(srv, "openai", "other"))


def test_a_handler_sees_the_parsed_request(srv: FakeLLMServer) -> None:
    seen: list[RecordedRequest] = []

    def respond(request: RecordedRequest):
        seen.append(request)
        return reply(f"you said {request.last_user_text!r} to {request.model}")

    srv.handler(ANY_MODEL, respond)
    openai_reply = ask(provider_for(srv, "openai", "gpt-x"), "hello")
    anthropic_reply = ask(provider_for(srv, "anthropic", "claude-x"), "bonjour")
    assert openai_reply.message.content == "you said 'hello' to gpt-x"
    assert anthropic_reply.message.content == "you said 'bonjour' to claude-x"
    assert [(r.protocol, r.path, r.system) for r in seen] == [
        ("openai", "/v1/chat/completions", "You are a researcher."),
        ("anthropic", "/v1/messages", "You are a researcher."),
    ]
    assert seen[1].headers["anthropic-version"]
    srv.assert_script_consumed()


def test_two_agents_share_one_server(srv: FakeLLMServer) -> None:
    srv.script("researcher-model", [reply("r1"), reply("r2")])
    srv.script("supervisor-model", [reply("VERDICT: revise\nMeasure the tail.")])
    researcher = provider_for(srv, "openai", "researcher-model")
    supervisor = provider_for(srv, "anthropic", "supervisor-model")
    assert ask(researcher).message.content == "r1"
    assert ask(supervisor).message.content.startswith("VERDICT: revise")
    assert ask(researcher).message.content == "r2"
    assert [r.model for r in srv.requests_for("researcher-model")] == ["researcher-model"] * 2
    srv.assert_script_consumed()


def test_reasoning_options_reach_the_wire(srv: FakeLLMServer) -> None:
    srv.script("o3", [reply("ok")])
    srv.script("claude-opus-4-1", [reply("ok", reasoning="deep thought")])
    ask(provider_for(srv, "openai", "o3", reasoning_effort="high", temperature=0.7, max_output_tokens=3000))
    ask(provider_for(srv, "anthropic", "claude-opus-4-1", thinking_budget=2048, max_output_tokens=1000))
    openai_body, anthropic_body = (r.body for r in srv.requests)
    assert (openai_body["max_completion_tokens"], openai_body["reasoning_effort"]) == (3000, "high")
    assert "temperature" not in openai_body
    assert anthropic_body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert anthropic_body["max_tokens"] == 3072


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_one_provider_serves_parallel_threads(srv: FakeLLMServer, protocol: str) -> None:
    srv.handler(
        ANY_MODEL, lambda request: reply(request.last_user_text.upper(), input_tokens=100, output_tokens=10)
    )
    provider = provider_for(srv, protocol, "claude-haiku-4-5" if protocol == "anthropic" else "gpt-4o")
    tracker = CostTracker()
    answers: dict[str, str] = {}
    failures: list[BaseException] = []

    def work(context: str) -> None:
        try:
            for turn in range(5):
                response = ask(provider, f"{context}-{turn}")
                answers[f"{context}-{turn}"] = response.message.content
                tracker.record(response, agent="researcher", context=context)
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(f"ctx{k}",)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert answers == {key: key.upper() for key in answers} and len(answers) == 30
    assert provider.calls == 30
    totals = tracker.totals()
    assert (totals.calls, totals.usage.input_tokens, totals.usage.output_tokens) == (30, 3000, 300)
    assert totals.unpriced_calls == 0 and totals.cost_usd > 0


def test_calls_are_logged_without_their_contents(srv: FakeLLMServer) -> None:
    srv.script("gpt-4o", [fault("server_error"), reply("SECRET-ANSWER", input_tokens=1000, output_tokens=50)])
    provider = provider_for(srv, "openai", "gpt-4o")
    with capture_logs() as logs:
        provider.complete("SECRET-SYSTEM", [Message("user", "SECRET-QUESTION")], TOOLS)
    calls = [entry for entry in logs if entry["event"] == "llm_call"]
    assert len(calls) == 1
    logged = calls[0]
    assert (logged["model"], logged["input_tokens"], logged["output_tokens"], logged["retries"]) == (
        "gpt-4o",
        1000,
        50,
        1,
    )
    assert logged["cost_usd"] == pytest.approx(1000 * 2.5e-6 + 50 * 10e-6)
    assert logged["log_level"] == "info" and logged["latency_s"] >= 0
    assert [entry["status"] for entry in logs if entry["event"] == "llm_retry"] == [500]
    assert "SECRET" not in repr(logs)


def test_fault_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        fault("explode")
    with pytest.raises(ValueError, match="needs status"):
        fault("status")


def test_a_crashing_handler_fails_the_call_and_the_check(srv: FakeLLMServer) -> None:
    def respond(request: RecordedRequest):
        raise RuntimeError("test bug")

    srv.handler("m", respond)
    with pytest.raises(ProviderRejected, match=r"handler for 'm' raised"):
        ask(provider_for(srv, "anthropic", "m"))
    with pytest.raises(AssertionError, match="RuntimeError: test bug"):
        srv.assert_script_consumed()
