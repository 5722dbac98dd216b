"""The core's side of an isolated run: the design router lives in another process, maybe another sandbox.

Glia's trusted evaluation runs the simulator with ``GLIA_DESIGN_ENDPOINT`` naming a unix socket where a
design host (``python -m llmsim.design_host``) waits with the design loaded. This slot stands in for the
router inside the simulator. What crosses, per router call:

* to the design: the requests that arrived since the last call (id, arrival time, prompt length), each
  replica's counts (waiting, running, allocated blocks), and the request lists the design read during
  its previous call (sent ahead, to save a round trip);
* back: the decisions as (replica id, request id) pairs, any decode-length reads it attempted, and which
  request lists it read;
* on the design's request, during a call: a replica's waiting or running list, or single requests, as
  rows of public fields.

Decode lengths, the workload, its seed and every simulator object stay here. Everything the design
sends is checked: unknown replicas, requests that are not queued, duplicates and malformed replies end
the run with a RouterError, as they do for a router running in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmsim.cpu_limits import RemoteCpu
from llmsim.errors import HiddenInformationError, RouterError, SafetyLimitError

if TYPE_CHECKING:
    from llmsim.replica import Replica
    from llmsim.request import Request

LISTS = ("pending", "active")
MAX_IDS_PER_QUERY = 100_000


def request_row(request: Request) -> list[Any]:
    """The public, changing fields of a request (the fixed ones were sent on arrival)."""
    return [
        request.id,
        request.num_prefill_tokens,
        request.num_processed_tokens,
        request.num_restarts,
        request.is_prefill_complete,
        request.is_completed,
    ]


class RemoteRouterSlot:
    """A router slot whose router runs behind a `glia_isolation` channel."""

    def __init__(self, endpoint: str, replicas: dict[int, Replica], seed: int, call_timeout_s: float) -> None:
        from glia_isolation import ChannelError, RemoteError, connect

        self._channel_error, self._remote_error = ChannelError, RemoteError
        self._replicas = dict(replicas)  # the replicas the router may use (autoscaling changes them)
        self._timeout = call_timeout_s
        self._queued: dict[int, Request] = {}  # request id -> request, held by the router
        self._known: dict[int, Request] = {}  # every request the design has been shown
        self._arrivals: list[list[Any]] = []
        self._push: list[tuple[int, str]] = []
        self._wanted_before: list[Any] | None = []  # the design's last `wanted`, as sent
        try:
            self._channel = connect(
                endpoint,
                timeout_s=call_timeout_s,
                handlers={"lists": self._lists, "requests": self._requests},
            )
        except ChannelError as exc:
            raise RouterError(f"the design process could not be reached: {exc}") from None
        self.cpu = RemoteCpu(self._channel, (ChannelError, RemoteError), call_timeout_s)
        first = next(iter(replicas.values()))
        self._call("__init__", "init", "router", sorted(replicas), first.block_size, first.num_blocks, seed)

    @property
    def num_held(self) -> int:
        return len(self._queued)

    def add_request(self, request: Request) -> None:
        self._queued[request.id] = request
        self._known[request.id] = request
        self._arrivals.append([request.id, request.arrived_at, request.num_prompt_tokens])

    def schedule(self, now: float) -> list[tuple[int, Request]]:
        counts = [
            [rid, len(replica.waiting), len(replica.running), replica.allocator.num_allocated]
            for rid, replica in self._replicas.items()
        ]
        pushed = [[rid, which, self._lists(rid, which)] for rid, which in self._push]
        arrivals, self._arrivals = self._arrivals, []
        reply = self._call("schedule()", "schedule", arrivals, counts, pushed, now)
        # Decoded JSON: a list is exactly a list, so `type(...) is list` is isinstance, only cheaper.
        if type(reply) is not list or len(reply) != 3:
            raise RouterError("the design process sent a malformed reply to schedule()")
        pairs, violations, wanted = reply
        if type(pairs) is not list or type(violations) is not list or type(wanted) is not list:
            raise RouterError("the design process sent a malformed reply to schedule()")
        if violations:
            raise HiddenInformationError(str(violations[0])[:1000])
        if wanted != self._wanted_before:  # most calls read the lists the previous one read
            self._push = self._wanted(wanted)
            self._wanted_before = wanted
        return self._decisions(pairs) if pairs else []

    def close(self) -> None:
        self.cpu.close()
        self._channel.close()

    def add_replica(self, replica_id: int, replica: Replica) -> None:
        self._replicas[replica_id] = replica  # the design learns it from the next call's counts
        self._wanted_before = None  # what the design may want to read changed

    def remove_replica(self, replica_id: int) -> None:
        del self._replicas[replica_id]
        self._push = [(rid, which) for rid, which in self._push if rid != replica_id]
        self._wanted_before = None

    # -- what the design may ask for during a call ------------------------------------------------

    def _lists(self, replica_id: Any, which: Any) -> list[list[Any]]:
        if isinstance(replica_id, bool) or replica_id not in self._replicas or which not in LISTS:
            raise ValueError(f"no request list {which!r} of replica {replica_id!r}")
        replica = self._replicas[replica_id]
        requests = replica.waiting if which == "pending" else replica.running
        return list(map(request_row, requests))

    def _requests(self, ids: Any) -> list[list[Any]]:
        if not isinstance(ids, list) or len(ids) > MAX_IDS_PER_QUERY:
            raise ValueError("requests() takes a list of request ids")
        rows = []
        for request_id in ids:
            request = self._known.get(request_id) if isinstance(request_id, int) else None
            if request is None:
                raise ValueError(f"unknown request id {request_id!r}")
            rows.append(request_row(request))
        return rows

    # -- checking what came back --------------------------------------------------------------------

    def _wanted(self, wanted: list[Any]) -> list[tuple[int, str]]:
        chosen = []
        for item in wanted[: 2 * len(self._replicas)]:
            if (
                isinstance(item, list)
                and len(item) == 2
                and not isinstance(item[0], bool)
                and item[0] in self._replicas
                and item[1] in LISTS
                and (item[0], item[1]) not in chosen
            ):
                chosen.append((item[0], item[1]))
        return chosen

    def _decisions(self, pairs: list[Any]) -> list[tuple[int, Request]]:
        routed: list[tuple[int, Request]] = []
        seen: set[int] = set()
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise RouterError(f"the design process sent a malformed decision {pair!r:.100}")
            replica_id, request_id = pair
            if isinstance(replica_id, bool) or replica_id not in self._replicas:
                raise RouterError(f"schedule() sent a request to unknown replica {replica_id!r:.50}")
            if not isinstance(request_id, int) or request_id in seen or request_id not in self._queued:
                raise RouterError(
                    f"schedule() returned request {request_id!r:.50}, which is not in its request_queue "
                    "(already routed, never queued, or returned twice)"
                )
            seen.add(request_id)
            routed.append((replica_id, self._queued.pop(request_id)))
        return routed

    def _call(self, what: str, name: str, *args: Any) -> Any:
        try:
            return self._channel.call(name, *args, timeout_s=self._timeout)
        except self._remote_error as exc:
            if exc.kind == "HiddenInformationError":
                raise HiddenInformationError(exc.message) from None
            if exc.kind == "RouterError":
                raise RouterError(exc.message) from None
            if exc.kind == "SafetyLimitError":
                raise SafetyLimitError(exc.message) from None
            raise RouterError(
                f"router {what} failed in the design process: {exc.kind}: {exc.message}"
            ) from None
        except self._channel_error as exc:
            raise RouterError(f"router {what}: the design process failed: {exc}") from None
