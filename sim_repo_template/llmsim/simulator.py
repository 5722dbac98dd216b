"""The discrete-event loop: arrivals, routing, batches, completions, and (optionally) autoscaling.

Events live in a heap ordered by (time, creation order), so same-time events run in the order they
were created. Five kinds:
* ARRIVAL: the request joins the router's queue and the router is called;
* BATCH_END: a replica finishes a batch (or a skip-ahead run of identical decode batches); if
  requests completed and the router holds requests, the router is called (it may dispatch them); in a
  closed-loop workload each completed request's user sends its next request (a later ARRIVAL); the
  replica starts its next batch; a draining replica that is now empty is released;
* IDLE_TICK: the router holds requests while no replica is busy: call it again shortly. If no
  arrivals remain and it keeps holding for ``max_idle_ticks`` ticks, the run fails (stranding);
* AUTOSCALE: every ``autoscale_interval`` seconds while work remains, the autoscaler decides; added
  replicas get a REPLICA_READY after the cold start, removed ones drain (``llmsim/cluster.py``);
* REPLICA_READY: a started replica becomes active; the router sees it from now on.

Each design slot runs behind a *slot* (``llmsim/design_slots.py``): in this process, or, in Glia's
trusted evaluation, in a process of its own. Every design call is checked against its contract
(``global_schedulers/contract.py``, ``replica_schedulers/contract.py``, ``autoscalers/contract.py``); any
violation ends the run with an error that names the problem. A run is valid only if every request
completed.
"""

from __future__ import annotations

import heapq
import math
import time
from typing import TYPE_CHECKING

from llmsim.alarms import cpu_and_wall_alarms
from llmsim.autoscalers.states import STARTING
from llmsim.cluster import Cluster
from llmsim.conditions import extra_conditions
from llmsim.config import SimulationConfig
from llmsim.cpu_limits import wall_guard_s
from llmsim.design_slots import make_autoscaler_slot, make_router_slot, make_scheduler_slot
from llmsim.errors import (
    InvariantViolation,
    SafetyLimitError,
    SimulationError,
    UnfinishedRequestsError,
    WorkloadError,
)
from llmsim.execution_model import ExecutionTimeModel
from llmsim.glia_ledger import RunReport, simulation_conditions
from llmsim.hardware import DEVICES, MODELS
from llmsim.kv_cache import blocks_for
from llmsim.memory_planner import plan_kv_blocks
from llmsim.replica import Replica
from llmsim.replica_schedulers import REPLICA_SCHEDULERS
from llmsim.request import Request
from llmsim.router_slot import RouterSlot
from llmsim.sim_output import (  # noqa: F401 - re-exported: scripts and tests import them from here
    GS_LOG_COLUMNS,
    REQS_LOG_COLUMNS,
    SimulationLogs,
    SimulationResult,
)
from llmsim.sources import requests_from_frame

if TYPE_CHECKING:
    import pandas as pd

ARRIVAL, BATCH_END, IDLE_TICK, AUTOSCALE, REPLICA_READY = 0, 1, 2, 3, 4


def requests_from_trace(trace: pd.DataFrame) -> list[Request]:
    return requests_from_frame(trace)


