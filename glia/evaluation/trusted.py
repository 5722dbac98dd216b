"""Trusted re-evaluation of what each context produced: the only scores that choose the best design.

For a finished context we evaluate two designs, its final snapshot and the snapshot it claimed was best;
while the run goes on, the live judge (`glia.orchestrator.live`) adds each snapshot whose claim improved
its context's best claim. Nothing is read but the design file(s) at those commits of the context's host
history (`history.git`). A design whose text was already evaluated (by this context or another) is not
simulated again. Evaluations run one at a time, even while MCG-Par contexts keep working, so they never
compete with each other for the machine's cores.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from glia.evaluation import Evaluation, design_sha256, select_best
from glia.record.outcome import ContextOutcome
from glia.record.run import TrustedEntry
from glia.run_store import context_dir, evaluation_file, write_json_atomic
from glia.task import Task
from glia.workspace.history import HISTORY_DIR, History, HistoryError

log = structlog.get_logger()

FINAL = "final"
BEST_CLAIMED = "best-claimed"


@dataclass(frozen=True)
class TrustedVerdict:
    """The trusted verdict on one of a context's designs: its `Evaluation` and where the design came from
    (run.json keeps it as a `glia.record.run.TrustedEntry`; readers see that as a `glia.record.view.Verdict`)."""

    context: int
    label: str  # FINAL or BEST_CLAIMED
    sha: str
    sim_index: int | None
    design_hash: str
    evaluation: Evaluation
    duplicate_of: str | None = None  # "ctx<k>-<label>" of the first evaluation of the same text
    run_total: int | None = None  # the run's simulation count when the design ran (None: unknown)
    live: bool = False  # judged while the run went on (a point of the trusted curve)

    @property
    def name(self) -> str:
        return f"ctx{self.context}-{self.label}"

    def summary(self, run_dir: Path) -> dict[str, Any]:
        """The run.json entry for this evaluation (`glia.record.run.TrustedEntry`)."""
        evaluation = self.evaluation
        primary = evaluation.primary
        return TrustedEntry(
            label=self.label,
            sha=self.sha,
            valid=evaluation.valid,
            score=evaluation.score,
            reason=evaluation.reason,
            sim_index=self.sim_index,
            design_hash=self.design_hash,
            duplicate_of=self.duplicate_of,
            file=str(evaluation_file(run_dir, self.context, self.label).relative_to(run_dir)),
            feasible=evaluation.feasible,
            violations=tuple(evaluation.violations),
            ci_low=primary.ci_low if primary is not None and evaluation.valid else None,
            ci_high=primary.ci_high if primary is not None and evaluation.valid else None,
            isolation=evaluation.isolation,
            run_total=self.run_total,
            live=self.live,
        ).to_dict()


class TrustedJudge:
    """Evaluates contexts' designs, remembers every verdict and picks the best by trusted score."""

    def __init__(self, evaluator: Any, task: Task, run_dir: Path) -> None:
        self.evaluator = evaluator
        self.task = task
        self.run_dir = Path(run_dir)
        self._evaluate_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._verdicts: list[TrustedVerdict] = []
        self._by_hash: dict[str, TrustedVerdict] = {}

    @property
    def verdicts(self) -> list[TrustedVerdict]:
        with self._state_lock:
            return list(self._verdicts)

    def judge(self, outcome: ContextOutcome) -> tuple[list[TrustedVerdict], list[str]]:
        """Evaluate the context's final and best-claimed designs; returns them and any problems met."""
        history_dir = context_dir(self.run_dir, outcome.index) / HISTORY_DIR
        targets: list[tuple[str, str]] = []
        if outcome.final_sha:
            targets.append((FINAL, outcome.final_sha))
        claimed = outcome.best_claimed_snapshot(self.task.metric)
        if claimed is not None and claimed.sha != outcome.final_sha:
            targets.append((BEST_CLAIMED, claimed.sha))

        judged: list[TrustedVerdict] = []
        problems: list[str] = []
        if not targets:
            return judged, [f"ctx{outcome.index}: no snapshot to evaluate"]
        try:
            history = History(history_dir)
            template_hash = design_sha256(self._design_at(history, history.first_commit()))
        except (HistoryError, KeyError, ValueError) as exc:
            return judged, [f"ctx{outcome.index}: cannot read its history: {exc}"]
        for label, sha in targets:
            try:
                files = self._design_at(history, sha)
            except (KeyError, ValueError, OSError, HistoryError) as exc:
                problems.append(f"ctx{outcome.index}-{label}: cannot read the design at {sha[:12]}: {exc}")
                continue
            if design_sha256(files) == template_hash:
                problems.append(
                    f"ctx{outcome.index}-{label}: the design is the untouched template; not evaluated"
                )
                continue
            sim_index = outcome.sim_index_of(sha)
            run_total = next((s.run_total for s in outcome.snapshots if s.sha == sha), None)
            verdict = self._evaluate(outcome.index, label, sha, sim_index, files, run_total=run_total)
            judged.append(verdict)
        return judged, problems

    def judge_snapshot(
        self, context: int, label: str, sha: str, sim_index: int | None, run_total: int | None
    ) -> tuple[TrustedVerdict | None, str | None]:
        """Evaluate one snapshot while the run goes on (the live judge): the verdict, or why not."""
        try:
            history = History(context_dir(self.run_dir, context) / HISTORY_DIR)
            files = self._design_at(history, sha)
            template = self._design_at(history, history.first_commit())
        except (HistoryError, KeyError, ValueError, OSError) as exc:
            return None, f"ctx{context}-{label}: cannot read the design at {sha[:12]}: {exc}"
        if design_sha256(files) == design_sha256(template):
            return None, f"ctx{context}-{label}: the design is the untouched template; not evaluated"
        return self._evaluate(context, label, sha, sim_index, files, run_total=run_total, live=True), None

    def knows(self, sha: str, files_hash: str | None = None) -> bool:
        """Whether a snapshot (or a design text) already has a verdict."""
        with self._state_lock:
            return any(c.sha == sha for c in self._verdicts) or (
                files_hash is not None and files_hash in self._by_hash
            )

    def design_hash_at(self, context: int, sha: str) -> str | None:
        try:
            history = History(context_dir(self.run_dir, context) / HISTORY_DIR)
            return design_sha256(self._design_at(history, sha))
        except (HistoryError, KeyError, ValueError, OSError):
            return None

    def restore(self, verdicts: list[TrustedVerdict]) -> None:
        """Take back evaluations made before a resume so they count in dedup and selection."""
        with self._state_lock:
            for verdict in verdicts:
                self._verdicts.append(verdict)
                self._by_hash.setdefault(verdict.design_hash, verdict)

    def best(self) -> TrustedVerdict | None:
        """The verdict with the best trusted score over all contexts (never a claimed one)."""
        verdicts = self.verdicts
        chosen = select_best([c.evaluation for c in verdicts], self.task.metric)
        if chosen is None:
            return None
        return next(c for c in verdicts if c.evaluation is chosen)

    def best_of(self, context: int) -> TrustedVerdict | None:
        mine = [c for c in self.verdicts if c.context == context]
        chosen = select_best([c.evaluation for c in mine], self.task.metric)
        return None if chosen is None else next(c for c in mine if c.evaluation is chosen)

    # -- internals --------------------------------------------------------------------------------

    def _design_at(self, history: History, sha: str) -> dict[str, str]:
        return {relpath: history.read_text(sha, relpath) for relpath in self.task.design_files}

    def _evaluate(
        self,
        context: int,
        label: str,
        sha: str,
        sim_index: int | None,
        files: dict[str, str],
        run_total: int | None = None,
        live: bool = False,
    ) -> TrustedVerdict:
        design_hash = design_sha256(files)
        with self._evaluate_lock:
            with self._state_lock:
                earlier = self._by_hash.get(design_hash)
            if earlier is not None:
                evaluation, duplicate_of = earlier.evaluation, earlier.name
                log.info("evaluation.duplicate", context=context, label=label, same_as=duplicate_of)
            else:
                evaluation = self._run_evaluation(context, label, files)
                duplicate_of = None
            verdict = TrustedVerdict(
                context, label, sha, sim_index, design_hash, evaluation, duplicate_of, run_total, live
            )
            save_evaluation(self.run_dir, verdict)
            with self._state_lock:
                self._verdicts.append(verdict)
                self._by_hash.setdefault(design_hash, verdict)
        log.info(
            "evaluation.done",
            context=context,
            label=label,
            sha=sha[:12],
            valid=evaluation.valid,
            score=evaluation.score,
            reason=evaluation.reason,
        )
        return verdict

    def _run_evaluation(self, context: int, label: str, files: dict[str, str]) -> Evaluation:
        name = f"ctx{context}-{label}"
        log.info("evaluation.start", context=context, label=label)
        try:
            return self.evaluator.evaluate_design(files, label=name)
        except Exception as exc:  # an evaluator crash marks this design invalid, not the whole run
            log.exception("evaluation.crashed", context=context, label=label)
            return Evaluation.invalid(name, f"evaluation crashed: {type(exc).__name__}: {exc}")


def save_evaluation(run_dir: Path, verdict: TrustedVerdict) -> Path:
    """evaluations/ctx<k>-<label>.json: the full evaluation plus where the design came from."""
    path = evaluation_file(run_dir, verdict.context, verdict.label)
    record = {
        "context": verdict.context,
        "label": verdict.label,
        "sha": verdict.sha,
        "sim_index": verdict.sim_index,
        "design_hash": verdict.design_hash,
        "duplicate_of": verdict.duplicate_of,
        "run_total": verdict.run_total,
        "live": verdict.live,
        "evaluation": verdict.evaluation.to_dict(),
    }
    write_json_atomic(path, record)
    return path


def load_evaluation(path: Path) -> TrustedVerdict:
    """Read back a file written by `save_evaluation` (used on resume)."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    return TrustedVerdict(
        context=int(record["context"]),
        label=record["label"],
        sha=record["sha"],
        sim_index=record.get("sim_index"),
        design_hash=record["design_hash"],
        evaluation=Evaluation.from_dict(record["evaluation"]),
        duplicate_of=record.get("duplicate_of"),
        run_total=record.get("run_total") if isinstance(record.get("run_total"), int) else None,
        live=record.get("live") is True,
    )
