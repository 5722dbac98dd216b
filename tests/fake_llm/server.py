"""A fake model server on 127.0.0.1 speaking OpenAI chat completions, the OpenAI Responses API and
Anthropic messages.

Tests point the real SDKs at it. Replies come from a script per model name (so a researcher and a
supervisor model can share one server) or from a callable; every request is recorded; faults are
injected by putting them in the script. A test double only: nothing in `glia/` knows about it.
"""

from __future__ import annotations

import json
import socket
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_llm.responses import ReasoningLedger, encode_responses_reply, replay_problem
from tests.fake_llm.script import Fault, Reply
from tests.fake_llm.wire import (
    ANTHROPIC,
    OPENAI,
    RESPONSES,
    IdSource,
    WireResponse,
    encode_fault,
    encode_reply,
    error_response,
)

ANY_MODEL = "*"  # script or handler key used when no entry names the request's model
_ROUTES = {"/v1/chat/completions": OPENAI, "/v1/responses": RESPONSES, "/v1/messages": ANTHROPIC}
_OUTPUT_ITEM_TYPES = ("reasoning", "function_call")


def closed_port_url() -> str:
    """An OpenAI-style base URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


ScriptItem = Reply | Fault
Handler = Callable[["RecordedRequest"], ScriptItem]


@dataclass
class RecordedRequest:
    """One request as the server saw it, with helpers that read both protocols."""

    protocol: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    served: str = ""  # "reply", a fault kind, or "error: ..." for the fake's own complaints
    index: int = 0  # position among all requests to this server

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat / Anthropic messages; for the Responses API, its input items (see `input_items`)."""
        if self.protocol == RESPONSES:
            return self.input_items
        return list(self.body.get("messages") or [])

    @property
    def input_items(self) -> list[dict[str, Any]]:
        """Responses API input items (a plain string input becomes one user message)."""
        items = self.body.get("input")
        if isinstance(items, str):
            return [{"role": "user", "content": items}]
        return list(items or [])

    @property
    def reasoning_items(self) -> list[dict[str, Any]]:
        """The reasoning items the client sent back (Responses API)."""
        return [item for item in self.input_items if item.get("type") == "reasoning"]

    @property
    def assistant_turns(self) -> int:
        """How many assistant turns the conversation holds so far, in any protocol."""
        if self.protocol != RESPONSES:
            return sum(1 for message in self.messages if message.get("role") == "assistant")
        turns, inside = 0, False
        for item in self.input_items:
            is_output = item.get("type") in _OUTPUT_ITEM_TYPES or item.get("role") == "assistant"
            turns += is_output and not inside
            inside = is_output
        return turns

    @property
    def system(self) -> str:
        """The system prompt: Anthropic's `system`, Responses `instructions`, or system / developer messages."""
        if self.protocol == ANTHROPIC:
            return _text(self.body.get("system"))
        if self.protocol == RESPONSES and self.body.get("instructions"):
            return _text(self.body.get("instructions"))
        return "\n\n".join(
            _text(m.get("content")) for m in self.messages if m.get("role") in ("system", "developer")
        )

    @property
    def tool_names(self) -> list[str]:
        tools = self.body.get("tools") or []
        return [tool.get("name") or tool.get("function", {}).get("name", "") for tool in tools]

    @property
    def last_user_text(self) -> str:
        """Text of the last user turn (tool results excluded)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    content = [block for block in content if block.get("type") in ("text", "input_text")]
                return _text(content)
        return ""

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool result in the conversation as {"id", "content", "is_error"} (OpenAI: is_error None)."""
        results: list[dict[str, Any]] = []
        for message in self.messages:
            if message.get("role") == "tool" or message.get("type") == "function_call_output":
                results.append(
                    {
                        "id": message.get("tool_call_id") or message.get("call_id"),
                        "content": _text(message.get("content", message.get("output"))),
                        "is_error": None,
                    }
                )
            elif self.protocol == ANTHROPIC and isinstance(message.get("content"), list):
                for block in message["content"]:
                    if block.get("type") == "tool_result":
                        results.append(
                            {
                                "id": block.get("tool_use_id"),
                                "content": _text(block.get("content")),
                                "is_error": bool(block.get("is_error")),
                            }
                        )
        return results


@dataclass
class _ModelScript:
    items: deque[ScriptItem] = field(default_factory=deque)
    served: int = 0


