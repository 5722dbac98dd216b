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
from glia.cli.inspect import follow_context


def test_runs_table(capsys, finished_run, interrupted_run, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    root = finished_run.parent
    assert main(["runs", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 7}
    assert set(rows) >= {"done", "cut"}
    assert "vs llq" in out
    done = [cell.strip() for cell in rows["done"].split("│")[1:-1]]
    cut = [cell.strip() for cell in rows["cut"].split("│")[1:-1]]
    assert done == ["done", "finished", "MCG-Par2", "40.000", "+20.0%", "8", "$1.50"]
    assert cut == ["cut", "interrupted", "MCG-Seq", "41.000", "+18.0%", "8", "$1.50"]


def test_runs_on_an_empty_root(capsys, tmp_path) -> None:
    assert main(["runs", "--root", str(tmp_path / "nothing")]) == 0
    assert "No runs under" in capsys.readouterr().out


def test_show_renders_notes(capsys, finished_run) -> None:
    assert main(["show", "done", "--root", str(finished_run.parent), "--context", "2"]) == 0
    out = capsys.readouterr().out
    assert "Research notes · ctx-2" in out
    assert "Simulation 2 · claimed 39.000 · ★ new best" in out
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
    writer.start()
    started = time.monotonic()
    assert follow_context(interrupted_run, 2, poll_s=0.05) == 0
    writer.join()
    assert time.monotonic() - started < 10
    out = capsys.readouterr().out
    assert "Supervisor (stall): Try a new idea." in out
    assert "Context ended: budget" in out


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
