"""What a run tells the user when things go wrong, end to end through the CLI with the fake model server:
runs that fail (a model endpoint that breaks after the pre-flight check, a design the trusted evaluator
rejects) end `failed` with a non-zero exit and each context's reason; a live run cannot be resumed from a
second process; after kill -9 in the middle of a command, `glia runs` shows the run interrupted and
`glia resume` continues it with the books matching the durable record."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glia.cli import main
from glia.record.view import read_run
from glia.report import progress_series
from tests.cli.test_solve import BENCHMARK, DESIGN, ROUTER, SUMMARY, quick_task
from tests.fake_llm import FakeLLMServer, fault, reply, tool_call

REPO_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        num_decode_tokens = 0  # a name the task forbids: the design would read hidden request data
        return self.route_all(lambda request: num_decode_tokens)
PY
echo written"""
# A benchmark (a claim), then a long experiment that is still running when the process is killed.
BENCH_THEN_LONG = f"{BENCHMARK} && python -m llmsim run --router ai --qps 7.5 --seed 1 --duration 3000 --time-limit 120 | tail -1"


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> Path:
    return quick_task(tmp_path_factory.mktemp("task"))


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("workspaces")


def approve(request) -> object:
    return reply("The evidence supports it.\nVERDICT: APPROVE")


def solve_args(
    task: Path, root: Path, url: str, run_id: str, researcher: str = "researcher-model",
    supervisor: str = "supervisor-model",
) -> list[str]:  # fmt: skip
    return ["solve", str(task), "--root", str(root), "--researcher-model", f"openai:{researcher}",
            "--supervisor-model", f"openai:{supervisor}", "--base-url", url, "--workspace", "local",
            "--unsafe-local-workspace", "--run-id", run_id, "--max-steps", "8", "--max-minutes", "15",
            "--max-simulations", "6"]  # fmt: skip


def runs_row(capsys, root: Path, run_id: str) -> list[str]:
    assert main(["runs", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if re.match(rf"│ {re.escape(run_id)} +│", line))
    return [cell.strip() for cell in line.split("│")[1:-1]]


@pytest.mark.parametrize("kind", ["not_implemented", "html", "no_choices"])
def test_a_model_endpoint_that_breaks_after_preflight_fails_the_run(
    task, root, capsys, monkeypatch, kind
) -> None:
    monkeypatch.setenv("COLUMNS", "250")

    def broken(request) -> object:
        if not request.tool_names:  # the pre-flight probe: the endpoint looked fine
            return reply("ok")
        return fault(kind)

    run_id = f"broken-{kind}"
    with FakeLLMServer() as server:
        server.handler("researcher-model", broken)
        server.handler("supervisor-model", approve)
        code = main(solve_args(task, root, server.openai_base_url, run_id))
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"Run {run_id}: failed." in out and "finished" not in out.split(f"Run {run_id}:")[1]
    assert re.search(
        r"ctx-1: model_error \(.+\); trusted: not evaluated: the design is the untouched template", out
    )
    run = json.loads((root / run_id / "run.json").read_text())
    assert run["status"] == "failed" and run["best"] is None
    assert run["contexts"][0]["end_reason"] == "model_error" and "ctx-1: model_error (" in run["error"]
    row = runs_row(capsys, root, run_id)
    assert row[1] == "failed" and row[7].startswith("ctx-1: model_error (")


def test_a_rejected_design_is_explained_everywhere(task, root, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    steps = [FORBIDDEN, BENCHMARK]

    def researcher(request) -> object:
        step = sum(1 for m in request.messages if m.get("role") == "assistant")
        if step < len(steps):
            return reply("Next step.", [tool_call("bash", {"command": steps[step]})])
        return reply("Done.", [tool_call("finish", SUMMARY)])

    with FakeLLMServer() as server:
        server.handler("researcher-model", researcher)
        server.handler("supervisor-model", approve)
        code = main(solve_args(task, root, server.openai_base_url, "rej"))
        assert server.problems == []
    out = capsys.readouterr().out
    assert code == 1, out
    reason = "rejected before running"
    assert re.search(rf"ctx-1: finished; trusted: rejected: {reason}.*num_decode_tokens", out), out
    run = json.loads((root / "rej" / "run.json").read_text())
    assert run["status"] == "failed" and "its design was rejected: rejected before running" in run["error"]
    # the live table and `glia runs`
    row = runs_row(capsys, root, "rej")
    assert row[1] == "failed" and row[7].startswith("ctx-1: finished; rejected: rejected before running")
    # the notes and `glia show`
    assert main(["show", "rej", "--root", str(root)]) == 0
    shown = capsys.readouterr().out
    assert "Trusted verdict: rejected: rejected before running" in shown and "num_decode_tokens" in shown
    assert "not evaluated yet" not in shown
    # the report's scoreboard and the plot
    report = (root / "rej" / "report.md").read_text()
    assert re.search(r"\| ctx-1 \| rejected: rejected before running.*num_decode_tokens", report)
    series = progress_series(read_run(root / "rej"))["ctx-1"]
    assert len(series.rejected) == 1 and series.trusted == []


def _transcript(run_dir: Path) -> list[dict]:
    path = run_dir / "ctx-1" / "transcript.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip().endswith("}")]


def _children(pid: int) -> list[int]:
    """The processes `pid` started (the local workspace's commands lead sessions of their own)."""
    found = []
    for task_dir in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task_dir / "children").read_text().split()]
        except OSError:
            continue
    return found


