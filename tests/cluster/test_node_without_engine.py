"""A node without a Docker engine is refused in one line naming the node and the fix; the run goes on.

A fourth node joins the real cluster declaring sandbox slots, but its environment points Docker at a
socket that does not exist (its raylet's environment, which its actors inherit): to Glia it is a
machine with no engine. Sandboxes are placed on the node with the most free slots, so filling the
cluster's working nodes must try it; it must be left out for every image, with the reason, while every
sandbox starts on the other nodes and nothing is left in use. The node is removed again afterwards.
"""

from __future__ import annotations

import pytest

from glia.cluster import PLACEMENT, RayWorkspace
from tests.orchestrator.e2e_support import run_containers

pytestmark = pytest.mark.docker

NO_ENGINE = "unix:///nonexistent-glia-engine.sock"


def test_a_node_without_docker_is_refused_and_the_others_take_the_sandboxes(
    ray_cluster, workspace_image, tmp_path
) -> None:
    working = set(ray_cluster.node_ids().values())
    ray_cluster.add_node("no-engine", env={"DOCKER_HOST": NO_ENGINE})
    try:
        bad = ray_cluster.node_ids()["no-engine"]
        assert PLACEMENT.nodes(workspace_image)[bad] == 2  # it declares slots like the others
        workspaces = [
            RayWorkspace(tmp_path / f"outputs-{n}", "no-engine-run", f"ctx{n}", image=workspace_image)
            for n in range(len(working) + 1)
        ]  # one more than the working nodes: the node with the most free slots is tried before the last
        try:
            for workspace in workspaces:
                workspace.start()
            placed = [workspace.where["node_id"] for workspace in workspaces]
            assert set(placed) <= working and bad not in placed  # every sandbox on a node with an engine
            assert all(w.exec("echo ok", timeout_s=60).output.strip() == "ok" for w in workspaces)
            why = PLACEMENT.refused()[(bad, "*")]  # left out for every image, not for one
            assert "\n" not in why
            assert why.startswith("node ") and f", {bad[:12]}) cannot host a Glia sandbox: " in why
            assert f"No Docker engine answers at {NO_ENGINE}" in why
            assert "start Docker on that node (`sudo systemctl start docker`)" in why
            assert "the run goes on with the other nodes" in why
            assert "--unsafe-local-workspace" not in why  # the workstation's hint is not for a node
            assert bad not in PLACEMENT.nodes(workspace_image)
        finally:
            for workspace in workspaces:
                workspace.close()
        assert PLACEMENT.in_use() == {}
        assert run_containers("no-engine-run") == []
    finally:
        ray_cluster.remove_node("no-engine")
    assert set(ray_cluster.node_ids().values()) == working  # whole again for the next tests
