"""A worker node dies in the middle of a trusted evaluation spread over the real cluster.

The evaluation's two simulations run on two lanes (a core and a design sandbox on one node each), one
of them on a worker node. That node's raylet is SIGKILLed while its simulation runs: the lost lane must
be dropped and its node left out, the evaluation run again on the nodes left, and the verdict must be
the one a local Docker evaluation gives, with every simulation of the kept attempt counted once.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from glia.cluster import PLACEMENT
from glia.cluster.evaluation import NODES_FILE
from glia.evaluation import Evaluator
from glia.evaluation.secrets import SeedKey
from glia.task_kinds import load_task
from tests.orchestrator.e2e_support import DESIGN, run_containers, write_quick_task

pytestmark = pytest.mark.docker

SEEDS = 2
PAUSE_S = 30  # the design's first decision waits this long: the node dies while its simulation runs
# Least-loaded routing that pauses once (wall-clock, no CPU) before its first decision, so each simulation
# lasts well over the test's wait whatever the load; the pause changes no simulated number.
SLOW_ROUTER = f"""import time

from llmsim.global_schedulers.base import GlobalScheduler

_paused = []


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        if not _paused:
            _paused.append(True)
            time.sleep({PAUSE_S})

        def load(rid):
            replica = self.replicas[rid]
            return (2 * replica.num_pending_requests + replica.num_active_requests, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))
"""


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_dying_mid_evaluation_is_redone_on_the_others(
    ray_cluster, workspace_image, tmp_path
) -> None:
    path = write_quick_task(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"seeds: \[0\]", "seeds: [0, 1]", text)
    path.write_text(text, encoding="utf-8")
    task = load_task(path)
    key = SeedKey.load_or_create(tmp_path / ".secrets")  # the same secret seeds for both evaluators
    names = {node_id: name for name, node_id in ray_cluster.node_ids().items()}

    with Evaluator(
        task, tmp_path / "local-eval", image=workspace_image, seed_key=key, workers=SEEDS, static_checks=False
    ) as local:
        expected = local.evaluate_design({DESIGN: SLOW_ROUTER}, "router")
    assert expected.valid, expected.reason

    spread = Evaluator(
        task,
        tmp_path / "fault-eval",
        backend="ray",
        image=workspace_image,
        seed_key=key,
        static_checks=False,  # the task's checks allow no `time`; the sandbox is the guarantee
        reuse_sandboxes=True,
    )
    outcome: dict = {}
    killed = None
    with spread:
        worker = threading.Thread(
            target=lambda: outcome.setdefault("got", spread.evaluate_design({DESIGN: SLOW_ROUTER}, "router"))
        )
        worker.start()
        try:
            # Both simulations started, on two lanes (two nodes, at least one a worker): kill that worker.
            _wait_for(lambda: spread.simulations_run >= SEEDS and len(PLACEMENT.in_use()) == SEEDS, 300,
                      "both simulations to start on two nodes")  # fmt: skip
            lanes = PLACEMENT.in_use()
            victim = next(node for node in lanes if names[node] != "head")
            time.sleep(3.0)  # into the simulation (each takes over PAUSE_S)
            assert worker.is_alive() and spread.simulations_run == SEEDS, "the first attempt ended too soon"
            killed = names[victim]
            ray_cluster.kill_node(killed)
            worker.join(timeout=600)
        finally:
            worker.join(timeout=600)
            if killed:
                ray_cluster.add_node(killed)  # the cluster whole again for the tests after this one
        assert not worker.is_alive(), "the evaluation did not end"
        got = outcome["got"]
    assert PLACEMENT.in_use() == {}  # the lost lane's slots and the kept ones given back
    assert "*" in {image for node, image in PLACEMENT.refused() if node == victim}  # the dead node left out

    # Redone elsewhere: the same verdict as on a workstation, the kept attempt counted once.
    assert got.valid, got.reason
    assert "the core sandbox was lost" in (got.retried or "")
    assert got.score == expected.score

    def values(evaluation):
        return [(s.seed, s.design_seed, s.values) for s in evaluation.workloads["main"].seeds]

    assert values(got) == values(expected) and len(values(got)) == SEEDS
    assert got.simulations == expected.simulations == SEEDS
    assert spread.simulations_run == 2 * SEEDS  # both started twice: the lost attempt, then the kept one

    folder = next(
        p for p in (tmp_path / "fault-eval" / "evaluations").iterdir() if p.name.startswith("router")
    )
    rows = json.loads((folder / NODES_FILE).read_text())
    first = [row for row in rows if row["attempt"] == 1]
    second = [row for row in rows if row["attempt"] == 2]
    assert {row["attempt"] for row in rows} == {1, 2}
    assert {row["node_id"] for row in first} == set(lanes)
    assert [row["lost"] for row in first if row["node_id"] == victim] == [True]
    assert sum(row["simulations"] for row in second) == SEEDS  # each simulation redone once
    assert victim not in {row["node_id"] for row in second} and not any(row["lost"] for row in second)
    assert len(sorted((folder / "results" / "main").glob("run-*/summary.json"))) == SEEDS
    _wait_for(lambda: run_containers("fault-eval") == [], 120, "the evaluation's containers to go")