def test_kill_9_mid_command_then_resume_with_the_books_right(task, root, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    run_dir = root / "killed"

    def researcher(request) -> object:
        if not request.tool_names:
            return reply("ok")  # the pre-flight probe
        step = sum(1 for m in request.messages if m.get("role") == "assistant")
        if step == 0:
            return reply("Least-loaded first.", [tool_call("bash", {"command": ROUTER})])
        if step == 1:
            return reply("Benchmark, then a long load.", [tool_call("bash", {"command": BENCH_THEN_LONG})])
        return reply("Done.", [tool_call("finish", SUMMARY)])

    with FakeLLMServer() as server:
        server.handler("gpt-4o", researcher)  # priced models: the dollars are real numbers
        server.handler("gpt-4.1", approve)
        args = [
            *solve_args(task, root, server.openai_base_url, "killed", "gpt-4o", "gpt-4.1"),
            "--live-evaluations",
            "0",
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        process = subprocess.Popen([sys.executable, "-m", "glia.cli", *args], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while sum(e["type"] == "simulation_started" for e in _transcript(run_dir)) < 2:
                assert process.poll() is None, "glia solve ended before the long simulation started"
                assert time.monotonic() < deadline, "the long simulation never started"
                time.sleep(0.2)
            # A live run: `glia runs` says who runs it, and a second writer is refused without touching it.
            row = runs_row(capsys, root, "killed")
            assert row[1] == "running" and row[7].startswith(f"pid {process.pid} on ")
            before = (run_dir / "ctx-1" / "transcript.jsonl").read_bytes()
            assert main(["resume", "killed", "--root", str(root)]) == 2
            err = capsys.readouterr().err
            assert f"run killed is in use by process {process.pid}" in err and f"kill {process.pid}" in err
            assert (run_dir / "ctx-1" / "transcript.jsonl").read_bytes()[: len(before)] == before
            assert process.poll() is None  # the refused resume did not disturb the live run
            # kill -9: no clean-up code runs at all (the command's own session is killed too)
            children = _children(process.pid)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            for child in children:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
        assert json.loads((run_dir / "run.json").read_text())["status"] == "running"  # as the kill left it
        row = runs_row(capsys, root, "killed")
        assert row[1] == "interrupted" and row[7] == "process gone; `glia resume killed` continues it"

        assert main(["resume", "killed", "--root", str(root), "--unsafe-local-workspace"]) == 0
        out = capsys.readouterr().out
        assert "Run killed: finished." in out
        requests = server.requests_for("gpt-4o")
        assert server.problems == []
    main(["cleanup", "--run", "killed", "--yes"])  # the killed process's evaluation sandboxes, if any
    capsys.readouterr()

    events = _transcript(run_dir)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), "one writer: every sequence number once, in order"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "finished" and [s["resumed"] for s in run["sessions"]] == [False, True]
    # dollars and simulations as the durable record has them
    calls = [e for e in events if e["type"] == "model_call"]
    assert run["usage"]["cost_known"] is True and all(c["cost_usd"] for c in calls)
    assert run["usage"]["dollars"] == pytest.approx(
        sum(c["cost_usd"] for c in calls), abs=2e-6
    )  # rounded to 6 places
    assert run["usage"]["tokens"] == sum(c["tokens"] for c in calls)
    started = [e for e in events if e["type"] == "simulation_started"]
    assert run["usage"]["simulations"] == len(started) == run["contexts"][0]["simulations"] == 2
    # the in-flight command: it ran, its first simulation ended, its second was killed with the process
    long_call = next(
        e for e in events if e["type"] == "command_started" and "--duration 3000" in e["command"]
    )["id"]
    ends = {e["index"]: e for e in events if e["type"] == "simulation"}
    assert ends[1]["valid"] is True and ends[1]["kind"] == "claim" and ends[1]["call_id"] == long_call
    assert ends[2]["outcome"] == "killed_with_process" and ends[2]["kind"] == "experiment"
    assert ends[2]["call_id"] == long_call
    result = next(e for e in events if e["type"] == "tool_result" and e["id"] == long_call)
    assert result["recovered"] == "interrupted"
    told = next(
        r["content"] for req in requests for r in req.tool_results if r["id"] == long_call
    )  # what the resumed model read
    assert "[interrupted: this command was running when the Glia session stopped" in told
    assert re.search(r"\[Its output so far \(the last \d+ characters\):\]\nmean_e2e: \d", told)
    assert re.search(
        r"#1 \(benchmark run\) valid, claimed \d+\.\d{3}; #2 \(experiment\) killed with the Glia process",
        told,
    )
    assert "not run" not in told
    # the notes keep both simulations under the turn whose command started them
    notes = (run_dir / "ctx-1" / "notes.md").read_text()
    turn, cut = notes.index("### Turn 2"), notes.index("Session cut off")
    assert turn < notes.index("## 🧪 Simulation 1 ·") < notes.index("## 🧪 Simulation 2 ·") < cut
