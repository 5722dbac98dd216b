"""The stack tasks end to end, in Docker: a scripted `glia solve` (fake models) in which the Researcher
writes the head-room design, Glia's trusted evaluation scores it against the reference baseline (the
design in a sandbox of its own, scoring exactly as in this process) and Glia keeps it. The solve's trusted
evaluation is the one `glia bench` runs; one solve per task, as each starts several containers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from llmsim.runner import metrics_of, simulate, summary_of

from glia.cli import main
from glia.task_kinds import load_task
from tests.fake_llm import FakeLLMServer, reply, tool_call
from tests.sim.design_helpers import fixture_class
from tests.tasks.conftest import FIXTURES, HEADROOM, STACK_TASKS, TEMPLATE, task_path
from tests.tasks.test_headroom import trusted_config

pytestmark = pytest.mark.docker

SOLVE = {"batch_scheduling": 1000, "autoscaling": 900, "slo_routing": 120}  # long enough for queues to form
CLASS = {
    "batch_scheduling": "AIReplicaScheduler",
    "autoscaling": "AIAutoscaler",
    "slo_routing": "AIGlobalScheduler",
}
SLOT_ARG = {"batch_scheduling": "scheduler_policy", "autoscaling": "autoscaler_cls", "slo_routing": "router"}


def in_process(name: str, seed: int, design_seed: int) -> dict:
    """The head-room design's summary in this process, with the trusted run's seeds and settings."""
    config = trusted_config(name, "ai", seed, duration=SOLVE[name])
    config.router_seed = design_seed
    design = fixture_class(HEADROOM[name], CLASS[name])
    classes = {SLOT_ARG[name]: design}
    router_cls = classes.pop("router", None)
    result = simulate(config, router_cls, **classes)
    return summary_of(result, metrics_of(result, config))


def sandboxed_design_summary(run_folder: Path) -> tuple[dict, int, int]:
    """(summary, seed, design seed) of the trusted run of the design (the only evaluation not a baseline)."""
    found = []
    for seeds_file in run_folder.rglob("seeds.json"):
        for path in sorted((seeds_file.parent / "results" / "main").glob("run-*/summary.json")):
            summary = json.loads(path.read_text())
            if "ai" in (summary.get("router"), summary.get("replica_scheduler"), summary.get("autoscaler")):
                plan = json.loads(seeds_file.read_text())["main"]
                found.append((summary, plan["seeds"][0], plan["design_seeds"][0]))
    assert len(found) == 1, len(found)
    return found[0]


def quick_task(name: str, folder: Path) -> Path:
    """The task with a cheap trusted evaluation: one public seed of a short main workload, one baseline."""
    text = task_path(name).read_text()
    text = text.replace("simulator: ../sim_repo_template", f"simulator: {TEMPLATE}")
    workloads = re.search(r"  workloads:\n(    - .*\n)+", text).group(0)
    main_line = workloads.splitlines()[1]
    main_line = re.sub(r"duration: \d+", f"duration: {SOLVE[name]}", main_line).replace(
        "seeds: 10", "seeds: [4]"
    )
    text = text.replace(workloads, "  workloads:\n" + main_line + "\n")
    reference = re.search(r"reference: (\w+)", text).group(1)
    text = re.sub(r"baselines: \[.*\]", f"baselines: [{reference}]", text)
    path = folder / f"quick_{name}.md"
    path.write_text(text)
    return path


def researcher_for(name: str):
    task = load_task(task_path(name))
    design_file = task.design_files[0]
    write = f"cat > {design_file} <<'PY'\n{(FIXTURES / HEADROOM[name]).read_text()}PY\necho design written"
    bench = f"{task.benchmark.command} --duration 60 | tail -3"

    def researcher(request):
        step = sum(1 for m in request.messages if m.get("role") == "assistant")
        if step == 0:
            return reply("Write the design.", [tool_call("bash", {"command": write})])
        if step == 1:
            return reply("Try it on a short run.", [tool_call("bash", {"command": bench})])
        summary = {
            "design": f"head-room {name} design",
            "evidence": "one short run",
            "tried_and_rejected": "none",
        }
        return reply("Done.", [tool_call("finish", summary)])

    return researcher


@pytest.mark.parametrize("name", STACK_TASKS)
def test_scripted_solve_finds_and_keeps_the_headroom_design(
    name, workspace_image, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GLIA_CONFIG", raising=False)
    task_file, root = quick_task(name, tmp_path), tmp_path / "ws"
    with FakeLLMServer() as server:
        server.handler("researcher-model", researcher_for(name))
        server.handler("supervisor-model", lambda request: reply("Evidence is adequate.\nVERDICT: APPROVE"))
        code = main(
            [
                "solve", str(task_file), "--root", str(root), "--run-id", "stack",
                "--researcher-model", "openai:researcher-model", "--supervisor-model", "openai:supervisor-model",
                "--base-url", server.openai_base_url, "--max-steps", "6", "--max-minutes", "20",
                "--max-simulations", "3", "--strategy", "scg",
            ]
        )  # fmt: skip
        assert server.problems == []
    out = capsys.readouterr().out
    assert code == 0, out
    run = json.loads((root / "stack" / "run.json").read_text())
    assert run["status"] == "finished", run.get("error")
    assert run["usage"]["simulations"] == 1
    best = run["best"]
    assert best is not None, run.get("no_best_reason")
    design_file = load_task(task_file).design_files[0]
    kept = (root / "stack" / "best" / Path(design_file).name).read_text()
    assert kept == (FIXTURES / HEADROOM[name]).read_text()
    assert all(b["valid"] for b in run["baselines"].values())
    assert best["improvement_over_reference"] > 0  # the trusted score beats the reference baseline
    # the design ran in a sandbox of its own, behind the channel; in this process it scores exactly the same
    summary, seed, design_seed = sandboxed_design_summary(root)
    ours = in_process(name, seed, design_seed)
    for key in load_task(task_file).metric.keys:
        assert summary[key] == ours[key], key
