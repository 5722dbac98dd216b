"""Task files: a research problem for Glia, written as YAML front matter plus a Markdown brief.

The front matter tells Glia *how to judge* designs (the design slot, baselines, the metric and its
constraints, how the trusted evaluation runs, what counts as a benchmark run, which names are off
limits, the budgets); the body tells the Researcher *what the problem is*. Every field is validated on
load so that a typo fails before any money is spent. `tasks/README.md` documents the format.

An OpenEvolve-style problem folder (an initial program plus an `evaluator.py`) is turned into a task by
`glia.problems`, which builds the same `Task`; `glia.task_kinds` tells the kinds of task apart.
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from glia import strategies
from glia.llm.settings import AGENTS, AgentModelSettings, ModelSettingsError
from glia.metric import DIRECTIONS, Constraint, Metric, MetricError

# Placeholders Glia fills in for each trusted simulation; workloads add their own parameters.
GLIA_PLACEHOLDERS = frozenset({"design", "seed", "design_seed", "experiment", "output_root", "time_limit"})
REQUIRED_PLACEHOLDERS = frozenset({"design", "seed", "output_root"})
AGGREGATES = ("mean", "sum", "min", "max", "count", "p50", "p90", "p95", "p99", "fraction")
_AGGREGATE = re.compile(
    r"^\s*(?P<func>[a-z0-9]+)\(\s*(?P<column>[A-Za-z_][A-Za-z0-9_]*)?\s*"
    r"(?:(?P<op>>=|<=|>|<|==)\s*(?P<value>[-+0-9.eE]+))?\s*\)\s*$"
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SECRET_SEEDS = 1000
SIMULATOR_KIND = "simulator"  # a task file over a simulator: the kind a Task is unless its loader says


class TaskError(ValueError):
    """A task file is missing or malformed; the message names the file, the field and what was expected."""


# ------------------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class DesignSlot:
    """What the Researcher designs: its files, and how the simulator selects and hosts it."""

    slot: str  # what kind of component, e.g. router, replica_scheduler, autoscaler, program
    files: tuple[str, ...]  # paths inside the simulator; only their text counts as the design
    name: str  # the name that selects the design in the simulator (`{design}` in commands)
    host: str | None = None  # command serving the design in a sandbox of its own (trusted evaluation)


@dataclass(frozen=True)
class Baseline:
    """A design scored exactly like the Researcher's: built into the simulator, or a file."""

    name: str
    file: Path | None = None  # absolute path of a design file; None: selected by name

    @property
    def builtin(self) -> bool:
        return self.file is None


@dataclass(frozen=True)
class Workload:
    """One workload of the trusted evaluation: parameters for the command, simulated once per seed.

    `seeds` is either a count (that many secret seeds, drawn and recorded on the host, see
    `glia.evaluation.secrets`) or explicit public seeds (reproducible by anyone, e.g. in tests).
    """

    name: str
    params: Mapping[str, Any]
    seeds: int | tuple[int, ...]
    heldout: bool = False

    @property
    def count(self) -> int:
        return self.seeds if isinstance(self.seeds, int) else len(self.seeds)

    @property
    def secret(self) -> bool:
        return isinstance(self.seeds, int)

    @property
    def qps(self) -> float | None:
        value = self.params.get("qps")
        return float(value) if isinstance(value, int | float) else None

    def describe(self) -> str:
        """`qps=7.5, duration=1000`: the parameters, for tables and briefs."""
        return ", ".join(f"{key}={_show(value)}" for key, value in self.params.items())


@dataclass(frozen=True)
class Aggregate:
    """How a summary value is recomputed from per-request records, e.g. `p90(ttft)`."""

    func: str
    column: str | None = None
    op: str | None = None  # fraction(column > value)
    value: float | None = None

    def __str__(self) -> str:
        inner = self.column or ""
        if self.op is not None:
            inner += f" {self.op} {self.value:g}"
        return f"{self.func}({inner})"


