"""`glia solve` on an OpenEvolve-format problem, end to end with the fake model server, in Docker.

The Researcher (scripted) reads the evaluator, replaces the first-fit placement with a better heuristic,
runs the benchmark once and finishes; the Supervisor approves. Glia then scores the final program in the
trusted evaluation (program and evaluator in sandboxes of their own) and must pick it over the initial
program. The task is a task file naming the bundled problem folder, with a cheaper evaluation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.cli import main
from tests.fake_llm import FakeLLMServer, reply, tool_call
from tests.problems.support import FIXTURES

REPO_ROOT = Path(__file__).resolve().parents[2]
BETTER = (FIXTURES / "better_placement.py").read_text()
STEPS = [
    "sed -n 1,40p evaluator.py",
    f"cat > initial_program.py <<'PY'\n{BETTER}PY\necho written",
    "python glia_benchmark.py | tail -4",
]
FINISH = {
    "design": "dot-product packing, server by server",
    "evidence": "one benchmark run: combined_score up from the first-fit baseline",
    "tried_and_rejected": "first fit in arrival order",
}


def researcher(request) -> object:
    step = sum(1 for m in request.messages if m.get("role") == "assistant")
    if step < len(STEPS):
        return reply(f"Step {step + 1}.", [tool_call("bash", {"command": STEPS[step]})])
    return reply("Done.", [tool_call("finish", FINISH)])


def quick_task(folder: Path) -> Path:
    path = folder / "placement.md"
    path.write_text(
        "---\n"
        f"problem: {REPO_ROOT / 'tasks' / 'shard_placement'}\n"
        "name: placement_quick\n"
        "workloads: [{name: main, mix: standard, seeds: [0, 1]}]\n"
        "budgets: {simulations: 3, steps: 10, wall_time_min: 15}\n"
        "---\n"
        "Servers are expensive: use as few as you can.\n"
    )
    return path


@pytest.mark.docker
def test_solve_a_problem_folder_picks_the_improved_program(
    tmp_path: Path, capsys, workspace_image: str
) -> None:
    task, root = quick_task(tmp_path), tmp_path / "ws"
    with FakeLLMServer() as server:
        server.handler("researcher-model", researcher)
        server.handler("supervisor-model", lambda request: reply("Evidence is adequate.\nVERDICT: APPROVE"))
        code = main([
            "solve", str(task), "--root", str(root), "--researcher-model", "openai:researcher-model",
            "--supervisor-model", "openai:supervisor-model", "--base-url", server.openai_base_url,
            "--workspace", "docker", "--image", workspace_image, "--run-id", "problem", "--strategy", "scg",
        ])  # fmt: skip
        out = capsys.readouterr().out
        assert server.problems == []
        conversations = [str(r.messages) for r in server.requests_for("researcher-model")]
    assert code == 0, out
    assert any("Servers are expensive" in c and "python glia_benchmark.py" in c for c in conversations)
    run = json.loads((root / "problem" / "run.json").read_text())
    assert run["status"] == "finished", run.get("error")
    baseline = run["baselines"]["initial_program"]
    assert baseline["valid"], baseline
    assert run["usage"]["simulations"] == 1  # the benchmark run, counted by the ledger
    best = run["best"]
    assert best is not None, run.get("no_best_reason")
    assert best["score"] > baseline["score"] * 1.15, (best, baseline)
    assert (root / "problem" / "best" / "initial_program.py").read_text() == BETTER
    transcript = (root / "problem" / "ctx-1" / "transcript.jsonl").read_text().splitlines()
    simulations = [json.loads(line) for line in transcript if json.loads(line)["type"] == "simulation"]
    assert [(s["kind"], s["valid"]) for s in simulations] == [("claim", True)]
    assert simulations[0]["claimed_score"] > 0.9
    assert f"Best trusted score {best['score']:.3f}" in out
