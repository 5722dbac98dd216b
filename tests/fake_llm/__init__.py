"""A scripted fake model server speaking the OpenAI and Anthropic wire protocols, for tests.

    from tests.fake_llm import FakeLLMServer, reply, tool_call, fault

    with FakeLLMServer() as srv:
        srv.script("researcher-model", [
            fault("rate_limit", retry_after=0.1),                        # 429 + Retry-After, then...
            reply("Listing.", [tool_call("bash", {"command": "ls"})]),   # ...a tool call
            reply("Done.", [tool_call("finish", {"summary": "..."})]),
        ])
        srv.handler("supervisor-model", lambda request: reply("VERDICT: approve"))
        researcher = make_provider("openai:researcher-model", base_url=srv.openai_base_url)
        supervisor = make_provider("anthropic:supervisor-model", base_url=srv.anthropic_base_url)
        ...
        srv.requests                # every request: protocol, path, headers, body, and helpers
        srv.assert_script_consumed()

Scripts are keyed by the request's model name (`ANY_MODEL` matches the rest) and consumed one item
per request; a handler answers when no script item is left. Faults (see `FAULT_KINDS`): rate_limit,
server_error, overloaded (Anthropic 529), slow, disconnect, context_length, auth, permission,
not_found, bad_request, status. Malformed tool arguments: `tool_call("bash", '{"command": ')`.
Usage is given per reply (`input_tokens`, `cached_input_tokens`, ...) or estimated from sizes.
A request the fake cannot serve (script ran out, unknown model) gets a 400, which the provider layer
does not retry, and is listed by `assert_script_consumed()`.
"""

from tests.fake_llm.script import FAULT_KINDS, FakeToolCall, Fault, Reply, fault, reply, tool_call
from tests.fake_llm.server import ANY_MODEL, FakeLLMServer, RecordedRequest

__all__ = [
    "ANY_MODEL",
    "FAULT_KINDS",
    "FakeLLMServer",
    "FakeToolCall",
    "Fault",
    "RecordedRequest",
    "Reply",
    "fault",
    "reply",
    "tool_call",
]
