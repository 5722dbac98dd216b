"""The discrete-event loop: arrivals, routing, batches, completions.

Events live in a heap ordered by (time, creation order), so same-time events run in the order they
were created. Three kinds:
* ARRIVAL: the request joins the router's queue and the router is called;
* BATCH_END: a replica finishes a batch (or a skip-ahead run of identical decode batches); if
  requests completed, the router is called (it may dispatch held requests); the replica starts its
  next batch;
* IDLE_TICK: the router holds requests while no replica is busy: call it again shortly. If no
  arrivals remain and it keeps holding for ``max_idle_ticks`` ticks, the run fails (stranding).

Every router call is checked (see ``_call_router``); any violation ends the run with an error that
names the problem. A run is valid only if every request completed.
"""

from __future__ import annotations

import csv
import heapq
import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from llmsim.config import SimulationConfig
from llmsim.errors import (
    HiddenInformationError,
    InvariantViolation,
    RouterError,
    SafetyLimitError,
    UnfinishedRequestsError,
    WorkloadError,
)
from llmsim.execution_model import ExecutionTimeModel
from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.global_schedulers.registry import router_class
from llmsim.hardware import DEVICES, MODELS
from llmsim.kv_cache import blocks_for
from llmsim.memory_planner import plan_kv_blocks
from llmsim.replica import Replica
from llmsim.replica_schedulers import REPLICA_SCHEDULERS
from llmsim.request import ROUTER_GUARD, Request

ARRIVAL, BATCH_END, IDLE_TICK = 0, 1, 2


GS_LOG_COLUMNS = (
    "time",
    "replica_id",
    "num_pending_requests",
    "num_active_requests",
    "num_allocated_blocks",
    "num_blocks",
    "memory_usage_percent",
)
REQS_LOG_COLUMNS = ("time", "replica_id", "request_id", "num_prefill_tokens", "num_decode_tokens")


