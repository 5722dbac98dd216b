"""Reading run folders, the live view, the report and its plot, on fixture runs."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from rich.console import Console

from glia.progress import (
    PlainProgress,
    RunWatcher,
    TranscriptFollower,
    improvement,
    progress_table,
    read_run,
)
from glia.report import progress_series, write_report


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_read_run_folds_transcripts_and_run_json(finished_run: Path) -> None:
    state = read_run(finished_run)
    assert [c.name for c in state.contexts] == ["ctx-1", "ctx-2"]
    first, second = state.contexts
    assert (first.turns, first.simulations, first.best_claimed, first.best_trusted) == (3, 4, 40.0, 41.0)
    assert (second.best_claimed, second.best_trusted) == (39.0, 40.0)
    assert first.cost_usd == 0.75
    assert first.status == "finished"
    assert first.last_command == "./run_all.sh ai --seed 3"
    assert first.last_intervention.startswith("periodic: Look at the restart counts")
    assert state.best_trusted() == (40.0, "ctx-2")
    assert state.baseline_scores() == {"llq": 50.0, "lor": 55.0, "round_robin": 60.0}
    assert state.improvement_over_reference() == 0.2  # (50 - 40) / 50
    assert state.totals() == {"simulations": 8, "dollars": 1.5, "minutes": 10.0}
    assert state.budgets() == {"simulations": 40, "dollars": 20.0, "minutes": 60.0}


def test_phase_of_a_running_run(finished_run: Path) -> None:
    run_file = finished_run / "run.json"
    data = json.loads(run_file.read_text())
    data["status"] = "running"
    for name in ("llq", "lor", "round_robin"):
        (finished_run / "evaluations" / f"{name}.json").unlink()
    run_file.write_text(json.dumps(data))
    assert read_run(finished_run).phase() == "measuring baselines"
    data["baselines"] = {"llq": {"score": 50.0, "valid": True}, "random": {"score": 61.5, "valid": True}}
    run_file.write_text(json.dumps(data))
    assert read_run(finished_run).phase() == "evaluating designs (baselines: llq 50.00, random 61.50)"
    (finished_run / "ctx-3").mkdir()
    assert read_run(finished_run).phase() == "researching (baselines: llq 50.00, random 61.50)"


def test_improvement_respects_the_direction() -> None:
    assert improvement(40.0, 50.0, lower=True) == 0.2
    assert improvement(60.0, 50.0, lower=False) == 0.2
    assert improvement(60.0, 50.0, lower=True) == -0.2
    assert improvement(None, 50.0, lower=True) is None
    assert improvement(1.0, 0.0, lower=True) is None


def test_interrupted_run_state(interrupted_run: Path) -> None:
    state = read_run(interrupted_run)
    assert state.status == "interrupted"
    assert [c.status for c in state.contexts] == ["finished", "running"]
    assert state.contexts[1].best_trusted is None  # not evaluated: it never ended
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
        "ctx-1: finished | turn 3 | sims 4 | best claimed 40.00 | best trusted 41.00 | $0.75 | "
        "last: ./run_all.sh ai --seed 3",
        "ctx-2: finished | turn 3 | sims 4 | best claimed 39.00 | best trusted 40.00 | $0.75 | "
        "last: ./run_all.sh ai --seed 3",
    ]
    display.close(state)
    assert (
        stream.getvalue().splitlines()[-1]
        == "simulations 8 / 40 · dollars $1.50 / $20.00 · minutes 10.0 / 60.0"
    )


def test_live_table_shows_every_column(finished_run: Path) -> None:
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(progress_table(read_run(finished_run)))
    text = console.export_text()
    for expected in (
        "done · MCG-Par2 · finished",
        "best trusted",
        "41.00",
        "40.00",
        "periodic: Look at the",
        "8 / 40",
    ):
        assert expected in text


def test_watcher_follows_a_growing_transcript(tmp_path: Path) -> None:
    run_dir = tmp_path / "live"
    (run_dir / "ctx-1").mkdir(parents=True)
    (run_dir / "run.json").write_text(
        json.dumps({"run_id": "live", "status": "running", "strategy_label": "SCG"})
    )
    transcript = run_dir / "ctx-1" / "transcript.jsonl"
    stream = io.StringIO()
    with RunWatcher(run_dir, PlainProgress(stream), interval_s=0.02) as watcher:
        transcript.write_text(json.dumps({"type": "assistant", "text": "hi", "tool_calls": []}) + "\n")
        sim = {"type": "simulation", "index": 1, "claimed_score": 44.5, "valid": True}
        with transcript.open("a") as handle:
            handle.write(json.dumps(sim) + "\n")
    final = watcher.close()
    assert final.contexts[0].best_claimed == 44.5
    assert "ctx-1: running | turn 1 | sims 1 | best claimed 44.50" in stream.getvalue()


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
    assert "| ctx-1 | 41.000 | [39.50, 42.50] | 40.000 | 4 | $0.75 | finished |" in text
    assert "| ctx-2 | 40.000 | [38.50, 41.50] | 39.000 | 4 | $0.75 | finished |" in text
    assert "| baseline `llq` | 50.000 | [48.00, 52.00] | — | — | — | — |" in text
    assert "#### Head-room allocator" in text  # explanation, headings pushed below the report's own
    assert "return self.headroom_pick()" in text  # the design's code
    assert "![best score against simulations used](progress.png)" in text
    assert "- simulations: 8 of 40" in text
    width, height = png_size(plot)
    assert (width, height) == (880, 528)
    assert plot.stat().st_size > 20_000


def test_report_of_an_interrupted_run(interrupted_run: Path) -> None:
    report, plot = write_report(interrupted_run)
    text = report.read_text()
    assert "- **status:** interrupted" in text
    assert "| ctx-2 | — | — | 39.000 | 4 | $0.75 | running |" in text
    assert png_size(plot) == (880, 528)


def test_sequential_contexts_continue_the_axis(interrupted_run: Path) -> None:
    series = progress_series(read_run(interrupted_run))
    # MCG-Seq without run-level counts: ctx-2's simulations come after ctx-1's four.
    assert series["ctx-1"].claimed == [(1, 47.0), (2, 40.0)]
    assert series["ctx-2"].claimed == [(5, 46.0), (6, 39.0)]
    assert series["ctx-1"].trusted == [(3, 41.0)]
    assert series["ctx-2"].trusted == []
    assert (series["ctx-1"].end, series["ctx-2"].end) == (4, 8)


def test_run_level_axis_and_timeline_from_run_json(finished_run: Path) -> None:
    run_file = finished_run / "run.json"
    data = json.loads(run_file.read_text())
    data["contexts"][0]["run_totals"] = [1, 3, 5, 7]
    data["contexts"][1]["run_totals"] = [2, 4, 6, 8]
    data["timeline"] = [
        {"simulations": 3, "context": 1, "kind": "trusted", "score": 43.0, "valid": True},
        {"simulations": 5, "context": 1, "kind": "trusted", "score": 41.0, "valid": True},
        {"simulations": 6, "context": 1, "kind": "trusted", "score": 30.0, "valid": False},
    ]
    run_file.write_text(json.dumps(data))
    series = progress_series(read_run(finished_run))
    assert series["ctx-1"].claimed == [(1, 47.0), (3, 40.0)]
    assert series["ctx-1"].trusted == [(3, 43.0), (5, 41.0)]
    assert series["ctx-2"].claimed == [(2, 46.0), (4, 39.0)]
    assert series["ctx-2"].end == 8
