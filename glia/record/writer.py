"""Typed writes of transcript events: one method per event shape, so every writer records an event the same way.

`Transcript.append(type, **fields)` takes any fields; writers go through `EventWriter` instead, whose
methods name each field. The fields, their order and which of them appear are exactly those the readers
in `events.py` (and transcripts already on disk) expect, so the lines written are unchanged byte for
byte. A field passed as None to an optional parameter of `error` is left out, as it always was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glia.record import events as ev
from glia.record.transcript import Transcript

UNCOUNTED_COMPUTE = "uncounted_compute"  # not a typed event yet: no reader folds it


class EventWriter:
    """Writes one context's events to its transcript (shared between threads like the transcript)."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript

    def _write(self, type: str, **fields: Any) -> dict[str, Any]:
        return self.transcript.append(type, **fields)

    # -- the session ------------------------------------------------------------------------------

    def context_started(
        self,
        *,
        context: str,
        run_id: str,
        strategy: str,
        researcher_model: str | None,
        supervisor_model: str | None,
        task: str,
    ) -> None:
        self._write(
            ev.CONTEXT_START,
            context=context,
            run_id=run_id,
            strategy=strategy,
            researcher_model=researcher_model,
            supervisor_model=supervisor_model,
            task=task,
        )

    def session_started(self, session: int, resumed: bool) -> None:
        self._write(ev.SESSION_START, session=session, resumed=resumed)

    def context_ended(
        self,
        *,
        reason: str,
        simulations: int,
        cost_usd: float,
        final_snapshot: str | None,
        best_claimed: Mapping[str, Any] | None,
        result: Mapping[str, Any],
    ) -> None:
        self._write(
            ev.CONTEXT_END,
            reason=reason,
            simulations=simulations,
            cost_usd=cost_usd,
            final_snapshot=final_snapshot,
            best_claimed=best_claimed,
            result=result,
        )

    # -- the conversation -------------------------------------------------------------------------

    def user(self, text: str) -> None:
        self._write(ev.USER, text=text)

    def assistant(
        self,
        *,
        text: str | None,
        reasoning: str | None,
        tool_calls: Sequence[Mapping[str, Any]],
        provider_state: Mapping[str, Any] | None = None,
    ) -> None:
        """An assistant turn; `provider_state` is written only when there is some."""
        fields: dict[str, Any] = {"text": text, "reasoning": reasoning, "tool_calls": list(tool_calls)}
        if provider_state:
            fields["provider_state"] = provider_state
        self._write(ev.ASSISTANT, **fields)

    def model_call(self, agent: str, response: Any) -> int:
        """One model call (an `LLMResponse`); returns the tokens it used."""
        fields = ev.model_call_fields(agent, response)
        self._write(ev.MODEL_CALL, **fields)
        return int(fields["tokens"])

    def format_error(self, detail: str) -> None:
        self._write(ev.FORMAT_ERROR, detail=detail)

    # -- tool calls -------------------------------------------------------------------------------

    def tool_answer(self, *, id: str, name: str, output: str, is_error: bool) -> None:
        """The answer to a call that ran no command (a tool error, the Supervisor's reply to `finish`)."""
        self._write(ev.TOOL_RESULT, id=id, name=name, output=output, is_error=is_error)

    def command_started(self, *, id: str, command: str, timeout_s: float, output_path: str) -> None:
        self._write(ev.COMMAND_STARTED, id=id, command=command, timeout_s=timeout_s, output_path=output_path)

    def command_result(
        self,
        *,
        id: str,
        name: str,
        command: str,
        exit_code: int | None,
        timed_out: bool,
        duration_s: float,
        output: str,
        output_path: str | None,
        timeout_s: float,
    ) -> None:
        """The result of a command that ran to its end (or its timeout)."""
        self._write(
            ev.TOOL_RESULT,
            id=id,
            name=name,
            command=command,
            exit_code=exit_code,
            timed_out=timed_out,
            duration_s=duration_s,
            output=output,
            output_path=output_path,
            is_error=False,
            timeout_s=timeout_s,
        )

    def call_not_run(self, *, id: str, name: str, output: str) -> None:
        """On resume: the answer to a call its session never started."""
        self._write(ev.TOOL_RESULT, id=id, name=name, output=output, is_error=True, recovered="not_run")

    def call_interrupted(
        self, *, id: str, name: str, command: str, output: str, output_path: str | None
    ) -> None:
        """On resume: the answer to a command that was running when its session stopped."""
        self._write(
            ev.TOOL_RESULT,
            id=id,
            name=name,
            command=command,
            exit_code=None,
            timed_out=False,
            output=output,
            output_path=output_path,
            is_error=True,
            recovered="interrupted",
        )

    def budget(self, detail: str) -> None:
        self._write(ev.BUDGET, detail=detail)

    def finish(self, *, summary: Mapping[str, Any], accepted: bool, reviewed: bool) -> None:
        self._write(ev.FINISH, summary=summary, accepted=accepted, reviewed=reviewed)

    # -- the Supervisor ---------------------------------------------------------------------------

    def supervisor(
        self,
        *,
        trigger: str,
        verdict: str | None,
        text: str,
        message: str,
        delivered: str,
        at_simulation: int,
    ) -> None:
        self._write(
            ev.SUPERVISOR,
            trigger=trigger,
            verdict=verdict,
            text=text,
            message=message,
            delivered=delivered,
            at_simulation=at_simulation,
        )

    # -- errors -----------------------------------------------------------------------------------

    def error(
        self,
        detail: str,
        *,
        reason: str | None = None,
        agent: str | None = None,
        trigger: str | None = None,
        at_simulation: int | None = None,
    ) -> None:
        """Something went wrong; the optional fields given (not None) follow `detail` in this order."""
        optional = {"reason": reason, "agent": agent, "trigger": trigger, "at_simulation": at_simulation}
        self._write(ev.ERROR, detail=detail, **{k: v for k, v in optional.items() if v is not None})

    # -- simulations (the ledger) -----------------------------------------------------------------

    def simulation_started(self, fields: Mapping[str, Any]) -> None:
        """A counted simulation began; `fields` are `SimulationRecord.started_fields()`."""
        self._write(ev.SIMULATION_STARTED, **fields)

    def simulation_ended(self, fields: Mapping[str, Any]) -> None:
        """A counted simulation ended; `fields` are `SimulationRecord.ended_fields()`."""
        self._write(ev.SIMULATION, **fields)

    def simulation_refused(self, *, reason: str, call_id: str | None) -> None:
        self._write(ev.SIMULATION_REFUSED, reason=reason, call_id=call_id)

    def uncounted_compute(self, fields: Mapping[str, Any]) -> None:
        """Compute the CPU backstop charged as simulations (`glia.agents.cpu_backstop`)."""
        self._write(UNCOUNTED_COMPUTE, **fields)

    # -- black-box methods ------------------------------------------------------------------------

    def candidate(self, fields: Mapping[str, Any]) -> None:
        """A black-box method's candidate (its fields are the method's own, glia.blackbox.store)."""
        self._write(ev.CANDIDATE, **fields)
