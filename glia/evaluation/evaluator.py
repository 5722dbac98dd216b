"""The trusted evaluator: scores a design by its file text alone, on a pristine copy of the simulator.

Nothing a context produced is trusted except the text of its design file(s): no claimed scores, no
edited simulator, no result folders. Each evaluation copies the template afresh, writes only the design
files into it, and runs every (workload, seed) of the task in one sandboxed workspace. A single failing
simulation (crash, hidden-field access, unfinished requests, timeout) makes the whole design invalid.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import structlog

from glia.evaluation.cache import IGNORED_PARTS, BaselineCache, baseline_key, tree_fingerprint
from glia.evaluation.design_checks import design_problem
from glia.evaluation.results import Evaluation, SeedResult, WorkloadScore
from glia.evaluation.summary import SimulationFailed, read_seed_result
from glia.task import Task, Workload
from glia.workspace import create_workspace
from glia.workspace.base import Limits, Workspace, WorkspaceError

log = structlog.get_logger(__name__)

RESULTS_FOLDER = "trusted_results"  # output root inside the evaluation copy


def kill_after_s(time_limit_s: float) -> float:
    """When the workspace kills a simulation: a grace period after the simulator's own time limit."""
    return time_limit_s + max(5.0, 0.25 * time_limit_s)


KEPT_OUTPUTS = ("summary.json", "config.json")  # what stays on disk after an evaluation


