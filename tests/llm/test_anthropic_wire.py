"""Golden tests: neutral conversation <-> Anthropic Messages JSON."""

from __future__ import annotations

from glia.llm import Message, ToolCall, ToolSpec, Usage
from glia.llm.anthropic_wire import (
    THINKING_STATE_KEY,
    build_request,
    from_wire_messages,
    parse_response,
    to_wire_messages,
)

BASH = ToolSpec(
    "bash",
    "Run a shell command.",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
)
THINKING = [{"type": "thinking", "thinking": "List files first.", "signature": "sig-1"}]

CONVERSATION = [
    Message("user", "Improve the scheduler."),
    Message(
        "assistant",
        "Two things first.",
        reasoning="List files first.",
        provider_state={THINKING_STATE_KEY: THINKING},
        tool_calls=[
            ToolCall("toolu_a", "bash", {"command": "ls"}, raw_arguments='{"command": "ls"}'),
            ToolCall(
                "toolu_b", "bash", {"command": "cat README.md"}, raw_arguments='{"command": "cat README.md"}'
            ),
        ],
    ),
    Message("tool", "README.md\nllmsim", tool_call_id="toolu_a", name="bash"),
    Message("tool", "cat: README.md: No such file", tool_call_id="toolu_b", name="bash", is_error=True),
    Message("user", "[supervisor] Measure before you change anything."),
    Message("assistant", "Understood."),
    Message("user", "Go on."),
]

GOLDEN_WIRE = [
    {"role": "user", "content": [{"type": "text", "text": "Improve the scheduler."}]},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "List files first.", "signature": "sig-1"},
            {"type": "text", "text": "Two things first."},
            {"type": "tool_use", "id": "toolu_a", "name": "bash", "input": {"command": "ls"}},
            {"type": "tool_use", "id": "toolu_b", "name": "bash", "input": {"command": "cat README.md"}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "README.md\nllmsim"},
            {
                "type": "tool_result",
                "tool_use_id": "toolu_b",
                "content": "cat: README.md: No such file",
                "is_error": True,
            },
            {"type": "text", "text": "[supervisor] Measure before you change anything."},
        ],
    },
    {"role": "assistant", "content": [{"type": "text", "text": "Understood."}]},
    {"role": "user", "content": [{"type": "text", "text": "Go on."}]},
]


def test_messages_to_wire_match_golden() -> None:
    assert to_wire_messages(CONVERSATION) == GOLDEN_WIRE


def test_wire_back_to_neutral_is_lossless() -> None:
    assert from_wire_messages(to_wire_messages(CONVERSATION)) == CONVERSATION


def test_request_marks_system_and_last_block_as_cache_points() -> None:
    request = build_request(
        "claude-sonnet-4-5", "You are a researcher.", CONVERSATION, [BASH], max_output_tokens=4000
    )
    assert request["system"] == [
        {"type": "text", "text": "You are a researcher.", "cache_control": {"type": "ephemeral"}}
    ]
    assert request["messages"][-1]["content"][-1] == {
        "type": "text",
        "text": "Go on.",
        "cache_control": {"type": "ephemeral"},
    }
    cache_points = [
        block for turn in request["messages"] for block in turn["content"] if "cache_control" in block
    ]
    assert len(cache_points) == 1
    assert request["tools"] == [
        {"name": "bash", "description": "Run a shell command.", "input_schema": BASH.parameters}
    ]
    assert request["max_tokens"] == 4000
    # The cache mark does not leak into the conversation the caller keeps.
    assert "cache_control" not in to_wire_messages(CONVERSATION)[-1]["content"][-1]


def test_thinking_replaces_temperature_and_leaves_room_for_the_answer() -> None:
    request = build_request(
        "claude-sonnet-4-5",
        "s",
        [Message("user", "hi")],
        [],
        max_output_tokens=4000,
        temperature=0.5,
        thinking_budget=8000,
    )
    assert request["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    assert request["max_tokens"] == 9024
    assert "temperature" not in request
    plain = build_request(
        "claude-haiku-4-5", "s", [Message("user", "hi")], [], max_output_tokens=100, temperature=0.5
    )
    assert plain["temperature"] == 0.5 and "thinking" not in plain


def test_empty_texts_become_placeholders_the_api_accepts() -> None:
    wire = to_wire_messages(
        [Message("user", ""), Message("assistant", ""), Message("tool", "", tool_call_id="t")]
    )
    assert wire == [
        {"role": "user", "content": [{"type": "text", "text": "(empty)"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "(empty)"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "(empty)"}]},
    ]


def test_response_with_thinking_text_two_tools_and_cache_usage() -> None:
    data = {
        "id": "msg_1",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "thinking", "thinking": "Compare LLQ and LOR.", "signature": "sig-9"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Running both."},
            {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"command": "ls"}},
            {"type": "tool_use", "id": "toolu_2", "name": "submit", "input": {}},
        ],
        "stop_reason": "tool_use",
        "usage": {
            "input_tokens": 300,
            "cache_read_input_tokens": 20000,
            "cache_creation_input_tokens": 1500,
            "output_tokens": 700,
        },
    }
    reply = parse_response(data, "claude-sonnet-4-5")
    assert reply.model == "claude-sonnet-4-5-20250929"
    assert reply.stop_reason == "tool_use"
    assert reply.message.content == "Running both."
    assert reply.message.reasoning == "Compare LLQ and LOR."
    assert reply.message.provider_state[THINKING_STATE_KEY] == data["content"][:2]
    assert [(c.id, c.name, c.arguments) for c in reply.message.tool_calls] == [
        ("toolu_1", "bash", {"command": "ls"}),
        ("toolu_2", "submit", {}),
    ]
    assert reply.usage == Usage(
        input_tokens=21800, cached_input_tokens=20000, output_tokens=700, cache_write_tokens=1500
    )
    # Sent back on the next turn exactly as received, signatures included.
    replayed = to_wire_messages([reply.message])[0]["content"]
    assert replayed[:2] == data["content"][:2]


def test_string_tool_input_is_parsed_or_flagged() -> None:
    good = {"content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": '{"command": "ls"}'}]}
    bad = {"content": [{"type": "tool_use", "id": "t2", "name": "bash", "input": '{"command": "ls"'}]}
    assert parse_response(good, "m").message.tool_calls[0].arguments == {"command": "ls"}
    flagged = parse_response(bad, "m").message.tool_calls[0]
    assert flagged.arguments == {} and flagged.error is not None and "not valid JSON" in flagged.error


def test_stop_reasons_are_neutral() -> None:
    def stop(reason: str) -> str:
        return parse_response(
            {"content": [{"type": "text", "text": "x"}], "stop_reason": reason}, "m"
        ).stop_reason

    assert [stop(r) for r in ("end_turn", "stop_sequence", "max_tokens", "refusal", "pause_turn")] == [
        "end_turn",
        "end_turn",
        "max_tokens",
        "refusal",
        "pause_turn",
    ]
