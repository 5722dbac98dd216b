"""Workspace containers as Docker objects: their flags, their labels, and who may remove them.

Every container carries `glia.managed=1`, `glia.run`, `glia.context`, `glia.owner=<uid>@<host>` and
`glia.invocation=<id of the glia process that made it>`. Exit paths of a glia process remove only what
that invocation made (`remove_invocation_containers`); `glia cleanup` removes this user's containers, or
one exactly named run's, and only `--all-users` reaches further.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import structlog

from glia.workspace.base import LEDGER_ENV, LEDGER_MOUNT, Limits
from glia.workspace.commands import sandbox_environment

log = structlog.get_logger(__name__)

WORKSPACE_ROOT = "/workspace"  # a tmpfs owned by the sandbox user
REPO_DIR = "/workspace/repo"  # the repository, the working directory of every command
CONTAINER_HOME = "/tmp"
MANAGED_LABEL = "glia.managed"
RUN_LABEL = "glia.run"
CONTEXT_LABEL = "glia.context"
OWNER_LABEL = "glia.owner"
INVOCATION_LABEL = "glia.invocation"
NOBODY = (65534, 65534)
# Python's per-user site folder under HOME: an empty read-only mount the sandbox cannot remove or
# rename, so no `.pth` file or usercustomize planted there can run in a later command.
USER_SITE_BLOCK = f"{CONTAINER_HOME}/.local"
SHM_SIZE = "64m"  # /dev/shm: a tmpfs Docker mounts for every container; its size, stated in the README
_INVOCATION_ID = uuid.uuid4().hex[:16]


def invocation_id() -> str:
    """A random id for this glia process: what its exit paths are allowed to remove."""
    return _INVOCATION_ID


def owner() -> str:
    """`<uid>@<hostname>`: whose containers `glia cleanup` removes by default."""
    return f"{os.getuid()}@{socket.gethostname()}"


def sandbox_ids() -> tuple[int, int]:
    """uid, gid commands run as: the invoking user's, but never root (then `nobody`)."""
    uid, gid = os.getuid(), os.getgid()
    return NOBODY if uid == 0 else (uid, gid)


def sandbox_user() -> str:
    uid, gid = sandbox_ids()
    return f"{uid}:{gid}"


def container_name(run_id: str, context_id: str) -> str:
    """`glia-<run>-ctx<k>`, reduced to the characters Docker accepts in a name."""
    context = re.sub(r"^ctx-?", "", context_id)
    name = re.sub(r"[^a-zA-Z0-9_.-]+", "-", f"glia-{run_id}-ctx{context}")
    return name.strip("-.") or "glia-workspace"


def labels(run_id: str, context_id: str) -> dict[str, str]:
    return {
        MANAGED_LABEL: "1",
        RUN_LABEL: run_id,
        CONTEXT_LABEL: context_id,
        OWNER_LABEL: owner(),
        INVOCATION_LABEL: invocation_id(),
    }


def command_environment(ledger_socket: Path | None) -> dict[str, str]:
    """What every command in a container sees: the scrubbed environment, plus the ledger if any."""
    environment = sandbox_environment(CONTAINER_HOME)
    environment["PYTHONNOUSERSITE"] = "1"  # the image's site.py has the user site off too
    if ledger_socket is not None:
        environment[LEDGER_ENV] = LEDGER_MOUNT
    return environment


def container_options(
    image: str,
    run_id: str,
    context_id: str,
    limits: Limits,
    ledger_socket: Path | None = None,
    mounts: Sequence[docker.types.Mount] = (),
) -> dict[str, Any]:
    """Every flag of a workspace container, in one place (keyword arguments of `containers.run`).

    No host folder is mounted: the root filesystem is read-only and the only writable places are three
    size-limited tmpfs mounts (the repository's /workspace, /tmp and Docker's /dev/shm, SHM_SIZE). The
    one host path that may appear is the ledger's unix socket, at LEDGER_MOUNT.
    """
    uid, gid = sandbox_ids()
    all_mounts = list(mounts)
    if ledger_socket is not None:
        all_mounts.append(
            docker.types.Mount(LEDGER_MOUNT, str(Path(ledger_socket).resolve()), type="bind", read_only=False)
        )
    return {
        "image": image,
        # The self-destruct timer: when `sleep` ends the container stops and auto_remove deletes it,
        # even if the host process was killed with -9 and never called close().
        "command": ["sleep", f"{int(limits.lifetime_s)}"],
        "name": container_name(run_id, context_id),
        "labels": labels(run_id, context_id),
        "detach": True,
        "auto_remove": True,
        "init": True,  # a real PID 1 reaps the orphans of background jobs
        "user": f"{uid}:{gid}",
        "environment": command_environment(ledger_socket),
        "working_dir": WORKSPACE_ROOT,  # the repository folder is made inside the tmpfs after start
        "read_only": True,
        "tmpfs": {
            WORKSPACE_ROOT: f"rw,exec,nosuid,nodev,size={limits.disk},mode=0755,uid={uid},gid={gid}",
            CONTAINER_HOME: f"rw,exec,nosuid,nodev,size={limits.tmp},mode=1777",
            USER_SITE_BLOCK: "ro,nosuid,nodev,noexec,size=4k,mode=0555",
        },
        "shm_size": SHM_SIZE,
        "mounts": all_mounts,
        "network_mode": "none",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,  # no swap on top of the memory limit
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "hostname": "glia-workspace",
    }


