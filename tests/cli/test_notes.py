"""Research notes rendered from transcripts: the story, the highlights, verdicts, robustness against odd input."""

from __future__ import annotations

import json
import re
from pathlib import Path

from glia.notes import render_notes, write_notes
from tests.cli.run_fixtures import ContextPlan, make_run, write_events


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def test_notes_tell_the_research_story(finished_run: Path) -> None:
    path = write_notes(finished_run / "ctx-1")
    text = path.read_text()
    assert path == finished_run / "ctx-1" / "notes.md"
    heads = headings(text)
    # One heading per turn with its one-line summary, one per simulation: claims with the running best,
    # the experiment with its conditions and number (never ranked), the invalid run with its reason.
    assert heads[0] == "# Research notes · ctx-1"
    assert "### Turn 1 · Experiment 1." in heads
    assert sum(h.startswith("### Turn ") for h in heads) == 5
    sims = [h for h in heads if "Simulation" in h and "🧪" in h]
    assert sims == [
        "## 🧪 Simulation 1 · claimed 47.000 · ★ new best",
        "## 🧪 Simulation 2 · claimed 40.000 · ★ new best",
        "## 🧪 Simulation 3 · claimed 43.000 · best so far 40.000",
        "## 🧪 Simulation 4 · experiment (router llq, workload generated:qps=7.5,seed=0,duration=100) · "
        "mean_e2e 50.500 · not ranked against claims",
        "## 🧪 Simulation 5 · claim · invalid: router raised KeyError",
    ]
    # Supervisor interventions are quoted with their trigger and verdict.
    assert (
        "### 🧭 Supervisor (periodic, revise): Look at the restart counts per replica before tuning." in heads
    )
    assert "> They explain the tail." in text
    # Each command, then the simulations it ran, then its folded output.
    command = text.index("```bash\n./run_all.sh ai --seed 2\n```")
    assert command < text.index("## 🧪 Simulation 2 ·") < text.index("(full: ctx-1/outputs/cmd-2.log)")
    assert "<details><summary>exit 0, 12.5 s · 2 lines of output (full: ctx-1/outputs/cmd-2.log)" in text
    # The summary table and the final design with its trusted verdict and the diff from the template.
    assert "| ended: finished | 5 | 5 (1 experiment) | 40.000 (simulation 2) | 41.000 | $1.25 |" in text
    assert "**Trusted score: 41.000** (re-evaluated by the evaluator)." in text
    assert "- final `" in text and ": 41.000 [39.500, 42.500]" in text
    assert (
        "Best claim against trusted: claimed 40.000 (simulation 2), trusted 41.000 (2% worse than claimed)."
        in text
    )
    assert "+        return self.headroom_pick()" in text
    assert "## ✅ The Researcher submits (accepted)" in text
    assert "Design / evidence:\nHead-room allocator" in text  # one text given twice is shown once


def test_notes_are_idempotent(finished_run: Path) -> None:
    first = write_notes(finished_run / "ctx-2").read_text()
    second = write_notes(finished_run / "ctx-2").read_text()
    assert first == second
    assert not list((finished_run / "ctx-2").glob(".notes.md.*"))  # no temp files left behind


def test_notes_of_an_interrupted_context(interrupted_run: Path) -> None:
    text = write_notes(interrupted_run / "ctx-2").read_text()
    assert "The run was interrupted before this context ended" in text
    assert "| interrupted | 5 | 5 (1 experiment) | 39.000 (simulation 2) | — | $1.25 |" in text
    assert "## 🧪 Simulation 5 · claim · invalid: router raised KeyError" in text
    assert "## The final design" not in text


def test_a_rejected_design_shows_its_verdict_and_reason(tmp_path: Path) -> None:
    reason = "forbidden name 'num_decode_tokens' in the design"
    run_dir = make_run(
        tmp_path, "rej", "finished", "scg", 1, {1: ContextPlan([47.0, 40.0, 43.0], rejected=reason)}
    )
    text = write_notes(run_dir / "ctx-1").read_text()
    assert f"**Trusted verdict: rejected: {reason}**." in text
    assert "- final `" in text and f": rejected: {reason}" in text
    summary_row = next(line for line in text.splitlines() if line.startswith("| ended: finished |"))
    assert f"| rejected: {reason} |" in summary_row  # the summary table at the top
    assert "not evaluated yet" not in text


def test_a_context_that_changed_the_simulator_is_flagged(tmp_path: Path) -> None:
    plans = {1: ContextPlan([20.0, 18.83, 19.5], trusted=26.17, planner="BLOCKS = 2000\n")}
    run_dir = make_run(tmp_path, "cheat", "finished", "scg", 1, plans)
    text = write_notes(run_dir / "ctx-1").read_text()
    assert "**⚠ Changed outside the design:** `llmsim/memory_planner.py`" in text
    assert "claimed 18.830 (simulation 2), trusted 26.170 (39% worse than claimed)" in text


def test_notes_survive_odd_events(tmp_path: Path) -> None:
    ctx = tmp_path / "run" / "ctx-1"
    write_events(
        ctx / "transcript.jsonl",
        [
            {"type": "assistant", "text": None, "reasoning": "5", "tool_calls": "not a list"},
            {"type": "assistant", "tool_calls": [{"id": "x", "name": "bash", "arguments": "oops"}, 7]},
            {
                "type": "tool_result",
                "id": "nobody",
                "exit_code": "weird",
                "duration_s": "slow",
                "output": None,
            },
            {"type": "simulation", "index": "three", "claimed_score": "NaN", "valid": True},
            {"type": "simulation", "claimed_score": float("inf")},
            {"type": "supervisor"},
            {"type": "brand_new_event", "payload": [1, 2]},
            {"type": "context_end", "reason": None, "final_snapshot": "deadbeef"},
        ],
    )
    with (ctx / "transcript.jsonl").open("a") as handle:
        handle.write("this is not json\n[1, 2, 3]\n\n")
    text = write_notes(ctx).read_text()
    assert "### Turn 1 · 5" in text
    assert "### Turn 2 · calls bash" in text
    assert "```bash\n(unknown command)\n```" in text
    assert "## 🧪 Simulation 1 · claimed — · best so far —" in text
    assert "## 🧪 Simulation 2 ·" in text
    assert "rendering failed" not in text.lower()


