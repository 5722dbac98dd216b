"""One session of a black-box method run: its folder, model calls, candidates and sandbox.

Every method does the same two things, and does them here so they are done identically: ask the model
(recorded in the transcript, priced, charged to the run's budget) and settle a candidate (read the
design from the reply, run the task's static checks, which cost no simulation, then benchmark it in the
sandbox through the ledger, and record the outcome). The methods differ only in what they ask.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog

from glia.blackbox.bench import CandidateBench
from glia.blackbox.extract import read_design
from glia.blackbox.host import MethodHost
from glia.blackbox.settings import MethodSettings
from glia.blackbox.store import REJECTED, UNRUN, VALID, CandidateRecord, CandidateStore
from glia.evaluation.task_checks import task_design_problem
from glia.llm.types import ContextLengthExceeded, LLMError, Message
from glia.record import events as ev
from glia.record.outcome import INTERRUPTED
from glia.record.run import CLAIMED, TimelinePoint, add_timeline, context_entry
from glia.record.transcript import TRANSCRIPT_FILE, Transcript
from glia.record.writer import EventWriter
from glia.run_store import context_dir
from glia.task import Task

log = structlog.get_logger()

AGENT = "generator"  # the `agent` of this method's model_call events
GENERATION_LIMIT = "generation_limit"
MODEL_ERROR = "model_error"
CONTEXT_WINDOW = "context_window"


def static_problem(task: Task, files: dict[str, str]) -> str | None:
    """The task's static checks, the seed paper's "syntax checks": quick feedback, no simulation."""
    return task_design_problem(task, files)


class MethodEnded(Exception):
    """The method cannot go on (the model failed for good, say); `reason` is the end reason."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Generation:
    """One model call's reply and what it cost."""

    text: str
    tokens: int
    cost_usd: float | None
    latency_s: float
    reasoning: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class Timings:
    """Where a session's wall time went, for the overhead measurement."""

    model_s: float = 0.0
    bench_s: float = 0.0  # benchmark commands in the sandbox
    prepare_s: float = 0.0  # committing each design and writing it into the sandbox (part of Glia's own)
    setup_s: float = 0.0  # starting the sandbox (container, template, history, ledger)
    teardown_s: float = 0.0  # removing it
    started: float = field(default_factory=time.monotonic)

    def to_dict(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        values = {"wall_s": wall, "model_s": self.model_s, "bench_s": self.bench_s, "prepare_s": self.prepare_s,
                  "setup_s": self.setup_s, "teardown_s": self.teardown_s}  # fmt: skip
        return {key: round(value, 3) for key, value in values.items()}


class MethodSession:
    """The shared machinery of sample, loop and openevolve for one session of one run."""

    def __init__(self, host: MethodHost, settings: MethodSettings) -> None:
        self.host = host
        self.settings = settings
        self.method = host.strategy
        self.task = host.task
        self.metric = host.task.metric
        self.ctx_dir = context_dir(host.run_dir, 1)
        self.ctx_dir.mkdir(parents=True, exist_ok=True)
        self.transcript = Transcript(self.ctx_dir / TRANSCRIPT_FILE)
        self.events = EventWriter(self.transcript)
        self.earlier_events = self.transcript.events()
        self.store = CandidateStore(self.ctx_dir)
        entry = context_entry(host.record.snapshot(), 1)
        self.budget = host.budget.for_context(
            1, on_simulation=host.on_simulation, history=list(entry.get("run_totals") or [])
        )
        self.bench = CandidateBench(
            task=self.task,
            ctx_dir=self.ctx_dir,
            run_id=host.run_id,
            budget=self.budget,
            transcript=self.transcript,
            backend=host.backend,
            image=host.image,
            limits=host.limits,
        )
        earlier = [ev.parse_event(e) for e in self.earlier_events]
        calls = [e for e in earlier if isinstance(e, ev.ModelCall)]
        self.generations = len(calls)
        self.cost_usd = sum(e.cost_usd or 0.0 for e in calls)
        self.tokens = sum(e.tokens for e in calls)
        self.cost_known = all(e.cost_usd is not None for e in calls)
        self.cap = settings.generation_cap(host.simulation_limit)
        self.timings = Timings()
        self._lock = threading.Lock()
        self._labels = len(self.store.records())
        self._prompt_recorded = any(isinstance(e, ev.UserMessage) for e in earlier)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the sandbox; the first session also writes the transcript's opening event."""
        if not self.earlier_events:
            self.events.context_started(
                context="ctx-1",
                run_id=self.host.run_id,
                strategy=self.method,
                researcher_model=getattr(self.host.provider, "model", None),
                supervisor_model=None,
                task=self.task.name,
            )
        started = time.monotonic()
        simulations = (ev.SimulationStarted, ev.SimulationEnded, ev.SimulationRefused)
        self.bench.open([e for e in self.earlier_events if isinstance(ev.parse_event(e), simulations)])
        self.timings.setup_s += time.monotonic() - started

    def close_sandbox(self) -> None:
        """Remove the sandbox and stop the ledger (the transcript stays open for the end event)."""
        started = time.monotonic()
        self.bench.close()
        self.timings.teardown_s += time.monotonic() - started

    def close_transcript(self) -> None:
        self.transcript.close()

    @property
    def template(self) -> dict[str, str]:
        return self.bench.template_files

    def stop_reason(self) -> str | None:
        """Why the method must stop now (stop asked, a budget limit, the generation cap), or None."""
        if self.host.stop.is_set():
            return INTERRUPTED
        exhausted = self.budget.exhausted()
        if exhausted:
            return exhausted
        if self.generations >= self.cap:
            return GENERATION_LIMIT
        return None

    # -- the model ----------------------------------------------------------------------------------

    def generate(self, system: str, messages: list[Message], prompt_note: str | None = None) -> Generation:
        """One model call, recorded and charged like a Researcher turn. Raises MethodEnded on failure."""
        note = prompt_note if prompt_note is not None else (messages[-1].content if messages else "")
        with self._lock:
            if note and not self._prompt_recorded:
                self.events.user(note)
                self._prompt_recorded = True
            self.generations += 1
        started = time.monotonic()
        try:
            response = self.host.provider.complete(system, messages)
        except ContextLengthExceeded as exc:
            raise MethodEnded(CONTEXT_WINDOW, str(exc)) from exc
        except LLMError as exc:
            raise MethodEnded(MODEL_ERROR, f"{type(exc).__name__}: {exc}") from exc
        usage = response.usage
        tokens = usage.input_tokens + usage.output_tokens
        text = response.message.content or ""
        with self._lock:
            self.timings.model_s += time.monotonic() - started
            self.tokens += tokens
            if response.cost_usd is None:
                self.cost_known = False
            else:
                self.cost_usd += response.cost_usd
        self.events.assistant(text=text, reasoning=response.message.reasoning, tool_calls=[])
        self.events.model_call(AGENT, response)
        self.budget.charge_cost(response.cost_usd, tokens)
        return Generation(text, tokens, response.cost_usd, response.latency_s, response.message.reasoning,
                          usage.input_tokens, usage.output_tokens)  # fmt: skip

    # -- candidates ---------------------------------------------------------------------------------

    def settle_reply(
        self, text: str, generation: Generation | None, origin: dict[str, Any]
    ) -> CandidateRecord:
        """Read the design from a reply and settle it; a reply without one is a rejected candidate."""
        reply = read_design(text, self.task.design_files)
        if reply.files is None:
            return self._settle(None, REJECTED, reply.error, generation, reply.idea, origin)
        return self.settle_files(reply.files, generation, reply.idea, origin)

    def settle_files(
        self,
        files: dict[str, str],
        generation: Generation | None,
        idea: str | None,
        origin: dict[str, Any],
    ) -> CandidateRecord:
        """Check, then benchmark one design (static-check failures cost no simulation)."""
        digest = self.store.save_design(files)
        problem = self.static_problem(files)
        if problem:
            return self._settle(digest, REJECTED, problem, generation, idea, origin)
        if self.host.stop.is_set():
            return self._settle(digest, UNRUN, "the run was stopping", generation, idea, origin)
        with self._lock:
            self._labels += 1
            label = f"cand-{self._labels}"
        outcome = self.bench.run(files, label)
        with self._lock:
            self.timings.bench_s += outcome.duration_s
            self.timings.prepare_s += outcome.prepare_s
        return self._settle(
            digest,
            outcome.status,
            outcome.error,
            generation,
            idea,
            origin,
            claimed=outcome.claimed_score,
            values=outcome.values,
            sim_index=outcome.sim_index,
            run_total=outcome.run_total,
            sha=outcome.sha,
            bench_s=outcome.duration_s,
        )

    def settle_unrun(
        self,
        files: dict[str, str],
        generation: Generation | None,
        idea: str | None,
        origin: dict[str, Any],
        why: str,
    ) -> CandidateRecord:
        """Record a design that will not be run (the method is stopping); it costs no simulation."""
        return self._settle(self.store.save_design(files), UNRUN, why, generation, idea, origin)

    def static_problem(self, files: dict[str, str]) -> str | None:
        return static_problem(self.task, files)

    def _settle(
        self,
        digest: str | None,
        status: str,
        error: str | None,
        generation: Generation | None,
        idea: str | None,
        origin: dict[str, Any],
        **ran: Any,
    ) -> CandidateRecord:
        record = self.store.append(
            CandidateRecord(
                n=0,
                method=self.method,
                status=status,
                design_hash=digest,
                claimed_score=ran.get("claimed"),
                error=error,
                sim_index=ran.get("sim_index"),
                run_total=ran.get("run_total"),
                sha=ran.get("sha"),
                tokens=generation.tokens if generation else 0,
                cost_usd=generation.cost_usd if generation else 0.0,
                idea=idea,
                origin=origin,
                values=ran.get("values"),
                bench_s=round(ran.get("bench_s") or 0.0, 3),
            )
        )
        if status == REJECTED:
            self.events.format_error(f"candidate {record.n} rejected: {error}")
        self.events.candidate(asdict(record))
        self._record_live(record)
        self.host.emit(event="candidate", context=1, n=record.n, status=record.status,
                       claimed=record.claimed_score)  # fmt: skip
        log.info("blackbox.candidate", method=self.method, n=record.n, status=status,
                 claimed=record.claimed_score, error=error)  # fmt: skip
        return record

    def _record_live(self, record: CandidateRecord) -> None:
        """Keep run.json current as candidates settle: counts, and the claimed progress point."""
        counts = self.counts()
        points: list[TimelinePoint] = []
        if record.status == VALID and record.run_total is not None:
            points.append(TimelinePoint(record.run_total, 1, CLAIMED, record.claimed_score, sha=record.sha))

        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, 1)
            entry["steps"] = self.generations
            entry["cost_usd"] = round(self.cost_usd, 6)
            entry["tokens"] = self.tokens
            section = data.setdefault("blackbox", {})
            section["counts"] = counts
            add_timeline(data, points)

        self.host.record.update(change)

    def counts(self) -> dict[str, int]:
        records = self.store.records()
        counts = {
            status: sum(1 for r in records if r.status == status)
            for status in ("valid", "invalid", "rejected", "unrun")
        }
        counts["candidates"] = len(records)
        counts["invalid_designs"] = counts["invalid"] + counts["rejected"]
        counts["generations"] = self.generations
        return counts
