"""How a session's trusted evaluator is made: where it works, which backend runs designs, its caches."""

from __future__ import annotations

from typing import Any

from glia.orchestrator.state import SessionState


def evaluator_arguments(state: SessionState) -> dict[str, Any]:
    config = state.config
    return {
        "task": state.task,
        "work_dir": state.run_dir,  # the evaluator's working folders go under evaluations/
        # on a cluster, the simulations of an evaluation spread over its nodes (glia.cluster.evaluation)
        "backend": "ray" if config.cluster else evaluation_backend(config.backend),
        "image": config.image,
        "cache_dir": config.workspaces_root / ".cache",
        "secrets_dir": config.workspaces_root / ".secrets",  # the machine's secret workloads
        "reuse_sandboxes": True,  # restarted between evaluations; closed when the session ends
    }


def evaluation_backend(workspace_backend: str) -> str:
    """Trusted evaluation runs designs only in Docker sandboxes: a run whose Researcher works locally
    (unsafe, opted in) still evaluates in Docker when an engine answers. Without one, baselines built
    into the simulator are scored locally and every design is refused, with that reason, by the evaluator."""
    if workspace_backend == "docker":
        return "docker"
    from glia.workspace.base import DockerUnavailable
    from glia.workspace.engine import docker_client

    try:
        docker_client(timeout_s=10).close()
    except DockerUnavailable:
        return workspace_backend
    return "docker"
