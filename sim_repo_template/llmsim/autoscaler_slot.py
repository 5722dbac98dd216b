"""Where the autoscaler runs: in this process, or in a sandbox of its own; and what it is shown.

Every ``autoscale_interval`` seconds the simulator describes the cluster as plain rows
(``ClusterObserver``), the slot turns them into the ``ClusterState`` the autoscaler reads, calls
``scale()`` and returns its answer as plain data (``autoscalers/contract.normalize``); the simulator then
checks it (``contract.resolve``) and applies it. ``LocalAutoscalerSlot`` runs the autoscaler here;
``RemoteAutoscalerSlot`` (when ``GLIA_DESIGN_ENDPOINT`` is set and the autoscaler is the design, ``ai``)
sends the same rows to the design's own process: one round trip per call, and nothing else crosses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmsim.autoscalers.base import ClusterState, ReplicaStatus
from llmsim.autoscalers.contract import normalize
from llmsim.cpu_limits import RemoteCpu
from llmsim.design_calls import guarded, hidden_message
from llmsim.errors import AutoscalerError, HiddenInformationError, SafetyLimitError

if TYPE_CHECKING:
    from llmsim.autoscalers.base import Autoscaler
    from llmsim.cluster import Cluster

WHO = "autoscaler"
SCALARS = (
    "now",
    "interval",
    "num_held",
    "arrivals",
    "completions",
    "min_replicas",
    "max_replicas",
    "cold_start",
)


class ClusterObserver:
    """Describes the cluster for the autoscaler, with counts since the previous description."""

    def __init__(self, cluster: Cluster, min_replicas: int, max_replicas: int) -> None:
        self.cluster = cluster
        self.limits = (min_replicas, max_replicas)
        self._last_time = 0.0
        self._last_counts: dict[int, tuple[int, int, int]] = {}
        self._last_arrived = 0
        self._last_completed = 0

    def describe(self, now: float, num_held: int, arrived: int, completed: int) -> tuple[list, list]:
        """(scalars, replica rows); the order of SCALARS and of ReplicaStatus's fields."""
        rows = []
        cluster = self.cluster
        for rid in cluster.live():
            replica, life = cluster.replicas[rid], cluster.lifetimes[rid]
            replica.sync(now)
            counts = (replica.tokens_generated, replica.prefill_tokens_done, replica.num_completed)
            last = self._last_counts.get(rid, (0, 0, 0))
            self._last_counts[rid] = counts
            rows.append(
                [
                    rid,
                    life.state,
                    life.provisioned_at,
                    life.ready_at,
                    len(replica.waiting),
                    len(replica.running),
                    replica.allocator.num_allocated,
                    replica.allocator.num_blocks,
                    counts[0] - last[0],
                    counts[1] - last[1],
                    counts[2] - last[2],
                ]
            )
        scalars = [
            now,
            now - self._last_time,
            num_held,
            arrived - self._last_arrived,
            completed - self._last_completed,
            *self.limits,
            cluster.cold_start,
        ]
        self._last_time, self._last_arrived, self._last_completed = now, arrived, completed
        return scalars, rows


def state_from_rows(scalars: list, rows: list) -> ClusterState:
    """The ClusterState the rows describe (the design process builds it the same way)."""
    values = dict(zip(SCALARS, scalars, strict=True))
    replicas = tuple(ReplicaStatus(*row) for row in rows)
    return ClusterState(replicas=replicas, **values)


class LocalAutoscalerSlot:
    def __init__(self, autoscaler_cls: type[Autoscaler], seed: int) -> None:
        self.autoscaler = guarded("__init__", autoscaler_cls, seed, who=WHO, error=AutoscalerError)

    def scale(self, scalars: list, rows: list) -> list[Any]:
        state = state_from_rows(scalars, rows)
        return normalize(guarded("scale()", self.autoscaler.scale, state, who=WHO, error=AutoscalerError))

    def close(self) -> None:
        pass


class RemoteAutoscalerSlot:
    """The autoscaler runs behind a `glia_isolation` channel; the rows are all it receives."""

    def __init__(self, endpoint: str, seed: int, call_timeout_s: float) -> None:
        from glia_isolation import ChannelError, RemoteError, connect

        self._channel_error, self._remote_error = ChannelError, RemoteError
        self._timeout = call_timeout_s
        try:
            self._channel = connect(endpoint, timeout_s=call_timeout_s)
        except ChannelError as exc:
            raise AutoscalerError(f"the design process could not be reached: {exc}") from None
        self.cpu = RemoteCpu(self._channel, (ChannelError, RemoteError), call_timeout_s)
        self.calls = 0
        self._call("__init__", "init", "autoscaler", seed)

    def scale(self, scalars: list, rows: list) -> list[Any]:
        self.calls += 1
        reply = self._call("scale()", "scale", scalars, rows)
        if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)):
            raise AutoscalerError("the design process sent a malformed reply to scale()")
        wire, violations = reply
        if violations:
            raise HiddenInformationError(hidden_message(str(violations[0])[:1000], WHO))
        return wire

    def close(self) -> None:
        self.cpu.close()
        self._channel.close()

    def _call(self, what: str, name: str, *args: Any) -> Any:
        try:
            return self._channel.call(name, *args, timeout_s=self._timeout)
        except self._remote_error as exc:
            if exc.kind == "HiddenInformationError":
                raise HiddenInformationError(hidden_message(exc.message, WHO)) from None
            if exc.kind == "AutoscalerError":
                raise AutoscalerError(exc.message) from None
            if exc.kind == "SafetyLimitError":
                raise SafetyLimitError(exc.message) from None
            raise AutoscalerError(
                f"{WHO} {what} failed in the design process: {exc.kind}: {exc.message}"
            ) from None
        except self._channel_error as exc:
            raise AutoscalerError(f"{WHO} {what}: the design process failed: {exc}") from None
