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
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

from glia.agents.ledger import CALL_ENV, BudgetLike, SimulationLedger, format_remaining
from glia.agents.prompts import load_agent_prompt
from glia.agents.researcher import (
    INTERRUPTED_CALL_OUTPUT,
    RESUMED_NOTE,
    SKIPPED_AFTER_FINISH_OUTPUT,
    Researcher,
    assistant_event_fields,
    interrupted_call_output,
    rebuild_conversation,
    unanswered_calls,
)
from glia.agents.supervisor import (
    APPROVE,
    DEFAULT_CHAR_BUDGET,
    FINISH,
    Supervisor,
    SupervisorPolicy,
    SupervisorReview,
)
from glia.agents.tools import (
    BASH,
    NO_TOOL_CALL_REMINDER,
    Streak,
    bash_timeout,
    render_exec_result,
    researcher_tools,
    validate_call,
)
from glia.llm.types import ContextLengthExceeded, LLMError, LLMProvider, LLMResponse, ToolCall
from glia.record import events as ev
from glia.record.outcome import ContextOutcome, SnapshotRef
from glia.record.transcript import TRANSCRIPT_FILE, Transcript, read_events
from glia.task import SupervisorSettings, Task
from glia.workspace import create_workspace
from glia.workspace.base import Limits, Workspace, WorkspaceDead, WorkspaceError
from glia.workspace.history import HISTORY_DIR, History
from glia.workspace.output import LOG_NAME
from glia.workspace.snapshots import Snapshotter
from glia.workspace.tree import DEFAULT_EXCLUDES, tree_from_folder

log = structlog.get_logger()

# A context that ended for one of these reasons continues when its run is resumed; any other ending is final.
RESUMABLE_END_REASONS = frozenset({"interrupted"})
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
        ended = _final_result(earlier, spec.index)
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


def _final_result(events: list[dict[str, Any]], index: int) -> ContextOutcome | None:
    """The outcome recorded by a context that has ended for good, or None if it should (re)start."""
    typed = [ev.parse_event(e) for e in events]
    ends = [e for e in typed if isinstance(e, ev.ContextEnded)]
    if not ends or ends[-1].reason in RESUMABLE_END_REASONS:
        return None
    last = ends[-1]
    if last.result is not None:
        return ContextOutcome.from_dict(dict(last.result))
    return ContextOutcome(
        index=index,
        end_reason=last.reason,
        steps=sum(1 for e in typed if isinstance(e, ev.AssistantTurn)),
        simulations=last.simulations,
        cost_usd=last.cost_usd,
        final_sha=last.final_snapshot,
        error="ended before results were recorded in full",
    )


def _refused(spec: ContextSpec, why: str) -> ContextOutcome:
    log.error("context.refused", run_id=spec.run_id, context=spec.context_id, error=why)
    return ContextOutcome(spec.index, "exception", error=why)


