"""Task files: a research problem for Glia, written as YAML front matter plus a Markdown brief.

The front matter tells Glia *how to judge* designs (which files count, how the trusted evaluation runs,
which names are off limits, the budgets); the body tells the Researcher *what the problem is*. Every field
is validated on load so that a typo fails before any money is spent. See `tasks/README.md` for the format.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DIRECTIONS = ("minimize", "maximize")
# SCG, MCG-Seq, or MCG-Par-N (N parallel contexts; a bare "mcg-par" takes N from `contexts`).
STRATEGY_PATTERN = re.compile(r"scg|mcg-seq|mcg-par(-[1-9][0-9]*)?")
# Placeholders the evaluation command may use; Glia fills them in for each (workload, seed) run.
# A workload's `duration_s` is appended as `--duration`, so runs without one use the simulator's default.
COMMAND_PLACEHOLDERS = frozenset({"router", "qps", "seed", "experiment", "output_root", "time_limit"})
REQUIRED_PLACEHOLDERS = frozenset({"router", "qps", "seed", "output_root"})


class TaskError(ValueError):
    """A task file is missing or malformed; the message names the file, the field and what was expected."""


@dataclass(frozen=True)
class Metric:
    """The number Glia optimises, read from each run's `summary.json` under `name`."""

    name: str
    direction: str  # "minimize" or "maximize"
    unit: str = ""

    def better(self, a: float, b: float) -> bool:
        """True when score `a` is strictly better than score `b`."""
        return a < b if self.direction == "minimize" else a > b


@dataclass(frozen=True)
class Workload:
    """One load level of the trusted evaluation, simulated once per seed."""

    name: str
    qps: float
    seeds: tuple[int, ...]
    heldout: bool = False
    duration_s: float | None = None  # None: the simulator's default duration


@dataclass(frozen=True)
class EvalSpec:
    """How the trusted evaluation runs a router; the first workload gives the primary score."""

    command: str
    time_limit_s: float
    workloads: tuple[Workload, ...]
    baselines: tuple[str, ...]
    reference_baseline: str
    design_router: str

    @property
    def primary(self) -> Workload:
        return self.workloads[0]

    def render_command(
        self, router: str, workload: Workload, seed: int, experiment: str, output_root: str
    ) -> str:
        """The shell command for one simulation of `router` on (workload, seed)."""
        command = self.command.format(
            router=router,
            qps=f"{workload.qps:g}",
            seed=seed,
            experiment=experiment,
            output_root=output_root,
            time_limit=f"{self.time_limit_s:g}",
        )
        if workload.duration_s is not None:
            command += f" --duration {workload.duration_s:g}"
        return command


@dataclass(frozen=True)
class BudgetLimits:
    """Hard limits shared by all contexts of a run; None means unlimited."""

    dollars: float | None = None
    simulations: int | None = None
    wall_time_s: float | None = None
    steps: int | None = None
    tokens: int | None = None


@dataclass(frozen=True)
class SupervisorSettings:
    """When the Supervisor is consulted, besides the Researcher asking to finish."""

    every_k_turns: int = 12
    stall_after_sims: int = 5
    max_interventions: int = 8


@dataclass(frozen=True)
class RunDefaults:
    """Defaults for CLI flags the user did not give."""

    strategy: str = "scg"
    contexts: int = 4
    target_improvement: float = 0.3


