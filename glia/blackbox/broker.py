"""The host side of the OpenEvolve adapter: one socket where OpenEvolve's workers ask for model calls and
for benchmarks of their candidates.

OpenEvolve runs its iterations in worker processes. Letting those processes call the model or run
candidates themselves would put the API key and candidate code in processes Glia does not account for.
Instead each worker is a thin client (`openevolve_bridge`): its model client and its evaluator send one
JSON line here and wait for one line back. This process makes the model call through Glia's provider
(priced, recorded, charged to the run's budget) and benchmarks the candidate in the method's sandbox
through the ledger, exactly as `sample` and `loop` do.

Protocol (one request per connection, UTF-8 JSON lines, at most `MAX_REQUEST_BYTES`):
`{"op": "complete", "system": str, "messages": [{"role", "content"}], "pid": int}` ->
`{"ok": true, "text": str, "usage": {...}}`; `{"op": "evaluate", "code": str, "pid": int}` ->
`{"ok": true, "metrics": {...}, "artifacts": {...}}`; failures -> `{"ok": false, "error": str}`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from glia.blackbox.session import Generation, MethodEnded, MethodSession
from glia.blackbox.store import VALID, CandidateRecord
from glia.llm.types import Message
from glia.metric import Metric

log = structlog.get_logger()

MAX_REQUEST_BYTES = 16 * 2**20
INVALID_SCORE = -1e9  # OpenEvolve maximises combined_score; a failed design ranks below every valid one


def candidate_metrics(record: CandidateRecord, metric: Metric) -> tuple[dict[str, float], dict[str, str]]:
    """What OpenEvolve is told about a candidate: `combined_score` (the objective, sign-flipped when it is
    minimised) and the reported numbers; a failed design gets INVALID_SCORE and its error as an artifact."""
    if record.status == VALID and record.claimed_score is not None:
        score = record.claimed_score
        metrics = {"combined_score": metric.as_maximised(score), metric.name: score}
        for key in metric.keys:
            value = (record.values or {}).get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[key] = float(value)
        violations = metric.violations(record.values)
        artifacts = {"constraints": "; ".join(violations)} if violations else {}
        return metrics, artifacts
    why = f"{record.status}: {record.error or 'no reason given'}"
    return {"combined_score": INVALID_SCORE}, {"glia_error": why}


class Broker:
    """Serves OpenEvolve's clients for one method session; `close()` waits for requests in progress."""

    def __init__(
        self,
        session: MethodSession,
        design_file: str,
        on_stop: Callable[[], None],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.session = session
        self.design_file = design_file
        self.on_stop = on_stop  # asks OpenEvolve to stop (the budget is spent, the run is stopping)
        self.stopping = stopping  # OpenEvolve is stopping (asked by Glia, or by its own Ctrl-C handler)
        self.fatal: MethodEnded | None = None
        self._last_generation: dict[int, Generation] = {}
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="glia-oe-", dir="/tmp" if Path("/tmp").is_dir() else None))
        self.path = self._dir / "broker.sock"
        self._server = _Server(str(self.path), _Handler)
        self._server.broker = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="glia-oe-broker", daemon=True)

    def start(self) -> Path:
        self._thread.start()
        return self.path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads still answering
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- requests -------------------------------------------------------------------------------------

    def answer(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("pid"), int):
            return {"ok": False, "error": "malformed request"}
        if request.get("op") == "complete":
            return self._complete(request)
        if request.get("op") == "evaluate":
            return self._evaluate(request)
        return {"ok": False, "error": f"unknown op {request.get('op')!r}"}

    def _complete(self, request: dict[str, Any]) -> dict[str, Any]:
        reason = self.session.stop_reason() if self.fatal is None else self.fatal.reason
        if reason is None and self.stopping():
            reason = "stopping"
        if reason is not None:
            self.on_stop()
            return {"ok": False, "error": f"the run is ending ({reason}); no more model calls"}
        messages = [
            Message(
                role="assistant" if m.get("role") == "assistant" else "user",
                content=str(m.get("content") or ""),
            )
            for m in request.get("messages") or []
            if isinstance(m, dict)
        ]
        try:
            generation = self.session.generate(str(request.get("system") or ""), messages)
        except MethodEnded as exc:
            self.fatal = self.fatal or exc
            self.on_stop()
            return {"ok": False, "error": str(exc)}
        with self._lock:
            self._last_generation[request["pid"]] = generation
        return {
            "ok": True,
            "text": generation.text,
            "usage": {
                "prompt_tokens": generation.input_tokens,
                "completion_tokens": generation.output_tokens,
                "total_tokens": generation.tokens,
                "cost_usd": generation.cost_usd,
            },
        }

    def _evaluate(self, request: dict[str, Any]) -> dict[str, Any]:
        code = request.get("code")
        if not isinstance(code, str):
            return {"ok": False, "error": "no program text"}
        pid = request["pid"]
        with self._lock:
            generation = self._last_generation.pop(pid, None)
        origin: dict[str, Any] = {"worker": pid}
        if generation is None and pid == os.getpid():
            origin["initial"] = True  # OpenEvolve evaluates its initial program in its own process
        files = {self.design_file: code}
        if self.stopping():  # a worker's last candidate after the stop: recorded, never run
            record = self.session.settle_unrun(files, generation, None, origin, "OpenEvolve was stopping")
        else:
            record = self.session.settle_files(files, generation, None, origin)
        if self.session.stop_reason() is not None:
            self.on_stop()
        metrics, artifacts = candidate_metrics(record, self.session.metric)
        return {"ok": True, "metrics": metrics, "artifacts": artifacts, "candidate": record.n}


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = False
    block_on_close = True
    broker: Broker


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(MAX_REQUEST_BYTES + 1)
        try:
            if len(line) > MAX_REQUEST_BYTES:
                raise ValueError("request too large")
            reply = self.server.broker.answer(json.loads(line))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a bad request gets an answer, never a dead broker
            log.exception("blackbox.broker_failed")
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        with contextlib.suppress(OSError):  # the worker was stopped while we answered
            self.wfile.write(json.dumps(reply, allow_nan=False, default=str).encode() + b"\n")
