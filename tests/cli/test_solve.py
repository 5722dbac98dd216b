"""`glia solve` end to end: real orchestrator, contexts, simulator and evaluator; a fake model server.

Every Researcher context writes a least-loaded router, benchmarks it once (a short simulation) and
finishes; the Supervisor approves. The task is the bundled routing task made cheap: one workload of
two seeds, 100 simulated seconds, two baselines.
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import threading
from pathlib import Path

import pytest

from glia.cli import main
from tests.fake_llm import FakeLLMServer, reply, tool_call

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
ROUTER = f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        def load(rid):
            replica = self.replicas[rid]
            return (2 * replica.num_pending_requests + replica.num_active_requests, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))
PY
echo router written"""
BENCHMARK = "python -m llmsim run --router ai --qps 7.5 --seed 0 --duration 100 | tail -1"


def quick_task(folder: Path) -> Path:
    """tasks/llm_routing.md with a cheap trusted evaluation (same simulator, same rules)."""
    text = (REPO_ROOT / "tasks" / "llm_routing.md").read_text()
    text = text.replace("simulator: ../sim_repo_template", f"simulator: {REPO_ROOT / 'sim_repo_template'}")
    text = re.sub(
        r"  workloads:\n(    - .*\n)+",
        "  workloads:\n    - {name: main, qps: 7.5, seeds: [0, 1], duration_s: 100}\n",
        text,
    )
    text = text.replace("baselines: [random, round_robin, llq, lor]", "baselines: [random, llq]")
    path = folder / "quick_routing.md"
    path.write_text(text)
    return path


def researcher(request) -> object:
    """The same three steps in every context, chosen by how far the conversation has got."""
    step = sum(1 for m in request.messages if m.get("role") == "assistant")
    if step == 0:
        return reply(
            "Start from least-loaded routing that weighs waiting requests.",
            [tool_call("bash", {"command": ROUTER})],
        )
    if step == 1:
        return reply("Benchmark it.", [tool_call("bash", {"command": BENCHMARK})])
    summary = {
        "design": "weighted least-loaded",
        "evidence": "one benchmark run",
        "tried_and_rejected": "none",
    }
    return reply("Done.", [tool_call("finish", summary)])


@pytest.fixture
def fake_models():
    with FakeLLMServer() as server:
        server.handler("researcher-model", researcher)
        server.handler("supervisor-model", lambda request: reply("Evidence is adequate.\nVERDICT: APPROVE"))
        yield server
        assert server.problems == []


def solve(server, task: Path, root: Path, *extra: str) -> int:
    return main(
        [
            "solve",
            str(task),
            "--root",
            str(root),
            "--researcher-model",
            "openai:researcher-model",
            "--supervisor-model",
            "openai:supervisor-model",
            "--base-url",
            server.openai_base_url,
            "--max-steps",
            "8",
            "--max-minutes",
            "10",
            *extra,
        ]
    )