@dataclass(frozen=True)
class PerRequestCheck:
    """The per-request file a run writes and the summary keys the host recomputes from it."""

    file: str
    recompute: Mapping[str, Aggregate] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalSpec:
    """How the trusted evaluation runs a design; the first workload gives the primary score."""

    command: str
    time_limit_s: float
    workloads: tuple[Workload, ...]
    baseline_designs: tuple[Baseline, ...]
    reference_baseline: str
    design_name: str
    per_request: PerRequestCheck | None = None

    @property
    def primary(self) -> Workload:
        return self.workloads[0]

    @property
    def baselines(self) -> tuple[str, ...]:
        """The baselines' names, in the task's order."""
        return tuple(b.name for b in self.baseline_designs)

    def baseline(self, name: str) -> Baseline:
        for baseline in self.baseline_designs:
            if baseline.name == name:
                return baseline
        raise KeyError(f"no baseline named {name!r}; the task's are {', '.join(self.baselines)}")

    def render_command(
        self,
        design: str,
        workload: Workload,
        seed: int,
        experiment: str,
        output_root: str,
        design_seed: int = 0,
    ) -> str:
        """The shell command for one simulation of `design` on (workload, seed)."""
        values = {key: shlex.quote(_show(value)) for key, value in workload.params.items()}
        values.update(
            design=shlex.quote(design),
            seed=str(int(seed)),
            design_seed=str(int(design_seed)),
            experiment=shlex.quote(experiment),
            output_root=shlex.quote(output_root),
            time_limit=f"{self.time_limit_s:g}",
        )
        return self.command.format(**values)


