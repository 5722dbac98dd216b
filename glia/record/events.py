"""The typed events of a context transcript (contract 4 of docs/architecture.md), read in one place.

Writers append plain fields (`Transcript.append(type, **fields)`); every reader turns each line into one
of these classes with `parse_event`, which never raises: a field of the wrong type reads as its default,
so an odd or hostile line changes nothing downstream. An event type this version does not know reads as
a bare `Event` (its `type` kept) and is ignored by the views.

Type names are the constants below; `EVENT_CLASSES` maps each to its class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

CONTEXT_START = "context_start"
SESSION_START = "session_start"
USER = "user"
ASSISTANT = "assistant"
MODEL_CALL = "model_call"
COMMAND_STARTED = "command_started"
TOOL_RESULT = "tool_result"
SIMULATION_STARTED = "simulation_started"
SIMULATION = "simulation"
SIMULATION_REFUSED = "simulation_refused"
SUPERVISOR = "supervisor"
FORMAT_ERROR = "format_error"
FINISH = "finish"  # the event of a call to the `finish` tool, and that tool's name (see BASH below)
BUDGET = "budget"
ERROR = "error"
CONTEXT_END = "context_end"
CANDIDATE = "candidate"  # a black-box method's candidate (glia.blackbox)

CLAIM, EXPERIMENT = "claim", "experiment"

# The built-in Researcher tools as transcripts name them, defined here once so readers below the agents
# can tell them apart (the tools themselves: glia/agents/tools/, which imports these).
BASH = "bash"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Any transcript event: its type, sequence number and time (ISO 8601, UTC)."""

    type: str
    seq: int | None = None
    ts: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContextStarted(Event):
    context: str = ""
    run_id: str = ""
    strategy: str = ""
    researcher_model: str = ""
    supervisor_model: str = ""
    task: str = ""


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    """A session of the context began: the first (`resumed` False) or a resume."""

    session: int = 1
    resumed: bool = False


@dataclass(frozen=True, kw_only=True)
class UserMessage(Event):
    text: str = ""


@dataclass(frozen=True)
class CallRecord:
    """One tool call of an assistant turn."""

    id: str
    name: str
    arguments: Mapping[str, Any]
    error: str | None = None
    raw_arguments: str = ""  # the model's text, kept when its arguments could not be read

    @property
    def command(self) -> str | None:
        command = self.arguments.get("command")
        return command if isinstance(command, str) else None


@dataclass(frozen=True, kw_only=True)
class AssistantTurn(Event):
    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[CallRecord, ...] = ()
    provider_state: Mapping[str, Any] = field(default_factory=dict)  # sent back to the provider on resume


@dataclass(frozen=True, kw_only=True)
class ModelCall(Event):
    agent: str = ""
    model: str = ""
    tokens: int = 0
    cost_usd: float | None = None  # None: the model has no known price
    latency_s: float = 0.0
    retries: int = 0


@dataclass(frozen=True, kw_only=True)
class CommandStarted(Event):
    """A bash call is about to run (written before the command starts)."""

    id: str = ""
    command: str = ""
    timeout_s: float | None = None
    output_path: str | None = None  # where its output log will be


@dataclass(frozen=True, kw_only=True)
class ToolResult(Event):
    id: str = ""
    name: str = ""
    command: str | None = None
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float | None = None
    output: str = ""
    output_path: str | None = None
    is_error: bool = False
    # "interrupted": the command was running when its session stopped; "not_run": it never started
    recovered: str | None = None


@dataclass(frozen=True, kw_only=True)
class SimulationStarted(Event):
    index: int = 0
    kind: str = EXPERIMENT
    conditions: Mapping[str, Any] | None = None
    snapshot: str | None = None
    call_id: str | None = None
    result_dir: str | None = None
    run_total: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SimulationEnded(Event):
    """The end of a simulation (type `simulation`): ended, lost (crashed or killed) or killed with Glia."""

    index: int = 0
    kind: str = CLAIM
    outcome: str = "ended"
    valid: bool = False
    error: str | None = None
    claimed_score: float | None = None  # claims only
    values: Mapping[str, float] | None = None
    result_dir: str | None = None
    snapshot: str | None = None
    call_id: str | None = None
    ended_call_id: str | None = None  # the bash call in flight when it ended
    router: str | None = None  # as reported (the only condition older transcripts recorded)


@dataclass(frozen=True, kw_only=True)
class SimulationRefused(Event):
    reason: str = ""
    call_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class SupervisorSpoke(Event):
    trigger: str = ""
    verdict: str | None = None
    text: str = ""
    message: str = ""
    delivered: str | None = None
    at_simulation: int = 0