def check_finished_run(run_dir: Path, contexts: int, label: str, out: str) -> dict:
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "finished", run.get("error")
    assert all(b["valid"] for b in run["baselines"].values()), run["baselines"]
    assert run["best"] is not None, run.get("no_best_reason")
    assert run["strategy_label"] == label
    assert len(run["contexts"]) == contexts
    assert f"{label} run {run_dir.name} lives in {run_dir.resolve()}" in out
    assert out.index("lives in") < out.index("Best trusted score")
    # Notes for every context, written by the context loop from the transcript.
    for k in range(1, contexts + 1):
        notes = (run_dir / f"ctx-{k}" / "notes.md").read_text()
        assert "## 🧪 Simulation 1 · claimed" in notes and "★ new best" in notes
        assert "## The final design" in notes and "**Trusted score:" in notes
    # The report and the plot, written at the end of solve.
    report = (run_dir / "report.md").read_text()
    best = run["best"]
    assert f"**Best trusted score: {best['score']:.3f}**" in report
    assert f"| ctx-{best['context']} | {best['score']:.3f} |" in report
    assert "| baseline `llq` |" in report and "| baseline `random` |" in report
    assert "route_all" in report  # the best design's code
    png = (run_dir / "progress.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (880, 528)
    assert len(png) > 20_000
    # Summary lines printed at the end, and the run's log file.
    gain = best["improvement_over_reference"]
    assert f"Best trusted score {best['score']:.3f} from ctx-{best['context']}, {gain:+.1%} vs llq" in out
    log_lines = (run_dir / "glia.log").read_text().splitlines()
    assert log_lines and all(json.loads(line)["event"] for line in log_lines)
    return run


def test_solve_scg(fake_models, tmp_path, capsys) -> None:
    task, root = quick_task(tmp_path), tmp_path / "ws"
    code = solve(
        fake_models,
        task,
        root,
        "--strategy",
        "scg",
        "--workspace",
        "local",
        "--run-id",
        "one",
        "--max-simulations",
        "3",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    run = check_finished_run(root / "one", 1, "SCG", out)
    assert run["usage"]["simulations"] == 1
    # the read-only commands on the run solve left behind
    assert main(["runs", "--root", str(root)]) == 0
    assert "one" in capsys.readouterr().out
    assert main(["show", "one", "--root", str(root)]) == 0
    assert "Research notes · ctx-1" in capsys.readouterr().out


def test_solve_mcg_par2(fake_models, tmp_path, capsys) -> None:
    task, root = quick_task(tmp_path), tmp_path / "ws"
    extra = [
        "--strategy",
        "mcg-par",
        "--contexts",
        "2",
        "--workspace",
        "local",
        "--run-id",
        "par",
        "--max-simulations",
        "4",
    ]
    code = solve(fake_models, task, root, *extra)
    out = capsys.readouterr().out
    assert code == 0, out
    run = check_finished_run(root / "par", 2, "MCG-Par2", out)
    assert run["usage"]["simulations"] == 2


def test_solve_mcg_seq(fake_models, tmp_path, capsys) -> None:
    task, root = quick_task(tmp_path), tmp_path / "ws"
    extra = ["--strategy", "mcg-seq", "--workspace", "local", "--run-id", "seq", "--max-simulations", "2"]
    code = solve(fake_models, task, root, *extra)
    out = capsys.readouterr().out
    assert code == 0, out
    run = check_finished_run(root / "seq", 2, "MCG-Seq", out)
    assert run["usage"]["simulations"] == 2


@pytest.mark.docker
def test_solve_in_docker(fake_models, tmp_path, capsys, workspace_image) -> None:
    task, root = quick_task(tmp_path), tmp_path / "ws"
    extra = [
        "--workspace",
        "docker",
        "--image",
        workspace_image,
        "--run-id",
        "boxed",
        "--max-simulations",
        "2",
    ]
    code = solve(fake_models, task, root, *extra)
    out = capsys.readouterr().out
    assert code == 0, out
    check_finished_run(root / "boxed", 1, "SCG", out)


def test_interrupted_solve_then_resume(tmp_path, capsys) -> None:
    """Ctrl-C while the Researcher works leaves an interrupted run; `glia resume` finishes it."""
    interrupted = threading.Event()

    def researcher_interrupted_once(request) -> object:
        step = sum(1 for m in request.messages if m.get("role") == "assistant")
        if step == 1 and not interrupted.is_set():
            interrupted.set()
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does; the run's guard takes it
        return researcher(request)

    task, root = quick_task(tmp_path), tmp_path / "ws"
    with FakeLLMServer() as server:
        server.handler("researcher-model", researcher_interrupted_once)
        server.handler("supervisor-model", lambda request: reply("Fine.\nVERDICT: APPROVE"))
        code = solve(server, task, root, "--workspace", "local", "--run-id", "cut", "--max-simulations", "3")
        out = capsys.readouterr().out
        assert code == 1, out
        assert "Run cut: interrupted." in out and "Continue with: glia resume cut" in out
        run = json.loads((root / "cut" / "run.json").read_text())
        assert run["status"] == "interrupted"
        assert main(["runs", "--root", str(root)]) == 0
        assert "interrupted" in capsys.readouterr().out

        assert main(["resume", "cut", "--root", str(root)]) == 0
        out = capsys.readouterr().out
        assert f"Resuming run cut in {(root / 'cut').resolve()}" in out
        assert "Run cut: finished." in out
        assert server.problems == []
    run = json.loads((root / "cut" / "run.json").read_text())
    assert run["status"] == "finished", run.get("error")
    assert run["best"] is not None and run["best"]["score"] > 0, run.get("no_best_reason")
    notes = (root / "cut" / "ctx-1" / "notes.md").read_text()
    assert "> ⏸ **Session stopped (interrupted); resumed below.**" in notes
    assert "**Design:** weighted least-loaded" in notes
    assert "## The final design" in notes and "**Trusted score:" in notes
    assert notes.count("## The final design") == 1
