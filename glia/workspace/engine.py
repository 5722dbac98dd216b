"""Reaching the Docker engine, with errors that tell the user what to do.

Everything goes through the Docker SDK configured from the environment (`DOCKER_HOST`,
`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`, `DOCKER_API_VERSION`), so a remote engine needs no other change.
"""

from __future__ import annotations

import os

import docker
import docker.errors
import requests

from glia.workspace.base import DockerUnavailable, ImageMissing

DEFAULT_IMAGE = os.environ.get("GLIA_IMAGE") or "glia-workspace:latest"

START_ENGINE_HINT = (
    "Start the engine (`sudo systemctl start docker`, or without systemd: "
    "`dockerd --storage-driver=vfs --iptables=false --bridge=none > dockerd.log 2>&1 &`), "
    "point DOCKER_HOST at a remote one, or (unsafe, no sandbox) use the local backend: "
    "--workspace local --unsafe-local-workspace."
)


def api_version() -> str:
    """The API version to speak: DOCKER_API_VERSION if set, else whatever the engine offers."""
    return os.environ.get("DOCKER_API_VERSION") or "auto"


def docker_client(timeout_s: float = 120.0) -> docker.DockerClient:
    """A client for the configured engine, verified to answer; raises DockerUnavailable otherwise."""
    where = os.environ.get("DOCKER_HOST", "the default socket (/var/run/docker.sock)")
    try:
        client = docker.from_env(version=api_version(), timeout=timeout_s)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as err:
        raise DockerUnavailable(f"No Docker engine answers at {where}: {err}. {START_ENGINE_HINT}") from err
    return client


def low_level_client(client: docker.DockerClient, timeout_s: float | None = None) -> docker.APIClient:
    """A fresh low-level client talking to the same engine: one per exec keeps threads independent."""
    return docker.APIClient(
        **docker.utils.kwargs_from_env(),
        version=client.api.api_version,
        timeout=timeout_s,
    )


def require_image(client: docker.DockerClient, image: str) -> None:
    """Fail early and clearly when the workspace image has not been built."""
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound as err:
        raise ImageMissing(
            f"The workspace image {image!r} is not built on this engine. Build it with "
            f"`glia image build` (or `python -m glia.workspace.image build`)."
        ) from err
