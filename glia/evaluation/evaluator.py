"""The trusted evaluator: scores a design by its file text alone, with the design in a sandbox of its own.

Nothing a context produced is trusted except the text of its design file(s): no claimed scores, no
edited simulator, no result folders. Each evaluation opens fresh sandboxes (`sandboxes.py`: a core
holding the pristine simulator and the secret workloads, and a sandbox holding only the design), runs
every (workload, seed) of the task (`jobs.py`, each one by `simulation.py`), and reads the results from
the core alone, checking them on the host (`verify.py`). The static design checks run first, as quick feedback; they are not what makes the score
trustworthy. A single failing simulation (crash, hang, exit, hidden-field access, unfinished requests,
timeout) makes the whole design invalid, with a message naming what happened.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

from glia.cores import MACHINE
from glia.evaluation.cache import BaselineCache, baseline_key
from glia.evaluation.design_checks import files_problem
from glia.evaluation.jobs import jobs_of, run_jobs
from glia.evaluation.results import Evaluation, WorkloadScore
from glia.evaluation.sandboxes import EvaluationSandboxes, JobOutcome, SandboxPool
from glia.evaluation.secrets import SeedKey, SeedPlan, plan_seeds
from glia.evaluation.spread import require_spread_backend
from glia.evaluation.task_checks import task_design_problem
from glia.evaluation.time_limits import kill_after_s
from glia.run_store import write_json_atomic
from glia.task import Task
from glia.task_kinds import kind_of
from glia.workspace.base import WorkspaceError

log = structlog.get_logger(__name__)

SPREAD_BACKENDS = ("ray",)  # backends spreading an evaluation over other machines (glia.evaluation.spread)
SANDBOXED = ("docker", *SPREAD_BACKENDS)  # backends that run designs in sandboxes


class EvaluationRefused(ValueError):
    """The evaluation cannot run as asked (say, a design on the unsandboxed local backend)."""


def default_workers() -> int:
    """Simulations a trusted evaluation runs at once: one per core of the scheduler, at most four."""
    return min(4, MACHINE.cores)


class Evaluator:
    """Runs trusted evaluations for one task; safe to share between threads (evaluations are serialised)."""

    def __init__(
        self,
        task: Task,
        work_dir: Path,
        backend: str = "docker",
        image: str | None = None,
        workers: int | None = None,
        cache_dir: Path | None = None,
        secrets_dir: Path | None = None,
        seed_key: SeedKey | None = None,
        static_checks: bool = True,
        reuse_sandboxes: bool = False,
    ) -> None:
        self.task = task
        self.work_dir = Path(work_dir)
        self.evaluations_dir = self.work_dir / "evaluations"
        self.backend = backend
        self.image = image
        self.workers = workers or (
            _spread_width(backend) if backend in SPREAD_BACKENDS else default_workers()
        )
        self.cache_dir = Path(cache_dir) if cache_dir else self.evaluations_dir
        # One key per workspaces root (runs and benches live side by side there), so that every run and
        # bench on this machine uses the same secret workloads.
        key = seed_key or SeedKey.load_or_create(Path(secrets_dir or self.work_dir.parent / ".secrets"))
        self.seed_plans: dict[str, SeedPlan] = plan_seeds(task, key)
        # The static checks are quick feedback; switching them off (tests of the structural guarantee do)
        # must never change what a design can do to its score.
        self.static_checks = static_checks
        self.simulations_run = 0  # simulations started by this evaluator (cache hits add none)
        self._lock = threading.Lock()  # one evaluation at a time: they would compete for the same cores
        self._count_lock = threading.Lock()
        # A long-lived evaluator (a run, a bench) keeps its sandboxes and restarts them between
        # evaluations; `close()` releases them.
        self._pool = (
            _kept_sandboxes(self.work_dir.name, image, self.workers, task, backend)
            if reuse_sandboxes
            else None
        )

    def close(self) -> None:
        """Remove the sandboxes this evaluator kept (a no-op when it keeps none)."""
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ public API

    def evaluate_design(self, files: Mapping[str, str], label: str) -> Evaluation:
        """Score design file texts (relpath -> text): static checks, then the sandboxed evaluation."""
        sha = design_sha256(files)
        task = self.task
        details = {"design_sha256": sha, "design": task.design.name, "isolation": self._isolation()}
        problem = files_problem(files, task.design_files)
        if problem is None and self.static_checks:
            problem = task_design_problem(task, files)  # the task's own checks; the sandbox is the guarantee
        if problem:
            log.info("design_rejected", label=label, reason=problem)
            return Evaluation.invalid(label, f"rejected before running: {problem}", **details)
        if self.backend not in SANDBOXED:
            raise EvaluationRefused(
                "trusted evaluation runs designs only in Docker sandboxes; the local backend would run the "
                "design on this machine with your rights"
            )
        return self._evaluate(label, task.design.name, dict(files), sha)

    def evaluate_baseline(self, name: str) -> Evaluation:
        """Score one of the task's baselines (built into the simulator, or a design file) the same way."""
        baseline = self.task.evaluation.baseline(name)
        if baseline.builtin:
            return self._evaluate(name, name, None, None)
        text = baseline.file.read_text(encoding="utf-8")  # type: ignore[union-attr]
        files = {self.task.design_files[0]: text}
        if self.backend not in SANDBOXED:
            raise EvaluationRefused(f"baseline {name} is a design file: it needs the docker backend")
        return self._evaluate(name, self.task.design.name, files, design_sha256(files))

    def evaluate_router(self, router: str) -> Evaluation:
        """A built-in design selected by name, even one the task does not list as a baseline."""
        return self._evaluate(router, router, None, None)

    def baselines(self) -> dict[str, Evaluation]:
        """The task's baselines, from the on-disk cache when the template, spec and seeds are unchanged."""
        key = baseline_key(self.task, self.seed_plans)
        cache = BaselineCache(self.cache_dir, key)
        results = {}
        for name in self.task.evaluation.baselines:
            cached = cache.get(name)
            if cached is None:
                cached = self.evaluate_baseline(name)
                if cached.valid:  # a failed baseline (say, an overloaded machine) is retried next time
                    cache.put(name, cached)
            results[name] = cached
        return results

    # ------------------------------------------------------------------------------------ internals

    def _isolation(self) -> str:
        return "sandbox" if self.task.design.host else "none"

    def _evaluate(self, label: str, design: str, files: dict[str, str] | None, sha: str | None) -> Evaluation:
        with self._lock:
            started = time.monotonic()
            folder = self._fresh_folder(label)
            if files is not None:
                for relpath, text in files.items():
                    target = folder / "design" / relpath
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
            spec = self.task.evaluation
            details: dict = {"design_sha256": sha, "design": design}
            load_retries: list[str] = []
            for attempt in (1, 2):
                sandboxes = _sandboxes_class(self.backend)(
                    self.task,
                    folder,
                    run_id=self.work_dir.name,
                    label=label,
                    image=self.image,
                    workers=max(1, min(self.workers, self._job_count())),
                    design_files=files,
                    time_limit_s=kill_after_s(spec.time_limit_s),
                    cpu_limit_s=spec.time_limit_s,
                    backend=self.backend,
                    pool=self._pool,
                )
                details["isolation"] = sandboxes.isolation
                core_lost = False
                try:
                    with sandboxes:
                        done = run_jobs(self.task, sandboxes, design, folder, jobs_of(self.task, self.seed_plans),
                                        on_this_machine=self.backend not in SPREAD_BACKENDS,
                                        on_start=self._count_simulation)  # fmt: skip
                        seed_results, failure, simulations = done.results, done.failure, done.started
                        load_retries += done.load_retries
                        # The design cannot reach the core sandbox: a core that died is the engine's doing.
                        core_lost = failure is not None and not sandboxes.core_alive()
                except WorkspaceError as exc:
                    seed_results, failure, simulations = {}, f"the evaluation sandbox failed: {exc}", 0
                if not core_lost or attempt == 2:
                    break
                details["retried"] = f"the core sandbox was lost during the first attempt ({failure})"
                log.warning("evaluation_core_lost_retrying", label=label, failure=failure)
                if self._pool is not None:
                    self._pool.discard()
            duration = time.monotonic() - started
            details.update(duration_s=duration, simulations=simulations)
            if load_retries:
                retried = "; ".join(load_retries)
                details["retried"] = f"{details['retried']}; {retried}" if details.get("retried") else retried
            if failure:
                failure += missing_requirement_hint(self.task, failure)
                log.info("evaluation_invalid", label=label, reason=failure, duration_s=round(duration, 1))
                return Evaluation.invalid(label, failure, **details)
            metric = self.task.metric
            workloads = {
                w.name: WorkloadScore.from_seeds(
                    w.name, w.params, w.heldout, w.secret, seed_results[w.name], metric
                )
                for w in spec.workloads
            }
            primary = workloads[spec.primary.name]
            log.info("evaluation_done", label=label, score=primary.mean, duration_s=round(duration, 1))
            return Evaluation(
                label=label,
                valid=True,
                reason=None,
                score=primary.mean,
                workloads=workloads,
                feasible=not primary.violations,
                violations=primary.violations,
                **details,
            )

    def _count_simulation(self) -> None:
        with self._count_lock:
            self.simulations_run += 1

    def _job_count(self) -> int:
        return sum(len(plan.seeds) for plan in self.seed_plans.values())

    def _fresh_folder(self, label: str) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")[:60] or "design"
        folder = self.evaluations_dir / f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        folder.mkdir(parents=True, exist_ok=False)
        write_json_atomic(
            folder / "seeds.json",
            {name: {"seeds": list(p.seeds), "design_seeds": list(p.design_seeds), "secret": p.secret}
             for name, p in self.seed_plans.items()},
        )  # fmt: skip
        return folder


