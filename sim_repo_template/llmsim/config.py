"""Every knob of a simulation in one place, with the benchmark's defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class SimulationConfig:
    router: str = "ai"
    trace: str | None = None  # CSV path; None = generate from (qps, seed, duration)
    qps: float = 7.5
    seed: int = 0  # workload seed (when generating) and router RNG seed
    duration: float = 1000.0
    num_replicas: int = 4
    model: str = "llama-3-8b"
    device: str = "a10"
    replica_scheduler: str = "sarathi"
    block_size: int = 16
    num_blocks: int | None = None  # None = from the memory planner
    watermark_fraction: float = 0.01
    batch_cap: int = 128
    chunk_size: int = 8192
    skip_ahead: bool = True  # speed-up with identical results (see replica.py)
    check_invariants: bool = False  # recheck KV accounting after every batch (slow; tests use it)
    idle_tick: float = 0.1  # seconds between router calls while it holds requests on an idle cluster
    max_idle_ticks: int = 1000  # then the run fails: the router is stranding requests
    time_limit: float = 600.0  # wall-clock seconds
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
