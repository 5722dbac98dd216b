"""What a context takes over from its transcript: its recorded outcome, or the state to go on from.

Everything here reads typed events (`glia.record.events`); the counters come from the context's one
fold (`glia.record.view.fold_context`), the ledger's simulations from `glia.record.simulations`, the
conversation from `glia.agents.researcher.rebuild_conversation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glia.agents.researcher import (
    INTERRUPTED_CALL_OUTPUT,
    RESUMED_NOTE,
    interrupted_call_output,
    rebuild_conversation,
    unanswered_calls,
)
from glia.agents.tools import BASH
from glia.record import events as ev
from glia.record.outcome import ContextOutcome
from glia.record.view import fold_context

# A context that ended for one of these reasons continues when its run is resumed; any other ending is final.
RESUMABLE_END_REASONS = frozenset({"interrupted"})


def final_result(events: Sequence[dict[str, Any]], index: int) -> ContextOutcome | None:
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


def restore(host: Any, events: list[dict[str, Any]]) -> None:
    """Pick up where an earlier session stopped: counters, ledger, supervisor state, conversation.

    `host` is the context (`glia.context`). The durable record decides what the model is told about a
    call the stop left unanswered: a command that had started (its `command_started` is there) ran, at
    least in part, and the simulations it started are named; a call that never started is answered
    "not run"."""
    typed = [ev.parse_event(e) for e in events]
    sessions = fold_context(host.spec.index, host.spec.task.metric, events).sessions or 1
    host.events.session_started(session=sessions + 1, resumed=True)
    host.ledger.restore(events)  # runs left without an end are recorded as killed with the process
    started = {e.id: e for e in typed if isinstance(e, ev.CommandStarted)}
    for call in unanswered_calls(events):
        begun = started.get(call.id)
        if begun is None:
            host.events.call_not_run(id=call.id, name=call.name, output=INTERRUPTED_CALL_OUTPUT)
            continue
        output = interrupted_call_output(
            begun, [r for r in host.ledger.records if r.call_id == call.id], host.budget.remaining()
        )
        host.events.call_interrupted(
            id=call.id, name=call.name, command=begun.command, output=output, output_path=begun.output_path
        )
    events = host.transcript.events()
    typed = [ev.parse_event(e) for e in events]
    host.spending.restore(fold_context(host.spec.index, host.spec.task.metric, events))
    host.policy.restore(events)
    host.format_streak.count, host.timeout_streak.count = trailing_streaks(typed)
    host.researcher.messages = rebuild_conversation(events)
    host.say(RESUMED_NOTE)


def trailing_streaks(events: Sequence[ev.Event]) -> tuple[int, int]:
    """(consecutive format-error turns, consecutive timed-out commands) at the end of `events`."""
    format_errors = timeouts = 0
    turn_valid = turn_error = False

    def close_turn() -> None:
        nonlocal format_errors
        if turn_valid:
            format_errors = 0
        elif turn_error:
            format_errors += 1

    for event in events:
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
