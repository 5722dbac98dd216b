"""What a run leaves behind: its logs (as row tuples, cheap to append) and its result object.

gs_log.csv: one row per accepting replica per router call (the state the router saw; left out by
--no-router-log);
reqs_log.csv: one row per routing decision. Autoscaled runs add scaling_log.csv (one row per
autoscaler call) and replicas.csv (one row per replica: its life cycle and GPU seconds).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llmsim.request import Request

if TYPE_CHECKING:  # a run needs no pandas (see llmsim/columns.py)
    import pandas as pd

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
SCALING_LOG_COLUMNS = ("time", "starting", "active", "draining", "in_flight", "added", "removed")
REPLICA_COLUMNS = (
    "replica_id", "provisioned_at", "ready_at", "drained_at", "released_at", "cancelled", "gpu_seconds",
    "requests_completed", "tokens_generated",
)  # fmt: skip


@dataclass
class SimulationLogs:
    """Raw logs as row tuples (cheap to append in the hot path); see GS_LOG_COLUMNS and REQS_LOG_COLUMNS."""

    gs: list[tuple] = field(default_factory=list)
    reqs: list[tuple] = field(default_factory=list)
    scaling: list[tuple] = field(default_factory=list)  # autoscaled runs only
    router_log: bool = True  # False: gs_log is neither kept nor written
    replicas: list[tuple] = field(default_factory=list)  # autoscaled runs, filled at the end

    def gs_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame.from_records(self.gs, columns=list(GS_LOG_COLUMNS[:-1]))
        frame["memory_usage_percent"] = 100.0 * frame.num_allocated_blocks / frame.num_blocks
        return frame

    def reqs_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.reqs, columns=list(REQS_LOG_COLUMNS))

    def write(self, directory: Path) -> None:
        """gs_log.csv and reqs_log.csv, the bytes the csv module writes for the row tuples (numbers need no
        quoting; CRLF line ends), formatted directly: a third of the csv module's cost."""
        if self.router_log:  # runs made with --no-router-log leave it out
            with open(directory / "gs_log.csv", "w", newline="") as handle:
                handle.write(",".join(GS_LOG_COLUMNS) + "\r\n")
                handle.write("".join(_gs_lines(self.gs)))
        with open(directory / "reqs_log.csv", "w", newline="") as handle:
            handle.write(",".join(REQS_LOG_COLUMNS) + "\r\n")
            handle.write(
                "".join(
                    [
                        f"{t},{rid},{request},{prefill},{decode}\r\n"
                        for t, rid, request, prefill, decode in self.reqs
                    ]
                )
            )
        for name, columns, rows in (
            ("scaling_log.csv", SCALING_LOG_COLUMNS, self.scaling),
            ("replicas.csv", REPLICA_COLUMNS, self.replicas),
        ):
            if rows:
                with open(directory / name, "w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(columns)
                    writer.writerows(rows)


def _gs_lines(rows: list[tuple]) -> list[str]:
    """gs_log lines. The rows of one router call share its time (formatted once), and the memory
    columns repeat a few thousand (allocated, total) pairs (each pair's cells formatted once)."""
    memory: dict[tuple[int, int], str] = {}
    lines = []
    append = lines.append
    last_time, time_cell = None, ""
    for time, rid, pending, active, allocated, blocks in rows:
        if time is not last_time:
            last_time, time_cell = time, str(time)
        cells = memory.get((allocated, blocks))
        if cells is None:
            cells = memory[allocated, blocks] = (
                f"{allocated},{blocks},{round(100.0 * allocated / blocks, 4)}\r\n"
            )
        append(f"{time_cell},{rid},{pending},{active},{cells}")
    return lines


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
    gpu_hours: float = 0.0  # replica lifetimes (cold starts included) up to the last completion
    max_replicas_used: int = 0  # most replicas starting or active at once
    num_scale_ups: int = 0  # replicas added by the autoscaler
    num_scale_downs: int = 0  # replicas removed by the autoscaler (drained or cancelled)
    users: dict[int, int] | None = None  # closed loop: request id -> user
    num_scheduler_calls: int = 0  # calls to a designed replica scheduler's select()
    num_autoscaler_calls: int = 0
    cpu_time_s: float = 0.0  # this process's CPU seconds (with an in-process design, its time too)
    decision_cpu_s: float = 0.0  # the design's CPU seconds in its decisions (see Simulator._costs)
    decision_calls: int = 0
