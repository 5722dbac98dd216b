"""A problem folder and its settings, as a Glia `Task` in the general task model.

The design slot is `program` (the program file); the objective `combined_score`, maximised, unless the
settings say otherwise; the Researcher's benchmark is `python glia_benchmark.py`; the trusted evaluation
runs the harness in the core with the program served from a sandbox of its own
(`python -m glia_isolation.program_host`); the initial program is the reference baseline. Everything is
expressed as the front matter of a task file and validated by `glia.task.build_task`, so problems and
simulator tasks obey the same rules and give the same errors.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

from glia.metric import Metric
from glia.problems.folder import MEAN_METRIC, SHINKA_ADAPTER, ProblemFolder
from glia.problems.options import AUTO, ProblemOptions, default_name
from glia.problems.requirements import with_image_requirements
from glia.problems.support.offline import evaluation_environment
from glia.problems.support.settings import ProblemSettings
from glia.problems.template import (
    BENCHMARK_COMMAND,
    BENCHMARK_SCRIPT,
    HARNESS_MODULE,
    materialize,
    shinka_adapter,
    template_files,
)
from glia.task import Task, build_task

# Two ideas that happen to share a word. The design slot says what the design is (`Task.design.slot`:
# router, autoscaler, ...; here the whole program file); the task kind says how the task was read and is
# judged (`Task.kind`, `glia.task_kinds`). A simulator task file may name its slot `program` and still be a
# simulator task; only the kind decides how trusted evaluation treats a task.
PROGRAM_SLOT = "program"  # the design slot of every task built here: the program file is the design
PROGRAM_KIND = "program"  # the task kind (`glia.task_kinds.program`) of every task built here
DESIGN_NAME = "program"
REFERENCE = "initial_program"
RESULTS_DIR = "glia_results"
DEFAULT_METRIC = {"name": "combined_score", "direction": "maximize"}
DEFAULT_TIME_LIMIT_S = 300.0  # OpenEvolve's default evaluator timeout
SEEDED_DEFAULT_COUNT = 5
UNSEEDED_REPEATS = 3  # evaluations of an evaluator that takes no seed (its spread shows in the interval)
DEFAULT_BUDGETS = {"dollars": 20, "simulations": 100, "wall_time_min": 120, "steps": 200}
HOST_MODULE = "glia_isolation.program_host"


def problem_task(problem: ProblemFolder, options: ProblemOptions, task_path: Path) -> Task:
    """The Task for `problem` with `options`; `task_path` names the file errors point at."""
    if options.source is None:
        options = replace(options, source=task_path)
    if any(label == REFERENCE for label, _ in options.baselines):
        raise options.fail("baselines", f"names other than {REFERENCE!r} (the initial program's)")
    seed_argument = _seed_argument(problem, options)
    workloads = _workloads(problem, options, seed_argument)
    metric_section = {**DEFAULT_METRIC, "name": problem.objective or MEAN_METRIC, **(options.metric or {})}
    shinka = problem.layout == "shinka"
    primary_params = {k: v for k, v in workloads[0].items() if k not in ("name", "seeds", "heldout")}
    time_limit = options.time_limit_s or problem.timeout_s or DEFAULT_TIME_LIMIT_S
    settings = ProblemSettings(
        program=problem.program,
        evaluator=SHINKA_ADAPTER if shinka else problem.evaluator,
        entry="evaluate" if shinka else problem.entry.name,
        seed_argument=seed_argument,
        metric=str(metric_section.get("name")),
        average_if_missing=metric_section.get("name") == MEAN_METRIC,
        time_limit_s=time_limit,
        results_dir=RESULTS_DIR,
        benchmark_seed=options.benchmark_seed,
        benchmark_params=primary_params,
        cascade_thresholds=list(problem.cascade_thresholds) if problem.cascade_thresholds else None,
        environment=dict(options.environment),
    )
    name = options.name or default_name(problem.root)
    adapter = shinka_adapter(problem.evaluator, problem.entry.name) if shinka else None
    extra = (
        {"requirements.txt": "\n".join(problem.suite_requirements) + "\n"}
        if problem.suite_requirements
        else {}
    )
    template = materialize(name, template_files(problem.root, settings, (problem.program,), adapter, extra))
    conditions: dict[str, Any] = {"program": problem.program, "problem_files": "pristine"}
    if seed_argument:
        conditions["seed"] = options.benchmark_seed
    conditions.update({f"param.{key}": value for key, value in primary_params.items()})
    header: dict[str, Any] = {
        "name": name,
        "title": options.title or f"Improve the program of the {problem.root.name} problem",
        "simulator": str(template),
        "design": {
            "slot": PROGRAM_SLOT,
            "files": [problem.program],
            "name": DESIGN_NAME,
            "host": _host_command(problem.program, options.environment),
        },
        "baselines": [{"name": REFERENCE, "file": str(template / problem.program)}]
        + [{"name": label, "file": str(path)} for label, path in options.baselines],
        "metric": metric_section,
        "benchmark": {"command": BENCHMARK_COMMAND, "results_dir": RESULTS_DIR, "conditions": conditions},
        "evaluation": {
            "command": _evaluation_command(primary_params),
            "time_limit_s": time_limit,
            "reference": REFERENCE,
            "workloads": workloads,
        },
        "budgets": DEFAULT_BUDGETS,
        **options.passed_through,
    }
    body = problem_brief(problem, options, settings, _metric(metric_section), workloads, time_limit)
    return with_image_requirements(replace(build_task(task_path, header, body), kind=PROGRAM_KIND))


def _host_command(program: str, declared: dict[str, str]) -> str:
    """The program's sandbox runs with the evaluation's environment too (the program may log to a
    service, or read a variable the settings declare, as it would in the evaluator's process)."""
    variables = " ".join(
        shlex.quote(f"{name}={value}") for name, value in evaluation_environment(declared).items()
    )
    return f"env {variables} python -m {HOST_MODULE} --program {shlex.quote(program)}"


def _seed_argument(problem: ProblemFolder, options: ProblemOptions) -> str | None:
    if problem.layout == "shinka":  # main(program_path, results_dir) takes no seed
        if options.seed_argument not in (AUTO, None):
            raise options.fail(
                "seed_argument", "unset: ShinkaEvolve's main(program_path, results_dir) takes no seed"
            )
        return None
    if options.seed_argument != AUTO:
        chosen = options.seed_argument
        if chosen is not None and not problem.entry.accepts(chosen):
            raise options.fail(
                "seed_argument", f"a parameter of {problem.evaluator}'s {problem.entry.name}()", chosen
            )
        return chosen
    return problem.entry.seed_argument


def _workloads(
    problem: ProblemFolder, options: ProblemOptions, seed_argument: str | None
) -> list[dict[str, Any]]:
    if options.workloads is not None:
        workloads = options.workloads
        for index, workload in enumerate(workloads):
            for key in workload:
                if key not in ("name", "seeds", "heldout") and not problem.entry.accepts(key):
                    raise options.fail(
                        f"workloads[{index}].{key}",
                        f"a keyword argument of {problem.evaluator}'s {problem.entry.name}()",
                    )
    else:
        default = SEEDED_DEFAULT_COUNT if seed_argument else list(range(UNSEEDED_REPEATS))
        workloads = [{"name": "main", "seeds": options.seeds if options.seeds is not None else default}]
    # An evaluator that takes no seed may still be noisy (timings, its own randomness): several seeds then
    # mean repeated evaluations, so the interval is the evaluator's own spread, not a zero-width certainty.
    return [
        {**w, "seeds": list(w["seeds"]) if isinstance(w.get("seeds"), tuple) else w.get("seeds")}
        for w in workloads
    ]


def _evaluation_command(params: dict[str, Any]) -> str:
    parts = [
        f"python -m {HARNESS_MODULE} --design {{design}} --seed {{seed}} --output-root {{output_root}}",
        "--experiment {experiment} --time-limit {time_limit}",
    ]
    parts += [f"--param {key}={{{key}}}" for key in params]
    return " ".join(parts)


def _metric(section: dict[str, Any]) -> Metric | None:
    try:
        return Metric(
            name=str(section["name"]),
            direction=str(section["direction"]),
            unit=str(section.get("unit") or ""),
        )
    except Exception:  # noqa: BLE001 - build_task reports a malformed metric with its field name
        return None


def _scored_by(problem: ProblemFolder, entry: str, seed_text: str) -> str:
    if problem.cascade_thresholds is None:
        return f"`{entry}(program_path{seed_text})` returns the metrics"
    shown = ", ".join(f"{t:g}" for t in problem.cascade_thresholds)
    return (
        "OpenEvolve's cascade: `evaluate_stage1(program_path)` first, each next stage only when the metrics "
        f"so far pass its threshold ({shown}: their combined_score, else the mean of their numbers); the "
        "stages' metrics are merged, a later stage's winning"
    )


def problem_brief(
    problem: ProblemFolder,
    options: ProblemOptions,
    settings: ProblemSettings,
    metric: Metric | None,
    workloads: list[dict[str, Any]],
    time_limit_s: float,
) -> str:
    """The Researcher's brief: the problem's own words, then how Glia's workspace and judging work."""
    title = options.title or f"Improve the program of the {problem.root.name} problem"
    program, evaluator, entry = problem.program, problem.evaluator, problem.entry.name
    parts = [f"# {title}"]
    if problem.system_message:
        parts.append(
            "## The problem, in its author's words\n\n"
            "(The system message of the problem's `config.yaml`.)\n\n" + _quote(problem.system_message)
        )
    if options.brief:
        parts.append(options.brief)
    seed_text = f", {settings.seed_argument}=SEED" if settings.seed_argument else ""
    parts.append(
        "## Your workspace\n\n"
        f"Your working directory is the problem folder `{problem.root.name}/` as its author wrote it, plus two "
        "things Glia added:\n\n"
        f"- `{program}`: **your design**. Only the text of this file counts. Comments `EVOLVE-BLOCK-START` / "
        "`EVOLVE-BLOCK-END`, if present, mark the part the author meant to be improved; you may change "
        "anything in the file, but keep every name the evaluator uses.\n"
        f"- `{evaluator}`: how a program is scored: {_scored_by(problem, entry, seed_text)}. "
        "Read it: it is the specification. Changing it, or any other file of the problem, changes only your "
        "own runs (they become experiments), never how Glia judges.\n"
        f"- `python {BENCHMARK_SCRIPT}`: evaluates `{program}` with the evaluator, prints the metrics and "
        f"writes `{RESULTS_DIR}/<run>/summary.json`. `--program FILE` evaluates another file (an experiment)"
        + (
            f"; `--seed N` picks the evaluator's seed (benchmark runs use {settings.benchmark_seed})"
            if settings.seed_argument
            else ""
        )
        + "; `--param key=value` passes another argument.\n\n"
        f"Every run of `{BENCHMARK_SCRIPT}` counts as one simulation against the run's budget, benchmark runs "
        "and experiments alike; when the budget is spent it refuses to run. Evaluate programs only with it: "
        "every evaluation must be counted."
    )
    objective = metric.describe() if metric else "the task's metric"
    if settings.average_if_missing:
        sentence = (
            f"{objective}: the evaluator names no score, so `{settings.metric}` is the mean of the numeric "
            "metrics it reports, computed by Glia (as OpenEvolve computes fitness without a combined_score)."
        )
    else:
        sentence = f"{objective}: the value `{settings.metric}` that the evaluator reports."
    parts.append(f"## The objective\n\n{sentence}")
    parts.append(
        "## How Glia judges your program\n\n"
        f"- Glia re-evaluates the text of `{program}` alone, on a pristine copy of this folder. The evaluator "
        "runs in one sandbox and your program in another, which holds nothing but the program file: the "
        "evaluator reaches your program's functions over a channel. Arguments and results cross as plain data "
        "(numbers, strings, bytes, numeric numpy arrays, lists, tuples, dicts, sets); other objects your "
        "functions return stay in the program's sandbox and are used through references. Your program cannot "
        "read the problem's other files there (the evaluator, data files), so it must not depend on them, and "
        "files it writes stay in its sandbox.\n"
        f"- {_seeds_sentence(workloads, settings)}\n"
        f"- Each evaluation has a time limit of {time_limit_s:g} s. A program that exits, crashes, hangs past "
        "the limit or floods its output makes the evaluation invalid.\n"
        f"- The design with the best trusted score wins; the scores of your own benchmark runs are claims, "
        "useful to you and never trusted."
    )
    return "\n\n".join(parts)


def _seeds_sentence(workloads: list[dict[str, Any]], settings: ProblemSettings) -> str:
    main = workloads[0]
    seeds = main.get("seeds")
    count = seeds if isinstance(seeds, int) else len(seeds or [])
    if settings.seed_argument is None:
        text = (
            "The evaluator takes no seed: one evaluation gives the score."
            if count == 1
            else f"The evaluator takes no seed: the score is the mean of {count} repeated evaluations, "
            "whose spread is the evaluator's own noise."
        )
    elif isinstance(seeds, int):
        text = f"The score is the mean of {count} evaluations with seeds Glia keeps to itself."
    else:
        text = f"The score is the mean of {count} evaluation{'s' if count != 1 else ''} (seeds {seeds})."
    heldout = [w["name"] for w in workloads[1:] if w.get("heldout")]
    if heldout:
        text += f" Held-out workloads ({', '.join(heldout)}) check that the program generalises."
    return text


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


__all__ = ["PROGRAM_KIND", "PROGRAM_SLOT", "problem_brief", "problem_task"]
