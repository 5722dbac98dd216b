"""Benchmarking a black-box method's candidates in a sandbox, exactly as a Researcher's run would be.

One long-lived workspace per method run, built like a context's: a Docker container holding a copy of
the simulator, the run's ledger socket mounted, nothing else of the host. For each candidate the
sandbox's repository is replaced by the pristine template with only the candidate's design files
changed (so no candidate can leave anything behind for the next), the task's own benchmark command runs,
and the simulator reports the run to the ledger, which charges the run's shared budget before the
simulation may start (or refuses it when the budget is spent). The score is read from the ledger's
record: a claim, used only to steer the search. The design that ran is committed to
`ctx-1/history.git` first, so `best/` and the trusted evaluation read exactly that text.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from glia.agents.ledger import CALL_ENV, CLAIM, SimulationLedger, SimulationRecord
from glia.blackbox.store import INVALID, UNRUN, VALID
from glia.evaluation.time_limits import kill_after_s
from glia.record.transcript import Transcript
from glia.task import Task
from glia.workspace import create_workspace
from glia.workspace.base import Limits, Workspace, WorkspaceError
from glia.workspace.history import HISTORY_DIR, History
from glia.workspace.tree import DEFAULT_EXCLUDES, MODE_FILE, Tree, TreeEntry, tree_from_folder

log = structlog.get_logger()

END_WAIT_S = 10.0  # how long to wait for the simulator's `end` report after its command returned
OUTPUT_TAIL_CHARS = 1500


@dataclass(frozen=True)
class BenchOutcome:
    """What one candidate's benchmark run came to (VALID, INVALID or UNRUN)."""

    status: str
    claimed_score: float | None
    values: dict[str, float] | None
    error: str | None
    sim_index: int | None
    run_total: int | None
    sha: str | None
    duration_s: float  # the benchmark command, waiting for its report included
    prepare_s: float = 0.0  # committing the design and writing the tree into the sandbox (Glia's own work)


