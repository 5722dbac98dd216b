"""Attacks on the console: text a design or a Researcher controls, shown by `glia bench`, `glia runs`,
`glia show`, `glia solve`'s live table and final lines, error messages and console logs, can neither act
on the terminal (escape sequences, cursor moves, hyperlinks, clipboard writes, bidi overrides), nor be
parsed as Rich markup or emoji codes, nor start a line that reads like Glia's own."""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path

import pytest
import structlog
from rich.console import Console

from glia.cli import bench as bench_cli
from glia.cli import main
from glia.cli import solve as solve_cli
from glia.errors import UserError
from glia.evaluation.results import Evaluation
from glia.logging_setup import configure_logging
from glia.progress import LiveProgress, PlainProgress, progress_table
from glia.record.view import read_run
from glia.task_kinds import load_task
from tests.cli.run_fixtures import ContextPlan, make_run
from tests.security.hostile_text import SPOOF_ROW, TERMINAL_ATTACK, terminal_leftovers

TASK = Path(__file__).resolve().parents[2] / "tasks" / "llm_routing.md"


def consoles() -> list[tuple[Console, io.StringIO]]:
    """A piped console and a colour terminal, both of the kind `glia.cli.common.console()` makes."""
    made = []
    for terminal in (False, True):
        buffer = io.StringIO()
        made.append(
            (
                Console(file=buffer, force_terminal=terminal, width=200, highlight=False, soft_wrap=True),
                buffer,
            )
        )
    return made


def assert_glia_voice_only(output: str) -> None:
    assert terminal_leftovers(output) == []
    lines = output.splitlines()
    assert not any(line.lstrip().startswith(("Run finished", "Best trusted score 1.000")) for line in lines)
    assert "⚠" not in output  # :warning: stays text
    assert ":warning:" in output and "[bold red]RED[/]" in output  # shown as written, never parsed


class _Rejecting:
    """The evaluator's answer for a design that the trusted evaluation rejected with a hostile reason."""

    def evaluate_design(self, files: dict[str, str], label: str) -> Evaluation:
        return Evaluation.invalid(label, TERMINAL_ATTACK)


def test_bench_shows_a_hostile_reason_as_text_on_one_line(tmp_path: Path, monkeypatch) -> None:
    task = load_task(TASK)
    design = tmp_path / "design[red]x[b].py"
    design.write_text("pass\n")
    args = argparse.Namespace(router=None, design=[str(design)])
    for out, buffer in consoles():
        monkeypatch.setattr(bench_cli, "console", lambda out=out: out)
        assert bench_cli._score_and_print(args, task, _Rejecting(), "docker") == 1  # invalid: exit 1
        output = buffer.getvalue()
        assert_glia_voice_only(output)
        assert "design[red]x[b]" in output
        [reason_line] = [line for line in output.splitlines() if "is invalid:" in line]
        assert SPOOF_ROW in reason_line and "\\x1b[1A" in reason_line  # visible, on the reason's one line


@pytest.fixture
def hostile_run(tmp_path: Path) -> Path:
    return make_hostile_run(tmp_path)


def make_hostile_run(tmp_path: Path) -> Path:
    """A failed run: its only context rejected with the hostile reason, then a hostile command and output
    in its transcript (what the live table's "last action" and `glia show` read)."""
    run_dir = make_run(tmp_path / "runs", "hostile", "finished", "scg", 1,
                       {1: ContextPlan([47.0, 40.0, 43.0], rejected=TERMINAL_ATTACK)})  # fmt: skip
    run = json.loads((run_dir / "run.json").read_text())
    run["contexts"][0]["error"] = TERMINAL_ATTACK
    (run_dir / "run.json").write_text(json.dumps(run))
    transcript = run_dir / "ctx-1" / "transcript.jsonl"
    lines = transcript.read_text().splitlines()
    end = lines.pop()
    extra = [
        {"type": "assistant", "text": TERMINAL_ATTACK, "reasoning": TERMINAL_ATTACK,
         "tool_calls": [{"id": "h1", "name": "bash", "arguments": {"command": TERMINAL_ATTACK}}]},
        {"type": "command_started", "id": "h1", "command": TERMINAL_ATTACK, "timeout_s": 300},
        {"type": "tool_result", "id": "h1", "name": "bash", "command": TERMINAL_ATTACK, "exit_code": 0,
         "timed_out": False, "duration_s": 1.0, "output": TERMINAL_ATTACK, "is_error": False},
        {"type": "supervisor", "trigger": "periodic", "verdict": None, "text": TERMINAL_ATTACK},
    ]  # fmt: skip
    lines += [
        json.dumps({"v": 2, "seq": 500 + i, "ts": "2026-11-22T06:00:00+00:00", **e})
        for i, e in enumerate(extra)
    ]
    transcript.write_text("\n".join([*lines, end]) + "\n")
    return run_dir


