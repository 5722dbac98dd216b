"""A whole MCG-Par2 run on a real three-node Ray cluster, with a worker node killed in the middle.

Real contexts, the real SDKs against the fake model server, real Docker sandboxes started by actors on
the nodes, the ledger over the relay, the real trusted evaluator on the driver. The node holding one
context dies (its raylet is SIGKILLed) while a simulation runs there: the context must carry on in a
new sandbox on another node, restored from its history and told so, and every count must be exact.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from glia.cluster import PLACEMENT
from glia.cluster.evaluation import NODES_FILE
from glia.cluster.workspace import REPLACED_NOTE
from glia.evaluation import Evaluator
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.progress import progress_table, read_run
from glia.record.transcript import TRANSCRIPT_FILE, read_events
from glia.run_store import context_dir, load_run
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from glia.workspace import create_workspace
from glia.workspace.base import WorkspaceError
from tests.fake_llm import FakeLLMServer
from tests.orchestrator.e2e_support import (
    BENCHMARK,
    ConversationScript,
    approve,
    router_command,
    run_containers,
    write_quick_task,
)

pytestmark = pytest.mark.docker

# An experiment (not a claim: another duration) that runs far longer than the test waits for it.
LONG_SIMULATION = "timeout 25 python -m llmsim run --router ai --qps 7.5 --seed 1 --duration 30000 | tail -1; echo long done"


def fault_phase(conversation: int) -> list[str]:
    return [router_command(pending_weight=conversation + 1), LONG_SIMULATION, BENCHMARK]


def _events(run_dir: Path, index: int) -> list[dict]:
    return read_events(context_dir(run_dir, index) / TRANSCRIPT_FILE)


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_mcg_par2_spreads_over_nodes_and_survives_a_dead_worker(
    ray_cluster, workspace_image, tmp_path
) -> None:
    nodes = ray_cluster.node_ids()
    script = ConversationScript({"fault": fault_phase}, phase="fault")
    config_kwargs = dict(
        task_path=write_quick_task(tmp_path),
        strategy="mcg-par-2",
        researcher_model="openai:researcher-model",
        supervisor_model="openai:supervisor-model",
        budgets=BudgetLimits(steps=20, simulations=10),
        workspaces_root=tmp_path / "workspaces",
        image=workspace_image,
        run_id="cluster-par2",
        cluster=ray_cluster.address,
    )
    with FakeLLMServer() as server:
        server.handler("researcher-model", script)
        server.handler("supervisor-model", approve)
        run_dir = prepare_run(RunConfig(base_url=server.openai_base_url, **config_kwargs))
        outcome: dict = {}
        killed = None

        runner = threading.Thread(target=lambda: outcome.setdefault("result", execute_run(run_dir)))
        runner.start()
        try:
            placed = lambda: [c.get("node") for c in load_run(run_dir).get("contexts", [])]  # noqa: E731
            _wait_for(lambda: len([n for n in placed() if n]) == 2, 180, "both contexts placed")
            first = {c["context"]: c["node"] for c in load_run(run_dir)["contexts"]}
            assert first[1]["node_id"] != first[2]["node_id"]  # spread: one context per node
            by_id = {node_id: name for name, node_id in nodes.items()}
            victim = next(i for i in (1, 2) if by_id[first[i]["node_id"]] != "head")
            other = 3 - victim

            def simulating(index: int) -> bool:
                return any(e.get("type") == "simulation_started" for e in _events(run_dir, index))

            _wait_for(lambda: simulating(victim), 180, "the long simulation to start on the victim's node")
            killed = by_id[first[victim]["node_id"]]
            ray_cluster.kill_node(killed)
        finally:
            runner.join(timeout=600)
            if killed:
                ray_cluster.add_node(killed)  # the cluster whole again for the tests after this one
        assert not runner.is_alive(), "the run did not end"
        assert server.problems == []

    result = outcome["result"]
    assert result.status == "finished"
    run = load_run(run_dir)
    contexts = {c["context"]: c for c in run["contexts"]}
    assert {c["end_reason"] for c in contexts.values()} == {"finished"}

    # The victim went on on another live node, said so to its Researcher, and was restored from history.
    moved = contexts[victim]["node"]
    assert moved["replaced"] == 1 and moved["node_id"] != first[victim]["node_id"]
    assert contexts[other]["node"] == first[other]
    events = _events(run_dir, victim)
    replaced = [e for e in events if e.get("type") == "tool_result" and REPLACED_NOTE in str(e.get("output"))]
    assert len(replaced) == 1
    # The benchmark after the replacement ran the router written before it: the repository came back.
    assert contexts[victim]["best_claimed"] is not None and contexts[victim]["trusted"][0]["valid"] is True

    # One budget, exact: each context started the long experiment and the benchmark, charged once each;
    # the victim's experiment died with its node and is recorded as lost, not charged again.
    assert run["usage"]["simulations"] == 4
    assert contexts[1]["simulations"] == contexts[2]["simulations"] == 2
    victim_sims = [e for e in events if e.get("type") == "simulation"]
    assert len([e for e in events if e.get("type") == "simulation_started"]) == 2
    assert [e.get("outcome") for e in victim_sims].count("lost") == 1
    assert sorted(PLACEMENT.in_use().values()) == []  # every slot given back
    assert run_containers("cluster-par2") == []  # the actors removed their containers, the dead node's too
    logs = sorted((context_dir(run_dir, victim) / "outputs").glob("cmd-*.log"))
    assert logs and any(b"router written" in p.read_bytes() for p in logs)  # logs live on the driver
    assert json.loads((run_dir / "run.json").read_text())["config"]["cluster"] == ray_cluster.address

    # The live table says where each context runs, and that the victim moved.
    console = Console(record=True, width=200)
    console.print(progress_table(read_run(run_dir)))
    table = console.export_text()
    assert "node" in table and "(moved 1x)" in table and moved["ip"] in table
    # The trusted evaluations ran on the cluster too: each says on which nodes.
    spread = list((run_dir / "evaluations").glob(f"*/{NODES_FILE}"))
    assert spread and all(row["simulations"] >= 0 for path in spread for row in json.loads(path.read_text()))


def test_a_node_without_the_image_is_refused_by_name(ray_cluster, tmp_path) -> None:
    workspace = create_workspace(
        "ray", tmp_path / "out", "cluster-refused", "ctx-1", image="glia-no-such-image:0"
    )
    try:
        with pytest.raises(WorkspaceError) as caught:
            workspace.start()
    finally:
        workspace.close()
    message = str(caught.value)
    assert "cannot host a Glia sandbox" in message and "glia image build" in message
    refused = PLACEMENT.refused()
    assert {image for _, image in refused if "glia image build" in refused[(_, image)]} == {
        "glia-no-such-image:0"
    }
    assert PLACEMENT.nodes("glia-workspace:latest")  # the nodes still take sandboxes of the real image

    # A trusted evaluation asks every node in turn, then says why none can run it (no design blamed twice).
    task = load_task(write_quick_task(tmp_path))
    with Evaluator(task, tmp_path / "eval", backend="ray", image="glia-no-such-image:0") as evaluator:
        result = evaluator.evaluate_router("llq")
    assert not result.valid and "no cluster node can host a sandbox" in (result.reason or "")
    assert (result.reason or "").count("cannot host a Glia sandbox") == len(ray_cluster.nodes)
    assert PLACEMENT.in_use() == {} and len(PLACEMENT.nodes("glia-workspace:latest")) == len(
        ray_cluster.nodes
    )
