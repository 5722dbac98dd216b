"""SimulationLedger: charging at the start, claims vs experiments, attribution, notes and resume.

Reports travel over a real unix socket, sent with raw JSON lines or with the simulator's own client.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from glia.agents.ledger import (
    BUDGET_SPENT,
    CLAIM,
    CONTEXT_ENDED,
    EXPERIMENT,
    KILLED_WITH_PROCESS,
    SimulationLedger,
    SimulationRecord,
    best_record,
    format_remaining,
    is_claim,
)
from glia.agents.ledger_socket import ServerLimits, StartReport
from glia.budget import Budget
from glia.metric import Constraint, Metric
from glia.record.transcript import Transcript, read_events
from glia.task import BudgetLimits

from .ledger_helpers import (
    FakeSnapshots,
    connect,
    end_message,
    load_client,
    read_answer,
    send,
    simulate,
    start_message,
    wait_until,
)

BENCHMARK = {"router": "ai", "workload": "trace:data/processed_traces/sharegpt_7.5.csv", "duration": 1000}
BENCH_RUN = {**BENCHMARK, "duration": 1000.0, "num_replicas": 4, "device": "a10"}
LIMITS = ServerLimits(first_line_timeout_s=0.5, end_timeout_s=30.0, send_timeout_s=1.0)
METRIC = Metric(name="mean_e2e", direction="minimize", unit="s")


class Harness:
    """A ledger serving its socket, with its budget, transcript and fake snapshots."""

    def __init__(self, tmp_path: Path, budget: Budget | None = None, snapshots: FakeSnapshots | None = None):
        self.budget = budget or Budget(BudgetLimits(simulations=10, dollars=5.0))
        self.transcript = Transcript(tmp_path / "transcript.jsonl")
        self.snapshots = snapshots or FakeSnapshots()
        self.ledger = SimulationLedger(
            self.budget, self.transcript, self.snapshots, METRIC, BENCHMARK, LIMITS
        )
        self.path = self.ledger.listen()

    def events(self, kind: str) -> list[dict]:
        return [e for e in read_events(self.transcript.path) if e["type"] == kind]

    def run(self, conditions: dict | None = None, score: float | None = None, valid: bool = True) -> dict:
        summary = None if score is None else {"valid": valid, "mean_e2e": score, "p90_e2e": 2 * score}
        answer = simulate(self.path, conditions or BENCH_RUN, summary, valid)
        if answer.get("ok"):
            wait_until(lambda: self.ledger.running == 0)
        return answer

    def close(self) -> None:
        self.ledger.close()
        self.transcript.close()


@pytest.fixture
def harness(tmp_path):
    made = Harness(tmp_path)
    yield made
    made.close()


def test_a_start_charges_snapshots_records_and_answers_before_the_run(harness):
    harness.ledger.begin_command("call_1")
    with connect(harness.path) as sock:
        send(sock, start_message(BENCH_RUN, "simulator_results/sharegpt_7.5_ai/t1"))
        assert read_answer(sock) == {"ok": True, "simulation": 1}
        # Before the run ends: already charged, snapshotted and recorded.
        assert harness.budget.simulations_used == 1
        assert harness.snapshots.messages == ["sim 1: claim (ai)"]
        [started] = harness.events("simulation_started")
        assert started["index"] == 1 and started["kind"] == CLAIM and started["call_id"] == "call_1"
        assert started["snapshot"] == f"{1:040x}" and started["conditions"] == BENCH_RUN
        assert started["result_dir"] == "simulator_results/sharegpt_7.5_ai/t1" and started["run_total"] == 1
        send(sock, end_message(True, None, {"valid": True, "mean_e2e": 31.5, "num_requests": 7500}))
    assert wait_until(lambda: harness.events("simulation"))
    [ended] = harness.events("simulation")
    assert (ended["index"], ended["kind"], ended["valid"], ended["claimed_score"]) == (1, CLAIM, True, 31.5)
    assert ended["outcome"] == "ended" and ended["snapshot"] == f"{1:040x}"
    assert ended["values"] == {"mean_e2e": 31.5, "num_requests": 7500.0}
    note = harness.ledger.end_command()
    assert note == (
        "[Simulation #1 (benchmark run) valid, claimed mean_e2e 31.500. Simulations used in this session: 1. "
        "Remaining budget: simulations 9, dollars $5.00.]"
    )
    assert harness.ledger.end_command() is None  # nothing new since


def test_exactly_the_budget_is_granted_and_the_next_start_is_refused(tmp_path):
    harness = Harness(tmp_path, Budget(BudgetLimits(simulations=3)))
    try:
        answers = [harness.run(score=30.0 + i) for i in range(5)]
        assert [a["ok"] for a in answers] == [True, True, True, False, False]
        assert answers[3] == {"ok": False, "error": BUDGET_SPENT}
        assert harness.budget.simulations_used == 3 and harness.ledger.count == 3
        assert len(harness.snapshots.messages) == 3  # refused runs are not snapshotted
        [refused] = harness.events("simulation_refused")  # one event per note, however many refusals
        assert refused["reason"] == BUDGET_SPENT
        note = harness.ledger.take_note()
        assert "2 simulation(s) refused before running: the simulation budget of this run is spent." in note
    finally:
        harness.close()


def test_concurrent_starts_from_two_contexts_never_overshoot_the_shared_budget(tmp_path):
    shared = Budget(BudgetLimits(simulations=5))
    one = Harness(tmp_path / "a", shared.for_context(1))
    two = Harness(tmp_path / "b", shared.for_context(2))
    answers: list[dict] = []
    lock = threading.Lock()

    def start(path: Path) -> None:
        answer = simulate(path, BENCH_RUN, {"valid": True, "mean_e2e": 30.0})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=start, args=(h.path,)) for h in (one, two) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(a["ok"] for a in answers) == 5 and shared.simulations_used == 5
        assert one.ledger.count + two.ledger.count == 5
    finally:
        one.close()
        two.close()


def test_claims_are_runs_under_every_benchmark_condition_and_only_claims_are_ranked(harness):
    harness.run(BENCH_RUN, score=40.0)  # a claim
    harness.run({**BENCH_RUN, "router": "llq"}, score=30.0)  # a baseline re-measured: an experiment
    harness.run({**BENCH_RUN, "duration": 200.0}, score=20.0)  # a shorter run: an experiment
    harness.run({k: v for k, v in BENCH_RUN.items() if k != "workload"}, score=10.0)  # condition missing
    harness.run(BENCH_RUN, score=35.0)
    harness.run(BENCH_RUN, score=5.0, valid=False)  # an invalid claim never ranks
    records = harness.ledger.records
    assert [r.kind for r in records] == [CLAIM, EXPERIMENT, EXPERIMENT, EXPERIMENT, CLAIM, CLAIM]
    assert [r.claimed_score for r in records] == [40.0, None, None, None, 35.0, 5.0]
    assert records[1].values == {"mean_e2e": 30.0, "p90_e2e": 60.0}
    assert harness.ledger.best().index == 5
    assert [r.index for r in harness.ledger.claims()] == [1, 5, 6]
    ended = harness.events("simulation")
    assert [e["design_run"] for e in ended] == [True, False, False, False, True, True]
    assert ended[1]["router"] == "llq" and ended[1]["claimed_score"] is None


def test_a_claim_that_breaks_a_constraint_ranks_below_one_that_meets_it(tmp_path):
    harness = Harness(tmp_path)
    harness.ledger.metric = Metric("mean_e2e", "minimize", constraints=(Constraint.parse("p90_e2e <= 70"),))
    try:
        harness.run(BENCH_RUN, score=40.0)  # p90 80: infeasible
        harness.run(BENCH_RUN, score=30.0)  # p90 60: feasible
        harness.run(BENCH_RUN, score=34.0)  # p90 68: feasible, worse
        assert harness.ledger.best().index == 2
        harness.ledger.metric = METRIC
        assert harness.ledger.best().index == 2
    finally:
        harness.close()


def test_a_claim_without_the_objective_is_invalid_and_an_in_process_run_has_no_score(harness):
    harness.run(BENCH_RUN, score=None)  # simulate() in a script: no summary
    simulate(harness.path, BENCH_RUN, {"valid": True, "mean_e2e": "fast"})
    wait_until(lambda: len(harness.events("simulation")) == 2)
    first, second = harness.ledger.records
    assert (first.valid, first.claimed_score, first.error) == (True, None, None)
    assert (second.valid, second.error) == (False, "the summary has no numeric mean_e2e")
    assert harness.ledger.best() is None


def test_unreadable_conditions_still_cost_a_simulation_and_are_experiments(harness):
    with connect(harness.path) as sock:
        send(sock, {"op": "start", "conditions": "ai on the benchmark", "result_dir": None})
        assert read_answer(sock)["ok"] is True
        send(sock, end_message(True, None, {"mean_e2e": 1.0}))
    wait_until(lambda: harness.events("simulation"))
    [record] = harness.ledger.records
    assert record.kind == EXPERIMENT and record.conditions is None
    assert record.problems == ["conditions is not an object"]
    assert harness.budget.simulations_used == 1
    assert "experiment: its conditions were unreadable" in harness.ledger.take_note()


def test_an_unreadable_end_spoils_the_claim(harness):
    with connect(harness.path) as sock:
        send(sock, start_message(BENCH_RUN))
        read_answer(sock)
        send(sock, end_message("true", None, {"mean_e2e": 1.0}))
    wait_until(lambda: harness.events("simulation"))
    [record] = harness.ledger.records
    assert (record.valid, record.claimed_score) == (False, None)
    assert record.error == "unreadable end: valid is not true or false"


def test_a_run_that_crashes_without_end_counts_as_lost(harness):
    harness.ledger.begin_command("call_9")
    with connect(harness.path) as sock:
        send(sock, start_message(BENCH_RUN))
        assert read_answer(sock)["ok"] is True
    assert wait_until(lambda: harness.events("simulation"))
    [ended] = harness.events("simulation")
    assert ended["outcome"] == "lost" and ended["valid"] is False and ended["call_id"] == "call_9"
    assert ended["error"] == "crashed or killed: the run ended without reporting its end (crashed or killed)"
    assert harness.budget.simulations_used == 1
    assert "Simulation #1 (benchmark run) crashed or killed" in harness.ledger.end_command()


def test_a_background_run_is_attributed_to_the_command_that_started_it(harness):
    harness.ledger.begin_command("call_1")
    sock = connect(harness.path)
    send(sock, start_message(BENCH_RUN))
    assert read_answer(sock)["ok"] is True
    first_note = harness.ledger.end_command()
    assert first_note.startswith("[Simulation #1 (benchmark run) started, still running.")
    assert "Simulations used in this session: 1 (1 still running)." in first_note
    harness.ledger.begin_command("call_2")
    send(sock, end_message(True, None, {"mean_e2e": 33.0}))
    sock.close()
    assert wait_until(lambda: harness.events("simulation"))
    [ended] = harness.events("simulation")
    assert (ended["call_id"], ended["ended_call_id"]) == ("call_1", "call_2")
    assert "Simulation #1 (benchmark run) valid, claimed mean_e2e 33.000." in harness.ledger.end_command()


def test_a_run_reporting_its_command_is_attributed_to_it_even_after_the_command_returned(harness):
    harness.ledger.begin_command("call_1")
    harness.ledger.end_command()
    harness.ledger.begin_command("call_2")
    for call in ("call_1", "call_99", None):  # a left-behind process of call_1; a made-up id; none
        with connect(harness.path) as sock:
            send(sock, {**start_message(BENCH_RUN), "call": call})
            assert read_answer(sock)["ok"] is True
            send(sock, end_message())
    assert [r.call_id for r in harness.ledger.records] == ["call_1", "call_2", "call_2"]
    harness.ledger.end_command()
    simulate(harness.path, BENCH_RUN)  # between commands: no call to blame
    assert harness.ledger.records[-1].call_id is None


def test_closing_the_ledger_records_runs_in_progress_and_refuses_new_ones(harness):
    sock = connect(harness.path)
    send(sock, start_message(BENCH_RUN))
    assert read_answer(sock)["ok"] is True
    harness.ledger.close()
    [ended] = harness.events("simulation")
    assert ended["outcome"] == "lost" and "the context ended while the run was in progress" in ended["error"]
    assert not harness.path.exists()
    answer = harness.ledger.on_start(99, StartReport(BENCH_RUN, None))  # a report racing the close
    assert (answer.ok, answer.error) == (False, CONTEXT_ENDED)
    assert harness.budget.simulations_used == 1
    assert "1 simulation(s) refused before running: this context has ended." in harness.ledger.take_note()
    sock.close()


def test_a_failed_snapshot_does_not_stop_a_charged_run(tmp_path):
    harness = Harness(tmp_path, snapshots=FakeSnapshots(fail=True))
    try:
        assert harness.run(BENCH_RUN, score=30.0)["ok"] is True
        [record] = harness.ledger.records
        assert record.snapshot is None and record.problems == ["snapshot failed: RuntimeError"]
        assert record.claimed_score == 30.0
    finally:
        harness.close()


def test_the_simulator_client_talks_to_the_ledger(harness):
    client = load_client()
    report = client.RunReport(
        result_dir="simulator_results/x/1", summary_follows=True, environ={"GLIA_LEDGER": str(harness.path)}
    )
    assert report.start(BENCH_RUN) == 1
    report.finished(True, None)  # the summary follows: nothing sent yet
    assert harness.ledger.running == 1
    report.end(True, None, {"mean_e2e": 29.0, "p99_e2e": float("nan")})
    assert wait_until(lambda: harness.ledger.running == 0)
    assert harness.ledger.records[0].claimed_score == 29.0


def test_restore_rebuilds_records_and_marks_runs_killed_with_the_process(tmp_path):
    first = Harness(tmp_path)
    first.ledger.begin_command("call_1")
    first.run(BENCH_RUN, score=30.0)
    first.run({**BENCH_RUN, "router": "lor"}, score=29.0)
    sock = connect(first.path)  # a run in progress when the Glia process dies
    send(sock, start_message(BENCH_RUN))
    read_answer(sock)
    first.transcript.close()  # the process dies: no end is ever written
    events = read_events(tmp_path / "transcript.jsonl")
    sock.close()

    again_transcript = Transcript(tmp_path / "again.jsonl")
    again = SimulationLedger(
        Budget(BudgetLimits()), again_transcript, FakeSnapshots(), METRIC, BENCHMARK, LIMITS
    )
    again.restore(events)
    assert [(r.index, r.kind, r.ended) for r in again.records] == [
        (1, CLAIM, True),
        (2, EXPERIMENT, True),
        (3, CLAIM, True),
    ]
    killed = again.records[2]
    assert (killed.outcome, killed.valid, killed.error) == ("killed_with_process", False, KILLED_WITH_PROCESS)
    assert killed.call_id == "call_1"
    assert again.best().claimed_score == 30.0
    [written] = [e for e in read_events(again_transcript.path) if e["type"] == "simulation"]
    assert written["index"] == 3 and written["outcome"] == "killed_with_process"
    path = again.listen()
    assert simulate(path, BENCH_RUN, {"mean_e2e": 20.0}) == {"ok": True, "simulation": 4}
    again.close()
    again_transcript.close()
    first.ledger.close()


def test_restore_reads_transcripts_of_the_folder_scanning_ledger(tmp_path):
    legacy = [
        {
            "type": "simulation",
            "index": 1,
            "result_dir": "r/1",
            "claimed_score": 31.0,
            "valid": True,
            "error": None,
            "snapshot": "abc",
            "router": "ai",
            "design_run": True,
        },
        {
            "type": "simulation",
            "index": 2,
            "result_dir": "r/2",
            "claimed_score": 25.0,
            "valid": True,
            "error": None,
            "snapshot": "def",
            "router": "llq",
            "design_run": False,
        },
    ]
    transcript = Transcript(tmp_path / "t.jsonl")
    ledger = SimulationLedger(Budget(BudgetLimits()), transcript, FakeSnapshots(), METRIC, BENCHMARK)
    ledger.restore(legacy)
    assert [(r.kind, r.snapshot, r.router) for r in ledger.records] == [
        (CLAIM, "abc", "ai"),
        (EXPERIMENT, "def", "llq"),
    ]
    assert ledger.best().index == 1
    transcript.close()


def test_the_transcript_holds_no_host_path(harness):
    harness.run(BENCH_RUN, score=30.0)
    with connect(harness.path) as sock:
        send(sock, start_message(BENCH_RUN))
        read_answer(sock)
    harness.ledger.close()
    text = harness.transcript.path.read_text()
    assert str(harness.path.parent) not in text and "/tmp/glia-" not in text
    assert str(harness.transcript.path.parent) not in text


@pytest.mark.parametrize(
    ("conditions", "claim"),
    [
        ({"router": "ai", "workload": "w", "duration": 1000.0}, True),
        ({"router": "ai", "workload": "w", "duration": 1000}, True),
        ({"router": "ai", "workload": "w", "duration": True}, False),
        ({"router": "ai", "workload": "w"}, False),
        ({"router": "AI", "workload": "w", "duration": 1000}, False),
        (None, False),
    ],
)
def test_is_claim_compares_numbers_as_numbers_and_nothing_else_loosely(conditions, claim):
    assert is_claim(conditions, {"router": "ai", "workload": "w", "duration": 1000}) is claim


def test_every_run_is_a_claim_when_the_task_names_no_conditions():
    assert is_claim({"router": "llq"}, {}) is True


def test_best_record_ranks_valid_claims_only_and_keeps_the_earliest_tie():
    records = [
        SimulationRecord(1, None, 30.0, True, None, "a"),
        SimulationRecord(2, None, 20.0, True, None, "b", kind=EXPERIMENT),
        SimulationRecord(3, None, 10.0, False, "bad", "c"),
        SimulationRecord(4, None, 30.0, True, None, "d"),
    ]
    assert best_record(records, Metric("score", "minimize")).index == 1
    assert best_record(records, Metric("score", "maximize")).index == 1
    assert best_record(records[1:3], Metric("score", "minimize")) is None


def test_format_remaining_handles_unlimited_and_unknown_keys():
    assert format_remaining({"simulations": None, "dollars": None}) == "no limits"
    assert (
        format_remaining({"seconds": 125, "tokens": 12000, "steps": 3}) == "time 2m, tokens 12,000, steps 3"
    )


def test_try_charge_simulation_checks_and_charges_in_one_step():
    calls: list[tuple[int, int]] = []
    shared = Budget(BudgetLimits(simulations=2))
    view = shared.for_context(3, on_simulation=lambda index, total: calls.append((index, total)))
    assert [view.try_charge_simulation() for _ in range(3)] == [1, 2, None]
    assert shared.simulations_used == 2 and view.simulations == 2
    assert view.run_totals_after_simulation == [1, 2] and calls == [(3, 1), (3, 2)]
    assert Budget(BudgetLimits()).try_charge_simulation() == 1  # no limit: always granted
