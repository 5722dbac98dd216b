"""The core's side of an isolated replica scheduler: the policy lives in another process.

One ``select`` call per batch formation in which the policy's answer can matter (see
``replica_schedulers/designed.py``). What crosses, per call:

* to the design: the replica's snapshot (the numbers of ``ReplicaState``), the ids of its waiting
  requests in queue order, and rows of public fields (id, arrival time, prompt tokens, prefill tokens,
  restarts) for the waiting requests the design has not seen yet or whose fields changed (a preempted
  request's prefill grows); the design process keeps the rest;
* back: the chosen request ids in order, and any decode-length reads the design attempted.

Decode lengths, the workload, its seed and every simulator object stay here. Everything the design
sends is checked: ids that are not waiting on that replica, duplicates and malformed replies end the run
with a SchedulerError, as for a policy running in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmsim.cpu_limits import RemoteCpu
from llmsim.design_calls import hidden_message
from llmsim.errors import HiddenInformationError, SafetyLimitError, SchedulerError

if TYPE_CHECKING:
    from llmsim.replica import Replica
    from llmsim.request import Request

WHO = "replica scheduler"


class RemoteSchedulerSlot:
    """A scheduler slot whose policies run behind a `glia_isolation` channel."""

    def __init__(self, endpoint: str, seed: int, call_timeout_s: float) -> None:
        from glia_isolation import ChannelError, RemoteError, connect

        self._channel_error, self._remote_error = ChannelError, RemoteError
        self._timeout = call_timeout_s
        self._shown: dict[int, tuple[int, int]] = {}  # request id -> (prefill, restarts) the design holds
        self.calls = 0
        try:
            self._channel = connect(endpoint, timeout_s=call_timeout_s)
        except ChannelError as exc:
            raise SchedulerError(f"the design process could not be reached: {exc}") from None
        self.cpu = RemoteCpu(self._channel, (ChannelError, RemoteError), call_timeout_s)
        self._call("__init__", "init", "replica_scheduler", seed)

    def select(self, replica: Replica, now: float, budget: int, batch_cap: int) -> list[Request]:
        self.calls += 1
        ids, rows = [], []
        shown = self._shown
        for request in replica.waiting:
            ids.append(request.id)
            fields = (request.num_prefill_tokens, request.num_restarts)
            if shown.get(request.id) != fields:
                shown[request.id] = fields
                rows.append([request.id, request.arrived_at, request.num_prompt_tokens, *fields])
        snapshot = [
            replica.replica_id,
            now,
            len(replica.running),
            len(replica.prefilling),
            replica.pool.size,
            replica.allocator.num_free,
            replica.allocator.num_blocks,
            replica.block_size,
            replica.allocator.watermark_blocks,
            budget,
            batch_cap,
        ]
        reply = self._call("select()", "select", snapshot, ids, rows)
        if not (isinstance(reply, list) and len(reply) == 2 and all(isinstance(p, list) for p in reply)):
            raise SchedulerError("the design process sent a malformed reply to select()")
        chosen, violations = reply
        if violations:
            raise HiddenInformationError(hidden_message(str(violations[0])[:1000], WHO))
        return self._requests(replica, chosen)

    def close(self) -> None:
        self.cpu.close()
        self._channel.close()

    def _requests(self, replica: Replica, chosen: list[Any]) -> list[Request]:
        waiting = {request.id: request for request in replica.waiting}
        picked: list[Request] = []
        seen: set[int] = set()
        for request_id in chosen:
            if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id not in waiting:
                raise SchedulerError(
                    f"replica scheduler select() returned request {request_id!r:.50}, which is not waiting on "
                    f"replica {replica.replica_id}"
                )
            if request_id in seen:
                raise SchedulerError(f"replica scheduler select() returned request {request_id} twice")
            seen.add(request_id)
            picked.append(waiting[request_id])
        return picked

    def _call(self, what: str, name: str, *args: Any) -> Any:
        try:
            return self._channel.call(name, *args, timeout_s=self._timeout)
        except self._remote_error as exc:
            if exc.kind == "HiddenInformationError":
                raise HiddenInformationError(hidden_message(exc.message, WHO)) from None
            if exc.kind == "SchedulerError":
                raise SchedulerError(exc.message) from None
            if exc.kind == "SafetyLimitError":
                raise SafetyLimitError(exc.message) from None
            raise SchedulerError(
                f"{WHO} {what} failed in the design process: {exc.kind}: {exc.message}"
            ) from None
        except self._channel_error as exc:
            raise SchedulerError(f"{WHO} {what}: the design process failed: {exc}") from None
