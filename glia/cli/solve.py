"""`glia solve`: start a research run on a task and follow it live.

Settings come from the task's front matter, then the user's config file, then flags (the strongest).
Everything that can fail cheaply (task file, budget, model names and keys, Docker, image) is checked
before the run folder is created, so a mistake costs nothing and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from glia.cli.common import add_root_option, console, parse_seeds, seeds_argument, workspaces_root
from glia.config import UserConfig, apply_environment, load_config
from glia.errors import check_budget
from glia.logging_setup import log_to_run
from glia.progress import RunWatcher, make_display
from glia.task import BudgetLimits, Task, load_task

DEFAULT_MODEL = "openai:o3"
PROGRESS_INTERVAL_S = 1.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "solve",
        help="run the Researcher and Supervisor on a task (needs a model API key or --base-url)",
        description=(
            "Start a research run: Researcher context(s) iterate on the design in sandboxed copies of the "
            "simulator, the Supervisor critiques, and Glia re-evaluates designs itself. Prints where the run "
            "lives, shows live progress, and ends with the best trusted score. Precedence: task front matter, "
            "then the config file (~/.config/glia/config.yaml or $GLIA_CONFIG), then these flags."
        ),
    )
    parser.add_argument("task", metavar="TASK", help="task file, e.g. tasks/llm_routing.md")
    parser.add_argument(
        "--strategy",
        choices=("scg", "mcg-seq", "mcg-par"),
        help="scg: one context; mcg-seq: contexts one after another; mcg-par: N contexts at once "
        "(default: the task's)",
    )
    parser.add_argument(
        "--contexts",
        type=int,
        metavar="N",
        help="mcg-par: N contexts at once (shown as MCG-ParN); mcg-seq: at most N contexts in a row",
    )
    parser.add_argument(
        "--target-improvement",
        type=float,
        metavar="FRACTION",
        help="mcg-seq stops once the best trusted score beats the reference baseline by this fraction "
        "(e.g. 0.3; default: the task's)",
    )
    parser.add_argument(
        "--researcher-model", metavar="PROVIDER:MODEL", help=f"e.g. openai:o3 (default {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--supervisor-model",
        metavar="PROVIDER:MODEL",
        help="e.g. anthropic:claude-sonnet-4-5 (default: the researcher's model)",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="an OpenAI-compatible server, e.g. http://localhost:8000/v1 (vLLM)"
    )
    parser.add_argument(
        "--max-dollars", type=float, metavar="USD", help="stop spending on models at this total"
    )
    parser.add_argument(
        "--max-simulations", type=int, metavar="N", help="benchmark runs allowed over all contexts"
    )
    parser.add_argument("--max-minutes", type=float, metavar="MIN", help="wall-clock limit of the run")
    parser.add_argument("--max-steps", type=int, metavar="N", help="Researcher turns allowed per context")
    parser.add_argument(
        "--workspace",
        choices=("docker", "local"),
        help="docker: sandboxed containers (default); local: host processes, no sandbox",
    )
    parser.add_argument("--image", metavar="TAG", help="workspace image (default glia-workspace:latest)")
    parser.add_argument(
        "--seeds",
        type=seeds_argument,
        metavar="N|LIST",
        help="seeds of the trusted evaluation's main workload: a count (first N) or a list such as 0,1,2",
    )
    parser.add_argument("--run-id", metavar="ID", help="name of the run folder (default: task-strategy-time)")
    add_root_option(parser)
    parser.set_defaults(handler=run)


def pick(*values: Any) -> Any:
    """The last value that is set: flags override the config file, which overrides the task."""
    chosen = None
    for value in values:
        if value is not None:
            chosen = value
    return chosen


def merged_budgets(task: Task, config: UserConfig, args: argparse.Namespace) -> BudgetLimits:
    """The task's budgets, overridden by the config file, then by flags."""
    base = task.budgets

    def minutes_to_s(minutes: float | None) -> float | None:
        return None if minutes is None else minutes * 60.0

    return dataclasses.replace(
        base,
        dollars=pick(base.dollars, config.max_dollars, args.max_dollars),
        simulations=pick(base.simulations, config.max_simulations, args.max_simulations),
        wall_time_s=pick(base.wall_time_s, minutes_to_s(config.max_minutes), minutes_to_s(args.max_minutes)),
        steps=pick(base.steps, config.max_steps, args.max_steps),
    )