@dataclass(frozen=True)
class Task:
    """A loaded, validated task file."""

    path: Path
    name: str
    title: str
    simulator: Path  # the template repository, absolute
    design_files: tuple[str, ...]
    benchmark: str
    results_dir: str
    metric: Metric
    evaluation: EvalSpec
    forbidden_names: tuple[str, ...]
    defaults: RunDefaults
    budgets: BudgetLimits
    supervisor: SupervisorSettings
    body: str = field(repr=False)
    allowed_imports: tuple[str, ...] | None = None  # None: a design may import anything
    forbidden_attributes: tuple[str, ...] = ()  # attribute names design code may not touch

    def researcher_brief(self, baselines: Mapping[str, float | None] | None = None) -> str:
        """The Researcher's first message: the task body plus the baseline scores Glia measured this run."""
        return self.body.rstrip() + "\n\n" + self._baseline_section(baselines) + "\n"

    def _baseline_section(self, baselines: Mapping[str, float | None] | None) -> str:
        metric, primary = self.metric, self.evaluation.primary
        lines = ["## Baseline scores (measured by Glia for this run)", ""]
        if not baselines:
            lines.append(
                "Glia has not measured the baselines for this run. Measure the reference baseline "
                f"(`{self.evaluation.reference_baseline}`) yourself before changing anything."
            )
            return "\n".join(lines)
        unit = f" ({metric.unit})" if metric.unit else ""
        seeds = len(primary.seeds)
        lines.append(
            f"Trusted evaluation on workload `{primary.name}` ({primary.qps:g} QPS, mean over {seeds} "
            f"seed{'s' if seeds != 1 else ''}); {metric.direction} `{metric.name}`:"
        )
        lines += ["", f"| router | {metric.name}{unit} |", "| --- | --- |"]
        for router, score in baselines.items():
            marker = " (reference)" if router == self.evaluation.reference_baseline else ""
            shown = "not measured (its evaluation failed)" if score is None else f"{score:.2f}"
            lines.append(f"| {router}{marker} | {shown} |")
        reference = baselines.get(self.evaluation.reference_baseline)
        if reference is not None and self.defaults.target_improvement > 0:
            gain = self.defaults.target_improvement
            target = reference * (1 - gain) if metric.direction == "minimize" else reference * (1 + gain)
            lines += [
                "",
                f"Aim for at least {gain:.0%} better than `{self.evaluation.reference_baseline}`, "
                f"i.e. {metric.name} {'at most' if metric.direction == 'minimize' else 'at least'} "
                f"about {target:.2f}{' ' + metric.unit if metric.unit else ''}.",
            ]
        return "\n".join(lines)

    def with_overrides(
        self,
        *,
        seeds: int | Sequence[int] | None = None,
        workloads: Sequence[str] | None = None,
        duration_s: float | None = None,
        time_limit_s: float | None = None,
        baselines: Sequence[str] | None = None,
        budgets: BudgetLimits | None = None,
    ) -> Task:
        """A copy with a cheaper or narrower evaluation, for quick runs and tests.

        `seeds`: an int keeps the first n seeds of every workload; a list replaces the primary workload's
        seeds (held-out workloads keep theirs, trimmed to the same count). `workloads` keeps only the named
        workloads, in the file's order.
        """
        spec = self.evaluation
        chosen = list(spec.workloads)
        if workloads is not None:
            unknown = sorted(set(workloads) - {w.name for w in chosen})
            if unknown:
                raise TaskError(f"{self.path}: override 'workloads' names unknown workloads {unknown}")
            chosen = [w for w in chosen if w.name in set(workloads)]
            if not chosen:
                raise TaskError(f"{self.path}: override 'workloads' must keep at least one workload")
        if seeds is not None:
            chosen = _override_seeds(self.path, chosen, seeds)
        if duration_s is not None:
            if duration_s <= 0:
                raise TaskError(f"{self.path}: override 'duration_s' must be positive, got {duration_s!r}")
            chosen = [replace(w, duration_s=float(duration_s)) for w in chosen]
        new_spec = replace(spec, workloads=tuple(chosen))
        if time_limit_s is not None:
            if time_limit_s <= 0:
                raise TaskError(
                    f"{self.path}: override 'time_limit_s' must be positive, got {time_limit_s!r}"
                )
            new_spec = replace(new_spec, time_limit_s=float(time_limit_s))
        if baselines is not None:
            new_spec = replace(new_spec, baselines=tuple(baselines))
        _check_disjoint_seeds(str(self.path), new_spec.workloads)
        return replace(self, evaluation=new_spec, budgets=budgets or self.budgets)


def _override_seeds(path: Path, chosen: list[Workload], seeds: int | Sequence[int]) -> list[Workload]:
    if isinstance(seeds, int):
        if seeds <= 0:
            raise TaskError(f"{path}: override 'seeds' must be a positive count, got {seeds!r}")
        return [replace(w, seeds=w.seeds[:seeds]) for w in chosen]
    explicit = tuple(int(s) for s in seeds)
    if not explicit:
        raise TaskError(f"{path}: override 'seeds' must not be empty")
    first, rest = chosen[0], chosen[1:]
    return [replace(first, seeds=explicit)] + [replace(w, seeds=w.seeds[: len(explicit)]) for w in rest]


# --------------------------------------------------------------------------------------------- loading


