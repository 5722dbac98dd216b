"""`glia runs`, `glia show` and `glia report` on finished and interrupted fixture runs, in process and as
a real subprocess through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from glia.cli import main
from glia.cli.inspect import event_markdown, follow_context
from glia.metric import Metric
from glia.record import events as ev
from glia.record.lock import RunLock
from tests.cli.run_fixtures import ContextPlan, make_run


def test_runs_table(capsys, finished_run, interrupted_run, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    root = finished_run.parent
    reason = "forbidden name 'num_decode_tokens' in the design"
    make_run(root, "nope", "finished", "scg", 1, {1: ContextPlan([47.0, 40.0, 43.0], rejected=reason)})
    dead = make_run(root, "dead", "running", "scg", 1)  # run.json says running; its process died
    live = make_run(root, "live", "running", "scg", 1)
    with RunLock(live, command="glia solve"):
        assert main(["runs", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 8}
    assert set(rows) >= {"done", "cut", "nope", "dead", "live"}
    assert "vs llq" in out
    cells = {name: [cell.strip() for cell in row.split("│")[1:-1]] for name, row in rows.items()}
    assert cells["done"] == ["done", "finished", "MCG-Par2", "40.000", "+20.0%", "10", "$2.50", ""]
    assert cells["cut"] == ["cut", "interrupted", "MCG-Seq", "41.000", "+18.0%", "10", "$2.50",
                            "`glia resume cut` continues it"]  # fmt: skip
    assert cells["nope"][:4] == ["nope", "failed", "SCG", "—"]
    assert cells["nope"][7] == "ctx-1: finished; rejected: forbidden name 'num_decode_tokens' in the design"
    assert (
        cells["dead"][1] == "interrupted"
        and cells["dead"][7] == "process gone; `glia resume dead` continues it"
    )
    assert cells["live"][1] == "running" and cells["live"][7].startswith(f"pid {os.getpid()} on ")
    assert dead.exists()


def test_runs_on_an_empty_root(capsys, tmp_path) -> None:
    assert main(["runs", "--root", str(tmp_path / "nothing")]) == 0
    assert "No runs under" in capsys.readouterr().out


def test_show_renders_notes(capsys, finished_run) -> None:
    assert main(["show", "done", "--root", str(finished_run.parent), "--context", "2"]) == 0
    out = capsys.readouterr().out
    assert "Research notes · ctx-2" in out
    assert "Simulation 2 · claimed 39.000 · ★ new best" in out
    assert "Simulation 4 · experiment (router llq" in out
    assert "Supervisor (periodic, revise)" in out


def test_show_accepts_a_path_and_reports_a_missing_context(capsys, interrupted_run) -> None:
    assert main(["show", str(interrupted_run)]) == 0
    assert "Research notes · ctx-1" in capsys.readouterr().out
    assert main(["show", str(interrupted_run), "--context", "7"]) == 2
    assert "has no context 7" in capsys.readouterr().err


def test_show_follow_stops_when_the_context_ends(capsys, interrupted_run) -> None:
    transcript = interrupted_run / "ctx-2" / "transcript.jsonl"
    run_file = interrupted_run / "run.json"
    run_file.write_text(run_file.read_text().replace('"status": "interrupted"', '"status": "running"'))

    def finish_later() -> None:
        time.sleep(0.3)
        with transcript.open("a") as handle:
            handle.write('tant"}\n')  # completes nothing useful: the torn line stays unreadable
            handle.write(
                json.dumps({"type": "supervisor", "trigger": "stall", "text": "Try a new idea."}) + "\n"
            )
            handle.write(json.dumps({"type": "context_end", "reason": "budget"}) + "\n")

    writer = threading.Thread(target=finish_later)
    started = time.monotonic()
    with RunLock(interrupted_run):  # a live run: following waits for new events
        writer.start()
        assert follow_context(interrupted_run, 2, poll_s=0.05) == 0
    writer.join()
    assert time.monotonic() - started < 10
    out = capsys.readouterr().out
    assert "Supervisor (stall): Try a new idea." in out
    assert "Context ended: budget" in out


def test_show_follow_of_a_dead_run_returns_at_once(interrupted_run) -> None:
    run_file = interrupted_run / "run.json"
    run_file.write_text(run_file.read_text().replace('"status": "interrupted"', '"status": "running"'))
    started = time.monotonic()
    assert follow_context(interrupted_run, 2, poll_s=0.05) == 0  # no process holds it: nothing will come
    assert time.monotonic() - started < 5


def test_follow_renders_commands_numbers_submissions_and_the_supervisor_once() -> None:
    metric = Metric("mean_e2e", "minimize", "s")
    heredoc = "cat > r.py <<'PY'\nweights = [a * b for a, b in pairs]  # *not* emphasis\nPY"
    turn = ev.parse_event({"type": "assistant", "text": "Write it.",
                           "tool_calls": [{"id": "1", "name": "bash", "arguments": {"command": heredoc}}]})  # fmt: skip
    shown = event_markdown(turn, metric)
    assert f"```bash\n{heredoc}\n```" in shown  # every line and every `*` kept
    sim = ev.parse_event({"type": "simulation", "index": 3, "kind": "claim", "valid": True,
                          "claimed_score": 18.834234234})  # fmt: skip
    assert event_markdown(sim, metric) == "### 🧪 Simulation 3 · claim: mean_e2e 18.834"
    experiment = ev.parse_event({"type": "simulation", "index": 4, "kind": "experiment", "valid": True,
                                 "values": {"mean_e2e": 12.3456}})  # fmt: skip
    assert "experiment (not ranked against claims): mean_e2e 12.346" in event_markdown(experiment, metric)
    finish = ev.parse_event({"type": "finish", "summary": {"design": "Head-room.", "evidence": "Runs 3-5."},
                             "accepted": False})  # fmt: skip
    assert event_markdown(finish, metric) == (
        "## ✅ The Researcher submits (sent back)\n\n**The Researcher's own account, unverified:**\n\n"
        "```text\nDesign:\nHead-room.\n\nEvidence:\nRuns 3-5.\n```"
    )
    review = ev.parse_event(
        {"type": "tool_result", "id": "f", "name": "finish", "output": "[Supervisor] Why?"}
    )
    assert event_markdown(review, metric) == ""  # the supervisor event shows it, once


def test_report_command(capsys, finished_run) -> None:
    assert main(["report", "done", "--root", str(finished_run.parent)]) == 0
    out = capsys.readouterr().out
    assert "report.md" in out and "progress.png" in out
    assert "Best trusted score 40.000 (ctx-2), +20.0% over llq" in out
    assert (finished_run / "report.md").read_text().startswith("# Glia run `done`")


def test_report_command_on_interrupted_run(capsys, interrupted_run) -> None:
    assert main(["report", str(interrupted_run)]) == 0
    assert (interrupted_run / "progress.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "command", [[], ["solve"], ["bench"], ["runs"], ["show"], ["report"], ["image", "build"]]
)
def test_every_command_has_help(command, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: glia")
    assert "--help" in out


def test_real_subprocess_through_the_entry_point(finished_run) -> None:
    env = {**os.environ, "COLUMNS": "160"}
    done = subprocess.run(
        [sys.executable, "-m", "glia.cli", "runs", "--root", str(finished_run.parent)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "MCG-Par2" in done.stdout and "+20.0%" in done.stdout
    script = Path(sys.executable).with_name("glia")
    glia = str(script) if script.exists() else "glia"
    shown = subprocess.run(
        [glia, "show", str(finished_run), "--context", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Research notes · ctx-1" in shown.stdout
    missing = subprocess.run([glia, "report", "nope"], capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: no run 'nope'") and "Traceback" not in missing.stderr
