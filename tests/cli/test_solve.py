"""`glia solve` end to end: real orchestrator, contexts, simulator and evaluator; a fake model server.

The task is the bundled routing task made cheap: one workload of two seeds, 100 simulated seconds, two
baselines, and benchmark conditions under which the scripted 100-second benchmark is a claim (any other
router or duration is an experiment). The runs of this module share one workspaces root, so the
baselines are measured once. The failure stories of the run's record (failed runs, a live run's lock,
kill -9 and recovery, rejected designs) are in `test_run_record_e2e.py`.
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
from tests.orchestrator.e2e_support import ConversationScript, quick_claims

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
ONE_REPLICA = f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        return self.route_all(lambda request: 0)
PY
echo written"""
BENCHMARK = "python -m llmsim run --router ai --qps 7.5 --seed 0 --duration 100 | tail -1"
EXPERIMENT = "python -m llmsim run --router llq --qps 7.5 --seed 0 --duration 50 | tail -1"
SUMMARY = {"design": "weighted least-loaded", "evidence": "one benchmark run", "tried_and_rejected": "none"}


def quick_task(folder: Path) -> Path:
    """tasks/llm_routing.md with a cheap trusted evaluation (same simulator, same rules)."""
    text = (REPO_ROOT / "tasks" / "llm_routing.md").read_text()
    text = text.replace("simulator: ../sim_repo_template", f"simulator: {REPO_ROOT / 'sim_repo_template'}")
    text = re.sub(
        r"  workloads:\n(    - .*\n)+",
        "  workloads:\n    - {name: main, qps: 7.5, duration: 100, seeds: [0, 1]}\n",
        text,
    )
    text = text.replace("baselines: [random, round_robin, llq, lor]", "baselines: [random, llq]")
    text = quick_claims(text)
    path = folder / "quick_routing.md"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> Path:
    return quick_task(tmp_path_factory.mktemp("task"))


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """One workspaces root for the module: the baselines are measured once (cached per task)."""
    return tmp_path_factory.mktemp("workspaces")


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
    return reply("Done.", [tool_call("finish", SUMMARY)])


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
            "15",
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
    assert "Cores: " in out  # the cores it plans to use, said once at the start (glia/cores.py)
    # Notes for every context, written by the context loop from the transcript.
    for k in range(1, contexts + 1):
        notes = (run_dir / f"ctx-{k}" / "notes.md").read_text()
        assert re.search(r"## 🧪 Simulation \d+ · claimed [0-9.]+ · ★ new best", notes), notes[-3000:]
        assert "## The final design" in notes and "**Trusted score:" in notes
    # The report and the plot, written at the end of solve.
    report = (run_dir / "report.md").read_text()
    best = run["best"]
    assert f"**Best trusted score: {best['score']:.3f}**" in report
    assert f"| ctx-{best['context']} | {best['score']:.3f} |" in report
    assert "| baseline `llq` |" in report and "| baseline `random` |" in report
    assert "## Claims against trusted verdicts" in report
    assert "route_all" in report  # the best design's code
    png = (run_dir / "progress.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (880, 528)
    assert len(png) > 20_000
    # Summary lines printed at the end, and the run's log file.
    gain = best["improvement_over_reference"]
    assert f"Best trusted score {best['score']:.3f} from ctx-{best['context']}, {gain:+.1%} vs llq" in out
    log_lines = (run_dir / "glia.log").read_text().splitlines()
    assert log_lines and all(json.loads(line)["event"] for line in log_lines)
    assert not (run_dir / "run.lock").read_text()  # released, and the holder note cleared
    return run


def test_solve_scg_with_an_experiment_and_a_live_trusted_curve(task, root, capsys) -> None:
    """A bad design, an experiment, then a good design: the experiment is shown everywhere but never
    ranked; both claims that improved the best are judged as the run goes (a curve, not one dot)."""
    steps = [("One replica first.", ONE_REPLICA), ("Benchmark it.", BENCHMARK),
             ("How does LLQ do on a short load?", EXPERIMENT), ("Balance load.", ROUTER),
             ("Benchmark it.", BENCHMARK)]  # fmt: skip

    def story(request) -> object:
        step = sum(1 for m in request.messages if m.get("role") == "assistant")
        if step < len(steps):
            text, command = steps[step]
            return reply(text, [tool_call("bash", {"command": command})])
        return reply("Done.", [tool_call("finish", SUMMARY)])

    with FakeLLMServer() as server:
        server.handler("researcher-model", story)
        server.handler("supervisor-model", lambda request: reply("Evidence is adequate.\nVERDICT: APPROVE"))
        code = solve(server, task, root, "--strategy", "scg", "--workspace", "local", "--unsafe-local-workspace",
                     "--run-id", "one", "--max-simulations", "6")  # fmt: skip
        supervisor_text = json.dumps([r.body for r in server.requests_for("supervisor-model")])
        assert server.problems == []
    out = capsys.readouterr().out
    assert code == 0, out
    run = check_finished_run(root / "one", 1, "SCG", out)
    assert run["usage"]["simulations"] == 3
    notes = (root / "one" / "ctx-1" / "notes.md").read_text()
    heads = [line for line in notes.splitlines() if line.startswith("## 🧪")]
    assert heads[0].startswith("## 🧪 Simulation 1 · claimed ") and heads[0].endswith("★ new best")
    assert heads[1].startswith("## 🧪 Simulation 2 · experiment (router llq, workload generated:")
    assert heads[1].endswith("not ranked against claims") and "mean_e2e" in heads[1]
    assert heads[2].startswith("## 🧪 Simulation 3 · claimed ") and heads[2].endswith("★ new best")
    assert re.search(
        r"\| experiment: <<untrusted-[0-9a-f]{16}>>router llq", supervisor_text
    )  # the table marks it
    # the trusted curve: both improving designs judged while the run went on, the good one lower
    curve = [(p["simulations"], p["score"]) for p in run["timeline"] if p["kind"] == "trusted" and p["valid"]]
    assert [x for x, _ in curve] == [1, 3] and curve[1][1] < curve[0][1], curve
    assert run["live_judging"]["used"] == 2
    report = (root / "one" / "report.md").read_text()
    assert "| ctx-1 |" in report and "3 (1 experiment)" in report
    # the read-only commands on the run solve left behind
    assert main(["runs", "--root", str(root)]) == 0
    assert re.search(r"│ one +│ finished", capsys.readouterr().out)
    assert main(["show", "one", "--root", str(root)]) == 0
    shown = capsys.readouterr().out
    assert "Research notes · ctx-1" in shown and "experiment (router llq" in shown


def test_solve_mcg_par2_flags_a_context_that_changed_the_simulator(task, root, capsys) -> None:
    def work(conversation: int) -> list[str]:
        edit = ["echo '# tuned by the researcher' >> llmsim/memory_planner.py"] if conversation == 1 else []
        return [*edit, ROUTER.replace("2 * replica", f"{conversation + 1} * replica"), BENCHMARK]

    script = ConversationScript({"work": work}, phase="work")
    with FakeLLMServer() as server:
        server.handler("researcher-model", script)
        server.handler("supervisor-model", lambda request: reply("Evidence is adequate.\nVERDICT: APPROVE"))
        code = solve(server, task, root, "--strategy", "mcg-par", "--contexts", "2", "--workspace", "local",
                     "--unsafe-local-workspace", "--run-id", "par", "--max-simulations", "4")  # fmt: skip
        assert server.problems == []
    out = capsys.readouterr().out
    assert code == 0, out
    run = check_finished_run(root / "par", 2, "MCG-Par2", out)
    assert run["usage"]["simulations"] == 2
    report = (root / "par" / "report.md").read_text()
    table = report[report.index("## Claims against trusted verdicts") :].split("\n\n")[2]
    flagged = [line for line in table.splitlines() if "⚠ `llmsim/memory_planner.py`" in line]
    assert len(flagged) == 1, table
    editor = int(flagged[0].split("|")[1].strip().removeprefix("ctx-"))
    assert "memory_planner" in (root / "par" / f"ctx-{editor}" / "transcript.jsonl").read_text()
    other = next(line for line in table.splitlines() if line.startswith(f"| ctx-{3 - editor} |"))
    assert "| none |" in other
    if run["best"]["context"] == editor:  # the chosen design's own changes are spelled out by it
        assert "> **⚠ This context also changed `llmsim/memory_planner.py`.**" in report


def test_solve_mcg_seq(fake_models, task, root, capsys) -> None:
    extra = ["--strategy", "mcg-seq", "--workspace", "local", "--unsafe-local-workspace", "--run-id", "seq",
             "--max-simulations", "2"]  # fmt: skip
    code = solve(fake_models, task, root, *extra)
    out = capsys.readouterr().out
    assert code == 0, out
    run = check_finished_run(root / "seq", 2, "MCG-Seq", out)
    assert run["usage"]["simulations"] == 2


@pytest.mark.docker
def test_solve_in_docker(fake_models, task, root, capsys, workspace_image) -> None:
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


def test_interrupted_solve_then_resume(task, root, capsys) -> None:
    """Ctrl-C while the Researcher works leaves an interrupted run (exit 130, as a shell reports a
    command stopped by Ctrl-C); `glia resume` finishes it and shows the context running again."""
    interrupted = threading.Event()

    def researcher_interrupted_once(request) -> object:
        step = sum(1 for m in request.messages if m.get("role") == "assistant")
        if step == 1 and not interrupted.is_set():
            interrupted.set()
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does; the run's guard takes it
        if step == 2:  # resumed: the benchmark the stop cut off (slow enough to be seen running)
            return reply("Benchmark it again.", [tool_call("bash", {"command": f"sleep 2 && {BENCHMARK}"})])
        return researcher(request)

    with FakeLLMServer() as server:
        server.handler("researcher-model", researcher_interrupted_once)
        server.handler("supervisor-model", lambda request: reply("Fine.\nVERDICT: APPROVE"))
        code = solve(server, task, root, "--workspace", "local", "--unsafe-local-workspace", "--run-id", "cut",
                     "--max-simulations", "3")  # fmt: skip
        out = capsys.readouterr().out
        assert code == 130, out
        assert "Run cut: interrupted." in out and "Continue with: glia resume cut" in out
        run = json.loads((root / "cut" / "run.json").read_text())
        assert run["status"] == "interrupted"
        assert main(["runs", "--root", str(root)]) == 0
        assert re.search(r"│ cut +│ interrupted", capsys.readouterr().out)

        # a run made on the unsafe local workspace needs the opt-in again to continue
        assert main(["resume", "cut", "--root", str(root)]) == 2
        assert "--unsafe-local-workspace" in capsys.readouterr().err
        assert main(["resume", "cut", "--root", str(root), "--unsafe-local-workspace"]) == 0
        out = capsys.readouterr().out
        assert f"Resuming run cut in {(root / 'cut').resolve()}" in out
        assert "Run cut: finished." in out
        resumed_lines = out[out.index("Resuming run cut") :].splitlines()
        assert any(line.startswith("ctx-1: running |") for line in resumed_lines), out
        assert server.problems == []
    run = json.loads((root / "cut" / "run.json").read_text())
    assert run["status"] == "finished", run.get("error")
    assert run["best"] is not None and run["best"]["score"] > 0, run.get("no_best_reason")
    notes = (root / "cut" / "ctx-1" / "notes.md").read_text()
    assert "> ⏸ **Session stopped (interrupted); resumed below.**" in notes
    assert "Design:\nweighted least-loaded" in notes
    assert "## The final design" in notes and "**Trusted score:" in notes
    assert notes.count("## The final design") == 1
