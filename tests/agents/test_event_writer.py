"""Typed writes keep the transcript's lines as they were: each shape's fields, in order, and nothing else;
and the one simulation fold reads the same simulations for the ledger's resume and for the views."""

from __future__ import annotations

import json

from glia.agents.ledger import SimulationLedger
from glia.budget import Budget
from glia.metric import Metric
from glia.record import events as ev
from glia.record.simulations import KILLED, Simulation
from glia.record.transcript import Transcript
from glia.record.view import fold_context
from glia.record.writer import EventWriter
from glia.task import BudgetLimits

METRIC = Metric(name="mean_e2e", direction="minimize", unit="s")


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_shape_writes_its_fields_in_order(tmp_path):
    path = tmp_path / "t.jsonl"
    with Transcript(path) as transcript:
        w = EventWriter(transcript)
        w.tool_answer(id="c1", name="finish", output="revise", is_error=False)
        w.call_not_run(id="c2", name="bash", output="[not run]")
        w.call_interrupted(id="c3", name="bash", command="ls", output="[interrupted]", output_path=None)
        w.command_result(id="c4", name="bash", command="ls", exit_code=0, timed_out=False, duration_s=0.5,
                         output="[exit code 0]", output_path="o/cmd-1.log", timeout_s=300.0)  # fmt: skip
        w.error("boom", reason="exception")
        w.error("unreachable", agent="supervisor", trigger="periodic", at_simulation=0)
        w.assistant(text="t", reasoning=None, tool_calls=[])
        w.assistant(text="t", reasoning="r", tool_calls=[], provider_state={"k": 1})
    fields = [[k for k in line if k not in ("v", "seq", "ts")] for line in _lines(path)]
    assert fields == [
        ["type", "id", "name", "output", "is_error"],
        ["type", "id", "name", "output", "is_error", "recovered"],
        ["type", "id", "name", "command", "exit_code", "timed_out", "output", "output_path", "is_error", "recovered"],
        ["type", "id", "name", "command", "exit_code", "timed_out", "duration_s", "output", "output_path",
         "is_error", "timeout_s"],
        ["type", "detail", "reason"],
        ["type", "detail", "agent", "trigger", "at_simulation"],
        ["type", "text", "reasoning", "tool_calls"],
        ["type", "text", "reasoning", "tool_calls", "provider_state"],
    ]  # fmt: skip
    lines = _lines(path)
    assert [lines[1]["recovered"], lines[2]["recovered"]] == ["not_run", "interrupted"]
    assert lines[2]["exit_code"] is None and lines[2]["is_error"] is True and lines[3]["is_error"] is False


def test_the_ledger_and_the_view_fold_the_same_simulations(tmp_path):
    started = Simulation.pending(1, kind=ev.CLAIM)
    started.conditions, started.call_id, started.run_total = {"router": "ai"}, "c1", 1
    ended = Simulation(2, "r/2", None, True, None, "sha2", kind=ev.EXPERIMENT, conditions={"router": "llq"},
                       call_id="c1", run_total=2, values={"mean_e2e": 12.5}, ended_call_id="c1")  # fmt: skip
    path = tmp_path / "t.jsonl"
    with Transcript(path) as transcript:
        w = EventWriter(transcript)
        for sim in (started, ended):
            w.simulation_started(sim.started_fields())
        w.simulation_ended(ended.ended_fields())
        ledger = SimulationLedger(
            Budget(BudgetLimits()), transcript, lambda m: None, METRIC, {"router": "ai"}
        )
        ledger.restore(transcript.events())  # #1 never ended: killed with the process, and recorded
        events = transcript.events()
    view = fold_context(1, METRIC, events)

    def summary(sim):
        return (
            sim.index,
            sim.kind,
            sim.ended,
            sim.outcome,
            sim.valid,
            sim.values,
            sim.call_id,
            sim.run_total,
        )

    assert [summary(s) for s in ledger.records] == [summary(s) for s in view.sims]
    assert [s.outcome for s in view.sims] == [KILLED, "ended"]
    assert view.sims[1].conditions_text() == "router llq" and view.sims[1].value(METRIC) == 12.5
