"""Prints how fast the provider layer runs against the fake server (not a test: figures only).

python -m tests.fake_llm.bench [calls]
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from glia.llm import Message, ToolSpec, make_provider
from tests.fake_llm import ANY_MODEL, FakeLLMServer, reply, tool_call

BASH = ToolSpec("bash", "Run a command.", {"type": "object", "properties": {"command": {"type": "string"}}})


def main(calls: int = 200) -> None:
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: reply("ok", [tool_call("bash", {"command": "ls"})]))
        setups = (
            ("openai", "openai:bench-model", srv.openai_base_url, "chat"),
            ("responses", "openai:bench-model", srv.openai_base_url, "responses"),
            ("anthropic", "anthropic:bench-model", srv.anthropic_base_url, "auto"),
        )
        for protocol, model, base_url, api in setups:
            provider = make_provider(model, base_url=base_url, openai_api=api)
            conversation = [Message("user", "x" * 20_000)]  # about a 5k-token context

            def one_call(_: int, provider=provider, conversation=conversation) -> float:
                return provider.complete("system prompt", conversation, [BASH]).latency_s

            one_call(0)  # warm up the connection pool
            latencies = [one_call(i) for i in range(calls)]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(one_call, range(calls)))
            parallel_s = time.perf_counter() - started
            print(
                f"{protocol:9s} sequential: median {statistics.median(latencies) * 1000:.2f} ms/call, "
                f"p95 {sorted(latencies)[int(0.95 * calls)] * 1000:.2f} ms; "
                f"4 threads: {calls / parallel_s:.0f} calls/s"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