class Simulator:
    def __init__(
        self,
        config: SimulationConfig,
        requests: list[Request],
        router_cls: type | None = None,
        reporter: RunReport | None = None,
        *,
        source=None,
        scheduler_policy: type | None = None,
        autoscaler_cls: type | None = None,
    ):
        """`requests`: the run's requests (a closed-loop `source` adds more as users are answered);
        `router_cls`, `scheduler_policy`, `autoscaler_cls`: design classes passed in directly instead of
        selected by name (scripts and tests)."""
        self.config = config
        self.reporter = reporter  # None: report to Glia's ledger (if any) from run()
        self.requests = requests
        self.workload = source  # where the requests come from (llmsim/sources.py), if given
        self.source = source if source is not None and source.closed else None  # closed loop only
        model = MODELS[config.model]
        device = DEVICES[config.device]
        self.time_model = ExecutionTimeModel(model, device)
        self.num_blocks = config.num_blocks or plan_kv_blocks(
            model, device, config.block_size, max_batch_tokens=config.chunk_size
        )
        self.watermark = max(1, math.ceil(config.watermark_fraction * self.num_blocks))
        self._check_fits(self.requests)
        self.now = 0.0
        self._slot_classes = (router_cls, scheduler_policy, autoscaler_cls)
        self.scheduler_slot = make_scheduler_slot(config, scheduler_policy)
        if self.scheduler_slot is None:
            scheduler_cls = REPLICA_SCHEDULERS[config.replica_scheduler]
            self._make_scheduler = lambda: scheduler_cls(config.batch_cap, config.chunk_size)
        else:
            from llmsim.replica_schedulers.designed import DesignedScheduler

            self._make_scheduler = lambda: DesignedScheduler(
                config.batch_cap, config.chunk_size, self.scheduler_slot
            )
        self.cluster = Cluster(self._new_replica, config.num_replicas, config.cold_start)
        self.replicas = self.cluster.replicas  # every replica ever made, by id
        self.scaler = None
        autoscaler = make_autoscaler_slot(config, autoscaler_cls)
        if autoscaler is not None:
            from llmsim.scaling import Scaler

            self.scaler = Scaler(self.cluster, autoscaler, config)
        self.router: RouterSlot = make_router_slot(config, dict(self.cluster.accepting), router_cls)
        self.logs = SimulationLogs(router_log=config.router_log)
        self._events: list[tuple] = []
        self._seq = 0
        self._tick_pending = False
        self._idle_ticks = 0
        self._arrivals_left = len(requests)
        self._num_arrived = 0
        self._num_completed = 0
        self._router_calls = 0

    def _new_replica(self, replica_id: int) -> Replica:
        cfg = self.config
        return Replica(
            replica_id,
            self._make_scheduler(),
            self.time_model,
            self.num_blocks,
            cfg.block_size,
            self.watermark,
            clock=self._clock,
            skip_ahead=cfg.skip_ahead,
        )

    def _clock(self) -> float:
        return self.now

    def _check_fits(self, requests: list[Request]) -> None:
        room = self.num_blocks - self.watermark
        for r in requests:
            if blocks_for(r._total_tokens, self.config.block_size) > room:
                raise WorkloadError(
                    f"request {r.id} needs {r._total_tokens} tokens of KV cache; a replica holds "
                    f"{room * self.config.block_size}"
                )

    def conditions(self) -> dict:
        """What the run is, as Glia's ledger records it (llmsim/glia_ledger.py, plus this simulator's
        workload, scheduler and autoscaling settings: llmsim/conditions.py)."""
        conditions = simulation_conditions(self.config, self.requests, self.router, self.num_blocks)
        conditions.update(extra_conditions(self.config, self._slot_classes))
        return conditions

    # ---- event plumbing -----------------------------------------------------------------------

    def _push(self, when: float, kind: int, payload) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, payload))

    def run(self) -> SimulationResult:
        """Simulate until every event is processed; raises a SimulationError if the run is invalid.

        Inside Glia (GLIA_LEDGER set) the run is reported first and runs only if the ledger agrees
        (LedgerError otherwise); its outcome is reported at the end (see ``glia_ledger``)."""
        report = self.reporter if self.reporter is not None else RunReport()
        report.start(self.conditions())
        try:
            with cpu_and_wall_alarms(self.config.time_limit):
                try:
                    result = self._run()
                finally:
                    self._close_slots()
        except SimulationError as exc:
            report.finished(False, f"{type(exc).__name__}: {exc}")
            raise
        except BaseException:
            report.close()  # a crash or an interrupt: the ledger records a run without an end
            raise
        report.finished(True, None)
        return result

    def _close_slots(self) -> None:
        try:
            self.router.close()
        finally:
            for slot in (self.scheduler_slot, self.scaler and self.scaler.slot):
                if slot is not None:
                    slot.close()

    def _run(self) -> SimulationResult:
        started = time.perf_counter()
        self._cpu_started = time.process_time()
        cfg = self.config
        for request in self.requests:
            self._push(request.arrived_at, ARRIVAL, request)
        if self.scaler is not None:
            self._push(cfg.autoscale_interval, AUTOSCALE, None)
        sim_limit = cfg.simulated_time_limit
        num_events = 0
        events = self._events
        replicas = self.replicas
        source = self.source
        while events:
            when, _, kind, payload = heapq.heappop(events)
            num_events += 1
            if when > sim_limit:
                raise SafetyLimitError(
                    f"simulated time passed the safety limit of {sim_limit:.0f} s with "
                    f"{len(self.requests) - self._num_completed} requests unfinished"
                )
            if num_events & 1023 == 0:
                self._check_limits(started, num_events)
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
                    if source is not None:
                        self._send_next(completed, when)
                    if self.router.num_held:  # a router holding nothing has nothing to decide
                        self._call_router(when)  # may already have restarted this replica
                if not replica.busy:
                    self._start(replica, when)
                    if replica.draining:
                        self._release_if_empty(replica, when)
            elif kind == ARRIVAL:
                self._arrivals_left -= 1
                self._num_arrived += 1
                self.router.add_request(payload)
                self._call_router(when)
            elif kind == IDLE_TICK:
                self._tick_pending = False
                self._idle_tick(when)
            elif kind == AUTOSCALE:
                self._autoscale(when)
            else:
                self._replica_ready(payload, when)
            if self.router.num_held and not self._tick_pending and self._cluster_idle():
                self._tick_pending = True
                self._push(when + cfg.idle_tick, IDLE_TICK, None)
        self._check_all_completed()
        return self._result(started, num_events)

    def _result(self, started: float, num_events: int) -> SimulationResult:
        replicas = self.replicas
        end = max((r.completed_at for r in self.requests), default=0.0)
        scaler = self.scaler
        self.logs.replicas = (
            []
            if scaler is None
            else [
                (
                    rid,
                    life.provisioned_at,
                    life.ready_at,
                    life.drained_at,
                    life.released_at,
                    life.cancelled,
                    life.seconds(end),
                    replicas[rid].num_completed,
                    replicas[rid].tokens_generated,
                )
                for rid, life in self.cluster.lifetimes.items()
            ]
        )
        return SimulationResult(
            requests=self.requests,
            logs=self.logs,
            end_time=self.now,
            num_events=num_events,
            num_router_calls=self._router_calls,
            num_iterations=sum(r.num_iterations for r in replicas.values()),
            num_preemptions=sum(r.num_preemptions for r in replicas.values()),
            wall_time_s=time.perf_counter() - started,
            **self._costs(),
            num_blocks=self.num_blocks,
            gpu_hours=self.cluster.gpu_seconds(end) / 3600.0,
            max_replicas_used=self.config.num_replicas if scaler is None else scaler.peak,
            num_scale_ups=0 if scaler is None else scaler.num_added,
            num_scale_downs=0 if scaler is None else scaler.num_removed,
            users=None if self.source is None else self.source.user_of,
            num_scheduler_calls=0 if self.scheduler_slot is None else self.scheduler_slot.calls,
            num_autoscaler_calls=0 if scaler is None else len(self.logs.scaling),
        )

    # ---- closed loop and autoscaling ------------------------------------------------------------

    def _send_next(self, completed: list[Request], now: float) -> None:
        """Each answered closed-loop user sends its next request after thinking (if before the end)."""
        for request in completed:
            following = self.source.next_after(request, now)
            if following is not None:
                self._check_fits([following])
                self._arrivals_left += 1
                self._push(following.arrived_at, ARRIVAL, following)

    def _work_left(self) -> bool:
        return bool(self._arrivals_left) or self._num_completed < len(self.requests)

    def _autoscale(self, now: float) -> None:
        if not self._work_left():
            return  # the workload is done: no more decisions (and no more ticks)
        decision = self.scaler.decide(now, self.router.num_held, self._num_arrived, self._num_completed)
        cluster = self.cluster
        for rid in decision.remove:
            if cluster.state(rid) == STARTING:
                cluster.cancel(rid, now)
            else:
                cluster.drain(rid, now)
                self.router.remove_replica(rid)
                self._release_if_empty(self.replicas[rid], now)
        for _ in range(decision.add):
            rid = cluster.provision(now)
            self._push(cluster.lifetimes[rid].ready_at, REPLICA_READY, rid)
        self.scaler.record(now, decision, self.router.num_held, self.logs)
        self._push(now + self.config.autoscale_interval, AUTOSCALE, None)

    def _replica_ready(self, rid: int, now: float) -> None:
        if self.cluster.state(rid) != STARTING:
            return  # cancelled while starting
        self.cluster.activate(rid, now)
        self.router.add_replica(rid, self.replicas[rid])
        if self.router.num_held:
            self._call_router(now)

    def _release_if_empty(self, replica: Replica, now: float) -> None:
        if not replica.busy and not replica.waiting and not replica.running:
            self.cluster.release(replica.replica_id, now)

    def _costs(self) -> dict:
        """CPU seconds of the run: this process's, and the design's decisions (isolated: the design
        process's own CPU time; in process: the router's calls, timed here)."""
        meter = self._design_process()
        core, design = self.cpu_used()
        if meter is None:
            clock = self.router.clock
            seconds, calls = clock.seconds, clock.calls
        else:
            seconds = design
            calls = next(
                (getattr(slot, "calls", None) for slot in (self.scheduler_slot, self.scaler and self.scaler.slot)
                 if getattr(slot, "cpu", None) is meter),
                None,
            )  # fmt: skip
            calls = self._router_calls if calls is None else calls
        return {"cpu_time_s": core, "decision_cpu_s": seconds, "decision_calls": calls}

    def _design_process(self):
        """The isolated design slot's CPU meter (None when every design runs in this process)."""
        for slot in (self.router, self.scheduler_slot, self.scaler and self.scaler.slot):
            meter = getattr(slot, "cpu", None)
            if meter is not None:
                return meter
        return None

    def cpu_used(self, poll: bool = True) -> tuple[float, float]:
        """(this process's CPU seconds in the run, the design process's CPU seconds, as it reports)."""
        meter = self._design_process()
        design = 0.0 if meter is None else (meter.poll() if poll else meter.seconds)
        return time.process_time() - self._cpu_started, design

    def _check_limits(self, started: float, num_events: int) -> None:
        """The time limit in CPU seconds (this process and the design's); the wall clock is a hang guard."""
        limit = self.config.time_limit
        core, design = self.cpu_used()
        unfinished = len(self.requests) - self._num_completed
        if core + design > limit:
            raise SafetyLimitError(
                f"CPU-time limit of {limit:g} s reached (simulator {core:.1f} s, design {design:.1f} s) "
                f"at simulated time {self.now:.1f} s with {unfinished} requests unfinished"
            )
        if time.perf_counter() - started > wall_guard_s(limit):
            raise SafetyLimitError(
                f"wall-clock hang guard of {wall_guard_s(limit):g} s reached (CPU time used: simulator "
                f"{core:.1f} s, design {design:.1f} s) at simulated time {self.now:.1f} s with {unfinished} "
                "requests unfinished"
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
        if not self.router.num_held:
            return
        routed = self._call_router(now)
        if routed or self._arrivals_left:
            self._idle_ticks = 0
            return
        self._idle_ticks += 1
        if self._idle_ticks >= self.config.max_idle_ticks:
            raise UnfinishedRequestsError(
                f"router stranded {self.router.num_held} requests: it kept holding them for "
                f"{self._idle_ticks} idle ticks while every replica was idle and no arrivals remained"
            )

    # ---- the router call and its checks -------------------------------------------------------

    def _call_router(self, now: float) -> int:
        """Log the cluster state, ask the router slot for decisions (checked there) and apply them."""
        self._router_calls += 1
        if self.config.router_log:
            self._log_cluster(now)
        routed = self.router.schedule(now)
        log = self.logs.reqs.append
        for replica_id, request in routed:
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

    def _log_cluster(self, now: float) -> None:
        log = self.logs.gs.append
        for rid, replica in self.cluster.accepting.items():
            run = replica._run
            if run is not None and run.length != 1:  # `replica.sync(now)`'s own test, without the call
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