class _ContextRun:
    """The state of one context session and the steps of its loop."""

    def __init__(
        self, spec: ContextSpec, budget: BudgetProtocol, stop: threading.Event, transcript: Transcript
    ):
        self.spec = spec
        self.budget = budget
        self.stop = stop
        self.transcript = transcript
        self.history_dir = spec.ctx_dir / HISTORY_DIR
        self.outputs_dir = spec.ctx_dir / "outputs"
        self.excludes = (*DEFAULT_EXCLUDES, spec.task.results_dir)
        self.history: History | None = None
        self.snapshotter: Snapshotter | None = None
        self.final_sha: str | None = None
        self._reported_skips: set[str] = set()
        self.tools = researcher_tools(spec.limits)
        self.ledger = SimulationLedger(
            budget,
            transcript,
            snapshot=self._snapshot_design,
            metric=spec.task.metric,
            benchmark_conditions=_benchmark_conditions(spec.task),
        )
        self.policy = SupervisorPolicy(spec.settings, metric=spec.task.metric)
        self.format_streak = Streak(spec.max_format_errors)
        self.timeout_streak = Streak(spec.max_consecutive_timeouts)
        self.steps = 0
        self.cost_usd = 0.0
        self.tokens = 0
        self.finish_summary: dict[str, Any] | None = None
        self._notes_written_at = float("-inf")
        self.workspace: Workspace | None = None
        self.researcher: Researcher | None = None
        self.supervisor: Supervisor | None = None
        self.log = log.bind(run_id=spec.run_id, context=spec.context_id)

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
            reason, error = "exception", _traceback_summary(exc)
        finally:
            self._save_final()  # while the workspace is still there, if it is
            self._close_workspace()  # even on KeyboardInterrupt, which is left to propagate
            self.ledger.close()  # after the workspace: runs it cut short are recorded as lost
        if error is not None:
            self.transcript.append("error", detail=error, reason=reason)
            self.log.warning("context.error", reason=reason, error=error)
        return self._finish(reason, error)

    def _setup(self, resume: bool) -> None:
        events = self.transcript.events() if resume else []
        self.history = self._open_history()
        self.outputs_dir.mkdir(parents=True, exist_ok=True)
        self.supervisor = Supervisor(
            self.spec.supervisor,
            load_agent_prompt("supervisor"),
            self.spec.task.researcher_brief(self.spec.baselines),
            self.spec.settings,
            char_budget=self.spec.supervisor_char_budget,
            metric=self.spec.task.metric,
        )
        self.researcher = Researcher(self.spec.researcher, load_agent_prompt("researcher"), self.tools)
        if events:
            self._restore(events)
        else:
            self._start_fresh()
        options: dict[str, Any] = {"limits": self.spec.limits}
        if self.spec.image is not None:
            options["image"] = self.spec.image
        ledger_socket = self.ledger.listen()  # closed in _finish; the simulator reports runs here
        self.workspace = create_workspace(
            self.spec.backend,
            self.outputs_dir,
            self.spec.run_id,
            self.spec.context_id,
            ledger_socket=ledger_socket,
            **options,
        )
        self.workspace.start()  # closed in run() whatever happens from here on
        self.snapshotter = Snapshotter(
            self.workspace, self.history, self.excludes, always=self.spec.task.design_files
        )
        self.snapshotter.restore(self.history.head())  # the template, or the last saved tree on resume
        # The unforgeable bound on the budget: the sandbox's own CPU time (agents/cpu_backstop.py).
        self.ledger.watch_cpu(getattr(self.workspace, "cpu_seconds", None))
        if hasattr(self.workspace, "restore_with"):  # a cluster sandbox lost with its node: from history
            self.workspace.restore_with(lambda: self.snapshotter.restore(self.history.head()))

    def _open_history(self) -> History:
        """ctx-K/history.git: made from the task's template the first time (its first commit)."""
        if (self.history_dir / "HEAD").is_file() and History(self.history_dir).commits():
            return History(self.history_dir)
        template = tree_from_folder(self.spec.task.simulator, self.excludes)
        if not template.complete or template.skipped:
            raise WorkspaceError(
                f"the simulator template {self.spec.task.simulator} cannot be carried into the sandbox: "
                + "; ".join(template.skipped[:5])
            )
        from glia.evaluation.judge_kit import with_judge_kit  # `python -m llmsim check` needs it

        return History.open_or_create(self.history_dir, with_judge_kit(template, self.spec.task))

    def _start_fresh(self) -> None:
        spec = self.spec
        self.transcript.append(
            "context_start",
            context=spec.context_id,
            run_id=spec.run_id,
            strategy=spec.strategy,
            researcher_model=spec.researcher.model,
            supervisor_model=spec.supervisor.model,
            task=spec.task.name,
        )
        self.transcript.append("session_start", session=1, resumed=False)
        self._say(spec.task.researcher_brief(spec.baselines) + "\n\n" + self._budget_facts())

    def _restore(self, events: list[dict[str, Any]]) -> None:
        """Pick up where an earlier session stopped: counters, ledger, supervisor state, conversation.

        The durable record decides what the model is told about a call the stop left unanswered: a
        command that had started (its `command_started` is there) ran, at least in part, and the
        simulations it started are named; a call that never started is answered "not run"."""
        assert self.researcher is not None
        typed = [ev.parse_event(e) for e in events]
        sessions = sum(1 for e in typed if isinstance(e, ev.SessionStarted)) or 1
        self.transcript.append("session_start", session=sessions + 1, resumed=True)
        self.ledger.restore(events)  # runs left without an end are recorded as killed with the process
        started = {e.id: e for e in typed if isinstance(e, ev.CommandStarted)}
        for call in unanswered_calls(events):
            begun = started.get(call.id)
            if begun is None:
                self.transcript.append(
                    "tool_result", id=call.id, name=call.name, output=INTERRUPTED_CALL_OUTPUT,
                    is_error=True, recovered="not_run",
                )  # fmt: skip
                continue
            output = interrupted_call_output(
                begun, [r for r in self.ledger.records if r.call_id == call.id], self.budget.remaining()
            )
            self.transcript.append(
                "tool_result", id=call.id, name=call.name, command=begun.command, exit_code=None,
                timed_out=False, output=output, output_path=begun.output_path, is_error=True,
                recovered="interrupted",
            )  # fmt: skip
        events = self.transcript.events()
        typed = [ev.parse_event(e) for e in events]
        self.steps = sum(1 for e in typed if isinstance(e, ev.AssistantTurn))
        for call in (e for e in typed if isinstance(e, ev.ModelCall)):
            self.cost_usd += call.cost_usd or 0.0
            self.tokens += call.tokens
        self.policy.restore(events)
        self.format_streak.count, self.timeout_streak.count = _trailing_streaks(events)
        self.researcher.messages = rebuild_conversation(events)
        self._say(RESUMED_NOTE)

    def _loop(self) -> str:
        while True:
            reason = self._limit_reached()
            if reason:
                return reason
            response = self._researcher_turn()
            reason = self._run_tool_calls(response)
            if reason:
                return reason
            self._refresh_notes()

    def _limit_reached(self) -> str | None:
        if self.stop.is_set():
            return "interrupted"
        exhausted = self.budget.exhausted()
        if exhausted:
            return exhausted
        if self.spec.max_steps is not None and self.steps >= self.spec.max_steps:
            return "step_limit"
        return None

    # -- one Researcher turn ------------------------------------------------------------------------

    def _researcher_turn(self) -> LLMResponse:
        assert self.researcher is not None
        response = self.researcher.respond()
        self.steps += 1
        self.transcript.append("assistant", **assistant_event_fields(response.message))
        self._record_model_call("researcher", response)
        return response

    def _run_tool_calls(self, response: LLMResponse) -> str | None:
        """Run the turn's calls in order; returns an end reason, or None to go on."""
        assert self.researcher is not None
        calls = response.message.tool_calls
        if not calls:
            self._format_error("the reply had no tool call")
            self._say(NO_TOOL_CALL_REMINDER)
            return "format_errors" if self.format_streak.hit() else None
        supervised = False
        valid_calls = 0
        finish_reviewed = False
        for call in calls:
            if self.stop.is_set():
                return "interrupted"  # calls left unanswered are answered on resume
            if finish_reviewed:
                self._tool_result(call, SKIPPED_AFTER_FINISH_OUTPUT, is_error=True)
                continue
            problem = validate_call(call, self.tools)
            if problem:
                self._format_error(problem)
                self._tool_result(call, problem, is_error=True)
                continue
            valid_calls += 1
            if call.name == BASH:
                if self._run_bash(call) and self.timeout_streak.hit():
                    return "timeouts"
            else:
                if self._finish_call(call):
                    return "finished"
                finish_reviewed = supervised = True
        if valid_calls:
            self.format_streak.reset()
        elif self.format_streak.hit():
            return "format_errors"
        if not supervised:
            self._maybe_check_in()
        return None

    def _run_bash(self, call: ToolCall) -> bool:
        """Run one command; returns whether it timed out. WorkspaceDead ends the context."""
        assert self.workspace is not None and self.researcher is not None
        command = call.arguments["command"]
        timeout_s = bash_timeout(call.arguments, self.spec.limits)
        self.transcript.append(
            "command_started",
            id=call.id,
            command=command,
            timeout_s=timeout_s,
            output_path=str(_next_output_log(self.outputs_dir)),
        )  # fmt: skip; written first, so recovery after a kill knows the command ran
        self.ledger.begin_command(call.id)  # simulations starting now are attributed to this call
        try:
            result = self.workspace.exec(command, timeout_s=timeout_s, env={CALL_ENV: call.id})
        finally:
            note = self.ledger.end_command()
        output = render_exec_result(result)
        self.transcript.append(
            "tool_result",
            id=call.id,
            name=call.name,
            command=command,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            duration_s=round(result.duration_s, 3),
            output=output,
            output_path=str(result.output_path) if result.output_path else None,
            is_error=False,
            timeout_s=timeout_s,
        )
        self.researcher.add_tool_result(call, output)
        if not result.timed_out:
            self.timeout_streak.reset()
        if note:
            self.transcript.append("budget", detail=note)
            self.researcher.append_to_last_tool_result(note)
        self._autosave(command)
        return result.timed_out

    def _finish_call(self, call: ToolCall) -> bool:
        """The Researcher wants to stop: ask the Supervisor (if allowed); True when the finish stands."""
        summary = dict(call.arguments)
        review = self._consult(FINISH, summary) if self.policy.reviews_finish() else None
        accepted = review is None or review.verdict == APPROVE
        self.transcript.append("finish", summary=summary, accepted=accepted, reviewed=review is not None)
        if accepted:
            self.finish_summary = summary
            return True
        assert review is not None
        self._tool_result(call, review.message)
        return False

    def _maybe_check_in(self) -> None:
        assert self.researcher is not None
        trigger = self.policy.check_in_trigger(self.steps, self.ledger.records)
        if trigger is None:
            return
        review = self._consult(trigger)
        if review is not None:
            self.researcher.add_user(review.message)

    def _consult(self, trigger: str, finish_summary: dict[str, Any] | None = None) -> SupervisorReview | None:
        """One Supervisor intervention; None when it could not be reached (recorded as an error)."""
        assert self.supervisor is not None
        at_simulation = self.ledger.count
        try:
            review = self.supervisor.review(
                trigger, self.transcript.events(), self.ledger.records, finish_summary
            )
        except Exception as exc:  # noqa: BLE001 - a Supervisor failure must not end the context
            detail = f"Supervisor unavailable ({trigger}): {type(exc).__name__}: {exc}"
            self.transcript.append(
                "error", detail=detail, agent="supervisor", trigger=trigger, at_simulation=at_simulation
            )
            self.policy.note(trigger, at_simulation, delivered=False)
            self.log.warning("supervisor.failed", trigger=trigger, error=str(exc))
            return None
        self._record_model_call("supervisor", review.response)
        self.transcript.append(
            "supervisor",
            trigger=trigger,
            verdict=review.verdict,
            text=review.text,
            message=review.message,
            delivered="tool_result" if trigger == FINISH else "user",
            at_simulation=at_simulation,
        )
        self.policy.note(trigger, at_simulation, delivered=True)
        return review

    # -- recording ------------------------------------------------------------------------------------

    def _record_model_call(self, agent: str, response: LLMResponse) -> None:
        fields = ev.model_call_fields(agent, response)
        tokens = fields["tokens"]
        self.transcript.append("model_call", **fields)
        self.budget.charge_cost(response.cost_usd, tokens)
        self.cost_usd += response.cost_usd or 0.0
        self.tokens += tokens

    def _snapshot_design(self, message: str) -> str | None:
        """Save the working tree as it is when a simulation starts (the ledger calls this)."""
        if self.snapshotter is None:
            return None
        return self.snapshotter.save(message).sha

    def _autosave(self, command: str) -> None:
        """Save the working tree to the history if the command changed it (WorkspaceDead propagates)."""
        if self.snapshotter is None:
            return
        try:
            saved = self.snapshotter.save(f"after: {_one_line(command)}", only_if_changed=True)
        except WorkspaceDead:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed save must not end the context
            self.transcript.append(
                "error", detail=f"saving the working tree failed: {exc}", reason="snapshot"
            )
            return
        new = [line for line in saved.skipped if line not in self._reported_skips]
        if new:
            self._reported_skips.update(new)
            self.transcript.append(
                "error", detail="left out of the saved tree: " + "; ".join(new[:20]), reason="snapshot"
            )

    def _say(self, text: str) -> None:
        """A user message to the Researcher, recorded first."""
        assert self.researcher is not None
        self.transcript.append("user", text=text)
        self.researcher.add_user(text)

    def _tool_result(self, call: ToolCall, output: str, is_error: bool = False) -> None:
        assert self.researcher is not None
        self.transcript.append("tool_result", id=call.id, name=call.name, output=output, is_error=is_error)
        self.researcher.add_tool_result(call, output, is_error=is_error)

    def _format_error(self, detail: str) -> None:
        self.transcript.append("format_error", detail=detail)

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

    def _save_final(self) -> None:
        """The final snapshot: the live tree if the workspace still runs, else the last saved commit."""
        if self.history is None:
            return
        try:
            if self.snapshotter is not None and self.workspace is not None and self.workspace.is_alive():
                self.final_sha = self.snapshotter.save("final").sha
        except Exception as exc:  # noqa: BLE001 - the last saved commit stands in
            self.transcript.append("error", detail=f"final snapshot failed: {_traceback_summary(exc)}")
        if self.final_sha is None:
            try:
                self.final_sha = self.history.head()
            except Exception as exc:  # noqa: BLE001
                self.transcript.append(
                    "error", detail=f"reading the history failed: {_traceback_summary(exc)}"
                )

    def _close_workspace(self) -> None:
        if self.workspace is None:
            return
        try:
            self.workspace.close()
        except Exception as exc:  # noqa: BLE001 - closing is best effort; the registry is the backstop
            self.log.warning("workspace.close_failed", error=str(exc))

    def _finish(self, reason: str, error: str | None) -> ContextOutcome:
        """Record the end: the simulations (the ledger was closed in run()), the final snapshot, the outcome."""
        final_sha = self.final_sha  # taken in run() before the workspace closed
        snapshots = [
            SnapshotRef(r.snapshot or "", r.index, r.claimed_score, r.valid, r.kind, r.run_total)
            for r in self.ledger.records
        ]
        best = self.ledger.best()
        outcome = ContextOutcome(
            index=self.spec.index,
            end_reason=reason,
            steps=self.steps,
            simulations=self.ledger.count,
            cost_usd=round(self.cost_usd, 6),
            tokens=self.tokens,
            final_sha=final_sha,
            snapshots=snapshots,
            best_claimed=next((s for s in snapshots if best and s.sim_index == best.index), None),
            finish_summary=self.finish_summary,
            error=error,
        )
        self.transcript.append(
            "context_end",
            reason=reason,
            simulations=outcome.simulations,
            cost_usd=outcome.cost_usd,
            final_snapshot=final_sha,
            best_claimed=asdict(outcome.best_claimed) if outcome.best_claimed else None,
            result=outcome.to_dict(),
        )
        self.log.info("context.end", reason=reason, steps=self.steps, simulations=outcome.simulations)
        self._refresh_notes(force=True)
        return outcome