def load_task(path: str | Path) -> Task:
    """Read and validate a task file; raises TaskError naming the file and field on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskError(f"{path}: cannot read the task file ({exc.strerror or exc})") from exc
    header, body = _split_front_matter(path, text)
    return _build_task(path, header, body)


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise TaskError(f"{path}: must start with a '---' line opening the YAML front matter")
    closing = [i for i, line in enumerate(lines) if i > 0 and line.strip() == "---"]
    if not closing:
        raise TaskError(f"{path}: the YAML front matter is never closed with a '---' line")
    end = closing[0]
    try:
        header = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise TaskError(f"{path}: the front matter is not valid YAML ({exc})") from exc
    if not isinstance(header, dict):
        raise TaskError(f"{path}: the front matter must be a mapping of fields, got {type(header).__name__}")
    body = "".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        raise TaskError(f"{path}: the body (the Researcher's brief) is empty")
    return header, body


class _Fields:
    """Typed access to one mapping of the front matter, producing uniform error messages."""

    def __init__(self, path: Path, data: Mapping[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, expected: str, value: Any = ...) -> TaskError:
        got = "" if value is ... else f", got {value!r}"
        return TaskError(f"{self.path}: field '{self.prefix}{key}' must be {expected}{got}")

    def raw(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is ...:
            raise TaskError(f"{self.path}: field '{self.prefix}{key}' is required")
        return default

    def text(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty string", value)
        return value.strip()

    def choice(self, key: str, options: Sequence[str], default: Any = ...) -> str:
        value = self.raw(key, default)
        if value not in options:
            raise self.fail(key, "one of " + ", ".join(options), value)
        return value

    def positive_int(self, key: str, default: Any = ..., optional: bool = False) -> int | None:
        value = self.raw(key, default)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(key, "a positive integer" + (" or null" if optional else ""), value)
        return value

    def positive_number(self, key: str, default: Any = ..., optional: bool = False) -> float | None:
        value = self.raw(key, default)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(key, "a positive number" + (" or null" if optional else ""), value)
        return float(value)

    def fraction(self, key: str, default: Any = ...) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise self.fail(key, "a number in [0, 1)", value)
        return float(value)

    def flag(self, key: str, default: Any = ...) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def strings(self, key: str, default: Any = ..., allow_empty: bool = False) -> tuple[str, ...]:
        value = self.raw(key, default)
        ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        if not ok or (not value and not allow_empty):
            raise self.fail(
                key, "a list of non-empty strings" + ("" if allow_empty else " (at least one)"), value
            )
        if len(set(value)) != len(value):
            raise self.fail(key, "a list without duplicates", value)
        return tuple(v.strip() for v in value)

    def section(self, key: str, default: Any = ...) -> _Fields:
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise self.fail(key, "a mapping", value)
        return _Fields(self.path, value, f"{self.prefix}{key}.")

    def reject_unknown(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise TaskError(f"{self.path}: unknown field '{self.prefix}{key}' (allowed here: {allowed})")


def _build_task(path: Path, header: dict[str, Any], body: str) -> Task:
    top = _Fields(path, header)
    top.reject_unknown(
        {"name", "title", "simulator", "design_files", "benchmark", "results_dir", "metric", "evaluation"}
        | {"forbidden_names", "allowed_imports", "forbidden_attributes", "defaults", "budgets", "supervisor"}
    )
    name = top.text("name")
    if not name.replace("_", "").replace("-", "").isalnum():
        raise top.fail("name", "letters, digits, '_' or '-' only", name)

    simulator = (path.parent / top.text("simulator")).resolve()
    if not simulator.is_dir():
        raise top.fail("simulator", f"a folder relative to the task file (no folder at {simulator})")

    design_files = top.strings("design_files")
    for relpath in design_files:
        if Path(relpath).is_absolute() or ".." in Path(relpath).parts:
            raise top.fail("design_files", "paths inside the simulator repository", relpath)
        if not (simulator / relpath).is_file():
            raise top.fail(
                "design_files", f"files that exist in the simulator ({simulator / relpath} is missing)"
            )

    metric_fields = top.section("metric")
    metric_fields.reject_unknown({"name", "direction", "unit"})
    metric = Metric(
        name=metric_fields.text("name"),
        direction=metric_fields.choice("direction", DIRECTIONS),
        unit=metric_fields.text("unit") if "unit" in metric_fields.data else "",
    )

    return Task(
        path=path,
        name=name,
        title=top.text("title"),
        simulator=simulator,
        design_files=design_files,
        benchmark=top.text("benchmark"),
        results_dir=top.text("results_dir"),
        metric=metric,
        evaluation=_build_eval_spec(top.section("evaluation")),
        forbidden_names=top.strings("forbidden_names", default=[], allow_empty=True),
        defaults=_build_defaults(top.section("defaults", default={})),
        budgets=_build_budgets(top.section("budgets", default={})),
        supervisor=_build_supervisor(top.section("supervisor", default={})),
        body=body,
        allowed_imports=top.strings("allowed_imports") if "allowed_imports" in header else None,
        forbidden_attributes=top.strings("forbidden_attributes", default=[], allow_empty=True),
    )


def _build_eval_spec(fields: _Fields) -> EvalSpec:
    fields.reject_unknown(
        {"command", "time_limit_s", "workloads", "baselines", "reference_baseline", "design_router"}
    )
    command = fields.text("command")
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(command) if name is not None}
    except ValueError as exc:
        raise fields.fail("command", f"a valid template ({exc})", command) from exc
    unknown = used - COMMAND_PLACEHOLDERS
    if unknown:
        raise fields.fail(
            "command", "a template using only {" + "}, {".join(sorted(COMMAND_PLACEHOLDERS)) + "}", command
        )
    missing = REQUIRED_PLACEHOLDERS - used
    if missing:
        raise fields.fail("command", "a template containing {" + "}, {".join(sorted(missing)) + "}", command)

    raw_workloads = fields.raw("workloads", ...)
    if not isinstance(raw_workloads, list) or not raw_workloads:
        raise fields.fail("workloads", "a non-empty list of workloads", raw_workloads)
    workloads = tuple(_build_workload(fields, i, raw) for i, raw in enumerate(raw_workloads))
    names = [w.name for w in workloads]
    if len(set(names)) != len(names):
        raise fields.fail("workloads", "workloads with distinct names", names)
    if workloads[0].heldout:
        raise fields.fail("workloads[0].heldout", "false: the first workload is the primary score", True)
    _check_disjoint_seeds(str(fields.path), workloads)

    baselines = fields.strings("baselines")
    reference = fields.text("reference_baseline")
    if reference not in baselines:
        raise fields.fail("reference_baseline", f"one of the baselines {list(baselines)}", reference)
    return EvalSpec(
        command=command,
        time_limit_s=fields.positive_number("time_limit_s"),
        workloads=workloads,
        baselines=baselines,
        reference_baseline=reference,
        design_router=fields.text("design_router"),
    )


def _build_workload(parent: _Fields, index: int, raw: Any) -> Workload:
    key = f"workloads[{index}]"
    if not isinstance(raw, dict):
        raise parent.fail(key, "a mapping with name, qps and seeds", raw)
    fields = _Fields(parent.path, raw, f"{parent.prefix}{key}.")
    fields.reject_unknown({"name", "qps", "seeds", "heldout", "duration_s"})
    seeds = fields.raw("seeds", ...)
    valid_seeds = isinstance(seeds, list) and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds
    )
    if not valid_seeds or not seeds:
        raise fields.fail("seeds", "a non-empty list of non-negative integers", seeds)
    if len(set(seeds)) != len(seeds):
        raise fields.fail("seeds", "a list without repeated seeds", seeds)
    return Workload(
        name=fields.text("name"),
        qps=fields.positive_number("qps"),
        seeds=tuple(seeds),
        heldout=fields.flag("heldout", default=False),
        duration_s=fields.positive_number("duration_s", default=None, optional=True),
    )


def _check_disjoint_seeds(source: str, workloads: Sequence[Workload]) -> None:
    """Held-out workloads must not reuse the primary workload's seeds, or they check nothing new."""
    primary = set(workloads[0].seeds)
    for workload in workloads[1:]:
        if workload.heldout and primary & set(workload.seeds):
            shared = sorted(primary & set(workload.seeds))
            raise TaskError(
                f"{source}: field 'evaluation.workloads' must give held-out workload '{workload.name}' "
                f"seeds disjoint from the primary workload's, got shared seeds {shared}"
            )