class CandidateBench:
    """The sandbox of one method run; `run(files)` benchmarks one candidate. One candidate at a time."""

    def __init__(
        self,
        *,
        task: Task,
        ctx_dir: Path,
        run_id: str,
        budget: Any,
        transcript: Transcript,
        backend: str = "docker",
        image: str | None = None,
        limits: Limits | None = None,
        context_id: str = "ctx-1",
    ) -> None:
        self.task = task
        self.ctx_dir = Path(ctx_dir)
        self.run_id = run_id
        self.context_id = context_id
        self.backend = backend
        self.image = image
        self.limits = limits or Limits()
        self.excludes = (*DEFAULT_EXCLUDES, task.results_dir)
        self.timeout_s = min(
            self.limits.max_timeout_s,
            max(self.limits.default_timeout_s, kill_after_s(task.evaluation.time_limit_s)),
        )
        self.ledger = SimulationLedger(
            budget,
            transcript,
            snapshot=self._design_commit,
            metric=task.metric,
            benchmark_conditions=dict(task.benchmark.conditions) or {"router": task.design.name},
        )
        self.history: History | None = None
        self.workspace: Workspace | None = None
        self._template: Tree | None = None
        self._current_sha: str | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------

    def open(self, earlier_events: list[dict[str, Any]] | None = None) -> None:
        """Make (or reopen) the history and start the sandbox; an earlier session's simulations count on."""
        self._template = tree_from_folder(self.task.simulator, self.excludes)
        if not self._template.complete or self._template.skipped:
            raise WorkspaceError(
                f"the simulator template {self.task.simulator} cannot be carried into the sandbox: "
                + "; ".join(self._template.skipped[:5])
            )
        self.history = History.open_or_create(self.ctx_dir / HISTORY_DIR, self._template)
        if earlier_events:
            self.ledger.restore(earlier_events)
        socket = self.ledger.listen()
        options: dict[str, Any] = {"limits": self.limits, "ledger_socket": socket}
        if self.image is not None:
            options["image"] = self.image
        self.workspace = create_workspace(
            self.backend, self.ctx_dir / "outputs", self.run_id, self.context_id, **options
        )
        self.workspace.start()

    def close(self) -> None:
        """Remove the sandbox, then stop the ledger (runs it cut short are recorded as lost)."""
        if self.workspace is not None:
            try:
                self.workspace.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort; the registry is the backstop
                log.warning("blackbox.workspace_close_failed", error=str(exc))
        self.ledger.close()

    @property
    def template_files(self) -> dict[str, str]:
        """The design files as the template has them (the starting point of every method)."""
        tree = self._template or tree_from_folder(self.task.simulator, self.excludes)
        return {path: tree.text(path) for path in self.task.design_files}

    @property
    def simulations(self) -> int:
        return self.ledger.count

    # -- one candidate -------------------------------------------------------------------------------

    def run(self, files: dict[str, str], label: str) -> BenchOutcome:
        """Benchmark one design (files already checked): commit it, put it in a pristine tree, run the
        task's benchmark command and read what the simulator reported for it."""
        assert self.workspace is not None and self.history is not None and self._template is not None
        with self._lock:
            started = time.monotonic()
            tree = self._template.replace(
                {path: TreeEntry(MODE_FILE, text.encode("utf-8")) for path, text in files.items()}
            )
            sha = self.history.commit(tree, f"{label}: candidate design")
            self._current_sha = sha
            self.workspace.write_files(tree, replace=True)
            prepared = time.monotonic()
            refused_before = self.ledger.refused
            first = self.ledger.count
            self.ledger.begin_command(label)
            try:
                result = self.workspace.exec(
                    self.task.benchmark.command, timeout_s=self.timeout_s, env={CALL_ENV: label}
                )
            finally:
                self.ledger.end_command()
            mine = self._records_of(label, first)
            duration, prepare = time.monotonic() - prepared, prepared - started
            claim = next((r for r in mine if r.kind == CLAIM), None)
            if claim is not None:
                return self._outcome(claim, sha, duration, prepare)
            if self.ledger.refused > refused_before and not mine:
                return BenchOutcome(UNRUN, None, None, "the simulation was refused: the budget is spent",
                                    None, None, sha, duration, prepare)  # fmt: skip
            tail = (result.output or "").strip()[-OUTPUT_TAIL_CHARS:]
            if mine:
                why = f"the benchmark ran only experiments (conditions differ from the task's): {tail}"
                return BenchOutcome(
                    INVALID, None, None, why, mine[0].index, mine[0].run_total, sha, duration, prepare
                )
            what = "timed out" if result.timed_out else f"exited with code {result.exit_code}"
            why = f"the benchmark {what} without running a simulation: {tail or '(no output)'}"
            return BenchOutcome(INVALID, None, None, why, None, None, sha, duration, prepare)

    def _records_of(self, label: str, first: int) -> list[SimulationRecord]:
        """The simulations this candidate's command started, once each has ended (or the wait is over)."""
        deadline = time.monotonic() + END_WAIT_S
        while True:
            mine = [r for r in list(self.ledger.records)[first:] if r.call_id == label]
            if all(r.ended for r in mine) or time.monotonic() >= deadline:
                return mine
            time.sleep(0.05)

    def _outcome(self, record: SimulationRecord, sha: str, duration: float, prepare: float) -> BenchOutcome:
        where = (record.index, record.run_total, sha, duration, prepare)
        if not record.ended:
            return BenchOutcome(INVALID, None, None, "the simulation never reported its end", *where)
        if record.valid and record.claimed_score is not None:
            return BenchOutcome(VALID, record.claimed_score, record.values, None, *where)
        return BenchOutcome(
            INVALID, None, record.values, record.error or "the run reported itself invalid", *where
        )

    def _design_commit(self, message: str) -> str | None:
        """The ledger's snapshot at a simulation start: the commit of the design being benchmarked."""
        return self._current_sha
