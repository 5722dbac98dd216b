"""Golden tests: neutral conversation <-> OpenAI chat-completions JSON."""

from __future__ import annotations

import json

from glia.llm import Message, ToolCall, ToolSpec, Usage
from glia.llm.openai_wire import (
    build_request,
    from_wire_messages,
    is_reasoning_model,
    parse_response,
    to_wire_messages,
)

BASH = ToolSpec(
    "bash",
    "Run a shell command.",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
)

CONVERSATION = [
    Message("user", "Improve the scheduler."),
    Message(
        "assistant",
        "Two things first.",
        tool_calls=[
            ToolCall("call_a", "bash", {"command": "ls"}, raw_arguments='{"command": "ls"}'),
            ToolCall(
                "call_b", "bash", {"command": "cat README.md"}, raw_arguments='{"command": "cat README.md"}'
            ),
        ],
    ),
    Message("tool", "README.md\nllmsim", tool_call_id="call_a", name="bash"),
    Message("tool", "cat: README.md: No such file", tool_call_id="call_b", name="bash", is_error=True),
    Message("user", "[supervisor] Measure before you change anything."),
    Message("assistant", "Understood."),
]

GOLDEN_WIRE = [
    {"role": "system", "content": "You are a researcher."},
    {"role": "user", "content": "Improve the scheduler."},
    {
        "role": "assistant",
        "content": "Two things first.",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "bash", "arguments": '{"command": "ls"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "bash", "arguments": '{"command": "cat README.md"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_a", "content": "README.md\nllmsim"},
    {"role": "tool", "tool_call_id": "call_b", "content": "ERROR: cat: README.md: No such file"},
    {"role": "user", "content": "[supervisor] Measure before you change anything."},
    {"role": "assistant", "content": "Understood."},
]


def test_messages_to_wire_match_golden() -> None:
    assert to_wire_messages("You are a researcher.", CONVERSATION) == GOLDEN_WIRE


def test_wire_back_to_neutral_is_lossless() -> None:
    system, messages = from_wire_messages(to_wire_messages("You are a researcher.", CONVERSATION))
    assert system == "You are a researcher."
    assert messages == CONVERSATION


def test_malformed_call_is_replayed_as_valid_json() -> None:
    broken = ToolCall("call_x", "bash", {}, raw_arguments='{"command": "ls', error="not JSON")
    wire = to_wire_messages("", [Message("assistant", "", tool_calls=[broken])])
    assert wire == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_x", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
            ],
        }
    ]


def test_reasoning_models_get_completion_tokens_and_effort_not_temperature() -> None:
    request = build_request(
        "o3",
        "sys",
        [Message("user", "hi")],
        [BASH],
        max_output_tokens=900,
        temperature=0.2,
        reasoning_effort="high",
    )
    assert request["max_completion_tokens"] == 900
    assert request["reasoning_effort"] == "high"
    assert "temperature" not in request and "max_tokens" not in request
    assert request["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "bash",
                "description": "Run a shell command.",
                "parameters": BASH.parameters,
            },
        }
    ]


def test_chat_models_get_max_tokens_and_temperature() -> None:
    request = build_request(
        "gpt-4o", "sys", [Message("user", "hi")], [], max_output_tokens=500, temperature=0.3
    )
    assert request == {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        "max_tokens": 500,
        "temperature": 0.3,
    }


def test_reasoning_model_names() -> None:
    assert [is_reasoning_model(m) for m in ("o3", "o4-mini", "gpt-5", "gpt-5-mini", "o1-2024-12-17")] == [
        True
    ] * 5
    assert [is_reasoning_model(m) for m in ("gpt-4o", "gpt-4.1", "gpt-5-chat-latest", "qwen3-32b")] == [
        False
    ] * 4


def _completion(message: dict, finish: str = "tool_calls", usage: dict | None = None) -> dict:
    return {
        "id": "chatcmpl-1",
        "model": "o3-2025-04-16",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage or {},
    }


def test_response_with_two_tool_calls_and_usage_details() -> None:
    message = {
        "role": "assistant",
        "content": "Running both.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "bash", "arguments": '{"command": "ls"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "bash", "arguments": '{"command": "pwd"}'},
            },
        ],
    }
    usage = {
        "prompt_tokens": 12000,
        "completion_tokens": 800,
        "prompt_tokens_details": {"cached_tokens": 10240},
        "completion_tokens_details": {"reasoning_tokens": 512},
    }
    reply = parse_response(_completion(message, usage=usage), "o3")
    assert reply.model == "o3-2025-04-16"
    assert reply.stop_reason == "tool_use"
    assert reply.message.content == "Running both."
    assert [(c.id, c.arguments, c.error) for c in reply.message.tool_calls] == [
        ("call_1", {"command": "ls"}, None),
        ("call_2", {"command": "pwd"}, None),
    ]
    assert reply.usage == Usage(
        input_tokens=12000,
        cached_input_tokens=10240,
        output_tokens=800,
        reasoning_tokens=512,
        cache_write_tokens=0,
    )


def test_response_with_broken_arguments_keeps_raw_text_and_an_error() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": '{"command": '}}
        ],
    }
    call = parse_response(_completion(message), "gpt-4o").message.tool_calls[0]
    assert call.arguments == {}
    assert call.raw_arguments == '{"command": '
    assert call.error is not None and "not valid JSON" in call.error


def test_compatible_server_quirks_reasoning_content_missing_ids_and_stop() -> None:
    message = {
        "role": "assistant",
        "content": "",
        "reasoning_content": "Think about queues.",
        "tool_calls": [
            {"type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": "ls"})}}
        ],
    }
    reply = parse_response(_completion(message, finish="stop"), "qwen3")
    assert reply.message.reasoning == "Think about queues."
    assert reply.message.tool_calls[0].id == "call_0"
    assert reply.stop_reason == "tool_use"
    assert reply.usage == Usage()
    assert reply.model == "o3-2025-04-16"


def test_length_and_refusal_stop_reasons() -> None:
    truncated = parse_response(_completion({"role": "assistant", "content": "partial"}, finish="length"), "m")
    assert truncated.stop_reason == "max_tokens"
    refused = parse_response(
        _completion(
            {"role": "assistant", "content": None, "refusal": "I can't help with that."}, finish="stop"
        ),
        "m",
    )
    assert (refused.stop_reason, refused.message.content) == ("refusal", "I can't help with that.")


def test_an_empty_assistant_turn_is_sent_as_empty_text_not_null() -> None:
    assert to_wire_messages("", [Message("assistant", "")]) == [{"role": "assistant", "content": ""}]
