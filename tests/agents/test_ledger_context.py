"""The ledger inside a real context: the routing task, the bundled simulator, a real workspace.

A scripted Researcher runs the benchmark, an experiment and a background run; the context must charge
each once, attribute each to the bash call that started it (the background run too, although another
call is in flight when it starts), tell the Researcher what happened, and rank only the claim.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from glia.agents.ledger import CLAIM, EXPERIMENT, SimulationLedger
from glia.budget import Budget
from glia.context import ContextSpec, run_context
from glia.record.transcript import read_events
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from glia.workspace.history import History

from .scripting import ScriptedProvider, approve, bash, finish

TASK = Path(__file__).resolve().parents[2] / "tasks" / "llm_routing.md"


@pytest.mark.docker
def test_a_context_charges_attributes_and_reports_every_simulation(tmp_path, workspace_image, stop):
    calls = [
        bash("./run_all.sh"),  # the benchmark: a claim
        bash("./run_all.sh llq --duration 50 --output-root /tmp/o"),  # a baseline: an experiment
        bash(
            "setsid nohup sh -c 'sleep 2; ./run_all.sh --duration 100 --output-root /tmp/bg' > /tmp/bg.log 2>&1 &"
        ),
        bash("sleep 10; cat /tmp/bg.log"),  # the background run starts and ends during this call
        finish(),
    ]
    ids = [message.tool_calls[0].id for message in calls[:4]]
    spec = ContextSpec(
        run_id=f"ledger-{uuid.uuid4().hex[:8]}",
        index=1,
        ctx_dir=tmp_path / "run" / "ctx-1",
        task=load_task(TASK),
        researcher=ScriptedProvider("researcher-model", calls),
        supervisor=ScriptedProvider("supervisor-model", [approve()]),
        backend="docker",
        image=workspace_image,
        baselines={"llq": 44.5},
        max_steps=10,
    )
    budget = Budget(BudgetLimits(simulations=10))
    result = run_context(spec, budget.for_context(1), stop)

    assert result.end_reason == "finished", result.error
    assert result.simulations == 3 and budget.simulations_used == 3
    events = read_events(spec.ctx_dir / "transcript.jsonl")
    started = [e for e in events if e["type"] == "simulation_started"]
    assert [(e["index"], e["kind"], e["call_id"]) for e in started] == [
        (1, CLAIM, ids[0]),
        (2, EXPERIMENT, ids[1]),
        (3, EXPERIMENT, ids[2]),  # reported through GLIA_CALL, though call 4 was in flight
    ]
    ended = {e["index"]: e for e in events if e["type"] == "simulation"}
    assert all(ended[i]["valid"] and ended[i]["outcome"] == "ended" for i in (1, 2, 3))
    assert ended[3]["ended_call_id"] == ids[3]
    assert ended[1]["claimed_score"] is not None and ended[2]["claimed_score"] is None
    assert ended[2]["values"]["mean_e2e"] > 0  # an experiment keeps its numbers for display

    notes: dict[str, str] = {}  # the note appended to each command's result, by call id
    for event in events:
        if event["type"] == "tool_result":
            last = event["id"]
        elif event["type"] == "budget":
            notes[last] = event["detail"]
    score = ended[1]["claimed_score"]
    assert notes[ids[0]].startswith(f"[Simulation #1 (benchmark run) valid, claimed mean_e2e {score:.3f}.")
    trace = "trace:data/processed_traces/sharegpt_7.5.csv"
    assert notes[ids[1]].startswith(f"[Simulation #2 (experiment: llq, {trace}) valid, mean_e2e ")
    assert ids[2] not in notes  # the background run had not started when its command returned
    assert notes[ids[3]].startswith(f"[Simulation #3 (experiment: ai, {trace}) valid")
    assert "Simulations used in this session: 3. Remaining budget: simulations 7" in notes[ids[3]]

    assert result.best_claimed is not None and result.best_claimed.sim_index == 1
    history = History(spec.ctx_dir / "history.git")
    assert [history.message(s.sha).split(":")[0] for s in result.snapshots] == ["sim 1", "sim 2", "sim 3"]
    simulation_text = "\n".join(str(e) for e in events if e["type"].startswith("simulation"))
    assert str(tmp_path) not in simulation_text


def test_an_interrupted_context_closes_its_ledger_and_a_resume_counts_on(tmp_path, stop, monkeypatch):
    sockets: list[Path] = []
    listen = SimulationLedger.listen

    def remember(self, socket_dir=None):
        sockets.append(listen(self, socket_dir))
        return sockets[-1]

    monkeypatch.setattr(SimulationLedger, "listen", remember)
    budget = Budget(BudgetLimits(simulations=10))
    quick = "./run_all.sh --duration 20 --output-root /tmp/quick-$RANDOM"

    def spec(script: list) -> ContextSpec:
        return ContextSpec(
            run_id="ledger-local",
            index=1,
            ctx_dir=tmp_path / "run" / "ctx-1",
            task=load_task(TASK),
            researcher=ScriptedProvider("researcher-model", script),
            supervisor=ScriptedProvider("supervisor-model", [approve()]),
            backend="local",
            max_steps=10,
        )

    with pytest.raises(KeyboardInterrupt):
        run_context(spec([bash(quick), KeyboardInterrupt()]), budget.for_context(1), stop)
    assert not sockets[0].exists() and not sockets[0].parent.exists()  # server closed, folder removed
    assert budget.simulations_used == 1

    resumed = run_context(spec([bash(quick), finish()]), budget.for_context(1), stop, resume=True)
    assert (resumed.end_reason, resumed.simulations) == ("finished", 2)
    assert budget.simulations_used == 2 and not sockets[1].exists()
    events = read_events(tmp_path / "run" / "ctx-1" / "transcript.jsonl")
    assert [e["index"] for e in events if e["type"] == "simulation_started"] == [1, 2]
