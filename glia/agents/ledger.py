"""The simulation ledger: counts benchmark runs from what the simulator wrote, not from what the
Researcher says.

After every command the ledger looks for new run folders in the context repository's results folder
(`<results_dir>/<experiment>/<timestamp>/`, or another output root inside the repository). Each new
folder is one simulation: the budget is charged, the working tree is snapshotted as a git commit, and
a `simulation` event is written. The score read
from `summary.json` is only a *claim* (the Researcher can write that file); trusted numbers come from
the evaluator. A folder without `summary.json` is a crashed or killed run and still counts, once the
command that started it has finished (for background runs: once the folder has gone quiet, or at the
end of the context).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from glia.transcript import Transcript

SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.json"  # the simulator writes both; together they mark a run folder
CRASHED_RUN_ERROR = "no summary.json: the run crashed or was killed"

# A lone `&` (not `&&`, `>&`, `&>`) or a detaching helper means the command may leave runs going.
_BACKGROUND_PATTERN = re.compile(r"(?<![&>])&(?![&>])|\b(nohup|setsid|disown)\b")


class BudgetLike(Protocol):
    """The part of `glia.budget.Budget` the ledger uses."""

    def charge_simulations(self, n: int) -> int: ...

    def remaining(self) -> dict[str, Any]: ...


@dataclass
class SimulationRecord:
    """One counted simulation, as recorded in the transcript's `simulation` event."""

    index: int
    result_dir: str
    claimed_score: float | None
    valid: bool
    error: str | None
    snapshot: str | None
    router: str | None = None
    design_run: bool = True  # False for runs of another router (e.g. the Researcher re-measuring LLQ)

    def to_event_fields(self) -> dict[str, Any]:
        return asdict(self)


def best_record(records: list[SimulationRecord], lower_is_better: bool = True) -> SimulationRecord | None:
    """The valid design run with the best claimed score; the earliest wins a tie.

    Runs of other routers (a baseline measured for comparison) are simulations, but not claims about
    the design.
    """
    best: SimulationRecord | None = None
    for record in records:
        if not record.valid or not record.design_run or record.claimed_score is None:
            continue
        if best is None or _improves(record.claimed_score, best.claimed_score, lower_is_better):
            best = record
    return best


def _improves(score: float, than: float | None, lower_is_better: bool) -> bool:
    if than is None:
        return True
    return score < than if lower_is_better else score > than


def starts_background_work(command: str) -> bool:
    """True when a shell command may leave processes running after it returns."""
    return bool(_BACKGROUND_PATTERN.search(command))


def read_claim(run_dir: Path, score_key: str) -> tuple[float | None, bool, str | None]:
    """(claimed score, valid, error) from a run folder's summary.json, trusting nothing in it."""
    summary_path = run_dir / SUMMARY_FILE
    if not summary_path.exists():
        return None, False, CRASHED_RUN_ERROR
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, False, f"unreadable summary.json: {exc}"
    if not isinstance(summary, dict):
        return None, False, "summary.json is not a JSON object"
    score = summary.get(score_key)
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        score = None
    error = summary.get("error")
    error = str(error) if error not in (None, "") else None
    valid = summary.get("valid") is True and score is not None
    if summary.get("valid") is True and score is None:
        error = error or f"summary.json has no numeric {score_key}"
    return (float(score) if score is not None else None), valid, error


def read_router(run_dir: Path) -> str | None:
    """The router a run used, from its summary.json (None when it cannot be told)."""
    try:
        router = json.loads((run_dir / SUMMARY_FILE).read_text(encoding="utf-8")).get("router")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    return router if isinstance(router, str) else None


def format_remaining(remaining: dict[str, Any]) -> str:
    """Render `Budget.remaining()` for the model; unknown keys are shown as they are."""
    labels = {
        "simulations": ("simulations", "{:g}"),
        "dollars": ("dollars", "${:.2f}"),
        "usd": ("dollars", "${:.2f}"),
        "cost_usd": ("dollars", "${:.2f}"),
        "time_s": ("time", None),
        "seconds": ("time", None),
        "tokens": ("tokens", "{:,}"),
    }
    parts = []
    for key, value in remaining.items():
        if value is None:
            continue
        label, fmt = labels.get(key, (key, None))
        if label == "time" and isinstance(value, int | float):
            minutes = max(0, int(value)) // 60
            text = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
        elif fmt and isinstance(value, int | float):
            text = fmt.format(value)
        else:
            text = str(value)
        parts.append(f"{label} {text}")
    return ", ".join(parts) if parts else "no limits"


