"""The design's side of an isolated run: ``python -m llmsim.design_host --listen PATH``.

Glia's trusted evaluation starts this in a sandbox that holds the design file and the simulator's
sources but no workload, no seeds and no results. It waits for the simulator core to connect to
PATH; the core's first call, ``init``, names the design slot of this run, and the host loads that
design and answers the core's calls:

* ``router``: each ``schedule`` call brings the new arrivals and the counts of the replicas the router
  may use (which change when an autoscaler adds or drains replicas); the router sees them through views
  with the same attributes and values as in an ordinary run (``llmsim/views.py``);
* ``replica_scheduler``: each ``select`` call brings one replica's snapshot and its waiting queue;
  the policy of that replica (one object per replica) answers with the requests to admit;
* ``autoscaler``: each ``scale`` call brings the cluster's rows; the autoscaler answers.

Whatever the design does here, it can only affect its own decisions: the core checks every one of them.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import socket
import sys
import time
from typing import Any

from llmsim.alarms import design_cpu_alarm
from llmsim.cpu_limits import CPU_LIMIT_ENV, CPU_TIME_CALL
from llmsim.cpu_share import PIN_CALL, allowed_cpus, pin_self
from llmsim.errors import (
    AutoscalerError,
    DesignError,
    HiddenInformationError,
    RouterError,
    SafetyLimitError,
    SchedulerError,
)
from llmsim.glia_lib import add_glia_lib
from llmsim.global_schedulers.contract import accept_decisions
from llmsim.router_guard import HIDDEN_ADVICE
from llmsim.views import ReplicaView, RequestView


class RemoteRequestView(RequestView):
    """A request as the design process knows it; changing fields are fetched when stale."""

    __slots__ = ("_host", "id", "arrived_at", "num_prompt_tokens", "_epoch", "_state", "_routed")

    def __init__(self, host: RouterHost, request_id: int, arrived_at: float, prompt: int) -> None:
        self._host = host
        self.id = request_id
        self.arrived_at = arrived_at
        self.num_prompt_tokens = prompt
        self._epoch = -1
        self._state: tuple = (prompt, 0, 0, False, False)
        self._routed = False  # never routed: its state cannot have changed since it arrived

    # Each property checks freshness itself (no helper call): designs read these in their inner loops.
    @property
    def num_prefill_tokens(self) -> int:
        if self._routed and self._epoch != self._host.epoch:
            self._host.refresh([self.id])
        return self._state[0]

    @property
    def num_processed_tokens(self) -> int:
        if self._routed and self._epoch != self._host.epoch:
            self._host.refresh([self.id])
        return self._state[1]

    @property
    def num_restarts(self) -> int:
        if self._routed and self._epoch != self._host.epoch:
            self._host.refresh([self.id])
        return self._state[2]

    @property
    def is_prefill_complete(self) -> bool:
        if self._routed and self._epoch != self._host.epoch:
            self._host.refresh([self.id])
        return self._state[3]

    @property
    def is_completed(self) -> bool:
        if self._routed and self._epoch != self._host.epoch:
            self._host.refresh([self.id])
        return self._state[4]

    @property
    def num_decode_tokens(self) -> int:
        message = f"router read num_decode_tokens of request {self.id}: {HIDDEN_ADVICE}"
        self._host.violations.append(message)
        raise HiddenInformationError(message)


class RemoteReplicaView(ReplicaView):
    __slots__ = ("_host", "replica_id", "_counts", "_num_blocks", "_block_size", "_lists")

    def __init__(self, host: RouterHost, replica_id: int, block_size: int, num_blocks: int) -> None:
        self._host = host
        self.replica_id = replica_id
        self._counts = (0, 0, 0)  # waiting, running, allocated blocks
        self._block_size = block_size
        self._num_blocks = num_blocks
        self._lists: dict[str, tuple[int, tuple[RemoteRequestView, ...]]] = {}

    @property
    def num_pending_requests(self) -> int:
        return self._counts[0]

    @property
    def num_active_requests(self) -> int:
        return self._counts[1]

    @property
    def num_allocated_blocks(self) -> int:
        return self._counts[2]

    @property
    def num_blocks(self) -> int:
        return self._num_blocks

    @property
    def block_size(self) -> int:
        return self._block_size

    @property
    def pending_requests(self) -> tuple[RequestView, ...]:
        return self._list("pending")

    @property
    def active_requests(self) -> tuple[RequestView, ...]:
        return self._list("active")

    def _list(self, which: str) -> tuple[RemoteRequestView, ...]:
        host = self._host
        host.lists_read.add((self.replica_id, which))
        cached = self._lists.get(which)
        if cached is not None and cached[0] == host.epoch:
            return cached[1]
        return self.fill(which, host.channel.call("lists", self.replica_id, which))

    def fill(self, which: str, rows: list[list[Any]]) -> tuple[RemoteRequestView, ...]:
        views = tuple(self._host.update(row) for row in rows)
        self._lists[which] = (self._host.epoch, views)
        return views


class RouterHost:
    """Hosts the design router for one simulation."""

    def __init__(self, channel: Any, replica_ids: list[int], block_size: int, num_blocks: int, seed: int):
        from llmsim.global_schedulers.ai_global_scheduler import AIGlobalScheduler

        self.channel = channel
        self.epoch = 0
        self.violations: list[str] = []
        self.lists_read: set[tuple[int, str]] = set()
        self.views: dict[int, RemoteRequestView] = {}
        self.shape = (block_size, num_blocks)
        self.replicas = {rid: RemoteReplicaView(self, rid, block_size, num_blocks) for rid in replica_ids}
        self.router = self._design_call("__init__", AIGlobalScheduler, self.replicas, seed)

    def schedule(self, arrivals: list, counts: list, pushed: list, now: float = 0.0) -> list[list[Any]]:
        self.epoch += 1
        self.lists_read = set()
        replicas = self.replicas
        replica_ids = [row[0] for row in counts]
        if replica_ids != list(replicas):  # the dict's own keys: the design may have changed it
            self._sync_membership(replica_ids)
        for replica_id, waiting, running, allocated in counts:
            replicas[replica_id]._counts = (waiting, running, allocated)
        for replica_id, which, rows in pushed:
            replicas[replica_id].fill(which, rows)
        router = self.router
        for request_id, arrived_at, prompt in arrivals:
            view = RemoteRequestView(self, request_id, arrived_at, prompt)
            self.views[request_id] = view
            router.now = arrived_at
            self._design_call("add_request()", router.add_request, view)
        router.now = now if isinstance(now, (int, float)) and not isinstance(now, bool) else 0.0
        before = {id(view): view for view in router.request_queue}
        decisions = self._design_call("schedule()", router.schedule)
        accepted = accept_decisions(decisions, before, router.request_queue, self.replicas)
        pairs = []
        for replica_id, view in accepted:
            if self.views.get(view.id) is not view:
                raise RouterError(f"schedule() returned request {view.id}, which was never queued")
            view._routed = True
            pairs.append([replica_id, view.id])
        lists_read = self.lists_read
        return [pairs, [], sorted([rid, which] for rid, which in lists_read) if lists_read else []]

    def _sync_membership(self, replica_ids: list[int]) -> None:
        """The replicas the router may use are the ones the core listed (an autoscaler changes them);
        the router's dict changes in place, in the core's order: removals first, additions at the end."""
        replicas = self.replicas
        listed = set(replica_ids)
        for rid in [rid for rid in replicas if rid not in listed]:
            del replicas[rid]
        for rid in replica_ids:
            if rid not in replicas:
                replicas[rid] = RemoteReplicaView(self, rid, *self.shape)

    def update(self, row: list[Any]) -> RemoteRequestView:
        view = self.views[row[0]]
        view._state = (row[1], row[2], row[3], row[4], row[5])
        view._epoch = self.epoch
        return view

    def refresh(self, ids: list[int]) -> None:
        for row in self.channel.call("requests", ids):
            self.update(row)

    def _design_call(self, what: str, call, *args):
        return design_call(self.violations, "router", RouterError, what, call, *args)


def design_call(violations: list[str], who: str, error: type[DesignError], what: str, call, *args):
    """Design code, with the same error semantics as in the simulator's process (`router_slot.guarded`)."""
    violations.clear()
    try:
        result = call(*args)
    except (HiddenInformationError, SafetyLimitError):
        raise
    except Exception as exc:
        if violations:
            raise HiddenInformationError(violations[0]) from exc
        raise error(f"{who} {what} raised {type(exc).__name__}: {exc}") from exc
    if violations:
        raise HiddenInformationError(violations[0])
    return result


