"""Golden tests: neutral conversation <-> OpenAI Responses API JSON (no network)."""

from __future__ import annotations

import json

import pytest

from glia.llm import Message, ProviderRejected, ToolCall, ToolSpec, Usage
from glia.llm import openai_responses_wire as wire
from glia.llm.retry import RetryableReply

BASH = ToolSpec(
    "bash",
    "Run a command.",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": []},
)
REASONING = {
    "id": "rs_1",
    "type": "reasoning",
    "summary": [
        {"type": "summary_text", "text": "**Reading the layout**\n\nFirst list the files."},
        {"type": "summary_text", "text": "**Then the router**\n\nOpen the scheduler."},
    ],
    "encrypted_content": "gAAAA-secret-1",
    "content": None,
    "status": None,
}
CALL = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_1",
    "name": "bash",
    "arguments": '{"command": "ls"}',
    "status": "completed",
}
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Looking around.", "annotations": []}],
}


def reply(*output: dict, status: str = "completed", **extra: object) -> dict:
    return {
        "id": "resp_1",
        "object": "response",
        "status": status,
        "model": "o3-2025-04-16",
        "output": list(output),
        "usage": {
            "input_tokens": 5000,
            "input_tokens_details": {"cached_tokens": 4096},
            "output_tokens": 900,
            "output_tokens_details": {"reasoning_tokens": 768},
            "total_tokens": 5900,
        },
        **extra,
    }


def test_a_reasoning_model_request_is_stateless_and_asks_for_encrypted_reasoning() -> None:
    request = wire.build_request(
        "o3",
        "You are a researcher.",
        [Message("user", "Improve routing.")],
        [BASH],
        max_output_tokens=4000,
        temperature=0.3,
        reasoning_effort="high",
        reasoning_summary="auto",
    )
    assert request == {
        "model": "o3",
        "input": [{"role": "user", "content": "Improve routing."}],
        "store": False,
        "max_output_tokens": 4000,
        "instructions": "You are a researcher.",
        "tools": [
            {
                "type": "function",
                "name": "bash",
                "description": "Run a command.",
                "parameters": BASH.parameters,
                "strict": False,
            }
        ],
        "reasoning": {"effort": "high", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
    }  # no temperature: reasoning models reject it


def test_a_plain_model_gets_temperature_and_no_reasoning_fields() -> None:
    request = wire.build_request(
        "gpt-4.1", "", [Message("user", "hi")], [], max_output_tokens=100, temperature=0.3
    )
    assert request == {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "hi"}],
        "store": False,
        "max_output_tokens": 100,
        "temperature": 0.3,
    }


def test_summaries_can_be_switched_off() -> None:
    request = wire.build_request("gpt-5", "", [], [], max_output_tokens=100, reasoning_summary=None)
    assert "reasoning" not in request and request["include"] == ["reasoning.encrypted_content"]


def test_a_reply_with_reasoning_and_a_call_keeps_every_item_for_replay() -> None:
    parsed = wire.parse_response(reply(REASONING, MESSAGE, CALL), "o3")
    message = parsed.message
    assert parsed.stop_reason == "tool_use" and parsed.model == "o3-2025-04-16"
    assert message.content == "Looking around."
    assert message.reasoning == (
        "**Reading the layout**\n\nFirst list the files.\n\n**Then the router**\n\nOpen the scheduler."
    )
    assert [(c.id, c.name, c.arguments, c.error) for c in message.tool_calls] == [
        ("call_1", "bash", {"command": "ls"}, None)
    ]
    kept = message.provider_state[wire.STATE_KEY]["items"]
    assert [item["id"] for item in kept] == ["rs_1", "msg_1", "fc_1"]
    assert kept[0]["encrypted_content"] == "gAAAA-secret-1"
    assert "content" not in kept[0] and "status" not in kept[0]  # nulls are not sent back
    json.dumps(message.provider_state)  # transcripts store it as JSON


def test_usage_counts_cached_and_reasoning_tokens() -> None:
    usage = wire.parse_response(reply(MESSAGE), "o3").usage
    assert usage == Usage(
        input_tokens=5000, cached_input_tokens=4096, output_tokens=900, reasoning_tokens=768
    )


