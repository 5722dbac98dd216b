"""`glia bench`: the trusted evaluation of baselines, a router or a design file, without any model.

It is the first thing a new user runs: it proves the simulator, the sandbox and the evaluator work on
this machine, and shows the numbers a design has to beat.
"""

from __future__ import annotations

import argparse
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from glia.cli.common import (
    add_cluster_option,
    add_root_option,
    console,
    parse_seeds,
    seeds_argument,
    use_cluster,
    workspaces_root,
)
from glia.config import UserConfig, load_config
from glia.errors import GliaUsageError
from glia.safe_text import console_text
from glia.task import Task
from glia.task_kinds import kind_of, load_task

if TYPE_CHECKING:
    from glia.evaluation import Evaluation


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="score baselines, a router or a design with the trusted evaluator (no API key needed)",
        description=(
            "Run the task's trusted evaluation (fresh simulator copy, every workload and seed) and print mean, "
            "90% confidence interval, p90 and restart fraction per workload. Without --router or --design it "
            "scores all of the task's baselines."
        ),
    )
    parser.add_argument(
        "task",
        metavar="TASK",
        help="task file (e.g. tasks/llm_routing.md) or an OpenEvolve-style problem folder",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--router", metavar="NAME", help="score one built-in router of the simulator (e.g. llq)"
    )
    which.add_argument(
        "--design",
        metavar="FILE",
        action="append",
        help="score this design file (repeat for tasks with several design files)",
    )
    parser.add_argument(
        "--seeds",
        type=seeds_argument,
        metavar="N|LIST",
        help="main workload only: N of its secret seeds, or public seeds such as 0,1,2 (to reproduce a figure)",
    )
    parser.add_argument(
        "--workloads",
        metavar="NAMES",
        help="comma list of workloads to keep (e.g. main to skip held-out checks)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="simulated seconds per run (shorter = quicker, noisier)",
    )
    parser.add_argument(
        "--workspace",
        choices=("docker", "local"),
        help="where simulations run: docker (sandboxed, default) or local (UNSAFE: host processes, no "
        "sandbox; needs --unsafe-local-workspace)",
    )
    parser.add_argument(
        "--unsafe-local-workspace",
        action="store_true",
        help="accept running simulations directly on this machine with --workspace local (no sandbox)",
    )
    parser.add_argument(
        "--image", metavar="TAG", help="workspace image for docker (default: glia-workspace:latest)"
    )
    add_root_option(parser)
    add_cluster_option(parser)  # the evaluation's simulations spread over the cluster's nodes
    parser.set_defaults(handler=run)


def narrowed_task(task: Task, seeds: str | None, workloads: str | None, duration: float | None) -> Task:
    """The task with the user's quick-look overrides applied (or unchanged)."""
    names = [w for w in (workloads or "").split(",") if w.strip()] or None
    if seeds is None and names is None and duration is None:
        return task
    return task.with_overrides(seeds=parse_seeds(seeds), workloads=names, duration_s=duration)


def design_files(task: Task, paths: list[str]) -> dict[str, str]:
    """Map design files given on the command line to the task's design file paths."""
    if len(paths) == 1 and len(task.design_files) == 1:
        return {task.design_files[0]: _read(paths[0])}
    files = {}
    for given in paths:
        matches = [d for d in task.design_files if Path(d).name == Path(given).name]
        if len(matches) != 1:
            raise GliaUsageError(
                f"cannot tell which design file {given} replaces",
                f"name it like one of: {', '.join(task.design_files)}",
            )
        files[matches[0]] = _read(given)
    return files


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GliaUsageError(
            f"cannot read design file {path}: {exc.strerror or exc}", "check the path"
        ) from exc