class WaitingRequestView(RequestView):
    """A waiting request as a replica-scheduler policy sees it (waiting: nothing processed yet)."""

    __slots__ = ("_host", "id", "arrived_at", "num_prompt_tokens", "_prefill", "_restarts")

    def __init__(self, host: SchedulerHost, request_id: int, arrived_at: float, prompt: int) -> None:
        self._host = host
        self.id = request_id
        self.arrived_at = arrived_at
        self.num_prompt_tokens = prompt
        self._prefill = prompt
        self._restarts = 0

    @property
    def num_prefill_tokens(self) -> int:
        return self._prefill

    @property
    def num_processed_tokens(self) -> int:
        return 0

    @property
    def num_restarts(self) -> int:
        return self._restarts

    @property
    def is_prefill_complete(self) -> bool:
        return False

    @property
    def is_completed(self) -> bool:
        return False

    @property
    def num_decode_tokens(self) -> int:
        message = f"router read num_decode_tokens of request {self.id}: {HIDDEN_ADVICE}"
        self._host.violations.append(message)
        raise HiddenInformationError(message)


class SchedulerHost:
    """Hosts the design's replica-scheduler policies (one per replica) for one simulation."""

    def __init__(self, seed: int) -> None:
        # Loaded here, not at start-up: a router's host does without them (a sixth of its start-up).
        # Loaded before the design, so that the design's import cannot stand in for them.
        from llmsim.replica_schedulers.contract import accept_selection
        from llmsim.replica_schedulers.policy import ReplicaState

        self._accept_selection, self._state = accept_selection, ReplicaState
        from llmsim.replica_schedulers.ai_replica_scheduler import AIReplicaScheduler

        self.cls = AIReplicaScheduler
        self.seed = seed
        self.violations: list[str] = []
        self.policies: dict[int, Any] = {}
        self.views: dict[int, WaitingRequestView] = {}

    def select(self, snapshot: list, ids: list, rows: list) -> list[list[Any]]:
        for request_id, arrived_at, prompt, prefill, restarts in rows:
            view = self.views.get(request_id)
            if view is None:
                view = self.views[request_id] = WaitingRequestView(self, request_id, arrived_at, prompt)
            view._prefill, view._restarts = prefill, restarts
        waiting = tuple(self.views[request_id] for request_id in ids)
        rid, now, running, prefilling, decoding, free, blocks, block_size, watermark, budget, cap = snapshot
        policy = self.policies.get(rid)
        if policy is None:
            policy = self.policies[rid] = self._call("__init__", self.cls, rid, self.seed)
        state = self._state(
            replica_id=rid,
            now=now,
            waiting=waiting,
            num_running=running,
            num_prefilling=prefilling,
            num_decoding=decoding,
            num_free_blocks=free,
            num_blocks=blocks,
            block_size=block_size,
            watermark_blocks=watermark,
            token_budget=budget,
            batch_cap=cap,
        )
        chosen = self._call("select()", policy.select, state)
        return [[view.id for view in self._accept_selection(chosen, waiting, rid)], []]

    def _call(self, what: str, call, *args):
        return design_call(self.violations, "replica scheduler", SchedulerError, what, call, *args)