def _build_defaults(fields: _Fields) -> RunDefaults:
    fields.reject_unknown({"strategy", "contexts", "target_improvement"})
    return RunDefaults(
        strategy=_strategy(fields),
        contexts=fields.positive_int("contexts", default=4),
        target_improvement=fields.fraction("target_improvement", default=0.3),
    )


def _strategy(fields: _Fields) -> str:
    value = fields.raw("strategy", "scg")
    if not isinstance(value, str) or not STRATEGY_PATTERN.fullmatch(value.strip().lower()):
        raise fields.fail("strategy", "one of scg, mcg-seq, mcg-par or mcg-par-N", value)
    return value.strip().lower()


def _build_budgets(fields: _Fields) -> BudgetLimits:
    fields.reject_unknown({"dollars", "simulations", "wall_time_min", "steps", "tokens"})
    minutes = fields.positive_number("wall_time_min", default=None, optional=True)
    return BudgetLimits(
        dollars=fields.positive_number("dollars", default=None, optional=True),
        simulations=fields.positive_int("simulations", default=None, optional=True),
        wall_time_s=None if minutes is None else minutes * 60.0,
        steps=fields.positive_int("steps", default=None, optional=True),
        tokens=fields.positive_int("tokens", default=None, optional=True),
    )


def _build_supervisor(fields: _Fields) -> SupervisorSettings:
    fields.reject_unknown({"every_k_turns", "stall_after_sims", "max_interventions"})
    return SupervisorSettings(
        every_k_turns=fields.positive_int("every_k_turns", default=12),
        stall_after_sims=fields.positive_int("stall_after_sims", default=5),
        max_interventions=fields.positive_int("max_interventions", default=8),
    )
