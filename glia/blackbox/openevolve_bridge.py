"""The worker side of the OpenEvolve adapter: a model client and an evaluator that only talk to Glia.

Both are used by OpenEvolve inside its worker processes (and its main process). They hold no key and run
no candidate: each request goes to the broker socket of the method run (`glia.blackbox.broker`), which
does the work in Glia's process. Imported only where the `openevolve` package is installed.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any

from openevolve.evaluation_result import EvaluationResult
from openevolve.llm.base import LLMInterface

BROKER_SCHEME = "glia-broker://"


def ask_broker(path: str, request: dict[str, Any]) -> dict[str, Any]:
    """Send one request line and read one reply line (blocking: the broker answers when the work is done)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps({**request, "pid": os.getpid()}).encode() + b"\n")
        chunks = []
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
    if not chunks:
        raise RuntimeError("the Glia broker closed the connection without an answer")
    reply = json.loads(b"".join(chunks))
    if not isinstance(reply, dict):
        raise RuntimeError("the Glia broker sent a malformed answer")
    return reply


class BrokerLLM(LLMInterface):
    """OpenEvolve's model interface, answered by Glia's provider through the broker."""

    def __init__(self, model_cfg: Any) -> None:
        base = str(getattr(model_cfg, "api_base", "") or "")
        if not base.startswith(BROKER_SCHEME):
            raise ValueError(f"BrokerLLM needs an api_base of the form {BROKER_SCHEME}/path, got {base!r}")
        self.path = base[len(BROKER_SCHEME) :]
        self.system_message = getattr(model_cfg, "system_message", None) or ""
        self.last_usage: dict[str, Any] | None = None

    async def generate(self, prompt: str, **kwargs: Any) -> str:
        return await self.generate_with_context(self.system_message, [{"role": "user", "content": prompt}])

    async def generate_with_context(
        self, system_message: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> str:
        request = {"op": "complete", "system": system_message, "messages": messages}
        reply = await asyncio.to_thread(ask_broker, self.path, request)
        if not reply.get("ok"):
            raise RuntimeError(str(reply.get("error") or "the model call failed"))
        self.last_usage = reply.get("usage")
        return str(reply.get("text") or "")


def broker_client(model_cfg: Any) -> BrokerLLM:
    """OpenEvolve's `init_client` hook (a module-level function, so worker processes can find it)."""
    return BrokerLLM(model_cfg)


def evaluate_through_broker(path: str, program_path: str) -> EvaluationResult:
    """OpenEvolve's `evaluate(program_path)`: the program's text goes to the broker, which benchmarks it in
    the sandbox; never raises (OpenEvolve would retry, spending another simulation)."""
    try:
        code = Path(program_path).read_text(encoding="utf-8")
        reply = ask_broker(path, {"op": "evaluate", "code": code})
    except Exception as exc:  # noqa: BLE001 - reported as a failed design, not retried
        return EvaluationResult(
            metrics={"combined_score": -1e9}, artifacts={"glia_error": f"{type(exc).__name__}: {exc}"}
        )
    if not reply.get("ok"):
        return EvaluationResult(
            metrics={"combined_score": -1e9}, artifacts={"glia_error": str(reply.get("error"))}
        )
    return EvaluationResult(
        metrics=dict(reply.get("metrics") or {}), artifacts=dict(reply.get("artifacts") or {})
    )


EVALUATOR_FILE = '''"""Written by Glia for one OpenEvolve session: the evaluator asks Glia to benchmark the program."""

from glia.blackbox.openevolve_bridge import evaluate_through_broker

BROKER = {path!r}


def evaluate(program_path):
    return evaluate_through_broker(BROKER, program_path)
'''


def evaluator_source(broker_path: str) -> str:
    """The text of the evaluator file OpenEvolve loads for a session whose broker listens at `broker_path`."""
    return EVALUATOR_FILE.format(path=broker_path)
