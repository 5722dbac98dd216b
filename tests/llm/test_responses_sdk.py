"""The Responses API adapter through the real openai SDK against the fake server.

The fake checks replayed reasoning items the way the real API does with `store: false` (issued by it,
encrypted content unchanged, followed by the item that followed it, outputs matched to calls), so a
test that ends with `assert_script_consumed()` has also proven the replay valid.
"""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from glia.agents.researcher import assistant_event_fields, rebuild_conversation
from glia.llm import Message, ProviderRejected, ToolSpec, make_provider
from glia.llm.openai_provider import OpenAIProvider
from glia.llm.openai_responses_provider import OpenAIResponsesProvider
from glia.llm.openai_responses_wire import STATE_KEY
from tests.fake_llm import FakeLLMServer, fault, reply, tool_call
from tests.llm.conftest import fast

SYSTEM = "You are a researcher."
BASH = ToolSpec(
    "bash",
    "Run a shell command.",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
)
TOOLS = [BASH]


def o3(srv: FakeLLMServer, **options: object) -> OpenAIResponsesProvider:
    provider = fast(
        make_provider("openai:o3", base_url=srv.openai_base_url, openai_api="responses", **options)
    )
    assert isinstance(provider, OpenAIResponsesProvider)
    return provider


def three_turns(srv: FakeLLMServer) -> None:
    srv.script(
        "o3",
        [
            reply(
                tool_calls=[
                    tool_call("bash", {"command": "ls"}),
                    tool_call("bash", {"command": "cat README.md"}),
                ],
                reasoning=[
                    "**Looking around**\n\nList the files first.",
                    "**Docs**\n\nThen read the README.",
                ],
                reasoning_tokens=320,
            ),
            reply(
                "Now the scheduler.",
                [tool_call("bash", {"command": "sed -n 1,40p sched.py"})],
                reasoning="**Scheduler next**\n\nThe README points at sched.py.",
                reasoning_tokens=128,
            ),
            reply("The queue is the bottleneck.", reasoning="**Conclusion**\n\nQueueing dominates."),
        ],
    )


def run_three_turns(provider: OpenAIResponsesProvider) -> list[Message]:
    conversation = [Message("user", "Improve routing.")]
    for _ in range(3):
        response = provider.complete(SYSTEM, conversation, TOOLS)
        conversation.append(response.message)
        for call in response.message.tool_calls:
            conversation.append(
                Message("tool", f"output of {call.arguments['command']}", tool_call_id=call.id, name="bash")
            )
    return conversation


def kinds(items: list[dict]) -> list[str]:
    return [item.get("type") or item.get("role") for item in items]


