import json
import os
import time
from pathlib import Path

import git
import pytest

from glia.agents.ledger import (
    CRASHED_RUN_ERROR,
    SimulationLedger,
    format_remaining,
    read_claim,
    starts_background_work,
)
from glia.transcript import Transcript, read_events
from glia.workspace.repo import init_repo, snapshot

from .scripting import make_budget


@pytest.fixture
def repo(tmp_path, simulator_template) -> Path:
    dest = tmp_path / "repo"
    init_repo(simulator_template, dest)
    return dest


def write_run(repo: Path, name: str, summary: object | None, experiment: str = "bench") -> Path:
    run_dir = repo / "simulator_results" / experiment / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")
    if summary is not None:
        text = summary if isinstance(summary, str) else json.dumps(summary)
        (run_dir / "summary.json").write_text(text)
    return run_dir


def make_ledger(repo: Path, tmp_path: Path, **limits) -> tuple[SimulationLedger, Transcript]:
    transcript = Transcript(tmp_path / "transcript.jsonl")
    budget = make_budget(**limits)
    return SimulationLedger(repo, "simulator_results", budget, transcript, snapshot=snapshot), transcript


def test_each_new_run_folder_is_one_simulation_with_a_snapshot(repo, tmp_path):
    ledger, transcript = make_ledger(repo, tmp_path, simulations=10)
    assert ledger.scan("ls") == []
    (repo / "design.txt").write_text("31.5\n")
    write_run(repo, "t1", {"valid": True, "error": None, "mean_e2e": 31.5})
    write_run(repo, "t2", {"valid": False, "error": "router raised KeyError", "mean_e2e": 12.0})
    new = ledger.scan("python sim.py")
    assert [(r.index, r.result_dir, r.claimed_score, r.valid, r.error) for r in new] == [
        (1, "simulator_results/bench/t1", 31.5, True, None),
        (2, "simulator_results/bench/t2", 12.0, False, "router raised KeyError"),
    ]
    assert ledger.scan("ls") == []  # seen folders are never counted twice
    assert ledger.budget.remaining()["simulations"] == 8
    commits = list(git.Repo(repo).iter_commits())
    assert commits[1].message.strip() == "sim 1: claimed mean_e2e=31.500 (simulator_results/bench/t1)"
    assert commits[0].message.strip() == "sim 2: claimed mean_e2e=12.000 (simulator_results/bench/t2)"
    assert new[0].snapshot == commits[1].hexsha
    assert "31.5" in commits[1].tree["design.txt"].data_stream.read().decode()
    assert "simulator_results" not in {item.path for item in commits[0].tree}
    events = [e for e in read_events(transcript.path) if e["type"] == "simulation"]
    assert [e["index"] for e in events] == [1, 2] and events[0]["snapshot"] == new[0].snapshot
    assert ledger.best().index == 1  # the invalid run's lower number does not count


def test_tampered_summaries_still_count_and_are_only_claims(repo, tmp_path):
    ledger, _ = make_ledger(repo, tmp_path)
    write_run(repo, "a", "{not json")
    write_run(repo, "b", {"valid": True, "mean_e2e": "0.001"})
    write_run(repo, "c", ["valid", True])
    write_run(repo, "d", {"valid": True, "mean_e2e": 0.001})  # implausible, but only a claim
    records = ledger.scan("python sim.py")
    assert len(records) == 4
    assert records[0].valid is False and records[0].error.startswith("unreadable summary.json")
    assert (records[1].claimed_score, records[1].valid, records[1].error) == (
        None,
        False,
        "summary.json has no numeric mean_e2e",
    )
    assert records[2].error == "summary.json is not a JSON object"
    assert (records[3].claimed_score, records[3].valid) == (0.001, True)
    assert ledger.count == 4


def test_a_crashed_foreground_run_counts_at_once(repo, tmp_path):
    ledger, _ = make_ledger(repo, tmp_path)
    write_run(repo, "crashed", None)
    [record] = ledger.scan("python sim.py --crash")
    assert (record.valid, record.error, record.claimed_score) == (False, CRASHED_RUN_ERROR, None)


def test_background_runs_wait_for_their_summary_or_the_end(repo, tmp_path):
    ledger, _ = make_ledger(repo, tmp_path)
    running = write_run(repo, "running", None)
    write_run(repo, "killed", None)
    assert ledger.scan("setsid nohup python sim.py > log.txt 2>&1 &") == []
    assert ledger.pending == 2
    assert "2 run(s) still in progress" in ledger.budget_note()
    (running / "summary.json").write_text(json.dumps({"valid": True, "mean_e2e": 25.0}))
    [done] = ledger.scan("tail log.txt")
    assert (done.result_dir, done.claimed_score) == ("simulator_results/bench/running", 25.0)
    [killed] = ledger.scan(finalize=True)
    assert killed.result_dir.endswith("killed") and killed.error == CRASHED_RUN_ERROR
    assert ledger.pending == 0