@dataclass(frozen=True)
class Benchmark:
    """The Researcher's benchmark: its command, where runs land, and which runs are claims."""

    command: str
    results_dir: str
    conditions: Mapping[str, Any] = field(default_factory=dict)


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
    """A loaded, validated task."""

    path: Path
    name: str
    title: str
    simulator: Path  # the template repository, absolute
    design: DesignSlot
    benchmark: Benchmark
    metric: Metric
    evaluation: EvalSpec
    forbidden_names: tuple[str, ...]
    defaults: RunDefaults
    budgets: BudgetLimits
    supervisor: SupervisorSettings
    body: str = field(repr=False)
    allowed_imports: tuple[str, ...] | None = None  # None: a design may import anything
    forbidden_attributes: tuple[str, ...] = ()  # attribute names design code may not touch
    # Which static checks run before a design is evaluated (glia.evaluation.design_checks.STATIC_CHECKS):
    # llmsim's rules by default for a simulator holding the llmsim package, else basic ones.
    static_checks: str = "llmsim"
    requirements: tuple[str, ...] = ()  # pip requirements the task's image adds (resolved with the image's)
    python: str | None = None  # the Python version the sandbox must run ("3.13"); None: the image's
    # Per-agent model settings (reasoning effort, thinking budget, API), weaker than config and flags.
    model_settings: Mapping[str, AgentModelSettings] = field(default_factory=dict)
    # Which kind of task this is (a name in `glia.task_kinds`): set by the loader, never by the task file,
    # so a task re-read from its path on resume gets the same kind.
    kind: str = SIMULATOR_KIND

    @property
    def design_files(self) -> tuple[str, ...]:
        return self.design.files

    @property
    def results_dir(self) -> str:
        return self.benchmark.results_dir

    def researcher_brief(self, baselines: Mapping[str, float | None] | None = None) -> str:
        """The Researcher's first message: the task body plus the baseline scores Glia measured this run."""
        return self.body.rstrip() + "\n\n" + self._baseline_section(baselines) + "\n"

    def _baseline_section(self, baselines: Mapping[str, float | None] | None) -> str:
        metric, primary, spec = self.metric, self.evaluation.primary, self.evaluation
        lines = ["## Baseline scores (measured by Glia for this run)", ""]
        if not baselines:
            lines.append(
                "Glia has not measured the baselines for this run. Measure the reference baseline "
                f"(`{spec.reference_baseline}`) yourself before changing anything."
            )
            return "\n".join(lines)
        unit = f" ({metric.unit})" if metric.unit else ""
        seeds = primary.count
        lines.append(
            f"Trusted evaluation on workload `{primary.name}` ({primary.describe()}; mean over {seeds} "
            f"seed{'s' if seeds != 1 else ''} Glia keeps to itself); {metric.describe()}:"
        )
        lines += ["", f"| baseline | {metric.name}{unit} |", "| --- | --- |"]
        for name, score in baselines.items():
            marker = " (reference)" if name == spec.reference_baseline else ""
            shown = "not measured (its evaluation failed)" if score is None else f"{score:.2f}"
            lines.append(f"| {name}{marker} | {shown} |")
        reference = baselines.get(spec.reference_baseline)
        if reference is not None and self.defaults.target_improvement > 0:
            gain = self.defaults.target_improvement
            target = metric.target(reference, gain)
            lines += [
                "",
                f"Aim for at least {gain:.0%} better than `{spec.reference_baseline}`, "
                f"i.e. {metric.name} {'at most' if metric.lower_is_better else 'at least'} "
                f"about {target:.2f}{' ' + metric.unit if metric.unit else ''}.",
            ]
        return "\n".join(lines)

    def with_overrides(
        self,
        *,
        seeds: int | Sequence[int] | None = None,
        workloads: Sequence[str] | None = None,
        duration_s: float | None = None,
        params: Mapping[str, Any] | None = None,
        time_limit_s: float | None = None,
        baselines: Sequence[str] | None = None,
        budgets: BudgetLimits | None = None,
    ) -> Task:
        """A copy with a cheaper or narrower evaluation, for quick runs and tests.

        `seeds`: an int keeps that many seeds of the primary workload (held-out workloads keep theirs);
        a list gives the primary workload those public seeds. `workloads` keeps only the named workloads,
        in the file's order. `params` (and `duration_s`, short for `params={"duration": ...}`) replaces
        workload parameters in every workload that has them.
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
            chosen = _override_seeds(self.path, chosen, seeds, spec.primary.name)
        changes = dict(params or {})
        if duration_s is not None:
            changes["duration"] = duration_s
        if changes:
            chosen = _override_params(self.path, chosen, changes)
        new_spec = replace(spec, workloads=tuple(chosen))
        if time_limit_s is not None:
            if time_limit_s <= 0:
                raise TaskError(
                    f"{self.path}: override 'time_limit_s' must be positive, got {time_limit_s!r}"
                )
            new_spec = replace(new_spec, time_limit_s=float(time_limit_s))
        if baselines is not None:
            kept = tuple(b for b in spec.baseline_designs if b.name in set(baselines))
            unknown = sorted(set(baselines) - {b.name for b in kept})
            if unknown:
                raise TaskError(f"{self.path}: override 'baselines' names unknown baselines {unknown}")
            new_spec = replace(new_spec, baseline_designs=kept)
        _check_disjoint_seeds(str(self.path), new_spec.workloads)
        return replace(self, evaluation=new_spec, budgets=budgets or self.budgets)


def _override_seeds(
    path: Path, chosen: list[Workload], seeds: int | Sequence[int], primary: str
) -> list[Workload]:
    if isinstance(seeds, int):
        if seeds <= 0:
            raise TaskError(f"{path}: override 'seeds' must be a positive count, got {seeds!r}")
        return [_first_seeds(w, seeds) if w.name == primary else w for w in chosen]
    explicit = tuple(int(s) for s in seeds)
    if not explicit or any(s < 0 for s in explicit) or len(set(explicit)) != len(explicit):
        raise TaskError(f"{path}: override 'seeds' must be distinct non-negative seeds, got {list(seeds)}")
    return [replace(w, seeds=explicit) if w.name == primary else w for w in chosen]


def _first_seeds(workload: Workload, count: int) -> Workload:
    if isinstance(workload.seeds, int):
        return replace(workload, seeds=min(count, workload.seeds))
    return replace(workload, seeds=workload.seeds[:count])


def _override_params(path: Path, chosen: list[Workload], changes: Mapping[str, Any]) -> list[Workload]:
    for key, value in changes.items():
        if not any(key in w.params for w in chosen):
            raise TaskError(f"{path}: override '{key}': no workload of this task has that parameter")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TaskError(f"{path}: override '{key}' must be a number or a string, got {value!r}")
        if isinstance(value, int | float) and value <= 0:
            raise TaskError(f"{path}: override '{key}' must be positive, got {value!r}")
    return [
        replace(w, params={**w.params, **{k: v for k, v in changes.items() if k in w.params}}) for w in chosen
    ]


# --------------------------------------------------------------------------------------------- loading


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
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

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.data.get(key) is not None else None

    def name(self, key: str, default: Any = ...) -> str:
        value = self.text(key, default)
        if not _NAME.match(value):
            raise self.fail(key, "letters, digits, '_', '.' or '-' only", value)
        return value

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

    def mapping(self, key: str, default: Any = ...) -> dict[str, Any]:
        value = self.raw(key, default)
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(key, "a mapping with string keys", value)
        return value

    def section(self, key: str, default: Any = ...) -> _Fields:
        return _Fields(self.path, self.mapping(key, default), f"{self.prefix}{key}.")

    def item(self, key: str, index: int, raw: Any) -> _Fields:
        if not isinstance(raw, dict):
            raise self.fail(f"{key}[{index}]", "a mapping", raw)
        return _Fields(self.path, raw, f"{self.prefix}{key}[{index}].")

    def reject_unknown(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise TaskError(f"{self.path}: unknown field '{self.prefix}{key}' (allowed here: {allowed})")


TOP_FIELDS = {
    "name",
    "title",
    "simulator",
    "design",
    "baselines",
    "metric",
    "benchmark",
    "evaluation",
    "forbidden_names",
    "allowed_imports",
    "forbidden_attributes",
    "static_checks",
    "requirements",
    "python",
    "defaults",
    "budgets",
    "supervisor",
    "models",
}
# Fields of the first task format, named so that an old file gets an error that says what replaced them.
RENAMED_FIELDS = {
    "design_files": "design.files",
    "results_dir": "benchmark.results_dir",
}


def build_task(path: Path, header: Mapping[str, Any], body: str) -> Task:
    """A Task from parsed front matter; `path` locates relative paths and names the file in errors."""
    top = _Fields(path, header)
    for old, new in RENAMED_FIELDS.items():
        if old in header:
            raise TaskError(f"{path}: field '{old}' is now '{new}' (see tasks/README.md)")
    top.reject_unknown(TOP_FIELDS)
    name = top.name("name")
    simulator = (path.parent / top.text("simulator")).resolve()
    if not simulator.is_dir():
        raise top.fail("simulator", f"a folder relative to the task file (no folder at {simulator})")
    design = _build_design(top.section("design"), simulator)
    metric = _build_metric(top.section("metric"))
    baselines = _build_baselines(top, path)
    evaluation = _build_eval_spec(top.section("evaluation"), baselines, design)
    return Task(
        path=path,
        name=name,
        title=top.text("title"),
        simulator=simulator,
        design=design,
        benchmark=_build_benchmark(top.section("benchmark")),
        metric=metric,
        evaluation=evaluation,
        forbidden_names=top.strings("forbidden_names", default=[], allow_empty=True),
        defaults=_build_defaults(top.section("defaults", default={})),
        budgets=_build_budgets(top.section("budgets", default={})),
        supervisor=_build_supervisor(top.section("supervisor", default={})),
        body=body,
        allowed_imports=top.strings("allowed_imports") if "allowed_imports" in header else None,
        forbidden_attributes=top.strings("forbidden_attributes", default=[], allow_empty=True),
        model_settings=_build_models(top.section("models", default={})),
        static_checks=top.choice("static_checks", STATIC_CHECKS, default=_default_checks(simulator)),
        requirements=top.strings("requirements", default=[], allow_empty=True),
        python=_python_version(top),
    )


STATIC_CHECKS = ("llmsim", "basic", "none")  # as glia.evaluation.design_checks.STATIC_CHECKS
PYTHON_VERSION = re.compile(r"3\.\d{1,2}")


def _default_checks(simulator: Path) -> str:
    """llmsim's rules belong to llmsim simulators; any other simulator gets the basic checks."""
    return "llmsim" if (simulator / "llmsim").is_dir() else "basic"


