"""Reading run folders (the one reader), the live view, the report and its plot, on fixture runs."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from rich.console import Console

from glia.progress import PlainProgress, RunWatcher, progress_table
from glia.record.lock import RunLock
from glia.record.transcript import TranscriptFollower
from glia.record.view import read_run
from glia.report import progress_series, write_report
from tests.cli.run_fixtures import OTHER_FILE, ContextPlan, make_run


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_read_run_folds_transcripts_and_run_json(finished_run: Path) -> None:
    state = read_run(finished_run)
    assert [c.name for c in state.contexts] == ["ctx-1", "ctx-2"]
    first, second = state.contexts
    assert (first.turns, len(first.simulations), first.best_claim().claimed_score, first.best_trusted) == (
        5, 5, 40.0, 41.0,
    )  # fmt: skip
    assert [s.kind for s in first.sims] == ["claim", "claim", "claim", "experiment", "claim"]
    assert first.experiments()[0].value(state.metric) == 50.5  # shown with its number ...
    assert first.best_claim().index == 2  # ... but never ranked against claims (50.5 vs 40)
    assert (second.best_claim().claimed_score, second.best_trusted) == (39.0, 40.0)
    assert first.cost_usd == 1.25 and first.status == "finished"
    assert first.last_command == "./run_all.sh ai --broken"
    assert first.last_intervention.startswith("periodic: Look at the restart counts")
    assert state.best_trusted() == (40.0, "ctx-2")
    assert state.baseline_scores() == {"llq": 50.0, "lor": 55.0, "round_robin": 60.0}
    assert state.improvement_over_reference() == 0.2  # (50 - 40) / 50
    assert state.totals() == {"simulations": 10, "dollars": 2.5, "minutes": 10.0}
    assert state.budgets() == {"simulations": 40, "dollars": 20.0, "minutes": 60.0}


def test_phase_and_liveness_of_a_running_run(finished_run: Path) -> None:
    run_file = finished_run / "run.json"
    data = json.loads(run_file.read_text())
    data["status"] = "running"
    data["baselines"] = {}
    run_file.write_text(json.dumps(data))
    # run.json says running, but no process holds the run: it died (kill -9), so it is interrupted
    dead = read_run(finished_run)
    assert dead.status == "interrupted" and dead.status_text() == "interrupted (its process is gone)"
    assert dead.finished
    with RunLock(finished_run, command="glia solve"):
        live = read_run(finished_run)
        assert live.status == "running" and live.live and live.lock.holder["command"] == "glia solve"
        assert live.phase() == "measuring baselines"
        data["baselines"] = {"llq": {"score": 50.0, "valid": True}, "random": {"score": 61.5, "valid": True}}
        run_file.write_text(json.dumps(data))
        assert read_run(finished_run).phase() == "evaluating designs (baselines: llq 50.00, random 61.50)"
        data["contexts"].append({"context": 3, "status": "running"})
        run_file.write_text(json.dumps(data))
        state = read_run(finished_run)
        assert state.phase() == "researching (baselines: llq 50.00, random 61.50)"
        assert state.context(3).status == "running"
    assert read_run(finished_run).context(3).status == "interrupted"


def test_a_resumed_context_is_running_again_not_interrupted(interrupted_run: Path) -> None:
    """After a resume, the context that was interrupted shows as running (not its old end reason)."""
    run_file = interrupted_run / "run.json"
    data = json.loads(run_file.read_text())
    data["status"] = "running"
    data["contexts"][1].update(status="running", end_reason=None)
    run_file.write_text(json.dumps(data))
    transcript = interrupted_run / "ctx-2" / "transcript.jsonl"
    with transcript.open("a") as handle:
        handle.write("\n" + json.dumps({"type": "context_end", "reason": "interrupted"}) + "\n")
    with RunLock(interrupted_run):
        assert [c.status for c in read_run(interrupted_run).contexts] == ["finished", "running"]
        with transcript.open("a") as handle:
            handle.write(json.dumps({"type": "session_start", "session": 2, "resumed": True}) + "\n")
        assert read_run(interrupted_run).contexts[1].status == "running"
    data["status"] = "interrupted"
    data["contexts"][1].update(status="interrupted", end_reason="interrupted")
    run_file.write_text(json.dumps(data))
    assert read_run(interrupted_run).contexts[1].status == "interrupted"


def test_interrupted_run_state(interrupted_run: Path) -> None:
    state = read_run(interrupted_run)
    assert state.status == "interrupted"
    assert [c.status for c in state.contexts] == ["finished", "interrupted"]
    assert state.contexts[1].best_trusted is None and state.contexts[1].verdict_text() == "—"
    assert state.best_trusted() == (41.0, "ctx-1")


def test_plain_progress_prints_only_changes(finished_run: Path) -> None:
    stream = io.StringIO()
    display = PlainProgress(stream)
    state = read_run(finished_run)
    display.update(state)
    display.update(state)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "run done: finished",
        "ctx-1: finished | turn 5 | sims 5 (1 experiment) | best claim 40.00 | trusted 41.00 | $1.25 | "
        "last: ./run_all.sh ai --broken",
        "ctx-2: finished | turn 5 | sims 5 (1 experiment) | best claim 39.00 | trusted 40.00 | $1.25 | "
        "last: ./run_all.sh ai --broken",
    ]
    display.close(state)
    assert (
        stream.getvalue().splitlines()[-1]
        == "simulations 10 / 40 · dollars $2.50 / $20.00 · minutes 10.0 / 60.0"
    )


def test_live_table_shows_every_column_and_a_rejected_design(tmp_path: Path) -> None:
    plans = {
        1: ContextPlan([47.0, 40.0, 43.0], trusted=41.0),
        2: ContextPlan([46.0, 39.0, 42.0], rejected="forbidden name 'num_decode_tokens' in the design"),
    }
    run_dir = make_run(tmp_path, "rej", "finished", "mcg-par", 2, plans)
    console = Console(record=True, width=220, file=io.StringIO())
    console.print(progress_table(read_run(run_dir)))
    text = console.export_text()
    for expected in (
        "rej · MCG-Par2 · finished",
        "best claim",
        "trusted",
        "41.00",
        "rejected: forbidden name",
        "5 (1 experiment)",
        "periodic: Look at the",
        "10 / 40",
    ):
        assert expected in text


def test_watcher_follows_a_growing_transcript(tmp_path: Path) -> None:
    run_dir = tmp_path / "live"
    (run_dir / "ctx-1").mkdir(parents=True)
    (run_dir / "run.json").write_text(
        json.dumps({"version": 2, "run_id": "live", "status": "running", "strategy_label": "SCG"})
    )
    transcript = run_dir / "ctx-1" / "transcript.jsonl"
    stream = io.StringIO()
    with RunLock(run_dir), RunWatcher(run_dir, PlainProgress(stream), interval_s=0.02) as watcher:
        transcript.write_text(json.dumps({"type": "assistant", "text": "hi", "tool_calls": []}) + "\n")
        started = {"type": "simulation_started", "index": 1, "kind": "claim", "run_total": 1}
        sim = {"type": "simulation", "index": 1, "kind": "claim", "claimed_score": 44.5, "valid": True}
        with transcript.open("a") as handle:
            handle.write(json.dumps(started) + "\n" + json.dumps(sim) + "\n")
        final = watcher.close()
    assert final.contexts[0].best_claim().claimed_score == 44.5
    assert "ctx-1: running | turn 1 | sims 1 | best claim 44.50" in stream.getvalue()


def test_follower_reads_only_complete_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    follower = TranscriptFollower(path)
    assert follower.new_events() == []  # no file yet
    path.write_text('{"type": "user", "text": "a"}\n{"type": "assis')
    assert [e["type"] for e in follower.new_events()] == ["user"]
    with path.open("a") as handle:
        handle.write('tant", "text": "b"}\n')
    assert [e["type"] for e in follower.new_events()] == ["assistant"]
    assert follower.new_events() == []


def test_report_of_a_finished_run(finished_run: Path) -> None:
    report, plot = write_report(finished_run)
    text = report.read_text()
    assert report == finished_run / "report.md" and plot == finished_run / "progress.png"
    assert "**Best trusted score: 40.000** (from ctx-2), **+20.0%** over llq (50.000)" in text
    assert "| ctx-1 | 41.000 | [39.50, 42.50] | 40.000 | 5 (1 experiment) | $1.25 | finished |" in text
    assert "| ctx-2 | 40.000 | [38.50, 41.50] | 39.000 | 5 (1 experiment) | $1.25 | finished |" in text
    assert "| baseline `llq` | 50.000 | [48.00, 52.00] | — | — | — | — |" in text
    # the two designs' intervals overlap: the choice between them is called a tie
    assert (
        "Statistical tie: the chosen design (ctx-2, 40.000 [38.500, 41.500]) and the runner-up (ctx-1" in text
    )
    # every context's claim against the truth, and what it added beside the design
    assert (
        "| ctx-1 | 40.000 (sim 2) | 41.000 | 2% worse than claimed | none | `analysis/restarts.py` |" in text
    )
    # the account once, fields with the same words merged (the model repeated itself)
    assert text.count("Head-room allocator: keep 10% of blocks free.") == 1
    assert "Design / evidence:\n" in text and "Tried and rejected:\nLOR" in text
    assert "return self.headroom_pick()" in text  # the design's code
    assert "![best score against simulations used](progress.png)" in text
    assert "- simulations: 10 of 40" in text
    assert png_size(plot) == (880, 528)
    assert plot.stat().st_size > 20_000


def test_report_tells_the_truth_about_an_over_claiming_context_that_edited_the_simulator(
    tmp_path: Path,
) -> None:
    """The issue's MCG-Par story: the winner edited llmsim/memory_planner.py and claimed 18.83 (trusted
    26.17); it beat the runner-up by 0.18 with overlapping intervals."""
    plans = {
        1: ContextPlan([27.0, 26.5, 26.9], trusted=26.35, ci_half=0.4),
        2: ContextPlan([20.0, 18.83, 19.5], trusted=26.17, ci_half=0.4, planner="BLOCKS = 2000\n"),
    }
    run_dir = make_run(tmp_path, "cheat", "finished", "mcg-par", 2, plans)
    text = write_report(run_dir)[0].read_text()
    assert "**Best trusted score: 26.170** (from ctx-2)" in text
    row = next(line for line in text.splitlines() if line.startswith("| ctx-2 | 18.830 (sim 2)"))
    assert "| 26.170 | 39% worse than claimed | ⚠ `llmsim/memory_planner.py` |" in row
    assert f"> **⚠ This context also changed `{OTHER_FILE}`.**" in text
    assert "Its best claim: claimed 18.830 (simulation 2), trusted 26.170 (39% worse than claimed)." in text
    assert (
        "Statistical tie: the chosen design (ctx-2, 26.170 [25.770, 26.570]) and the runner-up (ctx-1, 26.350"
        in text
    )
    assert "Why it works" not in text
    assert text.index("⚠ This context also changed") < text.index("The Researcher's account")


def test_report_of_an_interrupted_run(interrupted_run: Path) -> None:
    report, plot = write_report(interrupted_run)
    text = report.read_text()
    assert "- **status:** interrupted" in text
    assert "| ctx-2 | — | — | 39.000 | 5 (1 experiment) | $1.25 | interrupted |" in text
    assert png_size(plot) == (880, 528)


def test_a_failed_run_reports_why(tmp_path: Path) -> None:
    plans = {1: ContextPlan([47.0, 40.0, 43.0], rejected="forbidden name 'num_decode_tokens' in the design")}
    run_dir = make_run(tmp_path, "nope", "finished", "scg", 1, plans)
    state = read_run(run_dir)
    assert state.status == "failed" and state.best_trusted() == (None, None)
    text = write_report(run_dir)[0].read_text()
    assert (
        "No design has a trusted score: no context produced a design that passed trusted evaluation." in text
    )
    assert "| ctx-1 | rejected: forbidden name 'num_decode_tokens' in the design | — | 40.000 |" in text
    assert "No design has been selected." in text
    series = progress_series(state)["ctx-1"]
    assert series.rejected == [(2, 40.0)]  # on the plot, where the rejected design's claim was
    assert series.trusted == []


def test_sequential_contexts_continue_the_axis(interrupted_run: Path) -> None:
    series = progress_series(read_run(interrupted_run))
    # MCG-Seq: ctx-2's simulations come after ctx-1's five on the run's axis.
    assert series["ctx-1"].claimed == [(1, 47.0), (2, 40.0)]
    assert series["ctx-2"].claimed == [(6, 46.0), (7, 39.0)]
    assert series["ctx-1"].trusted == [(2, 41.0)]
    assert series["ctx-2"].trusted == []
    assert series["ctx-1"].experiments == [(4, 50.5)]  # shown, apart from the claims
    assert (series["ctx-1"].end, series["ctx-2"].end) == (5, 10)


def test_the_trusted_curve_comes_from_the_verdicts_recorded_as_the_run_went(finished_run: Path) -> None:
    run_file = finished_run / "run.json"
    data = json.loads(run_file.read_text())
    data["timeline"] += [
        {"simulations": 1, "context": 1, "kind": "trusted", "score": 43.0, "valid": True, "label": "sim1"},
        {"simulations": 5, "context": 1, "kind": "trusted", "score": 39.0, "valid": True, "label": "sim3"},
        {"simulations": 6, "context": 1, "kind": "trusted", "score": 30.0, "valid": False, "label": "sim4"},
    ]
    run_file.write_text(json.dumps(data))
    series = progress_series(read_run(finished_run))
    assert series["ctx-1"].claimed == [(1, 47.0), (3, 40.0)]  # run totals of an MCG-Par2 run interleave
    assert series["ctx-1"].trusted == [(1, 43.0), (3, 41.0), (5, 39.0)]  # the invalid point is not drawn
    assert series["ctx-2"].claimed == [(2, 46.0), (4, 39.0)]
    assert series["ctx-2"].end == 10
