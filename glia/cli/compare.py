"""`glia compare`: every method (Glia's SCG / MCG-Seq / MCG-Par-N and the black-box sample, loop,
openevolve, eoh and funsearch) on one task, with the same model, budgets and trusted evaluator, repeated, in one command.

`--plan` prints what would run and what it would cost, and spends nothing. Otherwise the checks of
`glia solve` come first (task, models, keys, Docker, image, one minimal request per endpoint), then each
run, then the table, figures and report in the comparison's folder. Run the same command again (or
`glia compare --resume ID`) to continue an interrupted comparison; `--report ID` rewrites the outputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from glia import strategies
from glia.cli.common import (
    add_cluster_option,
    add_root_option,
    console,
    seeds_argument,
    use_cluster,
    workspaces_root,
)
from glia.config import UserConfig, apply_environment, load_config
from glia.errors import GliaUsageError
from glia.safe_text import console_text

PROGRESS_INTERVAL_S = 1.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from glia.cli.solve import DEFAULT_MODEL, add_model_setting_options
    from glia.compare.plan import DEFAULT_BUDGETS, DEFAULT_METHODS

    parser = subparsers.add_parser(
        "compare",
        help="Glia against black-box search (sample, loop, OpenEvolve, EoH, FunSearch) on one task, equal budgets",
        description=(
            "Run each method REPEATS times per simulation budget on the same task, model and trusted evaluator, "
            "then write a table (trusted score with 90% CI, simulations, dollars, invalid designs), the Glia "
            "paper's Fig. 3 / Fig. 7 / Fig. 2 views and a report into <root>/<compare-id>/. Resumable: the same "
            "command continues an interrupted comparison."
        ),
    )
    parser.add_argument(
        "task", metavar="TASK", nargs="?", help="task file or OpenEvolve-style problem folder"
    )
    parser.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help=f"comma list of {', '.join(s.name + ('N' if s.counted else '') for s in strategies.all_strategies())} "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, metavar="R", help="runs per method and budget (default 3)"
    )
    parser.add_argument(
        "--max-simulations",
        default=",".join(str(b) for b in DEFAULT_BUDGETS),
        metavar="S[,S2]",
        help="simulation budget of each run; a comma list runs every budget (default: the paper's %(default)s)",
    )
    parser.add_argument(
        "--max-dollars", type=float, metavar="USD", help="dollar limit of each run (default: the task's)"
    )
    parser.add_argument(
        "--max-minutes", type=float, metavar="MIN", help="wall-clock limit of each run (default: the task's)"
    )
    parser.add_argument(
        "--max-steps", type=int, metavar="N", help="Researcher turns per context (default: the task's)"
    )
    parser.add_argument("--researcher-model", metavar="PROVIDER:MODEL",
                        help=f"the model every method uses (Glia's Researcher, the black-box generators; default {DEFAULT_MODEL})")  # fmt: skip
    parser.add_argument(
        "--supervisor-model",
        metavar="PROVIDER:MODEL",
        help="Glia's Supervisor (default: the researcher's model)",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="an OpenAI-compatible server, e.g. http://localhost:8000/v1"
    )
    parser.add_argument(
        "--name",
        metavar="ID",
        help="the comparison's id (default compare-<task>-<time>); an existing one continues",
    )
    parser.add_argument(
        "--resume", metavar="ID", help="continue the comparison ID (or its folder) with its stored plan"
    )
    parser.add_argument(
        "--report", metavar="ID", help="only rewrite the table, figures and report of comparison ID"
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="print the runs and the estimated simulations and dollars, spend nothing",
    )
    parser.add_argument(
        "--seeds",
        type=seeds_argument,
        metavar="N|LIST",
        help="seeds of the trusted evaluation's main workload",
    )
    parser.add_argument(
        "--workspace",
        choices=("docker", "local"),
        help="docker (default) or local (UNSAFE, needs --unsafe-local-workspace)",
    )
    parser.add_argument(
        "--unsafe-local-workspace", action="store_true", help="accept that local commands run on this machine"
    )
    parser.add_argument("--image", metavar="TAG", help="workspace image (default glia-workspace:latest)")
    add_cluster_option(parser)
    group = parser.add_argument_group("black-box methods")
    group.add_argument(
        "--initial-program",
        metavar="FILE",
        help="openevolve: the design file to start from (default: the reference baseline)",
    )
    group.add_argument(
        "--max-generations",
        type=int,
        metavar="N",
        help="model calls per black-box run at most (default: 3 per simulation)",
    )
    group.add_argument(
        "--islands", type=int, metavar="N", help="openevolve: islands (default 5, OpenEvolve's)"
    )
    group.add_argument(
        "--workers", type=int, metavar="N", help="openevolve: iterations in flight (default 2)"
    )
    group.add_argument(
        "--history",
        type=int,
        metavar="N",
        help="loop: earlier attempts summarised in each prompt (default 30)",
    )
    group.add_argument(
        "--population", type=int, metavar="N", help="eoh: initial population size (default 20, Table 1)"
    )
    group.add_argument(
        "--prompt-programs", type=int, metavar="K", help="funsearch: programs per prompt (default 3, Table 1)"
    )
    group.add_argument(
        "--funsearch-islands", type=int, metavar="N", help="funsearch: islands (default 6, Table 1)"
    )
    group.add_argument(
        "--samples-per-prompt",
        type=int,
        metavar="N",
        help="funsearch: designs per prompt (default 4, LLM4AD's)",
    )
    group.add_argument(
        "--island-capacity",
        type=int,
        metavar="N",
        help="funsearch: programs an island holds at most (default 20, Table 1)",
    )
    add_model_setting_options(parser)
    add_root_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from glia.compare.plan import PlanError, load_state

    config = load_config()
    apply_environment(config)
    root = workspaces_root(args.root, config)
    if args.report:
        plan = _stored_plan(args.report, root)
        return _write_and_show(plan)
    if args.resume:
        plan = _stored_plan(args.resume, root)
    else:
        if not args.task:
            raise GliaUsageError(
                "glia compare needs a TASK (or --resume ID / --report ID)",
                "e.g. `glia compare tasks/llm_routing.md --plan`",
            )
        plan = build_plan(args, config, root)
        folder = plan.folder
        if (folder / "compare.json").is_file():
            stored = _plan_from_state(load_state(folder))
            different = stored.same_work(plan)
            if different:
                raise PlanError(
                    f"comparison {plan.compare_id} exists with other settings ({', '.join(different)})",
                    f"continue it as it was with `glia compare --resume {plan.compare_id}`, or choose another --name",
                )
            stored.repeats = max(stored.repeats, plan.repeats)  # more repeats extend the same comparison
            plan = stored
    if args.plan:
        print_plan(plan)
        return 0
    return execute(plan, args, config)


def build_plan(args: argparse.Namespace, config: UserConfig, root: Path) -> Any:
    from glia.cli.solve import DEFAULT_MODEL, agent_settings, minutes, pick, seed_list
    from glia.compare.plan import ComparePlan, default_compare_id, parse_budgets, parse_methods
    from glia.errors import check_budget
    from glia.task_kinds import load_task
    from glia.workspace.unsafe import check_backend_allowed

    task = load_task(args.task)
    backend = pick("docker", config.workspace, args.workspace)
    check_backend_allowed(backend, bool(args.unsafe_local_workspace or config.allow_unsafe_local))
    use_cluster(args, config)  # each run's contexts then place their sandboxes on the cluster
    methods = parse_methods(args.methods)
    budgets = parse_budgets(args.max_simulations)
    dollars = pick(task.budgets.dollars, config.max_dollars, args.max_dollars)
    wall_s = pick(task.budgets.wall_time_s, None if config.max_minutes is None else config.max_minutes * 60,
                  None if args.max_minutes is None else args.max_minutes * 60)  # fmt: skip
    steps = pick(task.budgets.steps, config.max_steps, args.max_steps)
    check_budget(dollars, min(budgets), minutes(wall_s), steps)
    researcher = pick(DEFAULT_MODEL, config.researcher_model, args.researcher_model)
    settings = agent_settings(task, config, args)
    blackbox = {key: value for key, value in {
        "initial_program": str(Path(args.initial_program).resolve()) if args.initial_program else None,
        "max_generations": args.max_generations, "islands": args.islands, "workers": args.workers,
        "history": args.history, "population": args.population, "prompt_programs": args.prompt_programs,
        "funsearch_islands": args.funsearch_islands, "samples_per_prompt": args.samples_per_prompt,
        "island_capacity": args.island_capacity,
    }.items() if value is not None}  # fmt: skip
    from glia.blackbox.settings import MethodSettings, SettingsError

    try:
        MethodSettings.from_mapping(blackbox)
    except SettingsError as exc:
        raise GliaUsageError(str(exc), "give the black-box option a value it accepts") from None
    if args.initial_program and not Path(args.initial_program).is_file():
        raise GliaUsageError(
            f"--initial-program {args.initial_program}: no such file", "name an existing design file"
        )
    compare_id = args.name or default_compare_id(task.name)
    return ComparePlan(
        compare_id=compare_id,
        task_path=Path(args.task).resolve(),
        task_name=task.name,
        methods=methods,
        budgets=budgets,
        repeats=args.repeats,
        researcher_model=researcher,
        supervisor_model=pick(researcher, config.supervisor_model, args.supervisor_model),
        workspaces_root=root.resolve(),
        base_url=pick(config.base_url, args.base_url),
        max_dollars=dollars,
        max_minutes=None if wall_s is None else wall_s / 60.0,
        max_steps=steps,
        tokens=task.budgets.tokens,
        backend=backend,
        image=pick(config.image, args.image),
        seeds=seed_list(task, args.seeds, config),
        model_settings={agent: value.to_dict() for agent, value in settings.items()},
        blackbox=blackbox,
    )


def print_plan(plan: Any) -> None:
    """What would run and what it would cost; nothing is created or spent."""
    from glia.blackbox import openevolve_missing
    from glia.compare.estimate import estimate_plan
    from glia.compare.outputs import plan_task, trusted_setup

    task = plan_task(plan)
    estimates = estimate_plan(plan, task)
    out = console()
    out.print(console_text(f"Comparison {plan.compare_id} on {plan.task_name}: {len(estimates)} runs "
              f"({len(plan.methods)} methods × {len(plan.budgets)} budget(s) × {plan.repeats} repeats), model "
              f"{plan.researcher_model}; folder {plan.folder}", 1000))  # fmt: skip
    out.print("")
    out.print(
        f"{'method':<12} {'budget':>6} {'runs':>5} {'simulations (at most)':>22} {'dollars per run':>16} {'dollars':>10}"
    )
    total_sims, total_dollars, unknown = 0, 0.0, False
    for budget in plan.budgets:
        for spec in plan.methods:
            mine = [e for e in estimates if e.entry.budget == budget and e.entry.method == spec.key]
            sims = sum(e.simulations for e in mine)
            total_sims += sims
            if any(e.dollars is None for e in mine):
                unknown = True
                per, all_ = "unknown", "unknown"
            else:
                cost = sum(e.dollars or 0.0 for e in mine)
                total_dollars += cost
                per = f"${cost / len(mine):.2f}" + (" (cap)" if any(e.capped for e in mine) else "")
                all_ = f"${cost:.2f}"
            out.print(f"{spec.label:<12} {budget:>6} {len(mine):>5} {sims:>22} {per:>16} {all_:>10}")
    dollars = f"${total_dollars:.2f}" + (" plus runs with unpriced models" if unknown else "")
    out.print(
        f"\nAt most {total_sims} budgeted simulations and about {dollars} of model calls at list prices."
    )
    per_eval = sum(w.count for w in task.evaluation.workloads)
    out.print(console_text(f"Trusted evaluations come on top (no model cost): {per_eval} simulations per evaluated "
                           f"design ({trusted_setup(task)}), plus the baselines once per machine.", 2000))  # fmt: skip
    out.print(
        "Dollar estimates rest on stated token assumptions (glia/compare/estimate.py, docs/compare.md); SCG may stop early."
    )
    if any(m.strategy == "openevolve" for m in plan.methods) and (missing := openevolve_missing()):
        out.print(f"[bold red]warning:[/] {missing}")


def execute(plan: Any, args: argparse.Namespace, config: UserConfig) -> int:
    from glia.blackbox import openevolve_missing
    from glia.cli.solve import agent_settings, preflight, task_image
    from glia.compare.estimate import estimate_plan
    from glia.compare.execute import run_plan
    from glia.compare.outputs import plan_task
    from glia.compare.plan import PlanError, load_state, new_state, save_state, state_path
    from glia.llm.settings import AgentModelSettings
    from glia.progress import RunWatcher, make_display

    if any(m.strategy == "openevolve" for m in plan.methods) and (missing := openevolve_missing()):
        raise PlanError(missing, "pip install 'glia[baselines]', or leave openevolve out of --methods")
    first = dataclasses.replace(plan.run_config(plan.entries()[0]), run_id=None)
    settings = {
        agent: AgentModelSettings.from_mapping(values) for agent, values in plan.model_settings.items()
    }
    factory = preflight(first, settings or agent_settings(None, config, args))
    image = task_image(first)
    if image != plan.image:
        plan.image = image
    folder = plan.folder
    if state_path(folder).is_file():
        state = load_state(folder)
        if state["plan"].get("repeats") != plan.repeats:
            state["plan"] = plan.to_dict()
            save_state(folder, state)
    else:
        task = plan_task(plan)
        estimates = estimate_plan(plan, task)
        known = [e.dollars for e in estimates if e.dollars is not None]
        save_state(folder, new_state(plan, {"simulations": sum(e.simulations for e in estimates),
                                            "dollars": sum(known), "unpriced_runs": len(estimates) - len(known)}))  # fmt: skip
    out = console()
    out.print(
        console_text(
            f"Glia compare {plan.compare_id}: {len(plan.entries())} runs; folder {folder.resolve()}", 600
        )
    )
    out.print(f"  Ctrl-C stops the run in progress (resume with: glia compare --resume {plan.compare_id})")

    def watch(run_dir: Path) -> Any:
        return RunWatcher(run_dir, make_display(out), PROGRESS_INTERVAL_S)

    at_once = _runs_at_once(plan, args, config)
    if at_once > 1:
        out.print(
            f"  on the cluster: {at_once} runs at once (Ctrl-C stops them all; the same command resumes)"
        )
    try:
        status = run_plan(plan, say=lambda line: out.print(console_text(line, 2000)), watch=watch,
                          provider_factory=factory, at_once=at_once)  # fmt: skip
    finally:
        _remove_own_containers(plan)
    written = _write_and_show(plan, quiet=True)
    out.print()
    out.print(console_text(f"Comparison {plan.compare_id}: {status}. Report: {written}", 600))
    if status != "finished":
        out.print(f"Continue with: glia compare --resume {plan.compare_id}")
    return 0 if status == "finished" else 1


def _runs_at_once(plan: Any, args: argparse.Namespace, config: UserConfig) -> int:
    """On a cluster, as many runs at once as its declared sandbox slots hold; otherwise one."""
    address = use_cluster(args, config)
    if not address:
        return 1
    from glia.cluster import connect
    from glia.cluster.evaluation import runs_at_once

    connect(address)
    return runs_at_once(max(m.contexts if m.strategy == "mcg-par" else 1 for m in plan.methods))


def _write_and_show(plan: Any, quiet: bool = False) -> Any:
    from glia.compare.outputs import write_outputs

    written = write_outputs(plan)
    if not quiet:
        out = console()
        for line in written["table"].read_text(encoding="utf-8").splitlines():
            out.print(console_text(line, 2000))
        out.print(f"Report: {written['report']}")
        return 0
    return written["report"]


def _stored_plan(name: str, root: Path) -> Any:
    from glia.compare.plan import PlanError, load_state

    for folder in (Path(name).expanduser(), root / name):
        if (folder / "compare.json").is_file():
            plan = _plan_from_state(load_state(folder))
            plan.workspaces_root = folder.resolve().parent
            return plan
    raise PlanError(
        f"no comparison {name!r} under {root}", "give its id (the folder name) or its folder's path"
    )


def _plan_from_state(state: dict[str, Any]) -> Any:
    from glia.compare.plan import ComparePlan

    return ComparePlan.from_dict(state["plan"])


def _remove_own_containers(plan: Any) -> None:
    if plan.backend != "docker":
        return
    from glia.workspace import remove_invocation_containers
    from glia.workspace.base import WorkspaceError

    for entry in plan.entries():
        try:
            remove_invocation_containers(entry.run_id)
        except WorkspaceError:
            return


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
