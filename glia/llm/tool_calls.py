"""Turning a model's tool-call output into `ToolCall`s without ever crashing on bad output.

Models sometimes send arguments that are not JSON, call tools that do not exist or forget a required
field. Each such call keeps `error` set to a sentence the model can act on; the agent loop answers it
with a tool error instead of running anything.
"""

from __future__ import annotations

import json
from typing import Any

from glia.llm.types import Message, ToolCall, ToolSpec

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parse a JSON arguments string into an object; on failure return ({}, a fix-it message)."""
    if not raw.strip():
        return {}, None  # models send "" for tools without parameters
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at position {exc.pos}); send a JSON object"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def validate_tool_calls(message: Message, tools: list[ToolSpec] | None) -> int:
    """Mark calls to unknown tools or with missing / mistyped top-level arguments; return how many are bad.

    Calls that already carry an error (bad JSON) keep it and are counted too.
    """
    by_name = {tool.name: tool for tool in tools or []}
    bad = 0
    for call in message.tool_calls:
        if call.error is None:
            call.error = tool_call_problem(call, by_name)
        bad += call.error is not None
    return bad


def tool_call_problem(call: ToolCall, tools: dict[str, ToolSpec]) -> str | None:
    """Why `call` does not fit its tool's schema (unknown tool, missing or mistyped top-level argument)."""
    tool = tools.get(call.name)
    if tool is None:
        known = ", ".join(sorted(tools)) or "none"
        return f"unknown tool {call.name!r}; available tools: {known}"
    schema = tool.parameters or {}
    missing = [name for name in schema.get("required", []) if name not in call.arguments]
    if missing:
        return f"missing required argument(s) for {call.name}: {', '.join(missing)}"
    properties = schema.get("properties", {})
    for name, value in call.arguments.items():
        expected = properties.get(name, {}).get("type")
        if isinstance(expected, str) and not _has_json_type(value, expected):
            return f"argument {name!r} of {call.name} must be of type {expected}, got {type(value).__name__}"
    return None


def _has_json_type(value: Any, json_type: str) -> bool:
    python_types = _JSON_TYPES.get(json_type)
    if python_types is None:
        return True  # "null", unions and the like: not checked here
    if isinstance(value, bool) and json_type in ("integer", "number"):
        return False
    return isinstance(value, python_types)