def _python_version(fields: _Fields) -> str | None:
    value = fields.raw("python", None)
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else ""  # unquoted, YAML reads 3.10 as the number 3.1
    if not PYTHON_VERSION.fullmatch(text):
        raise fields.fail("python", 'a Python version such as "3.13" (quoted, major.minor)', value)
    return text


def _build_models(fields: _Fields) -> dict[str, AgentModelSettings]:
    """`models: {researcher: {reasoning_effort: high}, supervisor: {...}}`."""
    fields.reject_unknown(set(AGENTS))
    settings = {}
    for agent in AGENTS:
        if agent in fields.data:
            try:
                settings[agent] = AgentModelSettings.from_mapping(fields.mapping(agent), "settings")
            except ModelSettingsError as exc:
                raise fields.fail(agent, f"model settings ({exc})") from None
    return settings


def _build_design(fields: _Fields, simulator: Path) -> DesignSlot:
    fields.reject_unknown({"slot", "files", "name", "host"})
    files = fields.strings("files")
    for relpath in files:
        if Path(relpath).is_absolute() or ".." in Path(relpath).parts:
            raise fields.fail("files", "paths inside the simulator repository", relpath)
        if not (simulator / relpath).is_file():
            raise fields.fail(
                "files", f"files that exist in the simulator ({simulator / relpath} is missing)"
            )
    return DesignSlot(
        slot=fields.name("slot"),
        files=files,
        name=fields.name("name"),
        host=fields.optional_text("host"),
    )


