"""How a model's reasoning is shown: in the notes (inline or folded) and in `glia show --follow`."""

from __future__ import annotations

import json
from pathlib import Path

from glia.cli.inspect import event_markdown
from glia.metric import Metric
from glia.notes import THINKING_FOLD_CHARS, render_notes
from glia.record.events import parse_event

ROUTING = Metric("mean_e2e", "minimize", "s")


def notes_for(tmp_path: Path, *assistant_events: dict) -> str:
    ctx = tmp_path / "run" / "ctx-1"
    ctx.mkdir(parents=True)
    events = [{"type": "user", "text": "brief"}, *({"type": "assistant", **e} for e in assistant_events)]
    (ctx / "transcript.jsonl").write_text(
        "".join(
            json.dumps({"v": 1, "seq": i, "ts": "2026-01-01T00:00:00Z", **e}) + "\n"
            for i, e in enumerate(events)
        )
    )
    return render_notes(ctx)


def bash(command: str) -> list[dict]:
    return [{"id": "c1", "name": "bash", "arguments": {"command": command}}]


def test_short_reasoning_is_inline_before_the_action(tmp_path: Path) -> None:
    notes = notes_for(tmp_path, {"text": "Checking.", "reasoning": "Look first.", "tool_calls": bash("ls")})
    assert "### Turn 1 · Checking." in notes
    assert "💭 *Thinking:* Look first." in notes and "<details><summary>💭" not in notes


def test_long_or_multi_paragraph_reasoning_is_folded_under_its_heading(tmp_path: Path) -> None:
    long = "**Why restarts dominate** \n\n" + "Memory runs out when decodes grow; " * 40
    notes = notes_for(tmp_path, {"text": "", "reasoning": long, "tool_calls": bash("ls")})
    assert len(long) > THINKING_FOLD_CHARS
    assert "### Turn 1 · Why restarts dominate" in notes  # no text: the heading of the reasoning
    assert "<details><summary>💭 Thinking: Why restarts dominate</summary>" in notes
    assert ("Memory runs out when decodes grow; " * 40).strip() in notes


def test_reasoning_cannot_break_the_fold(tmp_path: Path) -> None:
    tricky = "if a < b & c:\n\nclose </details> here"
    notes = notes_for(tmp_path, {"text": "x", "reasoning": tricky, "tool_calls": []})
    assert "<summary>💭 Thinking: if a &lt; b &amp; c:</summary>" in notes
    assert "close &lt;/details&gt; here" in notes and notes.count("</details>") == notes.count("<details>")


def test_follow_shows_the_thinking_first_shortened() -> None:
    event = {
        "type": "assistant",
        "text": "Benchmark it.",
        "reasoning": "**Plan**\n\n" + "word " * 200,
        "tool_calls": bash("./run_all.sh"),
    }
    rendered = event_markdown(parse_event(event), ROUTING)
    thinking, rest = rendered.split("\n\n", 1)
    assert thinking.startswith("💭 *Plan word word") and thinking.endswith("…*")
    assert len(thinking) < 420 and "**" not in thinking.strip("*")
    assert rest.startswith("**Researcher:** Benchmark it.") and "```bash\n./run_all.sh\n```" in rest
    plain = parse_event({"type": "assistant", "text": "Hi.", "tool_calls": []})
    assert event_markdown(plain, ROUTING) == "**Researcher:** Hi."