def test_runs_lists_a_run_whose_reason_holds_markup_and_escapes(
    capsys, hostile_run: Path, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    make_run(hostile_run.parent, "plain", "finished", "scg", 1)  # the listing goes on past the hostile row
    assert main(["runs", "--root", str(hostile_run.parent)]) == 0
    output = capsys.readouterr().out
    assert terminal_leftovers(output) == []
    assert not any(line.startswith(("Run finished", "Best trusted")) for line in output.splitlines())
    rows = {row.split("│")[1].strip(): row for row in output.splitlines() if row.count("│") >= 8}
    assert set(rows) == {"hostile", "plain"}  # the note (cut at 90 characters) stays in its row
    assert rows["hostile"].split("│")[2].strip() == "failed"
    assert "[/]" in output  # shown, not parsed (it used to crash the listing)


def test_the_live_table_and_plain_progress_survive_a_hostile_command(hostile_run: Path) -> None:
    state = read_run(hostile_run)
    for out, buffer in consoles():
        out.print(progress_table(state))  # `[/]` in the last command used to raise MarkupError here
        output = buffer.getvalue()
        assert terminal_leftovers(output) == []
        assert "bad design[/]" in output
        live = LiveProgress(out)  # it froze, then killed `glia solve`
        live.update(state)
        live.close(state)
        redrawn = buffer.getvalue()[len(output) :]
        assert "bad design[/]" in redrawn  # Rich's own redraw codes aside, nothing of the command acts:
        assert not any(
            code in redrawn for code in ("\x1b]", "\x07", "\x08", "\u202e", "\x9b", "[1A\x1b[2Koverwritten")
        )
    stream = io.StringIO()
    plain = PlainProgress(stream)
    plain.close(state)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # the phase, one line for the context, the totals: nothing the reason adds
    assert terminal_leftovers(stream.getvalue()) == []
    assert lines[1].startswith("ctx-1: ") and not any(line.startswith("Run finished") for line in lines)


def test_solve_final_lines_cannot_claim_a_finished_run(hostile_run: Path, monkeypatch) -> None:
    for out, buffer in consoles():
        monkeypatch.setattr(solve_cli, "console", lambda out=out: out)
        assert solve_cli.summarize(hostile_run, "failed") == 1
        output = buffer.getvalue()
        assert_glia_voice_only(output)
        lines = output.splitlines()
        assert lines[1] == "Run hostile: failed."
        assert lines[2].startswith("No trusted design")
        assert [line for line in lines if line.startswith("  ctx-1")] == [lines[3]]  # one line per context


def test_show_renders_hostile_notes_without_acting_on_the_terminal(
    capsys, hostile_run: Path, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["show", str(hostile_run)]) == 0
    output = capsys.readouterr().out
    assert terminal_leftovers(output) == []
    assert "⚠" not in output.replace("⚠️ **Format", "")  # no emoji substitution from the Researcher's text
    assert "\\x1b" in output  # the escape is shown, visibly


def test_errors_and_console_logs_stay_on_their_lines(capsys) -> None:
    rendered = UserError(f"bad task file: name {TERMINAL_ATTACK}", f"rename {TERMINAL_ATTACK}").render()
    assert len(rendered.splitlines()) == 2 and terminal_leftovers(rendered) == []
    stream = io.StringIO()
    configure_logging(0, stream)
    try:
        structlog.get_logger("glia.test").warning(
            "evaluation.rejected", reason=TERMINAL_ATTACK, label=TERMINAL_ATTACK
        )
        logging.getLogger("glia.std").warning("refused: %s", TERMINAL_ATTACK)
        try:
            raise RuntimeError(TERMINAL_ATTACK)
        except RuntimeError:
            structlog.get_logger("glia.test").exception("crashed")
    finally:
        configure_logging(0)
    logged = stream.getvalue()
    assert terminal_leftovers(logged) == []
    margin = [line for line in logged.splitlines() if line and not line.startswith((" ", "Traceback"))]
    assert len(margin) == 3 and all(line.startswith("20") for line in margin)  # every line a log line
