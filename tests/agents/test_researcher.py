from glia.agents.researcher import (
    INTERRUPTED_CALL_OUTPUT,
    Researcher,
    assistant_event_fields,
    rebuild_conversation,
    unanswered_calls,
)
from glia.llm.types import Message, ToolCall

from .scripting import ScriptedProvider, bash


def test_assistant_events_keep_what_a_provider_needs_back():
    message = Message(
        role="assistant",
        content="Let me check.",
        reasoning="The queue is long.",
        tool_calls=[
            ToolCall("a", "bash", {"command": "ls"}),
            ToolCall("b", "bash", {}, raw_arguments='{"command": ', error="invalid JSON"),
        ],
        provider_state={"thinking_blocks": [{"signature": "abc"}]},
    )
    fields = assistant_event_fields(message)
    assert fields["tool_calls"][0] == {"id": "a", "name": "bash", "arguments": {"command": "ls"}}
    assert (
        fields["tool_calls"][1]["raw_arguments"] == '{"command": '
        and fields["tool_calls"][1]["error"] == "invalid JSON"
    )
    events = [
        {"type": "user", "text": "brief"},
        {"type": "assistant", **fields},
        {"type": "model_call", "agent": "researcher"},
        {
            "type": "tool_result",
            "id": "a",
            "name": "bash",
            "output": "[exit code 0, 0.0s]\nfile",
            "is_error": False,
        },
        {"type": "simulation", "index": 1},
        {"type": "budget", "detail": "[Simulations used in this session: 1.]"},
        {"type": "format_error", "detail": "invalid JSON"},
        {"type": "tool_result", "id": "b", "name": "bash", "output": "Could not use it", "is_error": True},
        {
            "type": "supervisor",
            "trigger": "periodic",
            "message": "[Supervisor — periodic check-in] Hi",
            "delivered": "user",
        },
        {"type": "supervisor", "trigger": "finish", "message": "[Supervisor] No", "delivered": "tool_result"},
        {"type": "error", "detail": "ignored"},
    ]
    assert rebuild_conversation(events) == [
        Message(role="user", content="brief"),
        message,
        Message(
            role="tool",
            content="[exit code 0, 0.0s]\nfile\n\n[Simulations used in this session: 1.]",
            tool_call_id="a",
            name="bash",
        ),
        Message(role="tool", content="Could not use it", tool_call_id="b", name="bash", is_error=True),
        Message(role="user", content="[Supervisor — periodic check-in] Hi"),
    ]


def test_calls_cut_off_by_a_crash_are_answered_before_the_next_message():
    turn = assistant_event_fields(
        Message(
            role="assistant",
            tool_calls=[ToolCall("a", "bash", {"command": "x"}), ToolCall("b", "bash", {"command": "y"})],
        )
    )
    events = [
        {"type": "user", "text": "brief"},
        {"type": "assistant", **turn},
        {"type": "tool_result", "id": "a", "name": "bash", "output": "done"},
    ]
    assert [c.id for c in unanswered_calls(events)] == ["b"]
    rebuilt = rebuild_conversation([*events, {"type": "user", "text": "resumed"}])
    assert [(m.role, m.tool_call_id, m.content) for m in rebuilt[2:]] == [
        ("tool", "a", "done"),
        ("tool", "b", INTERRUPTED_CALL_OUTPUT),
        ("user", None, "resumed"),
    ]
    assert unanswered_calls([{"type": "user", "text": "only a brief"}]) == []


def test_researcher_sends_the_whole_conversation_with_its_tools():
    provider = ScriptedProvider("r", [bash("ls")])
    researcher = Researcher(provider, "SYSTEM", tools=[], messages=[Message(role="user", content="brief")])
    response = researcher.respond()
    researcher.add_tool_result(response.message.tool_calls[0], "out")
    researcher.append_to_last_tool_result("[note]")
    assert provider.requests[0].system == "SYSTEM" and provider.requests[0].messages == [
        Message("user", "brief")
    ]
    assert [m.role for m in researcher.messages] == ["user", "assistant", "tool"]
    assert researcher.messages[-1].content == "out\n\n[note]"
