"""One research context: a Researcher and a Supervisor working in one workspace until the work ends.

`run_context` never raises: whatever happens (a model that keeps failing, a dead container, a bug), it
ends the context with a reason, saves the working tree, closes the workspace and returns a
`ContextOutcome`, so one failing context cannot take down the others of a run. Everything that happens
is written to the context's transcript first; resume rebuilds the conversation from it.

The repository lives in the sandbox; the host keeps its history in `ctx-K/history.git` (written only by
`git fast-import`): the tree is saved after every command that changed it, at every simulation start and
at the end, and a resumed context's sandbox is rebuilt from the last saved tree.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

from glia.agents.ledger import BudgetLike, SimulationLedger, format_remaining
from glia.agents.prompts import load_agent_prompt
from glia.agents.researcher import Researcher
from glia.agents.supervisor import DEFAULT_CHAR_BUDGET, Supervisor, SupervisorPolicy, SupervisorReview
from glia.agents.tools import Streak, researcher_tools
from glia.llm.types import ContextLengthExceeded, LLMError, LLMProvider, ToolCall
from glia.record.outcome import ContextOutcome
from glia.record.transcript import TRANSCRIPT_FILE, Transcript, read_events
from glia.record.writer import EventWriter
from glia.research_context.ending import record_end
from glia.research_context.resume import RESUMABLE_END_REASONS, final_result, restore
from glia.research_context.sandbox import ContextSandbox, traceback_summary
from glia.research_context.spending import Spending
from glia.research_context.supervision import Supervision
from glia.research_context.turn import researcher_turn, run_tool_calls
from glia.task import SupervisorSettings, Task
from glia.workspace import create_workspace
from glia.workspace.base import Limits, Workspace, WorkspaceDead

log = structlog.get_logger()

__all__ = ["RESUMABLE_END_REASONS", "BudgetProtocol", "ContextSpec", "run_context"]

# Notes are re-rendered from the whole transcript: at most this often while working, always at the end.
NOTES_REFRESH_INTERVAL_S = 2.0


class BudgetProtocol(BudgetLike, Protocol):
    """What a context needs from `glia.budget.Budget` (or its per-context view)."""

    def charge_cost(self, usd: float | None, tokens: int) -> None: ...

    def exhausted(self) -> str | None: ...


@dataclass
class ContextSpec:
    """Everything one context needs; built by the orchestrator."""

    run_id: str
    index: int
    ctx_dir: Path
    task: Task
    researcher: LLMProvider
    supervisor: LLMProvider
    backend: str = "docker"
    image: str | None = None
    limits: Limits = field(default_factory=Limits)
    baselines: dict[str, float] | None = None
    max_steps: int | None = None
    supervisor_settings: SupervisorSettings | None = None  # None: the task's settings
    max_format_errors: int = 3
    max_consecutive_timeouts: int = 3
    strategy: str = "scg"
    supervisor_char_budget: int = DEFAULT_CHAR_BUDGET

    @property
    def context_id(self) -> str:
        return f"ctx-{self.index}"

    @property
    def settings(self) -> SupervisorSettings:
        return self.supervisor_settings or self.task.supervisor


def run_context(
    spec: ContextSpec, budget: BudgetProtocol, stop: threading.Event, resume: bool = False
) -> ContextOutcome:
    """Run (or resume) one context to its end; never raises an `Exception`."""
    spec.ctx_dir.mkdir(parents=True, exist_ok=True)
    transcript_path = spec.ctx_dir / TRANSCRIPT_FILE
    earlier = read_events(transcript_path)
    if resume:
        ended = final_result(earlier, spec.index)
        if ended is not None:
            return ended
    elif earlier:
        # Starting afresh over an earlier session would recount its simulations: refuse, loudly.
        return _refused(spec, f"{transcript_path} already holds a session; resume it or use a new folder")
    transcript = Transcript(transcript_path)
    try:
        return _ContextRun(spec, budget, stop, transcript).run(resume)
    finally:
        transcript.close()


def _refused(spec: ContextSpec, why: str) -> ContextOutcome:
    log.error("context.refused", run_id=spec.run_id, context=spec.context_id, error=why)
    return ContextOutcome(spec.index, "exception", error=why)


class _ContextRun:
    """One context session: its parts (sandbox, ledger, Supervisor, spending) and the loop over turns.

    It is also the `ToolHost` the Researcher's tools run in (`glia.agents.tools.registry`)."""

    def __init__(
        self, spec: ContextSpec, budget: BudgetProtocol, stop: threading.Event, transcript: Transcript
    ):
        self.spec = spec
        self.budget = budget
        self.stop = stop
        self.transcript = transcript
        self.events = EventWriter(transcript)
        self.log = log.bind(run_id=spec.run_id, context=spec.context_id)
        self.limits = spec.limits
        self.sandbox = ContextSandbox(spec.ctx_dir, spec.task, self.events, self.log)
        self.tools = researcher_tools(spec.limits)
        self.ledger = SimulationLedger(
            budget,
            transcript,
            snapshot=self.sandbox.snapshot_design,
            metric=spec.task.metric,
            benchmark_conditions=_benchmark_conditions(spec.task),
        )
        self.policy = SupervisorPolicy(spec.settings, metric=spec.task.metric)
        self.spending = Spending(budget, self.events)
        self.format_streak = Streak(spec.max_format_errors)
        self.timeout_streak = Streak(spec.max_consecutive_timeouts)
        self.finish_summary: dict[str, Any] | None = None
        self._notes_written_at = float("-inf")
        self.researcher: Researcher | None = None
        self.supervision: Supervision | None = None

    @property
    def workspace(self) -> Workspace | None:
        return self.sandbox.workspace

    # -- the session ------------------------------------------------------------------------------

    def run(self, resume: bool) -> ContextOutcome:
        reason, error = "exception", None
        try:
            self._setup(resume)
            reason = self._loop()
        except ContextLengthExceeded as exc:
            reason, error = "context_window", str(exc)
        except LLMError as exc:
            reason, error = "model_error", f"{type(exc).__name__}: {exc}"
        except WorkspaceDead as exc:
            # Stopping a run closes its workspaces, which kills the command in flight.
            reason, error = ("interrupted", None) if self.stop.is_set() else ("workspace_dead", str(exc))
        except Exception as exc:  # noqa: BLE001 - one failing context must not kill the run
            reason, error = "exception", traceback_summary(exc)
        finally:
            self.sandbox.save_final()  # while the workspace is still there, if it is
            self.sandbox.close()  # even on KeyboardInterrupt, which is left to propagate
            self.ledger.close()  # after the workspace: runs it cut short are recorded as lost
        if error is not None:
            self.events.error(error, reason=reason)
            self.log.warning("context.error", reason=reason, error=error)
        return self._finish(reason, error)

    def _setup(self, resume: bool) -> None:
        spec = self.spec
        events = self.transcript.events() if resume else []
        self.sandbox.open_history()
        self.sandbox.outputs_dir.mkdir(parents=True, exist_ok=True)
        supervisor = Supervisor(
            spec.supervisor,
            load_agent_prompt("supervisor"),
            spec.task.researcher_brief(spec.baselines),
            spec.settings,
            char_budget=spec.supervisor_char_budget,
            metric=spec.task.metric,
        )
        self.supervision = Supervision(
            supervisor, self.policy, self.ledger, self.transcript, self.events, self.spending, self.log
        )
        self.researcher = Researcher(spec.researcher, load_agent_prompt("researcher"), self.tools)
        if events:
            restore(self, events)
        else:
            self._start_fresh()
        options: dict[str, Any] = {"limits": spec.limits}
        if spec.image is not None:
            options["image"] = spec.image
        ledger_socket = self.ledger.listen()  # closed in _finish; the simulator reports runs here
        workspace = create_workspace(
            spec.backend,
            self.sandbox.outputs_dir,
            spec.run_id,
            spec.context_id,
            ledger_socket=ledger_socket,
            **options,
        )
        self.sandbox.workspace = workspace
        workspace.start()  # closed in run() whatever happens from here on
        self.sandbox.attach(workspace)
        # The unforgeable bound on the budget: the sandbox's own CPU time (agents/cpu_backstop.py).
        self.ledger.watch_cpu(getattr(workspace, "cpu_seconds", None))

    def _start_fresh(self) -> None:
        spec = self.spec
        self.events.context_started(
            context=spec.context_id,
            run_id=spec.run_id,
            strategy=spec.strategy,
            researcher_model=spec.researcher.model,
            supervisor_model=spec.supervisor.model,
            task=spec.task.name,
        )
        self.events.session_started(session=1, resumed=False)
        self.say(spec.task.researcher_brief(spec.baselines) + "\n\n" + self._budget_facts())

    def _loop(self) -> str:
        while True:
            reason = self._limit_reached()
            if reason:
                return reason
            response = researcher_turn(self)
            reason = run_tool_calls(self, response)
            if reason:
                return reason
            self._refresh_notes()

    def _limit_reached(self) -> str | None:
        if self.stop.is_set():
            return "interrupted"
        exhausted = self.budget.exhausted()
        if exhausted:
            return exhausted
        if self.spec.max_steps is not None and self.spending.steps >= self.spec.max_steps:
            return "step_limit"
        return None

    # -- what the tools and the turn use (ToolHost) -------------------------------------------------

    def say(self, text: str) -> None:
        """A user message to the Researcher, recorded first."""
        assert self.researcher is not None
        self.events.user(text)
        self.researcher.add_user(text)

    def answer(self, call: ToolCall, output: str, is_error: bool = False) -> None:
        assert self.researcher is not None
        self.events.tool_answer(id=call.id, name=call.name, output=output, is_error=is_error)
        self.researcher.add_tool_result(call, output, is_error=is_error)

    def consult(self, trigger: str, finish_summary: dict[str, Any] | None = None) -> SupervisorReview | None:
        assert self.supervision is not None
        return self.supervision.consult(trigger, finish_summary)

    # -- views ------------------------------------------------------------------------------------

    def _budget_facts(self) -> str:
        lines = [
            "## Your budget",
            "",
            f"Remaining for this run (shared with any other contexts): {format_remaining(self.budget.remaining())}.",
        ]
        if self.spec.max_steps is not None:
            lines.append(f"This session may take at most {self.spec.max_steps} turns.")
        lines.append(
            "Every simulation you start counts as one, benchmark runs and experiments alike; each "
            "command's result tells you what it ran and what remains."
        )
        return "\n".join(lines)

    def _refresh_notes(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._notes_written_at < NOTES_REFRESH_INTERVAL_S:
            return
        self._notes_written_at = now
        try:
            from glia.notes import write_notes

            write_notes(self.spec.ctx_dir)
        except Exception as exc:  # noqa: BLE001 - notes are a view; they must never end a context
            self.log.warning("notes.failed", error=str(exc))

    # -- the end ----------------------------------------------------------------------------------

    def _finish(self, reason: str, error: str | None) -> ContextOutcome:
        """Record the end: the simulations (the ledger was closed in run()), the final snapshot, the outcome."""
        outcome = record_end(
            index=self.spec.index,
            reason=reason,
            error=error,
            ledger=self.ledger,
            spending=self.spending,
            final_sha=self.sandbox.final_sha,  # taken in run() before the workspace closed
            finish_summary=self.finish_summary,
            events=self.events,
        )
        self.log.info(
            "context.end", reason=reason, steps=self.spending.steps, simulations=outcome.simulations
        )
        self._refresh_notes(force=True)
        return outcome


def _benchmark_conditions(task: Task) -> dict[str, Any]:
    """The conditions that make a simulation a claim (the task's `benchmark.conditions`); a task that
    names none counts every run of its design as a claim."""
    conditions = dict(task.benchmark.conditions)
    return conditions or {"router": task.design.name}
