"""A trusted evaluation spread over the real three-node cluster gives the verdict a local one gives.

The design is hosted apart (its own sandbox, the channel volume on the node), so each lane is a core
and a design sandbox on one node. The cluster's evaluator must run the simulations on several nodes at
once (both workers among them), verify every result on the driver, and score the design exactly as the
local Docker evaluator does with the same secret seeds.
"""

from __future__ import annotations

import json
import re

import pytest

from glia.cli import main
from glia.cluster import PLACEMENT
from glia.cluster.evaluation import NODES_FILE
from glia.evaluation import Evaluator
from glia.evaluation.secrets import SeedKey
from glia.task_kinds import load_task
from tests.orchestrator.e2e_support import DESIGN, run_containers, write_quick_task

pytestmark = pytest.mark.docker

ROUTER = """from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        def load(rid):
            replica = self.replicas[rid]
            return (2 * replica.num_pending_requests + replica.num_active_requests, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))
"""


def test_an_evaluation_spreads_over_nodes_with_the_local_verdict(
    ray_cluster, workspace_image, tmp_path
) -> None:
    path = write_quick_task(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"seeds: \[0\]", "seeds: [0, 1, 2]", text), encoding="utf-8")
    task = load_task(path)
    key = SeedKey.load_or_create(tmp_path / ".secrets")  # the same secret seeds for both evaluators
    nodes = {node_id: name for name, node_id in ray_cluster.node_ids().items()}

    with Evaluator(task, tmp_path / "local-eval", image=workspace_image, seed_key=key, workers=2) as local:
        expected = local.evaluate_design({DESIGN: ROUTER}, "router")
    spread = Evaluator(
        task,
        tmp_path / "cluster-eval",
        backend="ray",
        image=workspace_image,
        seed_key=key,
        reuse_sandboxes=True,
    )
    with spread:
        assert spread.workers == 6  # up to one simulation per slot (a built-in design's lanes)
        got = spread.evaluate_design({DESIGN: ROUTER}, "router")
        assert len(PLACEMENT.in_use()) == 3  # kept between evaluations, one lane a node
    assert PLACEMENT.in_use() == {}  # closing gave every slot back
    assert run_containers("cluster-eval") == []

    assert expected.valid and got.valid, (expected.reason, got.reason)
    assert got.isolation == expected.isolation == "sandbox"
    assert got.score == expected.score  # the same simulations, verified on the driver: the same numbers

    def values(evaluation):
        return [(s.seed, s.design_seed, s.values) for s in evaluation.workloads["main"].seeds]

    assert values(got) == values(expected) and len(values(got)) == 3
    assert got.simulations == expected.simulations == 3

    folder = next(
        p for p in (tmp_path / "cluster-eval" / "evaluations").iterdir() if p.name.startswith("router")
    )
    rows = json.loads((folder / NODES_FILE).read_text())
    ran_on = {nodes[row["node_id"]]: row["simulations"] for row in rows}
    assert ran_on == {"head": 1, "worker-1": 1, "worker-2": 1}  # three simulations on three nodes at once
    summaries = sorted((folder / "results" / "main").glob("run-*/summary.json"))
    assert len(summaries) == 3  # kept on the driver, as for a local evaluation
    logs = list((folder / "outputs").glob("lane-*/core/cmd-*.log"))
    assert len(logs) >= 3  # each simulation's command log, written here


def test_a_baseline_lane_takes_one_slot_and_opens_twice_the_lanes(
    ray_cluster, workspace_image, tmp_path
) -> None:
    """A built-in design (the llq router) has no design sandbox: its lane is the core alone, one slot, so
    the same cluster runs six of its simulations at once against three of a hosted design's."""
    path = write_quick_task(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"seeds: \[0\]", "seeds: [0, 1, 2, 3, 4, 5]", text), encoding="utf-8")
    task = load_task(path)
    nodes = {node_id: name for name, node_id in ray_cluster.node_ids().items()}
    evaluator = Evaluator(
        task, tmp_path / "lanes", backend="ray", image=workspace_image, reuse_sandboxes=True
    )
    with evaluator:
        design = evaluator.evaluate_design({DESIGN: ROUTER}, "router")
        assert PLACEMENT.in_use() == dict.fromkeys(nodes, 2)  # three pairs kept: two slots a node
        baseline = evaluator.evaluate_router("llq")
        assert PLACEMENT.in_use() == dict.fromkeys(nodes, 2)  # the pairs closed, six cores kept instead
        again = evaluator.evaluate_router("llq")  # the kept one-slot lanes serve the next baseline
        assert PLACEMENT.in_use() == dict.fromkeys(nodes, 2)
    assert PLACEMENT.in_use() == {}  # every slot given back, nothing left in use
    assert run_containers("lanes") == []
    assert design.valid and baseline.valid and again.valid, (design.reason, baseline.reason)
    assert design.simulations == baseline.simulations == again.simulations == 6
    assert baseline.score == again.score

    folders = sorted((tmp_path / "lanes" / "evaluations").iterdir(), key=lambda p: p.stat().st_mtime)
    by_label = {}
    for folder in folders:
        if (folder / NODES_FILE).exists():
            rows = json.loads((folder / NODES_FILE).read_text())
            by_label.setdefault(folder.name.split("-")[0], []).append(rows)
    (pairs,) = by_label["router"]
    assert [row["slots"] for row in pairs] == [2, 2, 2]  # one pair a node
    assert sorted(nodes[row["node_id"]] for row in pairs) == ["head", "worker-1", "worker-2"]
    assert sum(row["simulations"] for row in pairs) == 6
    first, second = by_label["llq"]
    for cores in (first, second):
        assert [row["slots"] for row in cores] == [1] * 6  # twice the lanes: two cores a node
        assert sorted(nodes[row["node_id"]] for row in cores) == sorted([*nodes.values()] * 2)
        assert sum(row["simulations"] for row in cores) == 6 and not any(row["lost"] for row in cores)
    assert {row["lane"] for row in first} == {row["lane"] for row in second}  # the same lanes, kept


def test_glia_bench_spreads_over_the_cluster(ray_cluster, workspace_image, tmp_path, capsys) -> None:
    task = write_quick_task(tmp_path)
    root = tmp_path / "workspaces"
    args = ["bench", str(task), "--router", "llq", "--image", workspace_image, "--root", str(root)]
    assert main([*args, "--cluster", ray_cluster.address]) == 0
    out = capsys.readouterr().out
    assert "backend ray" in out and "llq" in out
    (nodes_file,) = (root / "bench-llm_routing").glob(f"runs/*/evaluations/llq-*/{NODES_FILE}")
    (row,) = json.loads(nodes_file.read_text())  # one seed: one lane, on a node of the cluster
    assert row["simulations"] == 1 and row["node_id"] in ray_cluster.node_ids().values()
    assert PLACEMENT.in_use() == {}
    assert main([*args, "--cluster", "not an address"]) == 2  # a bad address is a usage error, in one line
    assert "is not a Ray address" in capsys.readouterr().err