@dataclass(frozen=True)
class _Job:
    workload: Workload
    seed: int

    @property
    def experiment(self) -> str:
        return f"{self.workload.name}-seed{self.seed}"


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
        keep_copies: bool = False,
    ) -> None:
        self.task = task
        self.work_dir = Path(work_dir)
        self.evaluations_dir = self.work_dir / "evaluations"
        self.backend = backend
        self.image = image
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.cache_dir = Path(cache_dir) if cache_dir else self.evaluations_dir
        self.keep_copies = keep_copies
        self.simulations_run = 0  # total simulations started by this evaluator (cache hits add none)
        self._lock = threading.Lock()  # one evaluation at a time: they would compete for the same cores
        self._count_lock = threading.Lock()
        self._counter = 0

    # ------------------------------------------------------------------------------------ public API

    def evaluate_design(self, files: Mapping[str, str], label: str) -> Evaluation:
        """Score design file texts (relpath -> text) with the task's design router."""
        sha = design_sha256(files)
        task = self.task
        problem = design_problem(
            files, task.design_files, task.forbidden_names, task.allowed_imports, task.forbidden_attributes
        )
        if problem:
            log.info("design_rejected", label=label, reason=problem)
            return Evaluation.invalid(
                label, problem, design_sha256=sha, router=self.task.evaluation.design_router
            )
        return self._evaluate(label, self.task.evaluation.design_router, dict(files), sha)

    def evaluate_router(self, router: str) -> Evaluation:
        """Score one of the simulator's built-in routers on the untouched template."""
        return self._evaluate(router, router, {}, None)

    def baselines(self) -> dict[str, Evaluation]:
        """The task's baselines, from the on-disk cache when the template and spec are unchanged."""
        cache = BaselineCache(self.cache_dir, baseline_key(self.task.simulator, self.task.evaluation))
        results = {}
        for router in self.task.evaluation.baselines:
            cached = cache.get(router)
            if cached is None:
                cached = self.evaluate_router(router)
                if cached.valid:  # a failed baseline (say, an overloaded machine) is retried next time
                    cache.put(router, cached)
            results[router] = cached
        return results

    # ------------------------------------------------------------------------------------ internals

    def _evaluate(self, label: str, router: str, files: dict[str, str], sha: str | None) -> Evaluation:
        with self._lock:
            started = time.monotonic()
            self._counter += 1
            folder = self._fresh_folder(label)
            repo = folder / "repo"
            _copy_template(self.task.simulator, repo)
            for relpath, text in files.items():
                (folder / "design" / relpath).parent.mkdir(parents=True, exist_ok=True)
                (folder / "design" / relpath).write_text(text, encoding="utf-8")
                (repo / relpath).write_text(text, encoding="utf-8")
            fingerprint = tree_fingerprint(repo, exclude=RESULTS_FOLDER)
            try:
                seed_results, failure = self._run_all(repo, folder, router)
                if not failure and tree_fingerprint(repo, exclude=RESULTS_FOLDER) != fingerprint:
                    failure = (
                        "the simulator's files changed during the evaluation (designs may not write files)"
                    )
            finally:
                self._tidy(folder, repo)
            duration = time.monotonic() - started
            details = {"design_sha256": sha, "router": router, "duration_s": duration}
            if failure:
                log.info("evaluation_invalid", label=label, reason=failure, duration_s=round(duration, 1))
                return Evaluation.invalid(label, failure, **details)
            workloads = {
                w.name: WorkloadScore.from_seeds(w.name, w.qps, w.heldout, seed_results[w.name])
                for w in self.task.evaluation.workloads
            }
            score = workloads[self.task.evaluation.primary.name].mean
            log.info("evaluation_done", label=label, score=score, duration_s=round(duration, 1))
            return Evaluation(
                label=label, valid=True, reason=None, score=score, workloads=workloads, **details
            )

    def _fresh_folder(self, label: str) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")[:60] or "design"
        folder = self.evaluations_dir / f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        folder.mkdir(parents=True, exist_ok=False)
        return folder

    def _run_all(
        self, repo: Path, folder: Path, router: str
    ) -> tuple[dict[str, list[SeedResult]], str | None]:
        spec = self.task.evaluation
        jobs = [_Job(w, seed) for w in spec.workloads for seed in w.seeds]
        workers = max(1, min(self.workers, len(jobs)))
        limits = Limits(
            cpus=float(min(workers, os.cpu_count() or 1)),
            pids=256 * workers,
            default_timeout_s=kill_after_s(spec.time_limit_s),
            max_timeout_s=kill_after_s(spec.time_limit_s),
        )
        options = {"image": self.image} if self.image else {}
        workspace = create_workspace(
            self.backend,
            repo_path=repo,
            outputs_dir=folder / "outputs",
            run_id=self.work_dir.name,
            context_id=f"eval{self._counter}-{uuid.uuid4().hex[:8]}",  # unique: never clashes with a live one
            limits=limits,
            **options,
        )
        try:
            workspace.start()
            return self._run_jobs(workspace, repo, router, jobs, workers)
        finally:
            workspace.close()

    def _run_jobs(
        self, workspace: Workspace, repo: Path, router: str, jobs: list[_Job], workers: int
    ) -> tuple[dict[str, list[SeedResult]], str | None]:
        """Run the jobs in parallel; after the first failure, jobs not yet started are skipped."""
        abort = threading.Event()

        def attempt(job: _Job) -> SeedResult | str | None:
            if abort.is_set():
                return None
            try:
                return self._simulate(workspace, repo, router, job)
            except (SimulationFailed, WorkspaceError) as error:
                abort.set()  # one bad seed sinks the design: stop spending simulations on it
                return f"seed {job.seed} ({job.workload.name}): {error}"

        results: dict[str, list[SeedResult]] = {w.name: [] for w in self.task.evaluation.workloads}
        first_failure = None
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="glia-eval") as pool:
            for job, outcome in zip(jobs, pool.map(attempt, jobs), strict=True):
                if isinstance(outcome, SeedResult):
                    results[job.workload.name].append(outcome)
                elif isinstance(outcome, str) and first_failure is None:
                    first_failure = outcome  # jobs are in task order, so this is the first failing seed
        return results, first_failure

    def _simulate(self, workspace: Workspace, repo: Path, router: str, job: _Job) -> SeedResult:
        spec = self.task.evaluation
        output_root = f"{RESULTS_FOLDER}/{job.workload.name}"
        command = spec.render_command(router, job.workload, job.seed, job.experiment, output_root)
        with self._count_lock:
            self.simulations_run += 1
        result = workspace.exec(command, timeout_s=kill_after_s(spec.time_limit_s))
        if result.timed_out:
            raise SimulationFailed(f"exceeded the time limit of {spec.time_limit_s:g} s")
        return read_seed_result(repo / output_root / job.experiment, job.seed, result)

    def _tidy(self, folder: Path, repo: Path) -> None:
        """Keep the run summaries next to the design; drop the bulky copy unless asked to keep it."""
        if self.keep_copies:
            return
        results = repo / RESULTS_FOLDER
        if results.is_dir():
            for path in results.rglob("*"):
                if path.is_file() and path.name in KEPT_OUTPUTS:
                    target = folder / "results" / path.relative_to(results)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
        shutil.rmtree(repo, ignore_errors=True)


def design_sha256(files: Mapping[str, str]) -> str:
    """A stable fingerprint of a design: its file paths and texts, in path order."""
    digest = hashlib.sha256()
    for relpath in sorted(files):
        digest.update(relpath.encode() + b"\0" + files[relpath].encode() + b"\0")
    return digest.hexdigest()


def _copy_template(template: Path, dest: Path) -> None:
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns(*IGNORED_PARTS, "*.pyc"))