class SimulationLedger:
    """Finds, counts and snapshots the simulations of one context."""

    def __init__(
        self,
        repo_path: Path,
        results_dir: str,
        budget: BudgetLike,
        transcript: Transcript,
        snapshot: Callable[[Path, str], str],
        score_key: str = "mean_e2e",
        lower_is_better: bool = True,
        quiet_after_s: float = 300.0,
        design_router: str | None = None,
    ) -> None:
        self.repo_path = Path(repo_path)
        self.results_dir = results_dir
        self.budget = budget
        self.transcript = transcript
        self.snapshot = snapshot
        self.score_key = score_key
        self.lower_is_better = lower_is_better
        self.quiet_after_s = quiet_after_s
        self.design_router = design_router
        self.records: list[SimulationRecord] = []
        self._pending: set[str] = set()

    def restore(self, events: list[dict[str, Any]]) -> None:
        """Recover the count and the runs already seen from an earlier session's `simulation` events."""
        self.records = [
            SimulationRecord(
                index=e["index"],
                result_dir=e["result_dir"],
                claimed_score=e.get("claimed_score"),
                valid=bool(e.get("valid")),
                error=e.get("error"),
                snapshot=e.get("snapshot"),
                router=e.get("router"),
                design_run=e.get("design_run", True) is not False,
            )
            for e in events
            if e.get("type") == "simulation"
        ]

    @property
    def count(self) -> int:
        return len(self.records)

    def best(self) -> SimulationRecord | None:
        """The valid simulation with the best claimed score (the earliest one on ties)."""
        return best_record(self.records, self.lower_is_better)

    def scan(self, command: str | None = None, finalize: bool = False) -> list[SimulationRecord]:
        """Count the run folders that appeared since the last scan.

        `command` is the command that just finished: when it ran nothing in the background, a new folder
        without a summary is a crashed run. `finalize` (end of context) counts every pending folder.
        """
        seen = {r.result_dir for r in self.records}
        backgrounded = command is None or starts_background_work(command)
        new_records = []
        for run_dir in self._run_folders():
            rel = run_dir.relative_to(self.repo_path).as_posix()
            if rel in seen:
                continue
            has_summary = (run_dir / SUMMARY_FILE).exists()
            first_sight = rel not in self._pending
            crashed_now = not has_summary and (
                finalize or (first_sight and not backgrounded) or self._gone_quiet(run_dir)
            )
            if has_summary or crashed_now:
                self._pending.discard(rel)
                new_records.append(self._count(run_dir, rel))
            else:
                self._pending.add(rel)
        return new_records

    @property
    def pending(self) -> int:
        """Run folders seen without a summary that may still be running."""
        return len(self._pending)

    def budget_note(self) -> str:
        """What the Researcher is told after a command that produced simulations."""
        note = (
            f"[Simulations used in this session: {self.count}. "
            f"Remaining budget: {format_remaining(self.budget.remaining())}."
        )
        if self._pending:
            note += f" {len(self._pending)} run(s) still in progress."
        return note + "]"

    def _run_folders(self) -> list[Path]:
        """Every `<experiment>/<timestamp>` folder of the results dir, plus finished runs the Researcher
        sent elsewhere in the repository with `--output-root` (recognised by summary.json + config.json)."""
        root = self.repo_path / self.results_dir
        folders = {p for p in root.glob("*/*") if p.is_dir()} if root.is_dir() else set()
        for summary in self.repo_path.glob(f"*/*/*/{SUMMARY_FILE}"):
            run_dir = summary.parent
            if (run_dir / CONFIG_FILE).exists() and run_dir.parts[len(self.repo_path.parts)] != ".git":
                folders.add(run_dir)
        return sorted(folders)

    def _gone_quiet(self, run_dir: Path) -> bool:
        newest = max((p.stat().st_mtime for p in run_dir.rglob("*")), default=run_dir.stat().st_mtime)
        return time.time() - newest > self.quiet_after_s

    def _count(self, run_dir: Path, rel: str) -> SimulationRecord:
        claimed, valid, error = read_claim(run_dir, self.score_key)
        index = self.count + 1
        self.budget.charge_simulations(1)
        shown = f"{claimed:.3f}" if claimed is not None else "none"
        sha = self.snapshot(self.repo_path, f"sim {index}: claimed {self.score_key}={shown} ({rel})")
        router = read_router(run_dir)
        design_run = self.design_router is None or router in (None, self.design_router)
        record = SimulationRecord(index, rel, claimed, valid, error, sha, router, design_run)
        self.records.append(record)
        self.transcript.append("simulation", **record.to_event_fields())
        return record