def test_the_next_request_replays_reasoning_in_its_place() -> None:
    first = wire.parse_response(reply(REASONING, MESSAGE, CALL), "o3").message
    conversation = [
        Message("user", "Improve routing."),
        first,
        Message("tool", "README.md", tool_call_id="call_1", name="bash"),
        Message("user", "[Supervisor] Benchmark LLQ first."),
    ]
    items = wire.to_wire_input(conversation)
    assert [item.get("type") or item["role"] for item in items] == [
        "user",
        "reasoning",
        "message",
        "function_call",
        "function_call_output",
        "user",
    ]
    assert items[1]["encrypted_content"] == "gAAAA-secret-1" and items[1]["id"] == "rs_1"
    assert items[3] == {k: v for k, v in CALL.items()}
    assert items[4] == {"type": "function_call_output", "call_id": "call_1", "output": "README.md"}


def test_a_turn_cut_off_after_its_reasoning_drops_the_dangling_item() -> None:
    cut = wire.parse_response(
        reply(REASONING, status="incomplete", incomplete_details={"reason": "max_output_tokens"}), "o3"
    )
    assert cut.stop_reason == "max_tokens" and cut.message.reasoning
    assert wire.to_wire_input([Message("user", "go"), cut.message]) == [{"role": "user", "content": "go"}]


def test_state_that_no_longer_matches_the_message_is_not_replayed() -> None:
    message = wire.parse_response(reply(REASONING, CALL), "o3").message
    message.tool_calls[0].id = "call_other"  # e.g. rewritten by a caller
    items = wire.to_wire_input([message, Message("tool", "ok", tool_call_id="call_other")])
    assert [item.get("type") for item in items] == ["function_call", "function_call_output"]
    assert items[0] == {
        "type": "function_call",
        "call_id": "call_other",
        "name": "bash",
        "arguments": '{"command": "ls"}',
    }


def test_messages_from_other_providers_are_sent_from_their_neutral_fields() -> None:
    claude = Message(
        "assistant",
        "Checking.",
        tool_calls=[ToolCall("toolu_1", "bash", {"command": "ls"})],
        reasoning="thinking text",
        provider_state={"anthropic_thinking": [{"type": "thinking", "thinking": "x", "signature": "s"}]},
    )
    items = wire.to_wire_input([claude, Message("tool", "boom", tool_call_id="toolu_1", is_error=True)])
    assert items == [
        {"role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "toolu_1", "name": "bash", "arguments": '{"command": "ls"}'},
        {"type": "function_call_output", "call_id": "toolu_1", "output": "ERROR: boom"},
    ]


def test_input_items_read_back_into_the_same_conversation() -> None:
    first = wire.parse_response(reply(REASONING, MESSAGE, CALL), "o3").message
    conversation = [
        Message("user", "Improve routing."),
        first,
        Message("tool", "denied", tool_call_id="call_1", name="bash", is_error=True),
        Message("assistant", "Done."),
    ]
    system, back = wire.from_wire_input(wire.to_wire_input(conversation), "sys")
    assert system == "sys"
    assert [(m.role, m.content, m.is_error) for m in back] == [
        ("user", "Improve routing.", False),
        ("assistant", "Looking around.", False),
        ("tool", "denied", True),
        ("assistant", "Done.", False),
    ]
    assert back[1].provider_state == first.provider_state and back[1].reasoning == first.reasoning
    assert back[2].name == "bash"


def test_refusals_and_filtered_replies_have_their_own_stop_reasons() -> None:
    refusal = {
        "type": "message",
        "role": "assistant",
        "id": "msg_9",
        "content": [{"type": "refusal", "refusal": "No."}],
    }
    refused = wire.parse_response(reply(refusal), "o3")
    assert (refused.stop_reason, refused.message.content) == ("refusal", "No.")
    filtered = wire.parse_response(
        reply(status="incomplete", incomplete_details={"reason": "content_filter"}), "o3"
    )
    assert filtered.stop_reason == "content_filter"


def test_broken_arguments_become_a_tool_call_error() -> None:
    broken = dict(CALL, arguments='{"command": "ls')
    call = wire.parse_response(reply(broken), "o3").message.tool_calls[0]
    assert call.error and "not valid JSON" in call.error and call.raw_arguments == '{"command": "ls'


@pytest.mark.parametrize(
    ("code", "raised"), [("server_error", RetryableReply), ("invalid_prompt", ProviderRejected)]
)
def test_a_failed_reply_is_retried_only_for_transient_causes(code: str, raised: type) -> None:
    failed = reply(status="failed", error={"code": code, "message": "went wrong"})
    with pytest.raises(raised, match=f"the reply failed \\({code}\\): went wrong"):
        wire.check_status(failed, "openai:o3")
    wire.check_status(reply(MESSAGE), "openai:o3")  # a completed reply passes