@dataclass(frozen=True, kw_only=True)
class FormatError(Event):
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class FinishCalled(Event):
    summary: Mapping[str, Any] | str = ""
    accepted: bool | None = None
    reviewed: bool = False


@dataclass(frozen=True, kw_only=True)
class BudgetNote(Event):
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    detail: str = ""
    reason: str | None = None
    agent: str | None = None
    trigger: str | None = None
    at_simulation: int = 0  # a failed Supervisor call: the simulation count when it was due


@dataclass(frozen=True, kw_only=True)
class ContextEnded(Event):
    reason: str = "ended"
    simulations: int = 0
    cost_usd: float = 0.0
    final_snapshot: str | None = None
    result: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class CandidateEvent(Event):
    """A black-box method's candidate; its fields are the method's own (glia.blackbox.store)."""

    fields: Mapping[str, Any] = field(default_factory=dict)


EVENT_CLASSES: dict[str, type[Event]] = {
    CONTEXT_START: ContextStarted,
    SESSION_START: SessionStarted,
    USER: UserMessage,
    ASSISTANT: AssistantTurn,
    MODEL_CALL: ModelCall,
    COMMAND_STARTED: CommandStarted,
    TOOL_RESULT: ToolResult,
    SIMULATION_STARTED: SimulationStarted,
    SIMULATION: SimulationEnded,
    SIMULATION_REFUSED: SimulationRefused,
    SUPERVISOR: SupervisorSpoke,
    FORMAT_ERROR: FormatError,
    FINISH: FinishCalled,
    BUDGET: BudgetNote,
    ERROR: ErrorEvent,
    CONTEXT_END: ContextEnded,
    CANDIDATE: CandidateEvent,
}


def parse_event(raw: Mapping[str, Any]) -> Event:
    """The typed event of one transcript object; never raises (odd fields read as their defaults)."""
    kind = raw.get("type") if isinstance(raw.get("type"), str) else ""
    base = {"type": kind, "seq": integer(raw.get("seq")), "ts": text_or_none(raw.get("ts"))}
    reader = _READERS.get(kind)
    if reader is None:
        return Event(**base)
    return reader(raw, base)


