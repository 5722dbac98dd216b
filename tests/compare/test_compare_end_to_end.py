"""`glia compare` from plan to report on real run folders: four methods, two repeats, a simulation budget
of 2, the fake model in every role, a Ctrl-C in the middle and a resume. The table, the figures and the
report must agree with what the run folders hold, and a method that stops early must be reported so."""

from __future__ import annotations

import csv
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from glia.cli import main
from glia.compare.execute import run_plan
from glia.compare.outputs import write_outputs
from glia.compare.plan import ComparePlan, load_state, new_state, parse_methods, save_state
from glia.evaluation.stats import bootstrap_mean_ci
from glia.run_store import load_run
from tests.blackbox.support import MODEL, NO_CODE, Roles, good, simple_problem, unique
from tests.compare.support import SimpleEvaluator
from tests.fake_llm import FakeLLMServer

pytestmark = pytest.mark.docker


def test_a_comparison_runs_resumes_and_reports_from_its_run_folders(
    tmp_path: Path, workspace_image: str
) -> None:
    problem = simple_problem(tmp_path)
    root = tmp_path / "workspaces"
    plan = ComparePlan(
        compare_id=unique("cmp"),
        task_path=problem,
        task_name="simple",
        methods=parse_methods("scg,sample,loop,openevolve"),
        budgets=[2],
        repeats=2,
        researcher_model=MODEL,
        supervisor_model=MODEL,
        workspaces_root=root,
        max_steps=20,
        blackbox={"workers": 1},
    )
    save_state(plan.folder, new_state(plan))
    roles = Roles([good(2), good(9), NO_CODE, good(4)], edits=[6, 1, 8], researcher_k=[5])
    started: list[str] = []

    def progress(event: dict[str, Any]) -> None:  # Ctrl-C during the third run's first candidate
        if event.get("event") == "run_started":
            started.append("run")
        if len(started) == 3 and event.get("event") == "candidate" and event.get("n") == 1:
            os.kill(os.getpid(), signal.SIGINT)

    with FakeLLMServer() as server:
        server.handler("*", roles)
        plan.base_url = server.openai_base_url
        first = run_plan(plan, say=lambda _: None, evaluator_factory=SimpleEvaluator, progress=progress)
        state = load_state(plan.folder)
        assert first == "interrupted"
        statuses = [state["runs"][e.run_id]["status"] for e in plan.entries()]
        assert statuses[:3] == ["finished", "finished", "interrupted"] and set(statuses[3:]) == {"pending"}
        second = run_plan(plan, say=lambda _: None, evaluator_factory=SimpleEvaluator)
    assert second == "finished"
    state = load_state(plan.folder)
    third = plan.entries()[2]
    assert (
        state["runs"][third.run_id]["attempts"] == 2 and len(load_run(root / third.run_id)["sessions"]) == 2
    )
    assert all(item["status"] == "finished" for item in state["runs"].values())

    written = write_outputs(plan)
    rows = {row["method"]: row for row in csv.DictReader(written["csv"].open())}
    assert set(rows) == {"SCG", "Sample", "Loop", "OpenEvolve"}
    for spec in plan.methods:
        runs = [load_run(root / e.run_id) for e in plan.entries() if e.method == spec.key]
        scores = [r["best"]["score"] for r in runs]
        row = rows[spec.label]
        assert int(row["runs"]) == 2
        assert float(row["trusted_mean"]) == pytest.approx(sum(scores) / 2)
        low, high = bootstrap_mean_ci(scores)
        assert float(row["ci_low"]) == pytest.approx(low, rel=1e-5) and float(
            row["ci_high"]
        ) == pytest.approx(high, rel=1e-5)
        assert float(row["best"]) == max(scores)
        assert float(row["simulations_mean"]) == pytest.approx(
            sum(r["usage"]["simulations"] for r in runs) / 2
        )
        assert float(row["dollars_total"]) == pytest.approx(
            sum(r["usage"]["dollars"] for r in runs), rel=1e-5
        )
    # SCG's Researcher wrote one design and finished: it could not spend its second simulation
    assert rows["SCG"]["runs_stopped_early"] == "2" and rows["SCG"]["simulations_mean"] == "1.000"
    assert rows["Sample"]["runs_stopped_early"] == "0"
    for name in ("bars-2", "curves-2", "histogram-2"):
        image = written[name].read_bytes()
        assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 10_000
    report = written["report"].read_text()
    assert "## Results with a budget of 2 simulations" in report and "## The model as it is" in report
    assert "SCG stopped before spending its budget in 2 of 2 run(s)" in report
    assert all(f"`{e.run_id}`" in report for e in plan.entries())
    results = json.loads(written["results"].read_text())
    curves = {r["run_id"]: r["curve"] for r in results["runs"]}
    for entry in plan.entries():
        timeline = load_run(root / entry.run_id)["timeline"]
        trusted = [p for p in timeline if p["kind"] == "trusted" and p.get("valid") is not False]
        assert curves[entry.run_id][-1][1] == max(p["score"] for p in trusted)
    # the CLI rewrites the same outputs from the folder alone
    assert main(["compare", "--report", str(plan.folder)]) == 0
