"""A scripted fake model server speaking the OpenAI (Chat Completions and Responses) and Anthropic wire
protocols, for tests.

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
quota, server_error, overloaded (Anthropic 529), slow, disconnect, context_length, auth, permission,
not_found, bad_request, status; and servers that are no model API: html, not_json, no_choices,
not_implemented (501), no_route (a framework's 404). `closed_port_url()` is a base URL that refuses connections. Malformed tool
arguments: `tool_call("bash", '{"command": ')`.

The Responses API (`/v1/responses`) returns `reasoning=` as a reasoning item with summary parts (when
the request asks for summaries) and encrypted content (when it asks for it), and checks replayed
reasoning items the way the real API does with `store: false` (see responses.py); a request that breaks
those rules gets the API's 400 and is listed by `assert_script_consumed()`.
Usage is given per reply (`input_tokens`, `cached_input_tokens`, ...) or estimated from sizes.
A request the fake cannot serve (script ran out, unknown model) gets a 400, which the provider layer
does not retry, and is listed by `assert_script_consumed()`.
"""

from tests.fake_llm.script import FAULT_KINDS, FakeToolCall, Fault, Reply, fault, reply, tool_call
from tests.fake_llm.server import ANY_MODEL, FakeLLMServer, RecordedRequest, closed_port_url

__all__ = [
    "ANY_MODEL",
    "FAULT_KINDS",
    "FakeLLMServer",
    "FakeToolCall",
    "Fault",
    "RecordedRequest",
    "Reply",
    "closed_port_url",
    "fault",
    "reply",
    "tool_call",
]
