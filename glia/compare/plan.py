"""What a comparison runs: methods x simulation budgets x repeats, each one ordinary Glia run.

The plan is written to `<root>/<compare-id>/compare.json` before anything is spent, with one entry per
run (its run id, status and last error), so an interrupted comparison continues where it stopped:
finished runs are kept, interrupted or crashed ones are resumed, the rest start. Runs live beside the
user's other runs under the workspaces root (`glia runs` lists them), so they share its secret seeds and
cached baselines: every method is judged on the same hidden workloads.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from glia import strategies
from glia.errors import GliaUsageError
from glia.orchestrator.config import RunConfig, RunConfigError, normalize_strategy, strategy_label
from glia.run_store import write_json_atomic
from glia.task import BudgetLimits

COMPARE_FILE = "compare.json"
DEFAULT_METHODS = ("scg", "mcg-seq", "mcg-par4", "sample", "loop", "openevolve")
DEFAULT_BUDGETS = (15, 100)  # the Glia paper's two simulation budgets
DEFAULT_CONTEXTS = 4  # `mcg-par` without a count is MCG-Par4, the paper's choice
FORMAT_VERSION = 1


class PlanError(GliaUsageError):
    """The comparison cannot be planned as asked (unknown method, bad budget, a different stored plan)."""

    def __init__(self, message: str, fix: str = "see `glia compare --help`") -> None:
        super().__init__(message, fix)


@dataclass(frozen=True)
class MethodSpec:
    """One method of the comparison: its key (e.g. `mcg-par4`), strategy, context count and label."""

    key: str
    strategy: str
    contexts: int
    label: str

    @property
    def blackbox(self) -> bool:
        return strategies.get(self.strategy).blackbox


def is_glia(key: str) -> bool:
    """Whether a method key (e.g. `mcg-par4`) names one of Glia's own strategies (not a black-box one)."""
    try:
        strategy, _ = strategies.parse(key, 1)
    except strategies.UnknownStrategy:
        return False
    return not strategy.blackbox


def parse_methods(text: str | list[str]) -> list[MethodSpec]:
    """`scg,mcg-seq,mcg-par4,sample,loop,openevolve` -> specs, in the order given, each once."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if not names:
        raise PlanError("--methods needs at least one method")
    specs: list[MethodSpec] = []
    for name in names:
        try:
            strategy, contexts = normalize_strategy(name, DEFAULT_CONTEXTS)
        except RunConfigError as exc:
            raise PlanError(str(exc)) from None
        label = strategy_label(strategy, contexts)
        key = label.lower()
        if any(s.key == key for s in specs):
            raise PlanError(f"method {name!r} is listed twice")
        specs.append(MethodSpec(key, strategy, contexts, label))
    return specs


def parse_budgets(text: str | list[int] | int) -> list[int]:
    """`15,100` -> [15, 100]: the simulation budgets, each a run's shared limit."""
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, list):
        values = list(text)
    else:
        try:
            values = [int(p) for p in text.replace(" ", "").split(",") if p]
        except ValueError:
            raise PlanError(
                f"--max-simulations takes a number or a comma list such as 15,100, got {text!r}"
            ) from None
    if not values or any(v < 1 for v in values) or len(set(values)) != len(values):
        raise PlanError(f"simulation budgets must be distinct positive numbers, got {values}")
    return sorted(values)


@dataclass(frozen=True)
class Entry:
    """One run of the comparison."""

    method: str  # MethodSpec.key
    budget: int  # simulations
    repeat: int  # 1-based
    run_id: str


@dataclass
class ComparePlan:
    """Everything a comparison needs to run again identically (stored in compare.json)."""

    compare_id: str
    task_path: Path
    task_name: str
    methods: list[MethodSpec]
    budgets: list[int]
    repeats: int
    researcher_model: str
    supervisor_model: str
    workspaces_root: Path
    base_url: str | None = None
    max_dollars: float | None = None  # per run
    max_minutes: float | None = None  # per run
    max_steps: int | None = None  # per context
    tokens: int | None = None
    backend: str = "docker"
    image: str | None = None
    seeds: list[int] | None = None
    model_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    blackbox: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.task_path = Path(self.task_path)
        self.workspaces_root = Path(self.workspaces_root)
        if self.repeats < 1:
            raise PlanError(f"--repeats must be at least 1, got {self.repeats}")

    @property
    def folder(self) -> Path:
        return self.workspaces_root / self.compare_id

    def method(self, key: str) -> MethodSpec:
        return next(m for m in self.methods if m.key == key)

    def entries(self) -> list[Entry]:
        """Budget by budget, repeat by repeat, every method: partial results always cover every method."""
        return [
            Entry(m.key, budget, repeat, f"{self.compare_id}.{m.key}-s{budget}-r{repeat}")
            for budget in self.budgets
            for repeat in range(1, self.repeats + 1)
            for m in self.methods
        ]

    def run_config(self, entry: Entry) -> RunConfig:
        spec = self.method(entry.method)
        budgets = BudgetLimits(
            dollars=self.max_dollars,
            simulations=entry.budget,
            wall_time_s=None if self.max_minutes is None else self.max_minutes * 60.0,
            steps=self.max_steps,
            tokens=self.tokens,
        )
        return RunConfig(
            task_path=self.task_path,
            strategy=spec.strategy,
            contexts=spec.contexts,
            researcher_model=self.researcher_model,
            supervisor_model=self.supervisor_model,
            budgets=budgets,
            base_url=self.base_url,
            backend=self.backend,
            image=self.image,
            run_id=entry.run_id,
            workspaces_root=self.workspaces_root,
            seeds=self.seeds,
            model_settings=self.model_settings,
            blackbox=dict(self.blackbox) if spec.blackbox else {},
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["task_path"] = str(self.task_path)
        data["workspaces_root"] = str(self.workspaces_root)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComparePlan:
        values = dict(data)
        values["methods"] = [MethodSpec(**m) for m in data["methods"]]
        return cls(**values)

    def same_work(self, other: ComparePlan) -> list[str]:
        """What differs between two plans in ways that change the runs (empty: the same comparison)."""
        keys = ("task_path", "methods", "budgets", "researcher_model", "supervisor_model", "base_url",
                "max_dollars", "max_minutes", "max_steps", "seeds", "blackbox", "backend")  # fmt: skip
        mine, theirs = self.to_dict(), other.to_dict()
        return [key for key in keys if mine.get(key) != theirs.get(key)]


def default_compare_id(task_name: str, now: datetime | None = None) -> str:
    return f"compare-{task_name}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"


# -- compare.json -----------------------------------------------------------------------------------


def state_path(folder: Path) -> Path:
    return Path(folder) / COMPARE_FILE


def load_state(folder: Path) -> dict[str, Any]:
    path = state_path(folder)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{folder} holds no comparison ({COMPARE_FILE} is missing)") from None


def save_state(folder: Path, state: dict[str, Any]) -> None:
    write_json_atomic(state_path(folder), state)


def new_state(plan: ComparePlan, estimate: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "compare_id": plan.compare_id,
        "created": datetime.now().isoformat(timespec="seconds"),
        "status": "planned",
        "plan": plan.to_dict(),
        "estimate": estimate,
        "runs": {
            e.run_id: {
                "method": e.method,
                "budget": e.budget,
                "repeat": e.repeat,
                "status": "pending",
                "error": None,
            }
            for e in plan.entries()
        },
    }