def test_reasoning_items_are_replayed_in_order_across_tool_calls(srv: FakeLLMServer) -> None:
    three_turns(srv)
    conversation = run_three_turns(o3(srv, reasoning_effort="high"))
    srv.assert_script_consumed()  # includes the fake's replay checks
    first, second, third = srv.requests

    assert first.path == "/v1/responses"
    assert first.body["store"] is False and first.body["include"] == ["reasoning.encrypted_content"]
    assert first.body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert first.system == SYSTEM and "temperature" not in first.body
    assert first.body["tools"][0]["name"] == "bash" and first.body["tools"][0]["strict"] is False

    issued = json.loads(json.dumps(conversation[1].provider_state[STATE_KEY]["items"]))
    assert kinds(second.input_items) == [
        "user",
        "reasoning",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    assert second.input_items[1:4] == issued  # byte for byte, encrypted content included
    assert second.reasoning_items[0]["encrypted_content"].startswith("gAAAAB-fake-")

    assert kinds(third.input_items) == [
        *kinds(second.input_items),
        "reasoning",
        "message",
        "function_call",
        "function_call_output",
    ]
    assert [item["id"] for item in third.reasoning_items] == [
        conversation[1].provider_state[STATE_KEY]["items"][0]["id"],
        conversation[4].provider_state[STATE_KEY]["items"][0]["id"],
    ]
    # what the notes and the Supervisor read: the summaries, in the model's order
    assert conversation[1].reasoning == (
        "**Looking around**\n\nList the files first.\n\n**Docs**\n\nThen read the README."
    )
    assert conversation[-1].content == "The queue is the bottleneck."
    assert conversation[-1].reasoning == "**Conclusion**\n\nQueueing dominates."


def test_a_resumed_conversation_sends_exactly_the_same_items(srv: FakeLLMServer) -> None:
    """Transcript events (JSON) -> rebuilt conversation -> the same request as had nothing happened."""
    three_turns(srv)
    provider = o3(srv)
    conversation = run_three_turns(provider)
    srv.assert_script_consumed()
    events: list[dict] = [{"type": "user", "text": "Improve routing."}]
    for message in conversation[1:]:
        if message.role == "assistant":
            events.append({"type": "assistant", **assistant_event_fields(message)})
        else:
            events.append(
                {"type": "tool_result", "id": message.tool_call_id, "name": "bash", "output": message.content}
            )
    events = json.loads(json.dumps(events))  # as written to and read from transcript.jsonl
    rebuilt = rebuild_conversation(events)
    rebuilt.append(Message("user", "Carry on."))
    conversation.append(Message("user", "Carry on."))

    srv.script("o3", [reply("Resumed.", reasoning="**Back**"), reply("Live.", reasoning="**Back**")])
    after_resume = o3(srv).complete(SYSTEM, rebuilt, TOOLS)  # a fresh provider, as after a restart
    provider.complete(SYSTEM, conversation, TOOLS)
    srv.assert_script_consumed()
    resumed, live = srv.requests[-2:]
    assert resumed.input_items == live.input_items
    assert len(resumed.reasoning_items) == 3
    assert after_resume.message.content == "Resumed."


def test_usage_and_price_of_a_reasoning_call(srv: FakeLLMServer) -> None:
    srv.script(
        "o3",
        [
            reply(
                "ok",
                input_tokens=10_000,
                cached_input_tokens=8_000,
                output_tokens=1_500,
                reasoning_tokens=1_200,
            )
        ],
    )
    response = o3(srv).complete(SYSTEM, [Message("user", "hi")], TOOLS)
    usage = response.usage
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens, usage.reasoning_tokens) == (
        10_000,
        8_000,
        1_500,
        1_200,
    )
    # o3: $2 input, $0.50 cached input, $8 output (reasoning tokens are output tokens) per million
    assert response.cost_usd == pytest.approx(2_000 * 2e-6 + 8_000 * 0.5e-6 + 1_500 * 8e-6)


def test_without_summaries_asked_for_the_reply_has_no_reasoning_text(srv: FakeLLMServer) -> None:
    srv.script("o3", [reply("ok", reasoning="hidden", reasoning_tokens=50)])
    response = o3(srv, reasoning_summary="off").complete(SYSTEM, [Message("user", "hi")], TOOLS)
    assert "reasoning" not in srv.requests[0].body
    assert response.message.reasoning is None
    assert response.message.provider_state[STATE_KEY]["items"][0]["type"] == "reasoning"  # still replayed


def test_an_unverified_organisation_gets_no_summaries_but_keeps_working(srv: FakeLLMServer) -> None:
    refusal = (
        "Your organization must be verified to generate reasoning summaries. Please go to "
        "https://platform.openai.com/settings/organization/general and click on Verify Organization."
    )
    srv.script(
        "o3",
        [fault("bad_request", message=refusal), reply("one", reasoning="x"), reply("two", reasoning="y")],
    )
    provider = o3(srv)
    with capture_logs() as logs:
        first = provider.complete(SYSTEM, [Message("user", "hi")], TOOLS)
        second = provider.complete(SYSTEM, [Message("user", "hi again")], TOOLS)
    assert (first.message.content, second.message.content) == ("one", "two")
    assert [r.body.get("reasoning") for r in srv.requests] == [{"summary": "auto"}, None, None]
    assert provider.reasoning_summary is None
    warned = [entry for entry in logs if entry["event"] == "llm_reasoning_summaries_refused"]
    assert len(warned) == 1 and "verified" in warned[0]["detail"]
    srv.assert_script_consumed()