class AutoscalerHost:
    """Hosts the design's autoscaler for one simulation."""

    def __init__(self, seed: int) -> None:
        from llmsim.autoscaler_slot import state_from_rows  # before the design, as in SchedulerHost
        from llmsim.autoscalers.contract import normalize

        self._state_from_rows, self._normalize = state_from_rows, normalize
        from llmsim.autoscalers.ai_autoscaler import AIAutoscaler

        self.violations: list[str] = []
        self.autoscaler = self._call("__init__", AIAutoscaler, seed)

    def scale(self, scalars: list, rows: list) -> list[Any]:
        result = self._call("scale()", self.autoscaler.scale, self._state_from_rows(scalars, rows))
        return [self._normalize(result), []]

    def _call(self, what: str, call, *args):
        return design_call(self.violations, "autoscaler", AutoscalerError, what, call, *args)


SLOT_CALLS = {"router": "schedule", "replica_scheduler": "select", "autoscaler": "scale"}


class DesignHost:
    """Answers the core's calls; the slot is chosen by the core's `init` call (one slot per host)."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.slot: str | None = None
        self.host: Any = None
        self.cpu_started = time.process_time()

    def cpu_time(self) -> float:
        """CPU seconds this process has used since the core's init call (the design's decision cost)."""
        return time.process_time() - self.cpu_started

    def init(self, slot: str, *args: Any) -> bool:
        self.cpu_started = time.process_time()
        if self.slot is not None:
            raise DesignError(f"this design host already serves the {self.slot}; a second init is refused")
        if slot == "router":
            self.host = RouterHost(self.channel, *args)
        elif slot == "replica_scheduler":
            self.host = SchedulerHost(*args)
        elif slot == "autoscaler":
            self.host = AutoscalerHost(*args)
        else:
            raise DesignError(
                f"this design host serves a router, a replica_scheduler or an autoscaler, not {slot!r}"
            )
        self.slot = slot
        name = SLOT_CALLS[slot]  # from now on the slot's call goes straight to its host
        self.channel.handlers[name] = getattr(self.host, name)
        return True

    def call(self, slot: str, name: str, *args: Any) -> Any:
        if self.slot != slot:
            raise DesignError(
                f"{name}() for a {slot}, but this design host serves {self.slot or 'nothing yet'}"
            )
        return getattr(self.host, name)(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmsim.design_host", description=__doc__.split("\n")[0])
    parser.add_argument("--listen", required=True, help="unix socket path to wait on for the core")
    parser.add_argument("--accept-timeout", type=float, default=120.0, help="seconds to wait for the core")
    parser.add_argument(
        "--cpu-limit",
        type=float,
        default=float(os.environ.get(CPU_LIMIT_ENV) or 0.0),
        help=f"CPU seconds this process may use (0: no limit; default ${CPU_LIMIT_ENV}); the run's limit "
        "also counts the core's time",
    )
    args = parser.parse_args(argv)
    add_glia_lib()
    from glia_isolation import Channel, listen

    server = listen(args.listen)
    server.settimeout(args.accept_timeout)
    try:
        connection, _ = server.accept()
    except TimeoutError:
        print(f"design_host: no core connected within {args.accept_timeout:g} s", file=sys.stderr)
        return 3
    finally:
        server.close()
        with contextlib.suppress(OSError):
            os.unlink(args.listen)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    channel = Channel(connection)
    host = DesignHost(channel)
    cpus = allowed_cpus()  # before any design code runs
    channel.handlers.update(
        {
            "init": host.init,
            # refused until `init` names the slot (then its own call replaces this one)
            **{name: functools.partial(host.call, slot, name) for slot, name in SLOT_CALLS.items()},
            CPU_TIME_CALL: host.cpu_time,
            PIN_CALL: lambda cpu: pin_self(cpu, cpus),  # share the core's CPU (llmsim/cpu_share.py)
        }
    )
    with design_cpu_alarm(args.cpu_limit):
        channel.serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
