"""Every knob of a simulation in one place, with the benchmark's defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ARRIVALS = ("bursty", "sinusoid", "closed_loop")  # generated workloads: see llmsim/sources.py
LENGTH_PROFILES = ("sharegpt", "prefill_heavy")  # see llmsim/lengths.py


@dataclass
class SimulationConfig:
    router: str = "ai"
    trace: str | None = None  # CSV path; None = generate from (qps, seed, duration)
    qps: float = 7.5
    seed: int = 0  # workload seed (when generating)
    router_seed: int = 0  # the designs' RNG seed (router, replica scheduler, autoscaler), not the workload's
    duration: float = 1000.0
    # generated workloads (see llmsim/workloads.py): how requests arrive and how long they are
    arrivals: str = "bursty"  # bursty (log-normal gaps at qps) | sinusoid | closed_loop
    lengths: str = "sharegpt"  # sharegpt | prefill_heavy
    qps_low: float = 7.5  # sinusoid: the rate at t = 0 and at every full period
    qps_high: float = 22.5  # sinusoid: the rate half a period in
    period: float = 3600.0  # sinusoid: seconds per cycle
    users: int = 200  # closed loop: concurrent users
    think_time: float = 0.0  # closed loop: mean seconds a user waits before its next request
    num_replicas: int = 4  # replicas at t = 0 (all of them, without an autoscaler)
    model: str = "llama-3-8b"
    device: str = "a10"
    replica_scheduler: str = "sarathi"
    # autoscaling (llmsim/autoscalers/): None keeps the cluster fixed
    autoscaler: str | None = None
    min_replicas: int = 1
    max_replicas: int = 64
    cold_start: float = 82.0  # seconds from adding a replica to serving (model load, compile, warm-up)
    autoscale_interval: float = 15.0  # seconds between autoscaler calls
    block_size: int = 16
    num_blocks: int | None = None  # None = from the memory planner
    watermark_fraction: float = 0.01
    batch_cap: int = 128
    chunk_size: int = 8192
    skip_ahead: bool = True  # speed-up with identical results (see replica.py)
    check_invariants: bool = False  # recheck KV accounting after every batch (slow; tests use it)
    router_log: bool = True  # record gs_log.csv (every replica's state at every router call)
    idle_tick: float = 0.1  # seconds between router calls while it holds requests on an idle cluster
    max_idle_ticks: int = 1000  # then the run fails: the router is stranding requests
    time_limit: float = 600.0  # CPU seconds (simulator + design process); wall clock: 10x (cpu_limits.py)
    design_call_timeout: float = 60.0  # isolated runs: seconds the design process may take per call
    max_simulated_time: float | None = None  # None = 20 x duration + 1000 s
    max_events: int = 50_000_000
    experiment: str | None = None  # None = sharegpt_<router>_<qps>
    output_root: str = "simulator_results"

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def simulated_time_limit(self) -> float:
        if self.max_simulated_time is not None:
            return self.max_simulated_time
        return 20 * self.duration + 1000.0