def test_a_pending_run_that_went_quiet_counts_as_crashed(repo, tmp_path):
    ledger, _ = make_ledger(repo, tmp_path)
    stale = write_run(repo, "stale", None)
    assert ledger.scan("python sim.py &") == []
    old = time.time() - 3600
    for path in [stale, *stale.iterdir()]:
        os.utime(path, (old, old))
    [record] = ledger.scan("ls")
    assert record.error == CRASHED_RUN_ERROR


def test_restore_from_the_transcript_does_not_recount(repo, tmp_path):
    ledger, transcript = make_ledger(repo, tmp_path)
    write_run(repo, "t1", {"valid": True, "mean_e2e": 30.0})
    ledger.scan("python sim.py")
    again, _ = make_ledger(repo, tmp_path)
    again.restore(read_events(transcript.path))
    assert again.count == 1 and again.best().claimed_score == 30.0
    write_run(repo, "t2", {"valid": True, "mean_e2e": 20.0})
    assert [r.index for r in again.scan("python sim.py")] == [2]


def test_budget_note_reports_count_and_remaining_budget(repo, tmp_path):
    ledger, _ = make_ledger(repo, tmp_path, simulations=15, dollars=5.0, wall_time_s=7260)
    write_run(repo, "t1", {"valid": True, "mean_e2e": 30.0})
    ledger.scan("python sim.py")
    note = ledger.budget_note()
    assert note.startswith(
        "[Simulations used in this session: 1. Remaining budget: simulations 14, dollars $5.00"
    )
    assert "time 2h 00m" in note or "time 2h 01m" in note


def test_format_remaining_handles_unlimited_and_unknown_keys():
    assert format_remaining({"simulations": None, "dollars": None}) == "no limits"
    assert (
        format_remaining({"seconds": 125, "tokens": 12000, "steps": 3}) == "time 2m, tokens 12,000, steps 3"
    )


@pytest.mark.parametrize(
    ("command", "background"),
    [
        ("python -m llmsim run > log 2>&1 &", True),
        ("nohup python -m llmsim run", True),
        ("setsid python sim.py", True),
        ("python sim.py && cat out.txt", False),
        ("python sim.py 2>&1 | tail -5", False),
        ("python sim.py &> log.txt", False),
    ],
)
def test_background_detection(command, background):
    assert starts_background_work(command) is background


def test_read_claim_of_a_valid_summary(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"valid": True, "error": None, "mean_e2e": 33}))
    assert read_claim(tmp_path, "mean_e2e") == (33.0, True, None)


def test_runs_sent_to_another_output_root_in_the_repo_still_count(repo, tmp_path):
    ledger, _ = make_ledger(repo, tmp_path)
    elsewhere = repo / "my_runs" / "bench" / "t1"
    elsewhere.mkdir(parents=True)
    (elsewhere / "config.json").write_text("{}")
    (elsewhere / "summary.json").write_text(json.dumps({"valid": True, "mean_e2e": 28.0}))
    notes = repo / "analysis" / "tables" / "v1"
    notes.mkdir(parents=True)
    (notes / "summary.json").write_text("{}")  # the Researcher's own file, not a run: no config.json
    [record] = ledger.scan("python -m llmsim run --output-root my_runs")
    assert (record.result_dir, record.claimed_score) == ("my_runs/bench/t1", 28.0)


def test_runs_of_other_routers_cost_a_simulation_but_are_not_claims_about_the_design(repo, tmp_path):
    transcript = Transcript(tmp_path / "transcript.jsonl")
    ledger = SimulationLedger(
        repo,
        "simulator_results",
        make_budget(simulations=10),
        transcript,
        snapshot=snapshot,
        design_router="ai",
    )
    write_run(repo, "ai", {"valid": True, "router": "ai", "mean_e2e": 37.0})
    write_run(repo, "llq", {"valid": True, "router": "llq", "mean_e2e": 34.9})  # a baseline, re-measured
    records = ledger.scan("python sim.py")
    assert [(r.router, r.design_run) for r in records] == [("ai", True), ("llq", False)]
    assert ledger.budget.remaining()["simulations"] == 8
    assert ledger.best().claimed_score == 37.0
    restored = SimulationLedger(repo, "simulator_results", make_budget(), transcript, snapshot=snapshot)
    restored.restore(read_events(transcript.path))
    assert restored.best().claimed_score == 37.0  # resume keeps the distinction
