"""`glia bench`: the trusted evaluation of baselines, a router or a design file, without any model.

It is the first thing a new user runs: it proves the simulator, the sandbox and the evaluator work on
this machine, and shows the numbers a design has to beat.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from glia.cli.common import add_root_option, console, parse_seeds, seeds_argument, workspaces_root
from glia.config import load_config
from glia.errors import GliaUsageError
from glia.task import Task, load_task

if TYPE_CHECKING:
    from glia.evaluation import Evaluation


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="score baselines, a router or a design with the trusted evaluator (no API key needed)",
        description=(
            "Run the task's trusted evaluation (fresh simulator copy, every workload and seed) and print mean, "
            "90%% confidence interval, p90 and restart fraction per workload. Without --router or --design it "
            "scores all of the task's baselines."
        ),
    )
    parser.add_argument("task", metavar="TASK", help="task file, e.g. tasks/llm_routing.md")
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
        help="N: first N seeds per workload; LIST: e.g. 0,1,2",
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
        help="where simulations run: docker (sandboxed, default) or local (host processes, no sandbox)",
    )
    parser.add_argument(
        "--image", metavar="TAG", help="workspace image for docker (default: glia-workspace:latest)"
    )
    add_root_option(parser)
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


def run(args: argparse.Namespace) -> int:
    from glia.evaluation import Evaluator

    config = load_config()
    task = narrowed_task(load_task(args.task), args.seeds, args.workloads, args.duration)
    backend = args.workspace or config.workspace or "docker"
    image = args.image or config.image
    root = workspaces_root(args.root, config)
    evaluator = Evaluator(task, root / f"bench-{task.name}", backend=backend, image=image)
    out = console()
    primary = task.evaluation.primary
    out.print(
        f"[bold]{task.title}[/] · {len(task.evaluation.workloads)} workload(s), {len(primary.seeds)} seed(s) on "
        f"the main one · backend {backend} · this can take a few minutes",
        highlight=False,
    )
    if args.router:
        results = {args.router: evaluator.evaluate_router(args.router)}
    elif args.design:
        label = Path(args.design[0]).stem
        results = {label: evaluator.evaluate_design(design_files(task, args.design), label)}
    else:
        results = evaluator.baselines()
    out.print(results_table(task, results))
    reference = results.get(task.evaluation.reference_baseline)
    if reference is not None and reference.valid and reference.score is not None:
        out.print(
            f"Reference baseline {task.evaluation.reference_baseline}: {reference.score:.2f} "
            f"{task.metric.unit} ({task.metric.direction} {task.metric.name})."
        )
    return 0 if all(e.valid for e in results.values()) else 1


def results_table(task: Task, results: dict[str, Evaluation]) -> Table:
    """One row per (router or design, workload): mean, 90% CI, p90 and restarts over seeds."""
    unit = f" ({task.metric.unit})" if task.metric.unit else ""
    better = "lower" if task.metric.direction == "minimize" else "higher"
    table = Table(title=f"{task.name}: trusted {task.metric.name}{unit}, {better} is better")
    for column, justify in (
        ("router", "left"),
        ("workload", "left"),
        ("seeds", "right"),
        ("mean", "right"),
        ("90% CI", "right"),
        ("p90", "right"),
        ("restarts", "right"),
    ):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for label, evaluation in results.items():
        if not evaluation.valid:
            table.add_row(label, "[red]invalid[/]", "", "", evaluation.reason or "", "", "", end_section=True)
            continue
        rows = list(evaluation.workloads.values())
        for i, workload in enumerate(rows):
            restarts = sum(s.frac_restarted for s in workload.seeds) / max(len(workload.seeds), 1)
            table.add_row(
                label if i == 0 else "",
                f"{workload.name}{'*' if workload.heldout else ''} @{workload.qps:g}",
                str(len(workload.seeds)),
                f"{workload.mean:.2f}",
                f"{workload.ci_low:.2f}–{workload.ci_high:.2f}",
                f"{workload.p90:.2f}",
                f"{restarts:.1%}",
                end_section=i == len(rows) - 1,
            )
    if any(w.heldout for e in results.values() for w in e.workloads.values()):
        table.caption = "* held-out workload (checks against overfitting; not part of the score)"
    return table