def _build_metric(fields: _Fields) -> Metric:
    fields.reject_unknown({"name", "direction", "unit", "constraints", "report"})
    try:
        constraints = tuple(
            Constraint.parse(text) for text in fields.strings("constraints", default=[], allow_empty=True)
        )
    except MetricError as exc:
        raise fields.fail("constraints", str(exc)) from None
    return Metric(
        name=fields.text("name"),
        direction=fields.choice("direction", DIRECTIONS),
        unit=fields.text("unit") if fields.data.get("unit") else "",
        constraints=constraints,
        report=fields.strings("report", default=[], allow_empty=True),
    )


def _build_baselines(top: _Fields, path: Path) -> tuple[Baseline, ...]:
    raw = top.raw("baselines", ...)
    if not isinstance(raw, list) or not raw:
        raise top.fail("baselines", "a non-empty list of baselines ({name} or {name, file})", raw)
    baselines = []
    for index, item in enumerate(raw):
        fields = top.item("baselines", index, {"name": item} if isinstance(item, str) else item)
        fields.reject_unknown({"name", "file"})
        file = fields.optional_text("file")
        location = None
        if file is not None:
            location = (path.parent / file).resolve()
            if not location.is_file():
                raise fields.fail("file", f"a design file relative to the task file (none at {location})")
        baselines.append(Baseline(name=fields.name("name"), file=location))
    names = [b.name for b in baselines]
    if len(set(names)) != len(names):
        raise top.fail("baselines", "baselines with distinct names", names)
    return tuple(baselines)


def _build_benchmark(fields: _Fields) -> Benchmark:
    fields.reject_unknown({"command", "results_dir", "conditions"})
    return Benchmark(
        command=fields.text("command"),
        results_dir=fields.text("results_dir", default="simulator_results"),
        conditions=fields.mapping("conditions", default={}),
    )


def _build_eval_spec(fields: _Fields, baselines: tuple[Baseline, ...], design: DesignSlot) -> EvalSpec:
    fields.reject_unknown({"command", "time_limit_s", "workloads", "reference", "per_request"})
    command = fields.text("command")
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(command) if name is not None}
    except ValueError as exc:
        raise fields.fail("command", f"a valid template ({exc})", command) from exc
    missing = REQUIRED_PLACEHOLDERS - used
    if missing:
        raise fields.fail("command", "a template containing {" + "}, {".join(sorted(missing)) + "}", command)

    raw_workloads = fields.raw("workloads", ...)
    if not isinstance(raw_workloads, list) or not raw_workloads:
        raise fields.fail("workloads", "a non-empty list of workloads", raw_workloads)
    workloads = tuple(
        _build_workload(fields.item("workloads", i, raw)) for i, raw in enumerate(raw_workloads)
    )
    names = [w.name for w in workloads]
    if len(set(names)) != len(names):
        raise fields.fail("workloads", "workloads with distinct names", names)
    if workloads[0].heldout:
        raise fields.fail("workloads[0].heldout", "false: the first workload is the primary score", True)
    _check_disjoint_seeds(str(fields.path), workloads)
    _check_placeholders(fields, used, workloads)

    reference = fields.text("reference")
    if reference not in {b.name for b in baselines}:
        raise fields.fail("reference", f"one of the baselines {[b.name for b in baselines]}", reference)
    return EvalSpec(
        command=command,
        time_limit_s=fields.positive_number("time_limit_s"),
        workloads=workloads,
        baseline_designs=baselines,
        reference_baseline=reference,
        design_name=design.name,
        per_request=_build_per_request(fields.section("per_request"))
        if "per_request" in fields.data
        else None,
    )