def bench_run_id(task: Task) -> str:
    """A run id of its own for every bench invocation: its containers never share a label with another's."""
    return f"bench-{task.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def run(args: argparse.Namespace) -> int:
    from glia.workspace import install_signal_cleanup, remove_invocation_containers
    from glia.workspace.unsafe import check_backend_allowed, warning_line

    config = load_config()
    task = narrowed_task(load_task(args.task), args.seeds, args.workloads, args.duration)
    backend = args.workspace or config.workspace or "docker"
    check_backend_allowed(backend, bool(args.unsafe_local_workspace or config.allow_unsafe_local))
    cluster = use_cluster(args, config)
    if cluster:
        from glia.cluster import connect

        connect(cluster)  # a ClusterError (a WorkspaceError) says in one line what to fix
        backend = "ray"
    out = console()
    if backend == "local":
        out.print(f"[bold red]{warning_line()}[/]")
    install_signal_cleanup()  # SIGINT / SIGTERM close this process's workspaces and containers
    run_id = bench_run_id(task)
    try:
        return _bench(args, task, backend, config, run_id)
    finally:
        if backend == "docker":  # the evaluator closes its own; this catches what an exception left
            remove_invocation_containers(run_id)


def _bench(args: argparse.Namespace, task: Task, backend: str, config: UserConfig, run_id: str) -> int:
    from rich.markup import escape

    from glia.evaluation import Evaluator
    from glia.evaluation.faithful import check_initial_program
    from glia.workspace.task_image import prepare_task_image

    image = args.image or config.image
    if backend == "docker":  # a problem folder's requirements, installed into the task's image once
        image = prepare_task_image(task, image)
    console().print(sandbox_python_line(backend, image), highlight=False)
    root = workspaces_root(args.root, config)
    bench_dir = root / f"bench-{task.name}"
    evaluator = Evaluator(
        task,
        bench_dir / "runs" / run_id,  # its name is the containers' run id
        backend=backend,
        image=image,
        cache_dir=bench_dir / "evaluations",  # baselines cached per task, shared by invocations
        secrets_dir=root / ".secrets",  # the same secret workloads as every run under this root
        reuse_sandboxes=True,
    )
    with evaluator:
        reference = kind_of(task).faithfulness_baseline
        if not (args.router or args.design) and reference is not None:  # setup: is isolation faithful?
            verdict = check_initial_program(task, evaluator.baselines().get(reference), evaluator, reference)
            if not verdict.faithful:
                console().print(
                    f"[red]glia bench stopped:[/] {escape(verdict.reason or '')}", highlight=False
                )
                return 2
        return _score_and_print(args, task, evaluator, backend)


def sandbox_python_line(backend: str, image: str | None) -> Text:
    """Which Python the task's commands run (`python`, as they call it): the image's, or this machine's."""
    from glia.workspace.task_image import WHICH_PYTHON, describe_sandbox_python

    if backend == "docker":
        from glia.workspace.engine import DEFAULT_IMAGE

        image = image or DEFAULT_IMAGE
        where, found = f" in image {image}", describe_sandbox_python(image)
    else:
        where = " (local backend: this machine's)"
        try:
            done = subprocess.run(["python", "-c", WHICH_PYTHON], capture_output=True, text=True, timeout=30)
            found = done.stdout.strip() or f"unknown ({done.stderr.strip()[-200:]})"
        except (OSError, subprocess.TimeoutExpired) as exc:
            found = f"unknown ({type(exc).__name__})"
    return Text.assemble("Sandbox Python: ", console_text(found, 300), where)