def _sandboxes_class(backend: str) -> Any:
    """The sandboxes of one evaluation: here, or spread over other machines (`glia.evaluation.spread`)."""
    if backend in SPREAD_BACKENDS:
        return require_spread_backend(backend).sandboxes
    return EvaluationSandboxes


def _kept_sandboxes(run_id: str, image: str | None, workers: int, task: Task, backend: str) -> Any:
    """What a long-lived evaluator keeps between evaluations: a sandbox pair, or a cluster's lanes."""
    limit = kill_after_s(task.evaluation.time_limit_s)
    if backend in SPREAD_BACKENDS:
        return require_spread_backend(backend).kept(run_id, image, limit)
    return SandboxPool(run_id, image, workers, limit, backend) if backend == "docker" else None


def _spread_width(backend: str) -> int:
    return require_spread_backend(backend).width()


def design_sha256(files: Mapping[str, str]) -> str:
    """A stable fingerprint of a design: its file paths and texts, in path order."""
    digest = hashlib.sha256()
    for relpath in sorted(files):
        digest.update(relpath.encode() + b"\0" + files[relpath].encode() + b"\0")
    return digest.hexdigest()


__all__ = ["Evaluator", "EvaluationRefused", "JobOutcome", "design_sha256", "kill_after_s"]


def missing_requirement_hint(task: Task, failure: str) -> str:
    """The requirement to add when a trusted run failed on a missing package, as the task's kind words it
    (a problem folder's harness adds its own, so its kind adds nothing)."""
    return kind_of(task).requirement_hint(task, failure)