def seed_list(task: Task, text: str | None, config: UserConfig) -> list[int] | None:
    """--seeds (or the config's seed count) as the explicit list RunConfig wants."""
    seeds = parse_seeds(text) if text is not None else config.seeds
    if seeds is None:
        return None
    if isinstance(seeds, int):
        return list(task.evaluation.primary.seeds[: max(seeds, 1)])
    return list(seeds)


def build_run_config(args: argparse.Namespace, config: UserConfig) -> Any:
    """Resolve every setting and return the orchestrator's RunConfig (checked, nothing created yet)."""
    from glia.orchestrator import RunConfig

    task = load_task(args.task)
    budgets = merged_budgets(task, config, args)
    check_budget(budgets.dollars, budgets.simulations, minutes(budgets.wall_time_s), budgets.steps)
    researcher = pick(DEFAULT_MODEL, config.researcher_model, args.researcher_model)
    strategy = pick(task.defaults.strategy, config.strategy, args.strategy)
    sequential_cap = {"max_contexts_seq": args.contexts} if strategy == "mcg-seq" and args.contexts else {}
    return RunConfig(
        task_path=Path(args.task),
        strategy=strategy,
        contexts=pick(task.defaults.contexts, config.contexts, args.contexts),
        researcher_model=researcher,
        supervisor_model=pick(researcher, config.supervisor_model, args.supervisor_model),
        base_url=pick(config.base_url, args.base_url),
        budgets=budgets,
        backend=pick("docker", config.workspace, args.workspace),
        image=pick(config.image, args.image),
        run_id=args.run_id,
        workspaces_root=workspaces_root(args.root, config),
        seeds=seed_list(task, args.seeds, config),
        target_improvement=args.target_improvement,
        **sequential_cap,
    )


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60.0


def preflight(run_config: Any) -> None:
    """Fail before creating anything: unknown model, missing key, no Docker engine, missing image."""
    from glia.llm import compatible_base_url, make_provider

    for model in (run_config.researcher_model, run_config.supervisor_model):
        make_provider(model, base_url=compatible_base_url(model, run_config.base_url))
    if run_config.backend == "docker":
        from glia.workspace.engine import docker_client, require_image
        from glia.workspace.image import DEFAULT_IMAGE

        client = docker_client(timeout_s=30)
        try:
            require_image(client, run_config.image or DEFAULT_IMAGE)
        finally:
            client.close()


def run(args: argparse.Namespace) -> int:
    from glia.orchestrator import execute_run, prepare_run

    config = load_config()
    apply_environment(config)
    run_config = build_run_config(args, config)
    preflight(run_config)
    run_dir = prepare_run(run_config)
    log_to_run(run_dir)
    out = console()
    out.print(f"[bold]Glia[/] {run_config.label} run [bold]{run_dir.name}[/] lives in {run_dir.resolve()}")
    out.print(f"  follow the notes: glia show {run_dir.name} --follow   ·   Ctrl-C stops (resume later)")
    with RunWatcher(run_dir, make_display(out), PROGRESS_INTERVAL_S):
        result = execute_run(run_dir)
    return summarize(run_dir, result.status)


def summarize(run_dir: Path, status: str) -> int:
    """Write the report and print the run's outcome; exit 0 for a finished run, 1 otherwise."""
    from glia.notes import write_run_notes
    from glia.progress import read_run
    from glia.report import write_report

    out = console()
    write_run_notes(run_dir)
    report, _ = write_report(run_dir)
    state = read_run(run_dir)
    best, where = state.best_trusted()
    reference, reference_score = state.reference_baseline()
    out.print(f"\nRun {state.run_id}: {status}.")
    if best is None:
        reason = state.run.get("no_best_reason") or "no design passed trusted evaluation"
        out.print(f"No trusted design: {reason}.")
    else:
        gain = state.improvement_over_reference()
        versus = f", {gain:+.1%} vs {reference} ({reference_score:.3f})" if gain is not None else ""
        out.print(f"Best trusted score [bold]{best:.3f}[/]{f' from {where}' if where else ''}{versus}.")
        out.print(f"Best design: {run_dir / 'best'}")
    out.print(f"Report: {report}")
    if status == "interrupted":
        out.print(f"Continue with: glia resume {state.run_id}")
    return 0 if status == "finished" else 1
