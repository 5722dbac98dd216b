"""Every candidate a black-box method produced, on disk: `ctx-1/candidates.jsonl` plus the designs.

One JSON line per candidate, appended and flushed as soon as the candidate is settled (rejected, run,
or left unrun), so an interrupted run loses nothing it paid for and a resumed one knows exactly where it
stopped. Design texts go to `ctx-1/designs/<sha256>.json` (once per distinct text). The comparison
reads these files; nothing here is trusted for scoring: claimed scores only steer the search.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glia.evaluation import design_sha256
from glia.metric import Metric
from glia.run_store import write_json_atomic

CANDIDATES_FILE = "candidates.jsonl"
DESIGNS_DIR = "designs"

VALID = "valid"  # benchmarked; the simulator reported a valid run and a score (a claim)
INVALID = "invalid"  # benchmarked; the run failed or reported itself invalid
REJECTED = "rejected"  # never run: no design in the reply, or the static checks refused it
UNRUN = "unrun"  # a runnable design whose simulation was refused (budget spent, run stopping)
STATUSES = (VALID, INVALID, REJECTED, UNRUN)


@dataclass
class CandidateRecord:
    """One design a method produced and what became of it."""

    n: int  # 1-based, in the order candidates were settled
    method: str
    status: str
    design_hash: str | None = None  # None when the reply held no design
    claimed_score: float | None = None  # the benchmark's own number: a claim, never trusted
    error: str | None = None
    sim_index: int | None = None  # this method run's simulation number of its benchmark run
    run_total: int | None = None  # the run's simulations used once it was charged (the x axis)
    sha: str | None = None  # the commit of ctx-1/history.git holding the design that ran
    tokens: int = 0  # of the model call(s) that produced it
    cost_usd: float | None = 0.0  # None: the model has no known price
    idea: str | None = None
    origin: dict[str, Any] = field(default_factory=dict)  # method-specific (generation, parent, worker)
    values: dict[str, float] | None = None  # the benchmark run's reported numbers
    bench_s: float = 0.0  # wall time of its benchmark command
    ts: str = ""

    @property
    def ran(self) -> bool:
        return self.status in (VALID, INVALID)

    @property
    def invalid_design(self) -> bool:
        """Counted in the comparison's "invalid designs": rejected before running or failed in it."""
        return self.status in (INVALID, REJECTED)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CandidateRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


class CandidateStore:
    """Reads and appends a method run's candidates; safe to share between threads."""

    def __init__(self, ctx_dir: Path) -> None:
        self.ctx_dir = Path(ctx_dir)
        self.path = self.ctx_dir / CANDIDATES_FILE
        self.designs_dir = self.ctx_dir / DESIGNS_DIR
        self._lock = threading.Lock()
        self._records = _read(self.path)

    def records(self) -> list[CandidateRecord]:
        with self._lock:
            return list(self._records)

    def save_design(self, files: dict[str, str]) -> str:
        """Keep a design's text (once per distinct text); returns its fingerprint."""
        digest = design_sha256(files)
        path = self.designs_dir / f"{digest}.json"
        if not path.exists():
            write_json_atomic(path, {"files": files})
        return digest

    def design(self, digest: str) -> dict[str, str]:
        data = json.loads((self.designs_dir / f"{digest}.json").read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data["files"].items()}

    def append(self, record: CandidateRecord) -> CandidateRecord:
        """Number the record, stamp it, write it durably; returns it."""
        with self._lock:
            record.n = len(self._records) + 1
            record.ts = record.ts or datetime.now(UTC).isoformat(timespec="seconds")
            self.ctx_dir.mkdir(parents=True, exist_ok=True)
            line = json.dumps(asdict(record), ensure_ascii=False, allow_nan=False, default=str)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self._records.append(record)
            return record


def best_claim(records: list[CandidateRecord], metric: Metric) -> CandidateRecord | None:
    """The valid candidate with the best claimed score (feasible first; the earliest on ties)."""
    return metric.best(
        (r for r in records if r.status == VALID),
        score=lambda r: r.claimed_score,
        feasible=lambda r: metric.feasible(r.values),
    )


def improvements(records: list[CandidateRecord], metric: Metric) -> list[CandidateRecord]:
    """The candidates that improved the method's best claim, in order (the first valid one included)."""
    found: list[CandidateRecord] = []
    for record in sorted(records, key=lambda r: r.n):
        if record.status != VALID or record.claimed_score is None:
            continue
        if not found or best_claim([found[-1], record], metric) is record:
            found.append(record)
    return found


def _read(path: Path) -> list[CandidateRecord]:
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line from a kill mid-write
        if isinstance(data, dict):
            records.append(CandidateRecord.from_dict(data))
    return records
