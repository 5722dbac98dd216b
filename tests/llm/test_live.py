"""Against the real APIs: runs only when a real key is set (never required in CI).

    OPENAI_API_KEY=... ANTHROPIC_API_KEY=... pytest tests/llm -m live
Models: GLIA_LIVE_OPENAI_MODEL (default openai:gpt-5-mini), GLIA_LIVE_ANTHROPIC_MODEL
(default anthropic:claude-haiku-4-5). Each test costs well under a cent.
"""

from __future__ import annotations

import os

import pytest
from dotenv import dotenv_values, find_dotenv

from glia.llm import Message, ToolSpec, make_provider

pytestmark = pytest.mark.live

ADD = ToolSpec(
    "add",
    "Add two integers and return the sum.",
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)
LIVE_MODELS = [
    ("OPENAI_API_KEY", os.environ.get("GLIA_LIVE_OPENAI_MODEL", "openai:gpt-5-mini")),
    ("ANTHROPIC_API_KEY", os.environ.get("GLIA_LIVE_ANTHROPIC_MODEL", "anthropic:claude-haiku-4-5")),
]


def _has_key(variable: str) -> bool:
    dotenv_path = find_dotenv(usecwd=True)
    return bool(os.environ.get(variable) or (dotenv_path and dotenv_values(dotenv_path).get(variable)))


@pytest.mark.parametrize(("variable", "model"), LIVE_MODELS)
def test_a_real_tool_round_trip(variable: str, model: str) -> None:
    if not _has_key(variable):
        pytest.skip(f"{variable} not set")
    provider = make_provider(model, max_output_tokens=2000)
    system = "You are a careful assistant. Use the add tool for arithmetic, then state the result."
    conversation = [Message("user", "What is 1234 + 4321? Use the tool.")]
    first = provider.complete(system, conversation, [ADD])
    assert first.stop_reason == "tool_use"
    call = first.message.tool_calls[0]
    assert call.error is None and call.name == "add"
    assert {call.arguments["a"], call.arguments["b"]} == {1234, 4321}
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 0
    assert first.cost_usd is not None and 0 < first.cost_usd < 0.05
    conversation += [first.message, Message("tool", "5555", tool_call_id=call.id, name="add")]
    second = provider.complete(system, conversation, [ADD])
    assert second.stop_reason == "end_turn"
    assert "5555" in second.message.content.replace(",", "")