def _score_and_print(args: argparse.Namespace, task: Task, evaluator: Any, backend: str) -> int:
    out = console()
    primary = task.evaluation.primary
    out.print(
        Text.assemble(
            console_text(task.title, 120, style="bold"),
            f" · {len(task.evaluation.workloads)} workload(s), {primary.count} seed(s) on "
            f"the main one · backend {backend} · this can take a few minutes",
        )
    )
    if args.router:
        results = {args.router: evaluator.evaluate_router(args.router)}
    elif args.design:
        label = Path(args.design[0]).stem
        results = {label: evaluator.evaluate_design(design_files(task, args.design), label)}
    else:
        results = evaluator.baselines()
    out.print(results_table(task, results))
    for label, evaluation in results.items():
        if not evaluation.valid:  # in full: a table cell would cut the reason short
            line = Text.assemble(console_text(label, 80, "red"), (" is invalid:", "red"), " ")
            out.print(line.append_text(console_text(evaluation.reason, 4000)))
        elif not evaluation.feasible:
            line = Text.assemble(console_text(label, 80, "red"), (" is infeasible:", "red"), " ")
            out.print(line.append_text(console_text("; ".join(evaluation.violations), 4000)))
    reference = results.get(task.evaluation.reference_baseline)
    if reference is not None and reference.valid and reference.score is not None:
        out.print(
            console_text(
                f"Reference baseline {task.evaluation.reference_baseline}: {reference.score:.2f}"
                f"{' ' + task.metric.unit if task.metric.unit else ''} ({task.metric.direction} {task.metric.name}).",
                400,
            )
        )
    return 0 if all(e.valid for e in results.values()) else 1


def _cell(metric: Any, workload: Any, key: str) -> Text:
    """A value, marked when a constraint on it fails on this workload."""
    shown = console_text(metric.format(workload.value(key)), 40)
    broken = [c for c in metric.constraints if c.key == key and not c.holds(workload.value(key))]
    return (
        shown.append_text(console_text(f" ✗ {broken[0].op} {broken[0].bound:g}", 40, "red"))
        if broken
        else shown
    )


def _decision_cost(ms: float | None) -> str:
    """The design's CPU time per decision: a slow design shows as slow (its limits count CPU time)."""
    return "" if ms is None else f"{ms:.3f}"


def results_table(task: Task, results: dict[str, Evaluation]) -> Table:
    """One row per (design, workload): the objective's mean and 90% CI over seeds, in the task's metric and
    unit, then the mean of every other key the metric reports (constraint keys, `report` keys)."""
    metric = task.metric
    unit = f" ({metric.unit})" if metric.unit else ""
    better = "lower" if metric.lower_is_better else "higher"
    table = Table(title=console_text(f"{task.name}: trusted {metric.name}{unit}, {better} is better", 200))
    others = [key for key in metric.keys if key != metric.name]
    columns = [("design", "left"), ("workload", "left"), ("seeds", "right"), (f"{metric.name}", "right")]
    columns += [("90% CI", "right"), *((key, "right") for key in others), ("CPU ms/decision", "right")]
    for column, justify in columns:
        table.add_column(console_text(column, 60), justify=justify, no_wrap=True)  # type: ignore[arg-type]
    blanks = [""] * (len(columns) - 3)
    for label, evaluation in results.items():
        if not evaluation.valid:
            invalid = Text("invalid", style="red")
            table.add_row(console_text(label, 60), invalid, "", "see below", *blanks[1:], end_section=True)
            continue
        rows = list(evaluation.workloads.values())
        for i, workload in enumerate(rows):
            shown = f"{workload.name}{'*' if workload.heldout else ''}"
            described = ", ".join(f"{k}={v}" for k, v in workload.params.items())
            table.add_row(
                console_text(label, 60) if i == 0 else "",
                console_text(f"{shown} ({described})" if described else shown, 120),
                str(len(workload.seeds)),
                console_text(metric.format(workload.mean), 40),
                console_text(f"{metric.format(workload.ci_low)}–{metric.format(workload.ci_high)}", 60)
                if len(workload.seeds) > 1
                else "single measurement",  # one seed: no spread to show, never a zero-width certainty
                *(_cell(metric, workload, key) for key in others),
                _decision_cost(workload.decision_cpu_ms),
                end_section=i == len(rows) - 1,
            )
    if any(w.heldout for e in results.values() for w in e.workloads.values()):
        table.caption = "* held-out workload (checks against overfitting; not part of the score)"
    return table
