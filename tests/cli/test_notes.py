"""Research notes rendered from transcripts: the story, the highlights, robustness against odd input."""

from __future__ import annotations

import json
import re
from pathlib import Path

from glia.notes import render_notes, write_notes
from tests.cli.run_fixtures import write_events


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def test_notes_tell_the_research_story(finished_run: Path) -> None:
    path = write_notes(finished_run / "ctx-1")
    text = path.read_text()
    assert path == finished_run / "ctx-1" / "notes.md"
    heads = headings(text)
    # One heading per turn with its one-line summary, one per simulation with the running best.
    assert heads[0] == "# Research notes · ctx-1"
    assert "### Turn 1 · Experiment 1." in heads
    assert sum(h.startswith("### Turn ") for h in heads) == 3
    sims = [h for h in heads if "Simulation" in h and "🧪" in h]
    assert sims == [
        "## 🧪 Simulation 1 · claimed 47.000 · ★ new best",
        "## 🧪 Simulation 2 · claimed 40.000 · ★ new best",
        "## 🧪 Simulation 3 · claimed 43.000 · best so far 40.000",
        "## 🧪 Simulation 4 · invalid: router raised KeyError",
    ]
    # Supervisor interventions are quoted with their trigger and verdict.
    assert (
        "### 🧭 Supervisor (periodic, revise): Look at the restart counts per replica before tuning." in heads
    )
    assert "> They explain the tail." in text
    # Commands are shown, their output folded.
    assert "```bash\n./run_all.sh ai --seed 2\n```" in text
    assert "<details><summary>exit 0, 12.5 s · 2 lines of output (full: `ctx-1/outputs/0002.txt`)" in text
    # The summary table and the final design with its trusted score and the diff from the template.
    assert "| ended: finished | 3 | 4 | 40.000 (simulation 2) | $0.75 |" in text
    assert "**Trusted score: 41.000**" in text
    assert "+        return self.headroom_pick()" in text
    assert "## ✅ The Researcher submits (accepted)" in text


def test_notes_are_idempotent(finished_run: Path) -> None:
    first = write_notes(finished_run / "ctx-2").read_text()
    second = write_notes(finished_run / "ctx-2").read_text()
    assert first == second
    assert not list((finished_run / "ctx-2").glob(".notes.md.*"))  # no temp files left behind


def test_notes_of_an_interrupted_context(interrupted_run: Path) -> None:
    text = write_notes(interrupted_run / "ctx-2").read_text()
    assert "The run was interrupted before this context ended" in text
    assert "| running | 3 | 4 | 39.000 (simulation 2) | $0.75 |" in text
    assert "## The final design" not in text


def test_notes_survive_odd_events(tmp_path: Path) -> None:
    ctx = tmp_path / "run" / "ctx-1"
    write_events(
        ctx / "transcript.jsonl",
        [
            {"type": "assistant", "text": None, "reasoning": 5, "tool_calls": "not a list"},
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
    assert "_The context is still working._" in text


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
    assert "**Design:** head-room" in text and "**Tried and rejected:** LOR" in text
    # the brief's own headings stay inside its fenced block, out of the notebook's outline
    assert "```markdown\n# Brief\n\n## Rules\n\nBe good.\n```" in text
    assert "### Turn 2 · Back again." in headings(text)


def test_a_submission_reads_before_the_review_that_sends_it_back(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx-1"
    finish = {"id": "f1", "name": "finish", "arguments": {"design": "head-room"}}
    write_events(
        ctx / "transcript.jsonl",
        [
            {"type": "assistant", "text": "I think this is done.", "tool_calls": [finish]},
            {"type": "supervisor", "trigger": "finish", "verdict": "revise", "text": "Why margin 0.12?"},
            {"type": "tool_result", "id": "f1", "name": "finish", "output": "[Supervisor] Why margin 0.12?"},
            {"type": "finish", "summary": {"design": "head-room"}, "accepted": False},
        ],
    )
    text = render_notes(ctx)
    assert text.index("The Researcher submits (sent back)") < text.index("Supervisor (finish, revise)")
    assert "```bash\nfinish\n```" not in text  # the finish call is not a shell command