def test_notes_without_a_transcript(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx-3"
    ctx.mkdir()
    text = write_notes(ctx).read_text()
    assert text.startswith("# Research notes · ctx-3")
    assert "_The context is still working._" not in text  # no process holds the run: it is not working
    assert "_This context has no recorded end, and no process is working on its run._" in text


def test_long_outputs_are_cut_in_the_middle(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx-1"
    output = "HEAD\n" + "x" * 20_000 + "\nTAIL"
    write_events(
        ctx / "transcript.jsonl",
        [{"type": "tool_result", "id": "a", "command": "cat big", "exit_code": 1, "output": output}],
    )
    text = render_notes(ctx)
    assert "HEAD" in text and "TAIL" in text
    assert re.search(r"… \[\d+ characters cut\] …", text)
    assert "❌ exit 1" in text
    assert len(text) < 6000


def test_backticks_in_output_do_not_break_the_fence(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx-1"
    write_events(
        ctx / "transcript.jsonl",
        [
            {
                "type": "tool_result",
                "id": "a",
                "command": "cat README.md",
                "exit_code": 0,
                "output": "```py\nx=1\n```",
            }
        ],
    )
    text = render_notes(ctx)
    assert "````text\n```py\nx=1\n```\n````" in text


def test_non_bash_tool_calls_show_their_arguments(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx-1"
    call = {"id": "f", "name": "plot", "arguments": {"column": "e2e", "bins": 20}}
    finish = {"id": "g", "name": "finish", "arguments": {"design": "x"}}  # shown by its finish event
    write_events(ctx / "transcript.jsonl", [{"type": "assistant", "text": "", "tool_calls": [call, finish]}])
    text = render_notes(ctx)
    assert "### Turn 1 · calls plot" in text
    assert json.dumps({"column": "e2e", "bins": 20}, indent=2) in text
    assert '"design": "x"' not in text


def test_a_resumed_context_reads_as_one_story(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx-1"
    write_events(
        ctx / "transcript.jsonl",
        [
            {"type": "user", "text": "# Brief\n\n## Rules\n\nBe good."},
            {"type": "assistant", "text": "First idea.", "tool_calls": []},
            {"type": "context_end", "reason": "interrupted", "final_snapshot": None},
            {"type": "session_start", "session": 2, "resumed": True},
            {"type": "user", "text": "[Session resumed after an interruption.]"},
            {"type": "assistant", "text": "Back again.", "tool_calls": []},
            {
                "type": "finish",
                "summary": {"design": "head-room", "tried_and_rejected": "LOR"},
                "accepted": True,
            },
            {"type": "context_end", "reason": "finished", "final_snapshot": None},
        ],
    )
    text = render_notes(ctx)
    assert text.count("Session stopped (interrupted); resumed below.") == 1
    assert text.count("## The final design") == 1 and "Ended because: **finished**" in text
    assert "Design:\nhead-room" in text and "Tried and rejected:\nLOR" in text
    # the brief's own headings stay inside its fenced block, out of the notebook's outline
    assert "```markdown\n# Brief\n\n## Rules\n\nBe good.\n```" in text
    assert "### Turn 2 · Back again." in headings(text)


def test_after_a_kill_the_interrupted_command_keeps_its_simulations(tmp_path: Path) -> None:
    """kill -9 mid-benchmark: the simulation's end is written at resume, yet it reads under the turn
    whose command started it, and the command says it was interrupted (not 'not run')."""
    ctx = tmp_path / "ctx-1"
    write_events(
        ctx / "transcript.jsonl",
        [
            {"type": "session_start", "session": 1, "resumed": False},
            {"type": "assistant", "text": "Benchmark it.",
             "tool_calls": [{"id": "b1", "name": "bash", "arguments": {"command": "./run_all.sh"}}]},
            {"type": "command_started", "id": "b1", "command": "./run_all.sh"},
            {"type": "simulation_started", "index": 1, "kind": "claim", "call_id": "b1", "run_total": 1},
            # killed here; the next session:
            {"type": "session_start", "session": 2, "resumed": True},
            {"type": "simulation", "index": 1, "kind": "claim", "outcome": "killed_with_process", "valid": False,
             "error": "killed with the Glia process: the run was in progress when the session stopped"},
            {"type": "tool_result", "id": "b1", "name": "bash", "command": "./run_all.sh", "output": "[interrupted: ...]",
             "is_error": True, "recovered": "interrupted"},
            {"type": "assistant", "text": "Run it again.", "tool_calls": []},
        ],
    )  # fmt: skip
    text = render_notes(ctx)
    turn1, cut, turn2 = (text.index(s) for s in ("### Turn 1", "Session cut off", "### Turn 2"))
    simulation = text.index("## 🧪 Simulation 1 · claim · invalid: killed with the Glia process")
    assert turn1 < simulation < cut < turn2
    assert "⏸ interrupted while running" in text and text.count("```bash\n./run_all.sh\n```") == 1
