"""The run's record: one writer per run (the lock), typed events, recovery from the durable record, the
live trusted curve, and refusing what this version cannot resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glia.orchestrator import RunNotResumable, execute_run, prepare_run, resume_run
from glia.orchestrator.run import RunInUse
from glia.record import events as ev
from glia.record.lock import RunLock, RunLocked, probe_lock
from glia.record.reconcile import reconcile
from glia.record.transcript import Transcript, read_events
from glia.record.view import read_run
from glia.run_store import load_run, save_run
from glia.task import BudgetLimits

from .fakes import Design, Plan

# -- the lock -------------------------------------------------------------------------------------------


def test_the_lock_names_its_holder_and_dies_with_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert probe_lock(run_dir).held is False  # no lock file yet: free
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from glia.record.lock import RunLock
            lock = RunLock({str(run_dir)!r}, command="glia solve").acquire()
            print("held", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        state = probe_lock(run_dir)
        assert state.held and state.holder["pid"] == holder.pid and state.holder["command"] == "glia solve"
        with pytest.raises(
            RunLocked, match=f"run run is in use by process {holder.pid} on .* \\(glia solve\\)"
        ):
            RunLock(run_dir).acquire()
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs, the kernel drops the lock
        holder.wait()
    assert probe_lock(run_dir).held is False
    with RunLock(run_dir) as lock:
        assert lock.held and probe_lock(run_dir).holder["pid"] == os.getpid()
    assert probe_lock(run_dir).held is False and (run_dir / "run.lock").read_text() == ""


def test_a_live_run_is_never_resumed_or_executed_twice(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0)])})
    run_dir = prepare_run(make_config("scg"))
    with RunLock(run_dir, command="glia solve"):  # another writer holds the run
        with pytest.raises(
            RunInUse, match=f"in use by process {os.getpid()} .*glia solve.*kill {os.getpid()}"
        ):
            resume_run(run_dir, **h.injectables())
        with pytest.raises(RunInUse):
            execute_run(run_dir, **h.injectables())
    assert h.runner.calls == [] and h.cleanup.run_ids == []  # nothing ran, no container was touched
    assert load_run(run_dir)["status"] == "running" and not load_run(run_dir)["sessions"]
    assert execute_run(run_dir, **h.injectables()).status == "finished"
    assert probe_lock(run_dir).held is False  # released when the session ended


def test_a_run_recorded_by_an_older_glia_is_refused_with_a_clear_message(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0)])})
    run_dir = prepare_run(make_config("scg"))
    data = load_run(run_dir)
    data["version"] = 1
    data["status"] = "interrupted"
    save_run(run_dir, data)
    with pytest.raises(
        RunNotResumable, match="recorded by an older Glia .* can still be read .* not resumed"
    ):
        resume_run(run_dir, **h.injectables())


# -- typed events ---------------------------------------------------------------------------------------


def test_events_read_typed_and_odd_fields_read_as_defaults() -> None:
    sim = ev.parse_event({"type": "simulation", "index": 2, "kind": "experiment", "valid": True,
                          "claimed_score": float("nan"), "values": {"mean_e2e": 3, "bad": "x"}})  # fmt: skip
    assert isinstance(sim, ev.SimulationEnded) and sim.kind == "experiment" and sim.claimed_score is None
    assert sim.values == {"mean_e2e": 3.0}
    legacy = ev.parse_event({"type": "simulation", "index": 1, "design_run": False, "claimed_score": 5})
    assert legacy.kind == "experiment"  # transcripts written before claims had conditions
    odd = ev.parse_event({"type": "model_call", "cost_usd": "a lot", "tokens": True, "seq": "x"})
    assert isinstance(odd, ev.ModelCall) and odd.cost_usd is None and odd.tokens == 0 and odd.seq is None
    unknown = ev.parse_event({"type": "from_the_future", "x": 1})
    assert type(unknown) is ev.Event and unknown.type == "from_the_future"
    call = ev.parse_event(
        {"type": "assistant", "tool_calls": [{"id": "a", "name": "bash", "arguments": {"command": "ls"}}, 3]}
    )
    assert [c.command for c in call.tool_calls] == ["ls"]


# -- recovery from the durable record -------------------------------------------------------------------


def _transcript(run_dir: Path, index: int) -> list[dict]:
    return read_events(run_dir / f"ctx-{index}" / "transcript.jsonl")


def test_recovery_after_an_unclean_stop_takes_the_transcripts_numbers(make_config, harness) -> None:
    """run.json lags the transcripts after kill -9: resume corrects it before the budget is rebuilt."""
    plans = {1: Plan([Design(49.0, cost_usd=0.25), Design(47.0, cost_usd=0.5), Design(46.0, cost_usd=0.125)],
                     events=True)}  # fmt: skip
    h = harness(plans)
    run_dir = prepare_run(make_config("scg", budgets=BudgetLimits(dollars=100.0, simulations=50)))
    assert execute_run(run_dir, **h.injectables()).status == "finished"
    # What a kill -9 leaves: the last saves of run.json never happened, the status still says running.
    data = load_run(run_dir)
    data["status"], data["best"] = "running", None
    data["usage"].update(dollars=0.25, simulations=1, tokens=1000)
    data["contexts"][0].update(status="running", cost_usd=0.25, simulations=1, run_totals=[1], judged=False)
    save_run(run_dir, data)
    assert read_run(run_dir).status == "interrupted"  # nobody holds it: its process is gone

    changes = reconcile(run_dir, data)
    assert "run: dollars $0.2500 -> $0.8750" in changes and "run: simulations 1 -> 3" in changes
    assert data["contexts"][0]["run_totals"] == [1, 2, 3] and data["usage"]["tokens"] == 3000
    assert data["recovered"] and "recovered from the transcripts" in data["recovered"][-1]

    h.runner.progress[1] = 3  # the fake context had done all its designs
    resumed = resume_run(run_dir, **h.injectables())
    run = load_run(run_dir)
    calls = [e for e in _transcript(run_dir, 1) if e["type"] == "model_call"]
    assert run["usage"]["dollars"] == pytest.approx(sum(c["cost_usd"] for c in calls)) == 0.875
    assert run["usage"]["simulations"] == sum(
        1 for e in _transcript(run_dir, 1) if e["type"] == "simulation_started"
    )
    assert resumed.status == "finished" and run["recovered"]


# -- the live trusted curve -----------------------------------------------------------------------------


def test_improving_designs_are_judged_as_the_run_goes_and_draw_a_curve(make_config, harness) -> None:
    # the last design is judged live while its context still works (it sleeps after its claim)
    designs = [
        Design(48.0),
        Design(47.0, claimed=44.0),
        Design(49.0),
        Design(45.0),
        Design(43.0, sleep_s=1.5),
    ]
    h = harness({1: Plan(designs, events=True, summary={"design": "Pick the emptiest replica."})})
    result = h.run(make_config("scg", live_evaluations=3))
    run = load_run(result.run_dir)
    live = [t for t in run["contexts"][0]["trusted"] if t["live"]]
    # claims 48, 44 (a lie: truly 47), 49, 45, 43: improvements at simulations 1, 2 and 5; the cap is 3
    assert [(t["label"], t["score"], t["run_total"]) for t in live] == [
        ("sim1", 48.0, 1), ("sim2", 47.0, 2), ("sim5", 43.0, 5),
    ]  # fmt: skip
    assert run["live_judging"] == {"limit": 3, "used": 3}
    curve = [(p["simulations"], p["score"]) for p in run["timeline"] if p["kind"] == "trusted"]
    assert curve == [(1, 48.0), (2, 47.0), (5, 43.0)]  # the final design is sim 5's: judged once
    assert [label for label, _ in h.evaluator.evaluated] == ["ctx1-sim1", "ctx1-sim2", "ctx1-sim5"]
    assert result.best["score"] == pytest.approx(43.0)
    # chosen while the context still worked, best/ gets the context's account once it has ended
    assert "Pick the emptiest replica." in (result.run_dir / "best" / "explanation.md").read_text()


def test_the_live_judge_stops_at_its_limit(make_config, harness) -> None:
    designs = [Design(50.0 - i) for i in range(6)]
    h = harness({1: Plan(designs, events=True)})
    result = h.run(make_config("scg", live_evaluations=2))
    run = load_run(result.run_dir)
    assert run["live_judging"]["used"] == 2
    assert sorted(label for label, _ in h.evaluator.evaluated) == ["ctx1-final", "ctx1-sim1", "ctx1-sim2"]
    assert result.best["score"] == pytest.approx(45.0)  # the final design, judged at the end


def test_no_live_judging_when_switched_off(make_config, harness) -> None:
    h = harness({1: Plan([Design(48.0), Design(46.0)], events=True)})
    h.run(make_config("scg", live_evaluations=0))
    assert [label for label, _ in h.evaluator.evaluated] == ["ctx1-final"]


def test_a_transcript_reader_and_writer_agree_on_sequence_after_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "transcript.jsonl"
    with Transcript(path) as transcript:
        transcript.append("session_start", session=1, resumed=False)
    with path.open("a") as handle:
        handle.write('{"v": 2, "seq": 1, "type": "command_st')
    with Transcript(path) as transcript:
        assert transcript.append("user", text="next")["seq"] == 1
    assert [e["type"] for e in read_events(path)] == ["session_start", "user"]
    assert json.loads(path.read_text().splitlines()[-1])["text"] == "next"
