"""The trusted evaluator: scores a design by its file text alone, with the design in a sandbox of its own.

Nothing a context produced is trusted except the text of its design file(s): no claimed scores, no
edited simulator, no result folders. Each evaluation opens fresh sandboxes (`sandboxes.py`: a core
holding the pristine simulator and the secret workloads, and a sandbox holding only the design), runs
every (workload, seed) of the task, and reads the results from the core alone, checking them on the host
(`verify.py`). The static design checks run first, as quick feedback; they are not what makes the score
trustworthy. A single failing simulation (crash, hang, exit, hidden-field access, unfinished requests,
timeout) makes the whole design invalid, with a message naming what happened.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import re
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from glia.cores import MACHINE, oversubscribed
from glia.evaluation.cache import BaselineCache, baseline_key
from glia.evaluation.collect import ARCHIVE, COLLECT_ROOT, archive_cap, collecting_command, unpack
from glia.evaluation.collect import slot as collect_slot
from glia.evaluation.design_checks import files_problem
from glia.evaluation.results import Evaluation, SeedResult, WorkloadScore
from glia.evaluation.sandboxes import EvaluationSandboxes, JobOutcome, SandboxPool
from glia.evaluation.secrets import SeedKey, SeedPlan, plan_seeds
from glia.evaluation.spread import require_spread_backend
from glia.evaluation.task_checks import task_design_problem
from glia.evaluation.verify import (
    SimulationFailed,
    check_per_request,
    check_summary,
    parse_summary,
    seed_result,
)
from glia.run_store import write_json_atomic
from glia.task import Task, Workload
from glia.task_kinds import kind_of
from glia.workspace.base import WorkspaceError, WorkspaceFileError

log = structlog.get_logger(__name__)

OUTPUT_ROOT = "trusted_results"  # inside the core sandbox
SUMMARY_FILE = "summary.json"
MAX_SUMMARY_BYTES = 2 * 2**20
MAX_PER_REQUEST_BYTES = 256 * 2**20


SPREAD_BACKENDS = ("ray",)  # backends spreading an evaluation over other machines (glia.evaluation.spread)
SANDBOXED = ("docker", *SPREAD_BACKENDS)  # backends that run designs in sandboxes


class EvaluationRefused(ValueError):
    """The evaluation cannot run as asked (say, a design on the unsandboxed local backend)."""


WALL_GUARD_FACTOR = 10.0  # the simulator's hang guard (llmsim/cpu_limits.py): wall seconds per CPU second
LOAD_RETRIES = 2  # how often a limit reached on an oversubscribed machine is run again before it condemns


def kill_after_s(time_limit_s: float) -> float:
    """When a simulation is killed from outside: after the simulator's own wall-clock hang guard.

    The time limit that decides validity is in CPU seconds and enforced inside the sandboxes (the core's
    and the design's processes); this wall-clock kill only stops what hangs, so it is generous."""
    guard = WALL_GUARD_FACTOR * time_limit_s
    return guard + max(5.0, 0.25 * time_limit_s)


def default_workers() -> int:
    """Simulations a trusted evaluation runs at once: one per core of the scheduler, at most four."""
    return min(4, MACHINE.cores)


def load_retry_threshold(reason: str) -> float | None:
    """The load per core above which a failure may be the machine's doing, so it is run again; None when
    it cannot be. Under a load of L, a starved design uses about 1/L of the wall time in CPU time: it
    reaches the CPU-time limit on an oversubscribed machine (L > 1), and the hang guard (10 x the limit)
    before the CPU-time limit only when L > 10. Below that, a run stopped by the hang guard hung."""
    if "SafetyLimitError: CPU-time limit" in reason:
        return 1.0
    if "hang guard" in reason:
        return WALL_GUARD_FACTOR
    return None


@dataclass(frozen=True)
class _Job:
    workload: Workload
    index: int
    seed: int
    design_seed: int

    @property
    def experiment(self) -> str:
        return f"{self.workload.name}-{self.index}"


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
        self._load_retries: list[str] = []
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
                        seed_results, failure, simulations = self._run_jobs(sandboxes, design, folder)
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
            if self._load_retries:
                retried = "; ".join(self._load_retries)
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

    def _job_count(self) -> int:
        return sum(len(plan.seeds) for plan in self.seed_plans.values())

    def _jobs(self) -> list[_Job]:
        jobs = []
        for workload in self.task.evaluation.workloads:
            plan = self.seed_plans[workload.name]
            for index, (seed, design_seed) in enumerate(zip(plan.seeds, plan.design_seeds, strict=True)):
                jobs.append(_Job(workload, index, seed, design_seed))
        return jobs

    def _run_jobs(
        self, sandboxes: EvaluationSandboxes, design: str, folder: Path
    ) -> tuple[dict[str, list[SeedResult]], str | None, int]:
        """Run the jobs in parallel; after the first failure, jobs not yet started are skipped."""
        abort = threading.Event()
        jobs = self._jobs()
        # Started in a fresh random order: a design that counts its runs (its sandbox outlives one
        # simulation) cannot tell the held-out ones by their place. Results are kept in task order.
        order = list(range(len(jobs)))
        random.SystemRandom().shuffle(order)
        started = [0]
        load_retries: list[str] = []
        self._load_retries = load_retries  # read by _evaluate (evaluations are serialised)

        def attempt(job: _Job) -> SeedResult | str | None:
            if abort.is_set():
                return None
            for trial in range(LOAD_RETRIES + 1):
                with self._count_lock:
                    self.simulations_run += 1
                    started[0] += 1
                try:
                    # The run's simulations share this machine's cores (glia/cores.py); a cluster's run on its nodes.
                    with MACHINE.core() if self.backend not in SPREAD_BACKENDS else contextlib.nullcontext():
                        return self._simulate(sandboxes, design, job, folder)
                except (SimulationFailed, WorkspaceError) as error:
                    where = f"{job.workload.name} workload, run {job.index + 1}"
                    threshold = load_retry_threshold(str(error))
                    if trial < LOAD_RETRIES and threshold is not None and oversubscribed(threshold):
                        # A limit reached on a busy machine may be the machine's doing: run it again.
                        note = f"{where}: {error} (the machine was oversubscribed: run again)"
                        log.warning("evaluation_limit_under_load_retrying", label=design, reason=str(error))
                        with self._count_lock:
                            load_retries.append(note)
                        continue
                    abort.set()  # one bad seed sinks the design: stop spending simulations on it
                    return f"{where}: {error}"
            return None

        results: dict[str, list[SeedResult]] = {w.name: [] for w in self.task.evaluation.workloads}
        first_failure = None
        with ThreadPoolExecutor(max_workers=sandboxes.workers, thread_name_prefix="glia-eval") as pool:
            futures = {i: pool.submit(attempt, jobs[i]) for i in order}
            for job, outcome in zip(jobs, (futures[i].result() for i in range(len(jobs))), strict=True):
                if isinstance(outcome, SeedResult):
                    results[job.workload.name].append(outcome)
                elif isinstance(outcome, str) and first_failure is None:
                    first_failure = outcome  # jobs are in task order, so this is the first failing one
        return results, first_failure, started[0]

    def _simulate(self, sandboxes: EvaluationSandboxes, design: str, job: _Job, folder: Path) -> SeedResult:
        spec = self.task.evaluation
        output_root = f"{OUTPUT_ROOT}/{job.workload.name}"
        experiment_dir = f"{output_root}/{job.experiment}"
        collected = f"{COLLECT_ROOT}/{collect_slot()}"
        limits = {SUMMARY_FILE: MAX_SUMMARY_BYTES}
        if spec.per_request is not None:
            limits[spec.per_request.file] = MAX_PER_REQUEST_BYTES
        command = spec.render_command(
            design, job.workload, job.seed, job.experiment, output_root, design_seed=job.design_seed
        )
        # One call runs the simulation and archives its result files where the host reads them (collect.py).
        outcome = sandboxes.run(
            collecting_command(command, experiment_dir, collected, list(limits)),
            kill_after_s(spec.time_limit_s),
        )
        result = outcome.core
        files: dict[str, bytes] | None = None  # None: not collected; list the folder, read there, remove it
        try:
            if result.timed_out:
                raise SimulationFailed(
                    f"did not finish within the wall-clock hang guard of {kill_after_s(spec.time_limit_s):g} s "
                    f"(the time limit is {spec.time_limit_s:g} s of CPU time)"
                )
            files = self._collected(sandboxes, collected, limits)
            if files is None:
                run_dir, summary_bytes = self._uncollected_summary(sandboxes, experiment_dir, outcome)
            else:
                summary_bytes = files[SUMMARY_FILE]
            summary = parse_summary(summary_bytes)
            self._keep(folder, job, summary_bytes)
            values = check_summary(summary, self.task.metric)
            if result.exit_code != 0:
                raise SimulationFailed(f"exited with code {result.exit_code}: {_last_lines(result.output)}")
            if spec.per_request is not None:
                if files is None:
                    records = sandboxes.read(f"{run_dir}/{spec.per_request.file}", MAX_PER_REQUEST_BYTES)
                elif spec.per_request.file in files:
                    records = files[spec.per_request.file]
                else:
                    raise WorkspaceFileError(f"{spec.per_request.file}: no such file in the run's folder")
                check_per_request(summary, records, spec.per_request)
            return seed_result(job.seed, job.design_seed, values, summary)
        finally:
            if files is None:
                sandboxes.remove(experiment_dir)  # the core's space is bounded; the summary is kept here

    def _collected(
        self, sandboxes: EvaluationSandboxes, collected: str, limits: dict[str, int]
    ) -> dict[str, bytes] | None:
        """The run's files as the simulation command archived them; None when it archived nothing."""
        try:
            data = sandboxes.read(f"{collected}/{ARCHIVE}", archive_cap(limits))
        except WorkspaceFileError as exc:
            if str(exc).endswith(": no such file"):
                return None
            raise SimulationFailed(f"the run's result files could not be read: {exc}") from None
        try:
            files = unpack(data, limits)
        except WorkspaceFileError as exc:
            if SUMMARY_FILE in str(exc):
                raise SimulationFailed(f"no readable summary.json ({exc})") from None
            raise
        return files if SUMMARY_FILE in files else None

    def _uncollected_summary(
        self, sandboxes: EvaluationSandboxes, experiment_dir: str, outcome: JobOutcome
    ) -> tuple[str, bytes]:
        """The run folder and its summary when the simulation command collected nothing (no single run
        folder, or one without a summary): what was found, for the message, or the summary after all."""
        result = outcome.core
        runs = sandboxes.list_folder(experiment_dir)
        if len(runs) != 1:
            raise SimulationFailed(
                _no_result_message(result.exit_code, result.output, outcome.design_note, len(runs))
            )
        run_dir = f"{experiment_dir}/{runs[0]}"
        try:
            return run_dir, sandboxes.read(f"{run_dir}/{SUMMARY_FILE}", MAX_SUMMARY_BYTES)
        except WorkspaceFileError as exc:
            raise SimulationFailed(
                f"no readable summary.json ({exc}); the simulator exited with code {result.exit_code}: "
                f"{_last_lines(result.output)}" + (f" ({outcome.design_note})" if outcome.design_note else "")
            ) from None

    def _keep(self, folder: Path, job: _Job, summary_bytes: bytes) -> None:
        target = folder / "results" / job.workload.name / f"run-{job.index + 1}" / SUMMARY_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(summary_bytes)

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


def _no_result_message(exit_code: int | None, output: str, design_note: str | None, found: int) -> str:
    what = "no result folder" if found == 0 else f"{found} result folders (expected one)"
    message = f"{what}; the simulator exited with code {exit_code}: {_last_lines(output)}"
    return message + (f" ({design_note})" if design_note else "")


def _last_lines(output: str, count: int = 3) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])[-1500:] if lines else "(no output)"


__all__ = ["Evaluator", "EvaluationRefused", "JobOutcome", "design_sha256", "kill_after_s"]


def missing_requirement_hint(task: Task, failure: str) -> str:
    """The requirement to add when a trusted run failed on a missing package, as the task's kind words it
    (a problem folder's harness adds its own, so its kind adds nothing)."""
    return kind_of(task).requirement_hint(task, failure)