def grant_socket(ledger_socket: Path) -> None:
    """Let the sandbox user connect to the ledger socket (only needed, and possible, when we are root)."""
    uid, gid = sandbox_ids()
    if os.getuid() == 0 and (uid, gid) != (0, 0):
        os.chown(ledger_socket, uid, gid)


# ----------------------------------------------------------------------------------------- cleanup


@dataclass(frozen=True)
class ContainerInfo:
    """A Glia container as `glia cleanup` shows it."""

    name: str
    run_id: str
    context_id: str
    owner: str
    invocation: str
    status: str


def _client() -> docker.DockerClient:
    from glia.workspace.engine import docker_client

    return docker_client()


def list_containers(
    run_id: str | None = None, *, all_users: bool = False, invocation: str | None = None
) -> list[ContainerInfo]:
    """Glia containers in scope: this user's (or everyone's), of one exact run and/or invocation."""
    client = _client()
    try:
        # The low-level list: one call, no per-container inspect that fails when another process
        # removes a container in between (the high-level `containers.list` does that).
        found = client.api.containers(
            all=True, filters={"label": _label_filters(run_id, all_users, invocation)}
        )
        return [_info(entry) for entry in found]
    finally:
        client.close()


def _info(entry: dict[str, Any]) -> ContainerInfo:
    tags = entry.get("Labels") or {}
    names = entry.get("Names") or [entry.get("Id", "")[:12]]
    return ContainerInfo(
        name=names[0].lstrip("/"),
        run_id=tags.get(RUN_LABEL, ""),
        context_id=tags.get(CONTEXT_LABEL, ""),
        owner=tags.get(OWNER_LABEL, "(no owner label)"),
        invocation=tags.get(INVOCATION_LABEL, ""),
        status=entry.get("State", ""),
    )


def remove_containers(names: Sequence[str]) -> list[str]:
    """Remove these containers (already gone is fine); returns the names removed."""
    if not names:
        return []
    client = _client()
    removed = []
    try:
        for name in names:
            try:
                remove_quietly(client.containers.get(name))
            except docker.errors.NotFound:
                continue
            removed.append(name)
    finally:
        client.close()
    if removed:
        log.info("containers_removed", count=len(removed))
    return removed


def _label_filters(run_id: str | None, all_users: bool, invocation: str | None) -> list[str]:
    filters = [f"{MANAGED_LABEL}=1"]
    if run_id is not None:
        filters.append(f"{RUN_LABEL}={run_id}")
    if invocation is not None:
        filters.append(f"{INVOCATION_LABEL}={invocation}")
    if not all_users:
        filters.append(f"{OWNER_LABEL}={owner()}")
    return filters


def remove_volumes(
    run_id: str | None = None, *, all_users: bool = False, invocation: str | None = None
) -> list[str]:
    """Remove Glia-labelled volumes in scope (the evaluator's channel volumes); one still in use stays."""
    client = _client()
    removed = []
    try:
        for volume in client.volumes.list(filters={"label": _label_filters(run_id, all_users, invocation)}):
            try:
                volume.remove(force=True)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as err:
                log.warning("volume_not_removed", volume=volume.name, error=str(err))
                continue
            removed.append(volume.name)
    finally:
        client.close()
    return removed


def cleanup_containers(run_id: str | None = None, *, all_users: bool = False) -> list[str]:
    """Remove this user's Glia containers (of exactly `run_id` if given; of every user with `all_users`),
    then their Glia-labelled volumes."""
    removed = remove_containers([c.name for c in list_containers(run_id, all_users=all_users)])
    remove_volumes(run_id, all_users=all_users)
    return removed


def remove_invocation_containers(run_id: str | None = None, passes: int = 1) -> list[str]:
    """Remove what this glia process created (of `run_id` only, if given): the exit paths' cleanup.

    Signal handlers ask for a second pass: it catches a container whose creation was in flight when
    the first pass listed.
    """
    removed: list[str] = []
    for attempt in range(passes):
        if attempt:
            time.sleep(0.5)
        found = list_containers(run_id, invocation=invocation_id())
        removed += remove_containers([c.name for c in found])
    remove_volumes(run_id, invocation=invocation_id())
    return removed


def remove_quietly(container: Any) -> None:
    """Kill and remove; a container already on its way out (auto-remove) is fine."""
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as err:
        if "removal of container" not in str(err) and "is already in progress" not in str(err):
            raise
