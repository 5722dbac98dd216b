"""The Supervisor: a second model that reads the Researcher's transcript and advises, nothing more.

It has no tools, no workspace and no files: it sees the task brief and a rendering of what the
Researcher said, ran and measured, as in the Glia paper (section 4.1). `SupervisorPolicy` is the one
place that decides when it speaks:

- on `finish`: it approves (the context ends) or asks for revisions (its words become the result of the
  finish call and the Researcher carries on). A reply without a readable verdict counts as a revision,
  since the reviewer evidently had more to say. Once `max_interventions` are used, a finish is accepted
  without review;
- every `every_k_turns` Researcher turns (`periodic`);
- when no simulation among the last `stall_after_sims` improved the best claimed score (`stall`), at most
  once per that many simulations.

All three kinds of intervention share the `max_interventions` allowance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from glia.agents.ledger import SimulationRecord, best_record
from glia.llm.types import LLMProvider, LLMResponse, Message
from glia.task import SupervisorSettings

FINISH, PERIODIC, STALL = "finish", "periodic", "stall"
APPROVE, REVISE = "approve", "revise"

MESSAGE_HEADERS = {
    FINISH: "[Supervisor]",
    PERIODIC: "[Supervisor — periodic check-in]",
    STALL: "[Supervisor — progress check]",
}

_VERDICT_PATTERN = re.compile(r"VERDICT\s*:\s*\**\s*(APPROVE|REVISE)\b", re.IGNORECASE)

DEFAULT_CHAR_BUDGET = 60_000
TOOL_OUTPUT_CHARS = 1_500
HEAD_SHARE = 0.3


class SupervisorPolicy:
    """When the Supervisor steps in; its state is rebuilt from the transcript on resume."""

    def __init__(self, settings: SupervisorSettings, lower_is_better: bool = True) -> None:
        self.settings = settings
        self.lower_is_better = lower_is_better
        self.interventions = 0
        self.last_stall_at = 0  # the simulation count when the stall trigger last fired

    @property
    def interventions_left(self) -> int:
        return max(0, self.settings.max_interventions - self.interventions)

    @property
    def finish_reserve(self) -> int:
        """Interventions kept for finish reviews, so that check-ins over a long context cannot use up the
        review of the moment that matters most (the paper's Supervisor acts when the Researcher wants to
        stop)."""
        return min(2, max(1, self.settings.max_interventions // 2))

    def _checkins_allowed(self) -> bool:
        return self.interventions_left > self.finish_reserve

    def reviews_finish(self) -> bool:
        """False once the allowance is used: the finish is then accepted as it is."""
        return self.interventions_left > 0

    def periodic_due(self, researcher_turns: int) -> bool:
        k = self.settings.every_k_turns
        return self._checkins_allowed() and k > 0 and researcher_turns > 0 and researcher_turns % k == 0

    def stall_due(self, records: Sequence[SimulationRecord]) -> bool:
        """True when none of the last M simulations set a new best claimed score."""
        m = self.settings.stall_after_sims
        n = len(records)
        if not self._checkins_allowed() or m <= 0 or n < m or n - self.last_stall_at < m:
            return False
        window_start = n - m
        return all(
            best_record(list(records[:i]), self.lower_is_better)
            is best_record(list(records[: i + 1]), self.lower_is_better)
            for i in range(window_start, n)
        )

    def check_in_trigger(self, researcher_turns: int, records: Sequence[SimulationRecord]) -> str | None:
        """The unprompted intervention due after a turn, if any: a stall outranks the periodic check-in.
        (Not called after a turn in which the Supervisor already reviewed a finish.)"""
        if self.stall_due(records):
            return STALL
        if self.periodic_due(researcher_turns):
            return PERIODIC
        return None

    def note(self, trigger: str, simulations: int, delivered: bool) -> None:
        """Record an attempt: a delivered intervention uses the allowance; any stall attempt resets the
        stall window so a failing Supervisor is not called again after every command."""
        if delivered:
            self.interventions += 1
        if trigger == STALL:
            self.last_stall_at = simulations

    def restore(self, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            if event.get("type") == "supervisor":
                self.note(event.get("trigger", ""), int(event.get("at_simulation") or 0), delivered=True)
            elif event.get("type") == "error" and event.get("agent") == "supervisor":
                self.note(event.get("trigger", ""), int(event.get("at_simulation") or 0), delivered=False)


@dataclass
class SupervisorReview:
    """One intervention: the verdict (finish only), the full reply and the text the Researcher gets."""

    trigger: str
    verdict: str | None
    text: str
    message: str
    response: LLMResponse


def parse_verdict(text: str) -> str | None:
    """The last `VERDICT: APPROVE|REVISE` in the reply, lower-cased; None when there is none."""
    found = _VERDICT_PATTERN.findall(text)
    return found[-1].lower() if found else None


def strip_verdict(text: str) -> str:
    """The reply without its verdict line(s): the Researcher needs the reasons, not the label."""
    kept = [line for line in text.splitlines() if not _VERDICT_PATTERN.search(line)]
    return "\n".join(kept).strip()


def clip(text: str, limit: int) -> str:
    """Head and tail of `text` within about `limit` characters."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - head - tail} characters omitted ...]\n{text[-tail:]}"


