"""Joining a Ray cluster as its driver: the process that holds the keys, the run folder and the budget."""

from __future__ import annotations

import threading

import structlog

from glia.workspace.base import WorkspaceError

log = structlog.get_logger(__name__)

CLUSTER_ENV = "GLIA_CLUSTER"  # the cluster a run of this process uses when its config names none
INSTALL_HINT = "install it with `pip install 'glia[cluster]'` on this machine and on every node"
_lock = threading.Lock()
_address: str | None = None


class ClusterError(WorkspaceError):
    """The cluster cannot be used; the message says what to fix."""


def check_address(address: str) -> str:
    """`auto`, `ray://HOST:PORT` or `HOST:PORT` (a head this machine can reach)."""
    address = address.strip()
    if address == "auto" or address.startswith("ray://") or (":" in address and " " not in address):
        return address
    raise ClusterError(
        f"--cluster {address!r} is not a Ray address: use auto (the cluster this machine joined with "
        "`ray start`), ray://HOST:PORT (Ray Client) or HOST:PORT (the head's GCS port)"
    )


def connect(address: str) -> str:
    """Join the cluster at `address` once per process (again with the same address is a no-op)."""
    global _address
    address = check_address(address)
    try:
        import ray
    except ImportError:
        raise ClusterError(
            f"--cluster needs the Ray package, which is not installed: {INSTALL_HINT}"
        ) from None
    with _lock:
        if ray.is_initialized():
            if _address not in (None, address):
                raise ClusterError(f"this process already uses the cluster {_address}, not {address}")
            _address = address
            return address
        try:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING", configure_logging=False)
        except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
            raise ClusterError(
                f"could not join the Ray cluster at {address}: {_causes(exc)} "
                "(is `ray start --head` running there?)"
            ) from None
        _address = address
    log.info("cluster.connected", address=address)
    return address


def connected() -> bool:
    try:
        import ray
    except ImportError:
        return False
    return ray.is_initialized()


def disconnect() -> None:
    """Leave the cluster (tests; a CLI process just exits)."""
    global _address
    import ray

    with _lock:
        if ray.is_initialized():
            ray.shutdown()
        _address = None


def _causes(exc: BaseException) -> str:
    """Ray wraps the reason (no raylet found, a timeout) in a generic 'failed to connect': say both."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 3:
        text = " ".join(str(seen).split())[:400]
        if text and text not in parts:
            parts.append(text)
        seen = seen.__cause__ or seen.__context__
    return ": ".join(parts) or type(exc).__name__
