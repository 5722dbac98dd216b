"""Every (workload, seed) of one evaluation, run in parallel over the evaluation's sandboxes.

The jobs start in a fresh random order, so a design whose sandbox outlives one simulation cannot tell
the held-out runs by their place; results come back in task order. The first failure stops the jobs not
yet started (one bad seed sinks the design), except a limit reached while the machine was
oversubscribed, which is run again first (`time_limits.py`).
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from glia.cores import MACHINE, oversubscribed
from glia.evaluation.results import SeedResult
from glia.evaluation.sandboxes import EvaluationSandboxes
from glia.evaluation.secrets import SeedPlan
from glia.evaluation.simulation import Job, simulate
from glia.evaluation.time_limits import LOAD_RETRIES, load_retry_threshold
from glia.evaluation.verify import SimulationFailed
from glia.task import Task
from glia.workspace.base import WorkspaceError

log = structlog.get_logger(__name__)


@dataclass
class JobsDone:
    """What the jobs of one evaluation came to."""

    results: dict[str, list[SeedResult]]  # workload -> its runs' results, in task order
    failure: str | None  # the first failing job (in task order), as the design's reason
    started: int  # simulations started, runs again under load included
    load_retries: list[str] = field(default_factory=list)  # the runs made again, and why


def jobs_of(task: Task, seed_plans: Mapping[str, SeedPlan]) -> list[Job]:
    """The evaluation's simulations in task order: each workload's seeds, numbered from 0."""
    jobs = []
    for workload in task.evaluation.workloads:
        plan = seed_plans[workload.name]
        for index, (seed, design_seed) in enumerate(zip(plan.seeds, plan.design_seeds, strict=True)):
            jobs.append(Job(workload, index, seed, design_seed))
    return jobs


def run_jobs(
    task: Task,
    sandboxes: EvaluationSandboxes,
    design: str,
    folder: Path,
    jobs: list[Job],
    *,
    on_this_machine: bool,
    on_start: Callable[[], None],
) -> JobsDone:
    """Run `jobs` over `sandboxes` (`on_start` is called as each simulation starts). On this machine
    each simulation holds one of the scheduler's cores (glia/cores.py); a cluster's run on its nodes."""
    abort = threading.Event()
    order = list(range(len(jobs)))
    random.SystemRandom().shuffle(order)
    done = JobsDone({w.name: [] for w in task.evaluation.workloads}, None, 0)
    lock = threading.Lock()

    def attempt(job: Job) -> SeedResult | str | None:
        if abort.is_set():
            return None
        for trial in range(LOAD_RETRIES + 1):
            with lock:
                done.started += 1
            on_start()
            try:
                with MACHINE.core() if on_this_machine else contextlib.nullcontext():
                    return simulate(task, sandboxes, design, job, folder)
            except (SimulationFailed, WorkspaceError) as error:
                where = f"{job.workload.name} workload, run {job.index + 1}"
                threshold = load_retry_threshold(str(error))
                if trial < LOAD_RETRIES and threshold is not None and oversubscribed(threshold):
                    # A limit reached on a busy machine may be the machine's doing: run it again.
                    log.warning("evaluation_limit_under_load_retrying", label=design, reason=str(error))
                    with lock:
                        done.load_retries.append(
                            f"{where}: {error} (the machine was oversubscribed: run again)"
                        )
                    continue
                abort.set()  # one bad seed sinks the design: stop spending simulations on it
                return f"{where}: {error}"
        return None

    with ThreadPoolExecutor(max_workers=sandboxes.workers, thread_name_prefix="glia-eval") as pool:
        futures = {i: pool.submit(attempt, jobs[i]) for i in order}
        for job, outcome in zip(jobs, (futures[i].result() for i in range(len(jobs))), strict=True):
            if isinstance(outcome, SeedResult):
                done.results[job.workload.name].append(outcome)
            elif isinstance(outcome, str) and done.failure is None:
                done.failure = outcome  # jobs are in task order, so this is the first failing one
    return done