def test_other_bad_requests_are_not_mistaken_for_the_summary_refusal(srv: FakeLLMServer) -> None:
    srv.script("o3", [fault("bad_request", message="Unsupported value: 'xhigh' for reasoning.effort")])
    with pytest.raises(ProviderRejected, match="HTTP 400: Unsupported value"):
        o3(srv, reasoning_effort="xhigh").complete(SYSTEM, [Message("user", "hi")], TOOLS)
    assert len(srv.requests) == 1


@pytest.mark.parametrize(
    ("tamper", "complaint"),
    [
        (lambda items: items[1].pop("encrypted_content"), "not found. Items are not persisted"),
        (lambda items: items[1].update(encrypted_content="gAAAAB-forged"), "could not be verified"),
        (lambda items: items.pop(2), "without its required following item"),
        (lambda items: items.pop(1), "without its required 'reasoning' item"),
    ],
)
def test_the_fake_refuses_a_broken_replay_as_the_api_does(srv: FakeLLMServer, tamper, complaint) -> None:
    """Guards the guard: the replay tests above would catch a client that sends reasoning wrongly."""
    srv.script("o3", [reply(tool_calls=[tool_call("bash", {"command": "ls"})], reasoning="r")])
    provider = o3(srv)
    first = provider.complete(SYSTEM, [Message("user", "go")], TOOLS)
    items = [dict(item) for item in first.message.provider_state[STATE_KEY]["items"]]
    body = {
        "model": "o3",
        "store": False,
        "input": [
            {"role": "user", "content": "go"},
            *items,
            {"type": "function_call_output", "call_id": first.message.tool_calls[0].id, "output": "x"},
        ],
    }
    tamper(body["input"])
    with pytest.raises(Exception, match=complaint):
        provider._client.responses.create(**body)
    assert any(complaint in problem for problem in srv.problems)


def test_auto_picks_the_responses_api_only_for_reasoning_models_at_openai(
    no_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert isinstance(make_provider("openai:o3"), OpenAIResponsesProvider)
    assert isinstance(make_provider("openai:gpt-5-mini"), OpenAIResponsesProvider)
    assert isinstance(
        make_provider("openai:o4-mini", base_url="https://api.openai.com/v1"), OpenAIResponsesProvider
    )
    assert isinstance(make_provider("openai:gpt-4o"), OpenAIProvider)
    assert isinstance(make_provider("openai:gpt-5-chat-latest"), OpenAIProvider)
    assert isinstance(make_provider("openai:o3", base_url="http://localhost:8000/v1"), OpenAIProvider)
    assert isinstance(make_provider("openai:o3", openai_api="chat"), OpenAIProvider)
    assert isinstance(
        make_provider("openai:qwen3", base_url="http://localhost:8000/v1", openai_api="responses"),
        OpenAIResponsesProvider,
    )
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")  # the SDK would go there
    assert isinstance(make_provider("openai:o3"), OpenAIProvider)


def test_chat_completions_ignores_responses_state(srv: FakeLLMServer) -> None:
    """A conversation that moves from the Responses API to a compatible server still works."""
    srv.script("o3", [reply(tool_calls=[tool_call("bash", {"command": "ls"})], reasoning="r")])
    first = o3(srv).complete(SYSTEM, [Message("user", "go")], TOOLS)
    srv.script("local", [reply("fine")])
    local = fast(make_provider("openai:local", base_url=srv.openai_base_url))
    conversation = [
        Message("user", "go"),
        first.message,
        Message("tool", "x", tool_call_id=first.message.tool_calls[0].id),
    ]
    assert local.complete(SYSTEM, conversation, TOOLS).message.content == "fine"
    sent = srv.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert [m["role"] for m in sent.messages] == ["system", "user", "assistant", "tool"]
    assert sent.messages[3]["tool_call_id"] == sent.messages[2]["tool_calls"][0]["id"]
    assert "gAAAA" not in json.dumps(sent.body)
    srv.assert_script_consumed()