def render_simulations(records: Sequence[SimulationRecord], lower_is_better: bool = True) -> str:
    """Every simulation so far with the running best claimed score (always shown in full)."""
    if not records:
        return "No simulations yet."
    lines = [
        "| # | result folder | claimed score | valid | error | best so far |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, record in enumerate(records):
        best = best_record(list(records[: i + 1]), lower_is_better)
        score = "-" if record.claimed_score is None else f"{record.claimed_score:.3f}"
        best_text = "-" if best is None else f"{best.claimed_score:.3f} (#{best.index})"
        error = (record.error or "").replace("\n", " ")[:120]
        lines.append(
            f"| {record.index} | {record.result_dir} | {score} | {record.valid} | {error} | {best_text} |"
        )
    return "\n".join(lines)


def _render_event(event: dict[str, Any], turn: int) -> str | None:
    kind = event.get("type")
    if kind == "user":
        return f"USER MESSAGE:\n{clip(str(event.get('text', '')), TOOL_OUTPUT_CHARS)}"
    if kind == "assistant":
        parts = [f"RESEARCHER (turn {turn}):"]
        if event.get("reasoning"):
            parts.append(f"(reasoning) {clip(str(event['reasoning']), 3000)}")
        if event.get("text"):
            parts.append(clip(str(event["text"]), 4000))
        for call in event.get("tool_calls") or []:
            args = call.get("arguments") or {}
            if call.get("name") == "bash" and isinstance(args, dict) and "command" in args:
                parts.append(f"$ {clip(str(args['command']), 2000)}")
            else:
                parts.append(f"calls {call.get('name')}: {clip(str(args), 3000)}")
        return "\n".join(parts)
    if kind == "tool_result":
        if event.get("name") == "finish":
            return None  # the Supervisor's own reply, shown with its `supervisor` event
        status = "TIMED OUT" if event.get("timed_out") else f"exit {event.get('exit_code')}"
        return f"OUTPUT ({status}):\n{clip(str(event.get('output', '')), TOOL_OUTPUT_CHARS)}"
    if kind == "simulation":
        score = event.get("claimed_score")
        shown = "none" if score is None else f"{score:.3f}"
        state = "valid" if event.get("valid") else f"invalid: {event.get('error')}"
        return f"SIMULATION #{event.get('index')}: {event.get('result_dir')}, claimed score {shown}, {state}"
    if kind == "supervisor":
        verdict = f", verdict {event['verdict']}" if event.get("verdict") else ""
        return f"SUPERVISOR ({event.get('trigger')}{verdict}):\n{event.get('text', '')}"
    if kind == "format_error":
        return f"(format error: {event.get('detail')})"
    return None


def render_transcript(
    events: Sequence[dict[str, Any]],
    records: Sequence[SimulationRecord],
    char_budget: int = DEFAULT_CHAR_BUDGET,
    lower_is_better: bool = True,
) -> str:
    """The Researcher's session as the Supervisor reads it, within about `char_budget` characters.

    The first user message (the brief) is left out: the Supervisor gets the brief separately. When the
    session is too long, the beginning and the most recent part are kept; the simulation table is
    always complete.
    """
    entries: list[str] = []
    turn = 0
    skipped_brief = False
    for event in events:
        if event.get("type") == "user" and not skipped_brief:
            skipped_brief = True
            continue
        if event.get("type") == "assistant":
            turn += 1
        rendered = _render_event(event, turn)
        if rendered:
            entries.append(rendered)
    table = (
        "## Simulations so far (claimed scores, as read from the runs' summary.json)\n\n"
        + render_simulations(records, lower_is_better)
    )
    room = max(0, char_budget - len(table))
    body = _fit_entries(entries, room)
    return f"## The Researcher's session\n\n{body}\n\n{table}"


def _fit_entries(entries: list[str], room: int) -> str:
    separator = "\n\n"
    if sum(len(e) + len(separator) for e in entries) <= room:
        return separator.join(entries)
    head, used = [], 0
    for entry in entries:
        if used + len(entry) > room * HEAD_SHARE:
            break
        head.append(entry)
        used += len(entry) + len(separator)
    tail: list[str] = []
    for entry in reversed(entries[len(head) :]):
        if used + len(entry) > room:
            break
        tail.append(entry)
        used += len(entry) + len(separator)
    tail.reverse()
    omitted = len(entries) - len(head) - len(tail)
    marker = f"[... {omitted} earlier entries omitted to fit the Supervisor's reading budget ...]"
    return separator.join([*head, marker, *tail])


def _instruction(trigger: str, finish_summary: dict[str, Any] | None, settings: SupervisorSettings) -> str:
    return f"Trigger: `{trigger}`.\n\n" + _trigger_request(trigger, finish_summary, settings)


def _trigger_request(
    trigger: str, finish_summary: dict[str, Any] | None, settings: SupervisorSettings
) -> str:
    if trigger == FINISH:
        summary = "\n".join(f"- {key}: {value}" for key, value in (finish_summary or {}).items())
        return (
            "The Researcher has called `finish` and wants to stop, with this summary:\n\n"
            f"{summary}\n\n"
            "Decide whether the work is ready to submit or the Researcher should keep going, and say why. "
            "End your reply with exactly one line: `VERDICT: APPROVE` or `VERDICT: REVISE`."
        )
    if trigger == STALL:
        return (
            f"None of the last {settings.stall_after_sims} simulations improved the best claimed score. "
            "Help the Researcher get unstuck: ask questions, recall earlier findings and unexplored "
            "ideas, point out obstacles. Do not write code. No verdict is needed."
        )
    return (
        f"This is a scheduled check-in (every {settings.every_k_turns} Researcher turns). Give brief, "
        "concrete guidance: ask questions, remind the Researcher of the goal and earlier findings, "
        "flag unproductive paths. Do not write code. No verdict is needed."
    )


class Supervisor:
    """Calls the Supervisor model with the brief and the rendered transcript; no tools are offered."""

    def __init__(
        self,
        provider: LLMProvider,
        system_prompt: str,
        brief: str,
        settings: SupervisorSettings,
        char_budget: int = DEFAULT_CHAR_BUDGET,
        lower_is_better: bool = True,
    ) -> None:
        self.provider = provider
        self.system_prompt = system_prompt
        self.brief = brief
        self.settings = settings
        self.char_budget = char_budget
        self.lower_is_better = lower_is_better

    def request_text(
        self,
        trigger: str,
        events: Sequence[dict[str, Any]],
        records: Sequence[SimulationRecord],
        finish_summary: dict[str, Any] | None = None,
    ) -> str:
        rendering = render_transcript(events, records, self.char_budget, self.lower_is_better)
        return (
            f"# The task given to the Researcher\n\n{self.brief.strip()}\n\n{rendering}\n\n"
            f"# Why you are consulted now\n\n{_instruction(trigger, finish_summary, self.settings)}"
        )

    def review(
        self,
        trigger: str,
        events: Sequence[dict[str, Any]],
        records: Sequence[SimulationRecord],
        finish_summary: dict[str, Any] | None = None,
    ) -> SupervisorReview:
        """One intervention; raises whatever the provider raises (the caller decides what that means)."""
        prompt = self.request_text(trigger, events, records, finish_summary)
        response = self.provider.complete(
            self.system_prompt, [Message(role="user", content=prompt)], tools=None
        )
        text = response.message.content.strip()
        verdict = parse_verdict(text) if trigger == FINISH else None
        if trigger == FINISH and verdict is None:
            verdict = REVISE  # no readable verdict: the reviewer had objections, so the work goes on
        words = strip_verdict(text) or text or "(the Supervisor gave no reasons)"
        message = f"{MESSAGE_HEADERS[trigger]} {words}"
        return SupervisorReview(
            trigger=trigger, verdict=verdict, text=text, message=message, response=response
        )
