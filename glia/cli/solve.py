"""`glia solve`: start a research run on a task and follow it live.

Settings come from the task's front matter, then the user's config file, then flags (the strongest).
Everything that can fail cheaply (task file, budget, model names and keys, Docker, image) is checked
before the run folder is created, then each model endpoint answers one minimal request, so a mistake
costs nothing (or a fraction of a cent), leaves nothing behind, and no baseline is measured in vain.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rich.text import Text

from glia import strategies
from glia.cli.common import (
    add_cluster_option,
    add_root_option,
    console,
    parse_seeds,
    seeds_argument,
    use_cluster,
    workspaces_root,
)
from glia.config import UserConfig, apply_environment, load_config
from glia.errors import GliaUsageError, check_budget
from glia.llm.agent_providers import AgentProviderFactory
from glia.llm.settings import (
    AGENTS,
    OPENAI_APIS,
    REASONING_EFFORTS,
    REASONING_SUMMARIES,
    AgentModelSettings,
    ModelSettingsError,
)
from glia.logging_setup import log_to_run
from glia.progress import RunWatcher, make_display
from glia.safe_text import console_plain, console_text
from glia.task import BudgetLimits, Task
from glia.task_kinds import load_task

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
    parser.add_argument(
        "task",
        metavar="TASK",
        help="task file (e.g. tasks/llm_routing.md) or an OpenEvolve-style problem folder",
    )
    parser.add_argument(
        "--strategy",
        choices=strategies.names(),
        help=strategies.solve_help(),
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
        help="docker: sandboxed containers (default); local: UNSAFE host processes, no sandbox "
        "(needs --unsafe-local-workspace)",
    )
    parser.add_argument(
        "--unsafe-local-workspace",
        action="store_true",
        help="accept that with --workspace local the Researcher's commands run directly on this machine",
    )
    parser.add_argument("--image", metavar="TAG", help="workspace image (default glia-workspace:latest)")
    add_cluster_option(parser)
    parser.add_argument(
        "--seeds",
        type=seeds_argument,
        metavar="N|LIST",
        help="seeds of the trusted evaluation's main workload: a count N (N of the task's secret seeds) or "
        "public seeds such as 0,1,2; held-out workloads keep theirs",
    )
    parser.add_argument(
        "--live-evaluations",
        type=int,
        metavar="N",
        help="trusted evaluations made while the run goes on, of designs that improved their context's best "
        "claim (the trusted curve of progress.png); at most N per run, 0: only each context's final "
        "judging (default 8)",
    )
    parser.add_argument("--run-id", metavar="ID", help="name of the run folder (default: task-strategy-time)")
    add_model_setting_options(parser)
    add_root_option(parser)
    parser.set_defaults(handler=run)


def add_model_setting_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "model settings",
        "How each agent's model reasons (also config keys of the same names, with underscores). Defaults: "
        "the model's own reasoning effort, reasoning summaries `auto`, no Claude extended thinking, and "
        "`--openai-api auto` (the Responses API for OpenAI reasoning models on OpenAI's endpoint, Chat "
        "Completions otherwise).",
    )
    for agent in AGENTS:
        group.add_argument(
            f"--{agent}-reasoning-effort",
            choices=REASONING_EFFORTS,
            metavar="LEVEL",
            help=f"OpenAI reasoning effort of the {agent}: {' | '.join(REASONING_EFFORTS)} "
            "(not every model takes every level; o3: low | medium | high)",
        )
        group.add_argument(
            f"--{agent}-thinking-budget",
            type=int,
            metavar="TOKENS",
            help=f"Claude extended thinking for the {agent}, in tokens (at least 1024; 0: off)",
        )
    group.add_argument(
        "--reasoning-summary",
        choices=REASONING_SUMMARIES,
        help="OpenAI reasoning summaries shown in the notes and to the Supervisor (default auto)",
    )
    group.add_argument(
        "--openai-api",
        choices=OPENAI_APIS,
        help="which OpenAI API: auto (default), responses, or chat (what vLLM / Ollama / llama.cpp serve)",
    )


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


def seed_list(task: Task, text: str | None, config: UserConfig) -> int | list[int] | None:
    """--seeds (or the config's seed count): a count of the main workload's seeds, or public seeds."""
    seeds = parse_seeds(text) if text is not None else config.seeds
    if seeds is None:
        return None
    if isinstance(seeds, int):
        return max(seeds, 1)
    return list(seeds)


def build_run_config(args: argparse.Namespace, config: UserConfig) -> Any:
    """Resolve every setting and return the orchestrator's RunConfig (checked, nothing created yet)."""
    from glia.orchestrator import RunConfig
    from glia.workspace.unsafe import check_backend_allowed

    task = load_task(args.task)
    backend = pick("docker", config.workspace, args.workspace)
    opted_in = bool(getattr(args, "unsafe_local_workspace", False) or config.allow_unsafe_local)
    check_backend_allowed(backend, opted_in)
    budgets = merged_budgets(task, config, args)
    check_budget(budgets.dollars, budgets.simulations, minutes(budgets.wall_time_s), budgets.steps)
    researcher = pick(DEFAULT_MODEL, config.researcher_model, args.researcher_model)
    strategy = pick(task.defaults.strategy, config.strategy, args.strategy)
    setting = _contexts_setting(strategy)
    extra_settings = {setting: args.contexts} if setting and args.contexts else {}
    live = getattr(args, "live_evaluations", None)
    if live is not None and live < 0:
        raise GliaUsageError(
            f"--live-evaluations must be 0 or more, got {live}", "pass 0 to judge only at the end"
        )
    if live is not None:
        extra_settings["live_evaluations"] = live
    return RunConfig(
        task_path=Path(args.task),
        strategy=strategy,
        contexts=pick(task.defaults.contexts, config.contexts, args.contexts),
        researcher_model=researcher,
        supervisor_model=pick(researcher, config.supervisor_model, args.supervisor_model),
        base_url=pick(config.base_url, args.base_url),
        budgets=budgets,
        backend=backend,
        image=pick(config.image, args.image),
        cluster=use_cluster(args, config),
        run_id=args.run_id,
        workspaces_root=workspaces_root(args.root, config),
        seeds=seed_list(task, args.seeds, config),
        target_improvement=args.target_improvement,
        **extra_settings,
    )


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60.0


_SETTINGS_FIX = (
    f"reasoning effort: {' | '.join(REASONING_EFFORTS)}; reasoning summary: {' | '.join(REASONING_SUMMARIES)}; "
    f"thinking budget: 0 or at least 1024 tokens; openai api: {' | '.join(OPENAI_APIS)}"
)


def agent_settings(
    task: Task | None, config: UserConfig, args: argparse.Namespace
) -> dict[str, AgentModelSettings]:
    """Each agent's model settings: the task's, then the config file's, then the flags (the strongest).

    The task contributes `task.model_settings` when the task format has it: a mapping from agent name
    ("researcher" / "supervisor") to an `AgentModelSettings` or a mapping of its fields.
    """
    from_task = getattr(task, "model_settings", None) or {}
    settings: dict[str, AgentModelSettings] = {}
    for agent in AGENTS:
        layers: list[tuple[str, Any]] = [
            (f"task {getattr(task, 'path', '')}".strip(), from_task.get(agent)),
            (
                "config file",
                {
                    "reasoning_effort": getattr(config, f"{agent}_reasoning_effort"),
                    "thinking_budget": getattr(config, f"{agent}_thinking_budget"),
                    "reasoning_summary": config.reasoning_summary,
                    "openai_api": config.openai_api,
                },
            ),
            (
                "command line",
                {
                    "reasoning_effort": getattr(args, f"{agent}_reasoning_effort", None),
                    "thinking_budget": getattr(args, f"{agent}_thinking_budget", None),
                    "reasoning_summary": getattr(args, "reasoning_summary", None),
                    "openai_api": getattr(args, "openai_api", None),
                },
            ),
        ]
        merged = AgentModelSettings()
        for source, layer in layers:
            merged = _settings_layer(source, agent, layer).over(merged)
        settings[agent] = merged
    return settings


def _settings_layer(source: str, agent: str, layer: Any) -> AgentModelSettings:
    if isinstance(layer, AgentModelSettings):
        return layer
    values = {key: value for key, value in dict(layer or {}).items() if value is not None}
    try:
        return AgentModelSettings.from_mapping(values, f"{source}, {agent}")
    except ModelSettingsError as exc:
        raise GliaUsageError(str(exc), _SETTINGS_FIX) from exc


def preflight(
    run_config: Any, settings: Mapping[str, AgentModelSettings] | None = None
) -> AgentProviderFactory:
    """Fail before creating anything, cheapest checks first: unknown model, missing key, bad base URL,
    a run id already taken, no Docker engine, missing image; then one minimal request to each model
    endpoint. Warns (one line each) about unpriced models. Returns the provider factory for the run."""
    from glia.llm import check_endpoint, compatible_base_url, unpriced_notice

    factory = AgentProviderFactory(
        {"researcher": run_config.researcher_model, "supervisor": run_config.supervisor_model}, settings or {}
    )
    providers = [
        factory(model, base_url=compatible_base_url(model, run_config.base_url), agent=agent)
        for agent, model in factory.models.items()
    ]
    _refuse_existing_run(run_config)
    if run_config.backend == "docker":
        from glia.workspace.engine import docker_client, require_image
        from glia.workspace.image import DEFAULT_IMAGE

        client = docker_client(timeout_s=30)
        try:
            require_image(client, run_config.image or DEFAULT_IMAGE)
        finally:
            client.close()
    checked: set[tuple[Any, ...]] = set()
    for provider in providers:
        key = (
            provider.model,
            getattr(provider, "base_url", None),
            type(provider),
            getattr(provider, "options", None),
        )
        if key not in checked:
            checked.add(key)
            check_endpoint(provider)
    for model in dict.fromkeys(factory.models.values()):
        notice = unpriced_notice(model)
        if notice:
            print(f"warning: {notice}", file=sys.stderr)
    if factory.ambiguous:
        print(
            "warning: the researcher and the supervisor use the same model with different settings; "
            "this run gives both the researcher's settings (use two model names to separate them)",
            file=sys.stderr,
        )
    return factory


def task_image(run_config: Any) -> str | None:
    """The image the run's sandboxes use: the task's own (a problem folder's requirements installed,
    built once) or the workspace image. Fails with one line naming a requirement that cannot be installed."""
    if run_config.backend != "docker":
        return run_config.image
    from glia.workspace.task_image import prepare_task_image

    return prepare_task_image(load_task(run_config.task_path), run_config.image)


def _refuse_existing_run(run_config: Any) -> None:
    """The run folder check of `prepare_run`, made before any model is called."""
    from glia.orchestrator import RunExists

    run_id = run_config.run_id
    if run_id and (Path(run_config.workspaces_root) / run_id).exists():
        raise RunExists(
            f"run '{run_id}' already exists at {Path(run_config.workspaces_root) / run_id}; choose another "
            f"--run-id, or continue it with `glia resume {run_id}`"
        )


def run(args: argparse.Namespace) -> int:
    from glia.cores import plan_line
    from glia.evaluation.evaluator import default_workers
    from glia.orchestrator import execute_run, prepare_run

    config = load_config()
    apply_environment(config)
    run_config = build_run_config(args, config)
    settings = agent_settings(load_task(args.task), config, args)
    run_config.model_settings = {agent: value.to_dict() for agent, value in settings.items()}
    provider_factory = preflight(run_config, settings)
    run_config.image = task_image(run_config)  # a problem folder's requirements, installed before the run
    run_dir = prepare_run(run_config)
    log_to_run(run_dir)
    out = console()
    if run_config.backend == "local":
        from glia.workspace.unsafe import warning_line

        out.print(f"[bold red]{warning_line()}[/]")
    name = console_plain(run_dir.name, 120)
    out.print(
        Text.assemble(("Glia", "bold"), f" {run_config.label} run ", (name, "bold"), " lives in ",
                      console_text(run_dir.resolve(), 400))
    )  # fmt: skip
    out.print(
        console_text(f"  follow the notes: glia show {name} --follow   ·   Ctrl-C stops (resume later)", 400)
    )
    at_once = strategies.get(run_config.strategy).at_once(run_config.contexts)
    out.print("  " + plan_line(at_once, default_workers()), markup=False)
    with (
        RunWatcher(run_dir, make_display(out), PROGRESS_INTERVAL_S),
        own_containers_removed(run_dir.name, run_config.backend),
    ):
        result = execute_run(run_dir, provider_factory=provider_factory)
    return summarize(run_dir, result.status)


@contextlib.contextmanager
def own_containers_removed(run_id: str, backend: str) -> Iterator[None]:
    """On any exit, an exception included, remove the run's containers this process started.

    Signals are the orchestrator's (the first stops the run cleanly, the second cleans up and exits).
    """
    try:
        yield
    finally:
        if backend == "docker":
            _remove_own_containers(run_id)


def _remove_own_containers(run_id: str) -> None:
    from glia.workspace import remove_invocation_containers
    from glia.workspace.base import WorkspaceError

    with contextlib.suppress(WorkspaceError):  # no engine answers: nothing of ours runs on it
        remove_invocation_containers(run_id)


INTERRUPTED_EXIT = 130  # what a shell reports for a command stopped by Ctrl-C (128 + SIGINT)


def summarize(run_dir: Path, status: str) -> int:
    """Write the report and print the run's outcome; exit 0 when finished, 130 when interrupted (as a
    Ctrl-C'd command does), 1 when the run failed (no design passed trusted evaluation: each context's
    reason is printed)."""
    from glia.notes import write_run_notes
    from glia.record.view import read_run
    from glia.report import write_report

    out = console()
    write_run_notes(run_dir)
    report, _ = write_report(run_dir)
    state = read_run(run_dir)
    best, where = state.best_trusted()
    reference, reference_score = state.reference_baseline()
    metric = state.metric
    out.print()
    out.print(console_text(f"Run {state.run_id}: {status}.", 200))
    if best is None:
        out.print("No trusted design: no context produced a design that passed trusted evaluation.")
        for ctx in state.contexts:
            error = f" ({ctx.error})" if ctx.error else ""
            out.print(console_text(f"  {ctx.name}: {ctx.status}{error}; trusted: {ctx.verdict_text(3)}", 600))
    else:
        gain = state.improvement_over_reference()
        versus = (
            f", {gain:+.1%} vs {reference} ({metric.format(reference_score, 3)})" if gain is not None else ""
        )
        out.print(
            Text.assemble(
                "Best trusted score ",
                (metric.format(best, 3), "bold"),
                console_plain(f"{f' from {where}' if where else ''}{versus}.", 300),
            )
        )
        out.print(console_text(f"Best design: {run_dir / 'best'}", 400))
    out.print(console_text(f"Report: {report}", 400))
    if status == "interrupted":
        out.print(console_text(f"Continue with: glia resume {state.run_id}", 300))
    return {"finished": 0, "interrupted": INTERRUPTED_EXIT}.get(status, 1)


def _contexts_setting(name: str | None) -> str | None:
    """The run setting that `--contexts` also sets for this strategy (MCG-Seq: its cap), if any."""
    try:
        return strategies.get(name or "").contexts_setting
    except strategies.UnknownStrategy:
        return None