def _benchmark_conditions(task: Task) -> dict[str, Any]:
    """The conditions that make a simulation a claim (the task's `benchmark.conditions`); a task that
    names none counts every run of its design as a claim."""
    conditions = dict(task.benchmark.conditions)
    return conditions or {"router": task.design.name}


def _next_output_log(outputs_dir: Path) -> Path:
    """The log the workspace will write the next command's output to (`outputs/cmd-<n>.log`): only
    the Researcher's commands are numbered there, one at a time per context."""
    try:
        numbers = [int(m.group(1)) for p in outputs_dir.iterdir() if (m := LOG_NAME.match(p.name))]
    except OSError:
        numbers = []
    return outputs_dir / f"cmd-{max(numbers, default=0) + 1}.log"


def _one_line(command: str, limit: int = 120) -> str:
    """A command shortened to one line for a commit message."""
    line = " ".join(command.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _trailing_streaks(events: list[dict[str, Any]]) -> tuple[int, int]:
    """(consecutive format-error turns, consecutive timed-out commands) at the end of `events`."""
    format_errors = timeouts = 0
    turn_valid = turn_error = False

    def close_turn() -> None:
        nonlocal format_errors
        if turn_valid:
            format_errors = 0
        elif turn_error:
            format_errors += 1

    for event in map(ev.parse_event, events):
        if isinstance(event, ev.AssistantTurn):
            close_turn()
            turn_valid = turn_error = False
        elif isinstance(event, ev.FormatError):
            turn_error = True
        elif isinstance(event, ev.ToolResult) and not event.is_error:
            turn_valid = True
            if event.name == BASH:
                timeouts = timeouts + 1 if event.timed_out else 0
        elif isinstance(event, ev.FinishCalled):
            turn_valid = True
    close_turn()
    return format_errors, timeouts


def _traceback_summary(exc: BaseException, frames: int = 4) -> str:
    """The exception and its innermost frames: enough to find the bug, short enough for run.json."""
    tb = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in tb)
    return f"{type(exc).__name__}: {exc} (at {where})" if where else f"{type(exc).__name__}: {exc}"