def _check_placeholders(fields: _Fields, used: set[str], workloads: Sequence[Workload]) -> None:
    """Every placeholder is Glia's or a parameter of every workload; every parameter is used."""
    for workload in workloads:
        index = next(i for i, w in enumerate(workloads) if w is workload)
        for key in workload.params:
            if key in GLIA_PLACEHOLDERS:
                raise fields.fail(f"workloads[{index}].{key}", f"not '{key}', a name Glia fills in itself")
            if key not in used:
                raise fields.fail(
                    f"workloads[{index}].{key}",
                    "a parameter that evaluation.command uses (it has no {" + key + "})",
                )
        unknown = used - GLIA_PLACEHOLDERS - set(workload.params)
        if unknown:
            raise fields.fail(
                "command",
                f"a template whose placeholders are Glia's ({', '.join(sorted(GLIA_PLACEHOLDERS))}) or "
                f"parameters of every workload; workload '{workload.name}' has no "
                + ", ".join("{" + u + "}" for u in sorted(unknown)),
            )


def _build_workload(fields: _Fields) -> Workload:
    name = fields.name("name")
    seeds = fields.raw("seeds", ...)
    if isinstance(seeds, bool) or not isinstance(seeds, int | list):
        raise fields.fail("seeds", "a count of secret seeds or a list of public seeds", seeds)
    if isinstance(seeds, int):
        if not 0 < seeds <= MAX_SECRET_SEEDS:
            raise fields.fail("seeds", f"a count between 1 and {MAX_SECRET_SEEDS}", seeds)
        chosen: int | tuple[int, ...] = seeds
    else:
        valid = all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
        if not valid or not seeds:
            raise fields.fail("seeds", "a non-empty list of non-negative integers", seeds)
        if len(set(seeds)) != len(seeds):
            raise fields.fail("seeds", "a list without repeated seeds", seeds)
        chosen = tuple(seeds)
    params = {}
    for key, value in fields.data.items():
        if key in ("name", "seeds", "heldout"):
            continue
        if not _PARAM.match(key):
            raise fields.fail(key, "a parameter name of letters, digits and '_'")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise fields.fail(key, "a number or a string (a parameter of the evaluation command)", value)
        params[key] = value
    return Workload(name=name, params=params, seeds=chosen, heldout=fields.flag("heldout", default=False))


def _build_per_request(fields: _Fields) -> PerRequestCheck:
    fields.reject_unknown({"file", "recompute"})
    recompute = {}
    for key, text in fields.mapping("recompute", default={}).items():
        match = _AGGREGATE.match(text) if isinstance(text, str) else None
        if not match or match["func"] not in AGGREGATES:
            raise fields.fail(
                f"recompute.{key}",
                "an aggregate like mean(column), p90(column), count() or fraction(column > 0) "
                f"(functions: {', '.join(AGGREGATES)})",
                text,
            )
        func, column, op = match["func"], match["column"], match["op"]
        if (func == "fraction") != (op is not None) or (func != "count" and column is None):
            raise fields.fail(f"recompute.{key}", "fraction(column OP value), count() or FUNC(column)", text)
        recompute[key] = Aggregate(func, column, op, float(match["value"]) if op else None)
    return PerRequestCheck(file=fields.text("file"), recompute=recompute)


def _check_disjoint_seeds(source: str, workloads: Sequence[Workload]) -> None:
    """Held-out workloads must not reuse the primary's public seeds, or they check nothing new."""
    primary = workloads[0].seeds
    if isinstance(primary, int):
        return  # secret seeds are drawn per workload: never shared
    for workload in workloads[1:]:
        if workload.heldout and not isinstance(workload.seeds, int):
            shared = sorted(set(primary) & set(workload.seeds))
            if shared:
                raise TaskError(
                    f"{source}: field 'evaluation.workloads' must give held-out workload "
                    f"'{workload.name}' seeds disjoint from the primary workload's, got shared seeds {shared}"
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
    # Glia's own strategies (a bare counted name such as "mcg-par" takes N from `contexts`)
    if not isinstance(value, str) or not strategies.task_pattern().fullmatch(value.strip().lower()):
        raise fields.fail("strategy", strategies.task_choices(), value)
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


def _show(value: Any) -> str:
    """A parameter as the command line gets it: numbers without trailing zeros."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)
