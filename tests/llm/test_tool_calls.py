"""Malformed model output becomes ToolCall.error with a message the model can act on."""

from __future__ import annotations

from glia.llm import Message, ToolCall, ToolSpec, validate_tool_calls
from glia.llm.tool_calls import parse_arguments

TOOLS = [
    ToolSpec(
        "bash",
        "Run a command.",
        {
            "type": "object",
            "properties": {"command": {"type": "string"}, "timeout_s": {"type": "integer"}},
            "required": ["command"],
        },
    ),
    ToolSpec("submit", "Finish.", {"type": "object", "properties": {}}),
]


def _calls(*calls: ToolCall) -> Message:
    return Message("assistant", tool_calls=list(calls))


def test_parse_arguments() -> None:
    assert parse_arguments('{"command": "ls"}') == ({"command": "ls"}, None)
    assert parse_arguments("") == ({}, None)
    arguments, error = parse_arguments('{"command": "ls"')
    assert arguments == {} and error is not None and error.startswith("arguments are not valid JSON")
    assert parse_arguments("[1, 2]") == ({}, "arguments must be a JSON object, got list")


def test_good_calls_pass_and_bad_ones_are_counted_with_reasons() -> None:
    message = _calls(
        ToolCall("1", "bash", {"command": "ls", "timeout_s": 30}),
        ToolCall("2", "submit", {}),
        ToolCall("3", "python", {"code": "print(1)"}),
        ToolCall("4", "bash", {"timeout_s": 5}),
        ToolCall("5", "bash", {"command": "ls", "timeout_s": "soon"}),
        ToolCall("6", "bash", {"command": "ls", "timeout_s": True}),
        ToolCall("7", "bash", {}, raw_arguments="{oops", error="arguments are not valid JSON"),
    )
    assert validate_tool_calls(message, TOOLS) == 5
    errors = [call.error for call in message.tool_calls]
    assert errors[:2] == [None, None]
    assert errors[2] == "unknown tool 'python'; available tools: bash, submit"
    assert errors[3] == "missing required argument(s) for bash: command"
    assert errors[4] == "argument 'timeout_s' of bash must be of type integer, got str"
    assert errors[5] == "argument 'timeout_s' of bash must be of type integer, got bool"
    assert errors[6] == "arguments are not valid JSON"


def test_no_tools_offered_means_every_call_is_unknown() -> None:
    message = _calls(ToolCall("1", "bash", {"command": "ls"}))
    assert validate_tool_calls(message, None) == 1
    assert message.tool_calls[0].error == "unknown tool 'bash'; available tools: none"
