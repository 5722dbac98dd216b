"""A two-repeat comparison on the real three-node cluster: its runs go at once, each on the cluster.

The fake model plays the Researcher and the Supervisor; each SCG run writes a design and benchmarks it
in its sandbox on a node (the simulation charged over the ledger relay), and the trusted evaluations are
the comparison tests' instant stand-in. The runs must overlap in time, each say where its context ran,
spend exactly their one simulation each, and the report must count both.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from glia.cluster import PLACEMENT
from glia.cluster.connect import CLUSTER_ENV
from glia.cluster.evaluation import runs_at_once
from glia.compare.execute import run_plan
from glia.compare.outputs import write_outputs
from glia.compare.plan import ComparePlan, load_state, new_state, parse_methods, save_state
from glia.run_store import load_run
from tests.blackbox.support import MODEL, Roles, simple_problem, unique
from tests.compare.support import SimpleEvaluator
from tests.fake_llm import FakeLLMServer

pytestmark = pytest.mark.docker


def test_a_two_repeat_comparison_runs_its_runs_at_once_on_the_cluster(
    ray_cluster, workspace_image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CLUSTER_ENV, ray_cluster.address)  # what `glia compare --cluster` hands its runs
    root = tmp_path / "workspaces"
    plan = ComparePlan(
        compare_id=unique("cmp-cluster"),
        task_path=simple_problem(tmp_path),
        task_name="simple",
        methods=parse_methods("scg"),
        budgets=[2],
        repeats=2,
        researcher_model=MODEL,
        supervisor_model=MODEL,
        workspaces_root=root,
        max_steps=20,
        image=workspace_image,
    )
    save_state(plan.folder, new_state(plan))
    at_once = runs_at_once(1)
    assert at_once == 2  # six slots: a context and an evaluation lane per run
    with FakeLLMServer() as server:
        server.handler("*", Roles([], researcher_k=[5]))
        plan.base_url = server.openai_base_url
        status = run_plan(plan, say=lambda _: None, evaluator_factory=SimpleEvaluator, at_once=at_once)
    assert status == "finished"
    state = load_state(plan.folder)
    assert [state["runs"][e.run_id]["status"] for e in plan.entries()] == ["finished", "finished"]

    runs = [load_run(root / e.run_id) for e in plan.entries()]
    contexts = [run["contexts"][0] for run in runs]
    nodes = set(ray_cluster.node_ids().values())
    assert all(c["node"]["node_id"] in nodes for c in contexts)  # each context's sandbox on a node
    starts = [datetime.fromisoformat(c["started"]) for c in contexts]
    ends = [datetime.fromisoformat(c["ended"]) for c in contexts]
    assert max(starts) < min(ends)  # the two runs were under way together
    assert [run["usage"]["simulations"] for run in runs] == [1, 1]  # one budget per run, exact
    assert [run["best"]["score"] for run in runs] == [8.0, 8.0]
    assert PLACEMENT.in_use() == {}

    written = write_outputs(plan)
    rows = {row["method"]: row for row in csv.DictReader(written["csv"].open())}
    assert rows["SCG"]["runs"] == "2" and float(rows["SCG"]["trusted_mean"]) == 8.0