# -- coercion: what a field reads as when its value has the wrong type ---------------------------------


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(value: Any) -> float | None:
    """A finite float, or None (null, strings, booleans, NaN and infinities)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _numbers(value: Any) -> Mapping[str, float] | None:
    if not isinstance(value, Mapping):
        return None
    return {str(k): n for k, v in value.items() if (n := number(v)) is not None}


def _calls(value: Any) -> tuple[CallRecord, ...]:
    if not isinstance(value, list):
        return ()
    calls = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        arguments = item.get("arguments")
        calls.append(
            CallRecord(
                id=str(item.get("id") or ""),
                name=text(item.get("name")),
                arguments=arguments if isinstance(arguments, Mapping) else {},
                error=text_or_none(item.get("error")),
                raw_arguments=str(item.get("raw_arguments", "")),
            )
        )
    return tuple(calls)


def _kind(raw: Mapping[str, Any], default: str) -> str:
    kind = raw.get("kind")
    if kind in (CLAIM, EXPERIMENT):
        return kind
    if "design_run" in raw:  # transcripts written before claims had conditions
        return CLAIM if raw.get("design_run") is not False else EXPERIMENT
    return default


def _summary(value: Any) -> Mapping[str, Any] | str:
    if isinstance(value, Mapping):
        return value
    return value if isinstance(value, str) else ""


_READERS: dict[str, Any] = {
    CONTEXT_START: lambda r, b: ContextStarted(
        **b,
        context=str(r.get("context") or ""),
        run_id=text(r.get("run_id")),
        strategy=text(r.get("strategy")),
        researcher_model=text(r.get("researcher_model")),
        supervisor_model=text(r.get("supervisor_model")),
        task=text(r.get("task")),
    ),
    SESSION_START: lambda r, b: SessionStarted(
        **b, session=integer(r.get("session")) or 1, resumed=r.get("resumed") is True
    ),
    USER: lambda r, b: UserMessage(**b, text=text(r.get("text"))),
    ASSISTANT: lambda r, b: AssistantTurn(
        **b,
        text=text(r.get("text")),
        reasoning=text(r.get("reasoning")) or (str(r["reasoning"]) if number(r.get("reasoning")) else ""),
        tool_calls=_calls(r.get("tool_calls")),
        provider_state=dict(mapping(r.get("provider_state")) or {}),
    ),
    MODEL_CALL: lambda r, b: ModelCall(
        **b,
        agent=text(r.get("agent")),
        model=text(r.get("model")),
        tokens=integer(r.get("tokens")) or 0,
        cost_usd=number(r.get("cost_usd")),
        latency_s=number(r.get("latency_s")) or 0.0,
        retries=integer(r.get("retries")) or 0,
    ),
    COMMAND_STARTED: lambda r, b: CommandStarted(
        **b,
        id=str(r.get("id") or ""),
        command=text(r.get("command")),
        timeout_s=number(r.get("timeout_s")),
        output_path=text_or_none(r.get("output_path")),
    ),
    TOOL_RESULT: lambda r, b: ToolResult(
        **b,
        id=str(r.get("id") or ""),
        name=text(r.get("name")),
        command=text_or_none(r.get("command")),
        exit_code=integer(r.get("exit_code")),
        timed_out=r.get("timed_out") is True,
        duration_s=number(r.get("duration_s")),
        output=text(r.get("output")),
        output_path=text_or_none(r.get("output_path")),
        is_error=r.get("is_error") is True,
        recovered=text_or_none(r.get("recovered")),
    ),
    SIMULATION_STARTED: lambda r, b: SimulationStarted(
        **b,
        index=integer(r.get("index")) or 0,
        kind=_kind(r, EXPERIMENT),
        conditions=mapping(r.get("conditions")),
        snapshot=text_or_none(r.get("snapshot")),
        call_id=text_or_none(r.get("call_id")),
        result_dir=text_or_none(r.get("result_dir")),
        run_total=integer(r.get("run_total")),
        problems=tuple(str(p) for p in r.get("problems") or () if isinstance(r.get("problems"), list)),
    ),
    SIMULATION: lambda r, b: SimulationEnded(
        **b,
        index=integer(r.get("index")) or 0,
        kind=_kind(r, CLAIM),
        outcome=text(r.get("outcome")) or "ended",
        valid=r.get("valid", True) is True,
        error=text_or_none(r.get("error")),
        claimed_score=number(r.get("claimed_score")),
        values=_numbers(r.get("values")),
        result_dir=text_or_none(r.get("result_dir")),
        snapshot=text_or_none(r.get("snapshot")),
        call_id=text_or_none(r.get("call_id")),
        ended_call_id=text_or_none(r.get("ended_call_id")),
        router=text_or_none(r.get("router")),
    ),
    SIMULATION_REFUSED: lambda r, b: SimulationRefused(
        **b, reason=text(r.get("reason")), call_id=text_or_none(r.get("call_id"))
    ),
    SUPERVISOR: lambda r, b: SupervisorSpoke(
        **b,
        trigger=text(r.get("trigger")),
        verdict=text_or_none(r.get("verdict")),
        text=text(r.get("text")),
        message=text(r.get("message")),
        delivered=text_or_none(r.get("delivered")),
        at_simulation=integer(r.get("at_simulation")) or 0,
    ),
    FORMAT_ERROR: lambda r, b: FormatError(**b, detail=text(r.get("detail"))),
    FINISH: lambda r, b: FinishCalled(
        **b,
        summary=_summary(r.get("summary")),
        accepted=r.get("accepted") if isinstance(r.get("accepted"), bool) else None,
        reviewed=r.get("reviewed") is True,
    ),
    BUDGET: lambda r, b: BudgetNote(**b, detail=text(r.get("detail"))),
    ERROR: lambda r, b: ErrorEvent(
        **b,
        detail=text(r.get("detail")),
        reason=text_or_none(r.get("reason")),
        agent=text_or_none(r.get("agent")),
        trigger=text_or_none(r.get("trigger")),
        at_simulation=integer(r.get("at_simulation")) or 0,
    ),
    CONTEXT_END: lambda r, b: ContextEnded(
        **b,
        reason=text(r.get("reason")) or "ended",
        simulations=integer(r.get("simulations")) or 0,
        cost_usd=number(r.get("cost_usd")) or 0.0,
        final_snapshot=text_or_none(r.get("final_snapshot")),
        result=mapping(r.get("result")),
    ),
    CANDIDATE: lambda r, b: CandidateEvent(
        **b, fields={k: v for k, v in r.items() if k not in ("type", "seq", "ts", "v")}
    ),
}


def model_call_fields(agent: str, response: Any) -> dict[str, Any]:
    """The fields of a `model_call` event for one `LLMResponse`: every writer records calls the same way,
    so recovery can sum dollars and tokens from any transcript."""
    usage = response.usage
    return {
        "agent": agent,
        "model": response.model,
        "usage": asdict(usage),
        "tokens": usage.input_tokens + usage.output_tokens,
        "cost_usd": response.cost_usd,
        "latency_s": round(response.latency_s, 3),
        "retries": response.retries,
        "stop_reason": response.stop_reason,
    }