class FakeLLMServer:
    """Use as a context manager; `openai_base_url` / `anthropic_base_url` go to `make_provider`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._scripts: dict[str, _ModelScript] = {}
        self._handlers: dict[str, Handler] = {}
        self._requests: list[RecordedRequest] = []
        self._problems: list[str] = []
        self._ids = IdSource()
        self._ledger = ReasoningLedger()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_request_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cuts short any "slow" fault still sleeping
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start the server first"
        return self._httpd.server_address[1]

    @property
    def openai_base_url(self) -> str:
        """Chat Completions and the Responses API both live under it (`/chat/completions`, `/responses`)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"  # the Anthropic SDK appends /v1 itself

    # -- driving the fake --------------------------------------------------------------------------

    def script(self, model: str, items: Iterable[ScriptItem]) -> None:
        """Queue replies / faults for `model` (or ANY_MODEL); each request consumes one, in order."""
        items = list(items)
        for item in items:
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"script items are reply(...) or fault(...), got {item!r}")
        with self._lock:
            self._scripts.setdefault(model, _ModelScript()).items.extend(items)

    def handler(self, model: str, respond: Handler) -> None:
        """Answer every request for `model` (or ANY_MODEL) with `respond(request)`; scripts go first."""
        with self._lock:
            self._handlers[model] = respond

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.model == model]

    @property
    def problems(self) -> list[str]:
        """Requests the fake could not serve from its script (ran out, unknown model, handler crash)."""
        with self._lock:
            return list(self._problems)

    def remaining(self, model: str) -> int:
        with self._lock:
            script = self._scripts.get(model)
            return len(script.items) if script else 0

    def assert_script_consumed(self) -> None:
        """Fail the test if a scripted item was never used or a request could not be served."""
        with self._lock:
            leftovers = {model: len(script.items) for model, script in self._scripts.items() if script.items}
            problems = list(self._problems)
        messages = [
            f"model {model!r}: {count} scripted item(s) never requested" for model, count in leftovers.items()
        ]
        messages += problems
        if messages:
            raise AssertionError("fake LLM: " + "; ".join(messages))

    # -- serving -----------------------------------------------------------------------------------

    def _next_item(self, request: RecordedRequest) -> ScriptItem | str:
        """The item to serve, or a problem description."""
        model = request.model
        with self._lock:
            for key in (model, ANY_MODEL):
                script = self._scripts.get(key)
                if script and script.items:
                    script.served += 1
                    return script.items.popleft()
            handler = self._handlers.get(model) or self._handlers.get(ANY_MODEL)
            exhausted = self._scripts.get(model) or self._scripts.get(ANY_MODEL)
            known = sorted(set(self._scripts) | set(self._handlers))
        if handler is not None:
            try:
                item = handler(request)
            except Exception:
                return f"handler for {model!r} raised:\n{traceback.format_exc()}"
            if not isinstance(item, Reply | Fault):
                return f"handler for {model!r} returned {item!r}, not reply(...) or fault(...)"
            return item
        if exhausted is not None:
            return f"script for model {model!r} ran out after {exhausted.served} item(s)"
        return f"no script or handler for model {model!r} (known: {', '.join(known) or 'none'})"

    def _serve(self, request: RecordedRequest) -> WireResponse | None:
        """The response to send, or None to drop the connection."""
        with self._lock:
            request.index = len(self._requests)
            self._requests.append(request)
        if request.protocol == RESPONSES:
            problem = replay_problem(request.body, self._ledger)
            if problem is not None:  # what the real API answers; a bug of the client under test
                with self._lock:
                    self._problems.append(f"invalid Responses input: {problem}")
                request.served = "invalid_input"
                return error_response(RESPONSES, 400, problem)
        item = self._next_item(request)
        if isinstance(item, str):
            with self._lock:
                self._problems.append(item)
            request.served = f"error: {item.splitlines()[0]}"
            # 400, not 500: a test bug must fail at once instead of being retried with backoff.
            return error_response(request.protocol, 400, f"fake LLM: {item}")
        if isinstance(item, Reply):
            request.served = "reply"
            self._stopping.wait(item.delay_s)
            return self._encode(request, item)
        request.served = item.kind
        if item.kind == "disconnect":
            return None
        if item.kind == "slow":
            self._stopping.wait(item.delay_s)
            return self._encode(request, Reply(text="(late reply)"))
        return encode_fault(request.protocol, item, request.model)

    def _encode(self, request: RecordedRequest, item: Reply) -> WireResponse:
        if request.protocol == RESPONSES:
            return encode_responses_reply(item, request.model, request.body, self._ids, self._ledger)
        return encode_reply(request.protocol, item, request.model, request.body, self._ids)


def _make_request_handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class _RequestHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
            protocol = _ROUTES.get(self.path.split("?", 1)[0].rstrip("/"))
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            if protocol is None:
                self._send(WireResponse(404, {"error": {"message": f"fake LLM: no route {self.path}"}}, {}))
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError as exc:
                self._send(error_response(protocol, 400, f"fake LLM: request body is not JSON: {exc}"))
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            response = server._serve(RecordedRequest(protocol, self.path, headers, body))
            if response is None:
                self.close_connection = True
                return
            self._send(response)

        def _send(self, response: WireResponse) -> None:
            payload = response.payload()
            try:
                self.send_response(response.status)
                self.send_header("content-type", response.content_type)
                self.send_header("content-length", str(len(payload)))
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired during a "slow" fault)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; requests are recorded instead

    return _RequestHandler


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content if isinstance(block, dict))
