"""Which failed starts leave a node out: only its own lasting state (no engine, no image), never a
failure of one start (a container name still in use while the old one is removed, a busy engine)."""

from __future__ import annotations

from glia.cluster.host import NodeRefused, refusal
from glia.workspace.base import DockerUnavailable, ImageMissing, WorkspaceError

WHERE = {"ip": "10.0.0.7", "host": "node-7", "node_id": "ab" * 28}


def test_a_missing_image_refuses_the_node_for_that_image_only() -> None:
    refused = refusal(WHERE, ImageMissing("no image glia-task-x:1"), "glia-task-x:1")
    assert isinstance(refused, NodeRefused) and refused.image_only
    assert str(refused).startswith(
        "node 10.0.0.7 (node-7, abababababab) cannot host a Glia sandbox: it lacks"
    )
    assert "docker save glia-task-x:1 | ssh 10.0.0.7 docker load" in str(refused)


def test_no_engine_refuses_the_node_for_every_image() -> None:
    from glia.workspace.engine import START_ENGINE_HINT

    cause = DockerUnavailable(
        f"No Docker engine answers at unix:///x.sock: refused\n(errno 2). {START_ENGINE_HINT}"
    )
    refused = refusal(WHERE, cause, "glia-workspace:latest")
    assert isinstance(refused, NodeRefused) and not refused.image_only
    assert str(refused) == (
        "node 10.0.0.7 (node-7, abababababab) cannot host a Glia sandbox: No Docker engine answers at "
        "unix:///x.sock: refused (errno 2); start Docker on that node (`sudo systemctl start docker`) with "
        "the workspace image loaded, or start its Ray without the 'glia_sandbox' resource; the run goes on "
        "with the other nodes"
    )  # one line, the node named; no workstation hint (the local backend) for a node


def test_a_failure_of_one_start_does_not_refuse_the_node() -> None:
    conflict = WorkspaceError('Could not start workspace container glia-r-ctx1: 409 Conflict ("name in use")')
    failed = refusal(WHERE, conflict, "glia-workspace:latest")
    assert type(failed) is WorkspaceError and not isinstance(failed, NodeRefused)
    assert str(failed) == f"on node 10.0.0.7 (node-7, abababababab): {conflict}"
