"""One trusted simulation: run a (workload, seed) in the core sandbox, collect its files, check them.

The core's results are hostile data: read within caps (`collect.py`), parsed and checked on the host
(`verify.py`); the summary is kept in the evaluation's folder. Anything wrong is a `SimulationFailed`
naming what happened, which makes the whole design invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glia.evaluation.collect import ARCHIVE, COLLECT_ROOT, archive_cap, collecting_command, unpack
from glia.evaluation.collect import slot as collect_slot
from glia.evaluation.results import SeedResult
from glia.evaluation.sandboxes import EvaluationSandboxes, JobOutcome
from glia.evaluation.time_limits import kill_after_s
from glia.evaluation.verify import (
    SimulationFailed,
    check_per_request,
    check_summary,
    parse_summary,
    seed_result,
)
from glia.task import Task, Workload
from glia.workspace.base import WorkspaceFileError

OUTPUT_ROOT = "trusted_results"  # inside the core sandbox
SUMMARY_FILE = "summary.json"
MAX_SUMMARY_BYTES = 2 * 2**20
MAX_PER_REQUEST_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Job:
    """One simulation of an evaluation: a workload, the run's number in it, its seeds."""

    workload: Workload
    index: int
    seed: int
    design_seed: int

    @property
    def experiment(self) -> str:
        return f"{self.workload.name}-{self.index}"


def simulate(task: Task, sandboxes: EvaluationSandboxes, design: str, job: Job, folder: Path) -> SeedResult:
    """Run one (workload, seed) in the core and check what it wrote; SimulationFailed says why not."""
    spec = task.evaluation
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
        files = _collected(sandboxes, collected, limits)
        if files is None:
            run_dir, summary_bytes = _uncollected_summary(sandboxes, experiment_dir, outcome)
        else:
            summary_bytes = files[SUMMARY_FILE]
        summary = parse_summary(summary_bytes)
        _keep(folder, job, summary_bytes)
        values = check_summary(summary, task.metric)
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
    sandboxes: EvaluationSandboxes, collected: str, limits: dict[str, int]
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
    sandboxes: EvaluationSandboxes, experiment_dir: str, outcome: JobOutcome
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


def _keep(folder: Path, job: Job, summary_bytes: bytes) -> None:
    target = folder / "results" / job.workload.name / f"run-{job.index + 1}" / SUMMARY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(summary_bytes)


def _no_result_message(exit_code: int | None, output: str, design_note: str | None, found: int) -> str:
    what = "no result folder" if found == 0 else f"{found} result folders (expected one)"
    message = f"{what}; the simulator exited with code {exit_code}: {_last_lines(output)}"
    return message + (f" ({design_note})" if design_note else "")


def _last_lines(output: str, count: int = 3) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])[-1500:] if lines else "(no output)"