@dataclass
class SimulationLogs:
    """Raw logs as row tuples (cheap to append in the hot path); see GS_LOG_COLUMNS and REQS_LOG_COLUMNS."""

    gs: list[tuple] = field(default_factory=list)
    reqs: list[tuple] = field(default_factory=list)

    def gs_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame.from_records(self.gs, columns=list(GS_LOG_COLUMNS[:-1]))
        frame["memory_usage_percent"] = 100.0 * frame.num_allocated_blocks / frame.num_blocks
        return frame

    def reqs_frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.reqs, columns=list(REQS_LOG_COLUMNS))

    def write(self, directory: Path) -> None:
        """gs_log.csv and reqs_log.csv (the csv module writes the row tuples directly: fast)."""
        with open(directory / "gs_log.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(GS_LOG_COLUMNS)
            writer.writerows((*row, round(100.0 * row[4] / row[5], 4)) for row in self.gs)
        with open(directory / "reqs_log.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REQS_LOG_COLUMNS)
            writer.writerows(self.reqs)


@dataclass
class SimulationResult:
    requests: list[Request]
    logs: SimulationLogs
    end_time: float
    num_events: int
    num_router_calls: int
    num_iterations: int
    num_preemptions: int
    wall_time_s: float
    num_blocks: int


@contextmanager
def wall_clock_alarm(seconds: float):
    """Backstop for code that never returns to the event loop (e.g. a router stuck in a loop): a
    SIGALRM a little after the wall-clock limit raises SafetyLimitError wherever Python is, and
    again every 0.2 s (so code that swallows exceptions cannot keep it). Only possible in the main
    thread on POSIX; elsewhere the event loop's own checks remain."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise SafetyLimitError(f"wall-clock safety limit of {seconds:.0f} s reached (stuck in a single call)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds + 1.0, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def requests_from_trace(trace: pd.DataFrame) -> list[Request]:
    return [
        Request(i, float(t), int(p), int(d))
        for i, (t, p, d) in enumerate(
            zip(
                trace["arrived_at"].to_numpy(),
                trace["num_prefill_tokens"].to_numpy(),
                trace["num_decode_tokens"].to_numpy(),
                strict=True,
            )
        )
    ]


class Simulator:
    def __init__(self, config: SimulationConfig, requests: list[Request], router_cls: type | None = None):
        self.config = config
        self.requests = requests
        model = MODELS[config.model]
        device = DEVICES[config.device]
        self.time_model = ExecutionTimeModel(model, device)
        self.num_blocks = config.num_blocks or plan_kv_blocks(
            model, device, config.block_size, max_batch_tokens=config.chunk_size
        )
        watermark = max(1, math.ceil(config.watermark_fraction * self.num_blocks))
        self._check_fits(watermark)
        self.now = 0.0
        scheduler_cls = REPLICA_SCHEDULERS[config.replica_scheduler]
        self.replicas = {
            rid: Replica(
                rid,
                scheduler_cls(config.batch_cap, config.chunk_size),
                self.time_model,
                self.num_blocks,
                config.block_size,
                watermark,
                clock=self._clock,
                skip_ahead=config.skip_ahead,
            )
            for rid in range(config.num_replicas)
        }
        router_cls = router_cls or router_class(config.router)
        self.router: GlobalScheduler = self._guarded("__init__", router_cls, self.replicas, config.seed)
        self.logs = SimulationLogs()
        self._events: list[tuple] = []
        self._seq = 0
        self._tick_pending = False
        self._idle_ticks = 0
        self._arrivals_left = len(requests)
        self._num_completed = 0
        self._router_calls = 0

    def _clock(self) -> float:
        return self.now

    def _check_fits(self, watermark: int) -> None:
        limit = (self.num_blocks - watermark) * self.config.block_size
        for r in self.requests:
            if blocks_for(r._total_tokens, self.config.block_size) > self.num_blocks - watermark:
                raise WorkloadError(
                    f"request {r.id} needs {r._total_tokens} tokens of KV cache; a replica holds {limit}"
                )

    # ---- event plumbing -----------------------------------------------------------------------

    def _push(self, when: float, kind: int, payload) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, payload))

    def run(self) -> SimulationResult:
        """Simulate until every event is processed; raises a SimulationError if the run is invalid."""
        with wall_clock_alarm(self.config.time_limit):
            return self._run()

    def _run(self) -> SimulationResult:
        started = time.perf_counter()
        cfg = self.config
        for request in self.requests:
            self._push(request.arrived_at, ARRIVAL, request)
        sim_limit = cfg.simulated_time_limit
        num_events = 0
        events = self._events
        replicas = self.replicas
        while events:
            when, _, kind, payload = heapq.heappop(events)
            num_events += 1
            if when > sim_limit:
                raise SafetyLimitError(
                    f"simulated time passed the safety limit of {sim_limit:.0f} s with "
                    f"{len(self.requests) - self._num_completed} requests unfinished"
                )
            if num_events & 1023 == 0:
                self._check_wall_limit(started, num_events)
            self.now = when
            if kind == BATCH_END:
                replica_id, version = payload
                replica = replicas[replica_id]
                if version != replica.version:
                    continue  # superseded by a truncated run
                completed = replica.finish_batch(when)
                if cfg.check_invariants:
                    replica.check_invariants()
                if completed:
                    self._num_completed += len(completed)
                    self._call_router(when)  # may already have restarted this replica
                if not replica.busy:
                    self._start(replica, when)
            elif kind == ARRIVAL:
                self._arrivals_left -= 1
                self._guarded("add_request()", self.router.add_request, payload)
                self._call_router(when)
            else:
                self._tick_pending = False
                self._idle_tick(when)
            if self.router.request_queue and not self._tick_pending and self._cluster_idle():
                self._tick_pending = True
                self._push(when + cfg.idle_tick, IDLE_TICK, None)
        self._check_all_completed()
        return SimulationResult(
            requests=self.requests,
            logs=self.logs,
            end_time=self.now,
            num_events=num_events,
            num_router_calls=self._router_calls,
            num_iterations=sum(r.num_iterations for r in replicas.values()),
            num_preemptions=sum(r.num_preemptions for r in replicas.values()),
            wall_time_s=time.perf_counter() - started,
            num_blocks=self.num_blocks,
        )

    def _check_wall_limit(self, started: float, num_events: int) -> None:
        elapsed = time.perf_counter() - started
        if elapsed > self.config.time_limit:
            raise SafetyLimitError(
                f"wall-clock safety limit of {self.config.time_limit:.0f} s reached at simulated time "
                f"{self.now:.1f} s with {len(self.requests) - self._num_completed} requests unfinished"
            )
        if num_events > self.config.max_events:
            raise SafetyLimitError(f"more than {self.config.max_events} events: runaway simulation")

    def _cluster_idle(self) -> bool:
        return not any(r.busy for r in self.replicas.values())

    def _start(self, replica: Replica, now: float) -> None:
        end = replica.start_batch(now)
        if end is not None:
            self._push(end, BATCH_END, (replica.replica_id, replica.version))

    def _idle_tick(self, now: float) -> None:
        if not self.router.request_queue:
            return
        routed = self._call_router(now)
        if routed or self._arrivals_left:
            self._idle_ticks = 0
            return
        self._idle_ticks += 1
        if self._idle_ticks >= self.config.max_idle_ticks:
            raise UnfinishedRequestsError(
                f"router stranded {len(self.router.request_queue)} requests: it kept holding them for "
                f"{self._idle_ticks} idle ticks while every replica was idle and no arrivals remained"
            )

    # ---- the router call and its checks -------------------------------------------------------

    def _guarded(self, what: str, call, *args, _enter=ROUTER_GUARD.enter, _leave=ROUTER_GUARD.leave):
        """Run router code with decode lengths hidden; turn its failures into RouterError. The guard
        functions are bound when this module loads, so rebinding module names cannot bypass them."""
        token = _enter()
        try:
            result = call(*args)
        except (HiddenInformationError, SafetyLimitError):
            _leave(token)
            raise
        except Exception as exc:  # the router's own bug: report it, do not hide it
            violations = _leave(token)
            if violations:
                raise HiddenInformationError(violations[0]) from exc
            raise RouterError(f"router {what} raised {type(exc).__name__}: {exc}") from exc
        except BaseException:
            _leave(token)
            raise
        violations = _leave(token)
        if violations:
            raise HiddenInformationError(violations[0])
        return result

    def _call_router(self, now: float) -> int:
        """Log the cluster state, call ``schedule()``, validate and apply its decisions."""
        self._router_calls += 1
        self._log_cluster(now)
        router = self.router
        before = {id(r): r for r in router.request_queue}
        decisions = self._guarded("schedule()", router.schedule)
        if not decisions:
            if len(router.request_queue) != len(before):
                self._check_queue(before, {})
            return 0
        routed: dict[int, tuple[int, Request]] = {}
        try:
            pairs = list(decisions)
        except TypeError:
            raise RouterError(
                f"schedule() must return a list of (replica_id, request) pairs, got {decisions!r}"
            ) from None
        for pair in pairs:
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise RouterError(f"schedule() returned {pair!r}; expected (replica_id, request) pairs")
            replica_id, request = pair
            if not isinstance(request, Request):
                raise RouterError(f"schedule() returned {request!r} where a Request was expected")
            if replica_id not in self.replicas or isinstance(replica_id, bool):
                raise RouterError(
                    f"schedule() sent request {request.id} to unknown replica {replica_id!r} "
                    f"(replicas are {sorted(self.replicas)})"
                )
            if id(request) in routed:
                raise RouterError(f"schedule() returned request {request.id} twice")
            if id(request) not in before:
                raise RouterError(
                    f"schedule() returned request {request.id}, which is not in its request_queue "
                    "(already routed, or never queued)"
                )
            routed[id(request)] = (replica_id, request)
        self._check_queue(before, routed)
        log = self.logs.reqs.append
        for replica_id, request in routed.values():
            request.replica_id = replica_id
            request.routed_at = now
            log(
                (
                    now,
                    replica_id,
                    request.id,
                    request.num_prefill_tokens,
                    request._total_tokens - request.num_prefill_tokens,
                )
            )
            replica = self.replicas[replica_id]
            new_end = replica.enqueue(request, now)
            if new_end is not None:
                self._push(new_end, BATCH_END, (replica_id, replica.version))
            elif not replica.busy:
                self._start(replica, now)
        return len(routed)

    def _check_queue(self, before: dict[int, Request], routed: dict) -> None:
        after = self.router.request_queue
        after_ids = {id(r) for r in after}
        kept = before.keys() - routed.keys()
        if len(after) != len(after_ids):
            raise RouterError("schedule() left the same request in request_queue twice")
        left_in = routed.keys() & after_ids
        if left_in:
            rid = routed[next(iter(left_in))][1].id
            raise RouterError(f"schedule() routed request {rid} but left it in request_queue (pop it)")
        dropped = kept - after_ids
        if dropped:
            rid = before[next(iter(dropped))].id
            raise RouterError(f"schedule() removed request {rid} from request_queue without routing it")
        if after_ids - kept:
            raise RouterError("schedule() added requests to request_queue that did not arrive")

    def _log_cluster(self, now: float) -> None:
        log = self.logs.gs.append
        for rid, replica in self.replicas.items():
            replica.sync(now)
            log(
                (
                    now,
                    rid,
                    len(replica.waiting),
                    len(replica.running),
                    replica.allocator.num_allocated,
                    replica.allocator.num_blocks,
                )
            )

    def _check_all_completed(self) -> None:
        unfinished = len(self.requests) - self._num_completed
        if unfinished:
            unrouted = sum(1 for r in self.requests if r.routed_at is None)
            raise UnfinishedRequestsError(
                f"{unfinished} of {len(self.requests)} requests did not complete "
                f"({unrouted} never routed, {unfinished - unrouted} stuck on replicas)"
            )
        for replica in self.replicas.values():
            if replica.allocator.num_allocated:
                raise InvariantViolation(
                    f"replica {replica.replica_id} still holds {replica.allocator.num_allocated} blocks at the end"
                )
