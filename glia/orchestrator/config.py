"""What the user asked a run to do, and the names it goes by (strategy labels, run ids).

A RunConfig is written into run.json when the run is prepared and read back from there by `execute_run`
and `resume_run`, so a run can always be continued from its folder alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from glia import strategies
from glia.task import BudgetLimits


class RunConfigError(ValueError):
    """The run's settings contradict each other (e.g. SCG with 3 contexts)."""


@dataclass(kw_only=True)
class RunConfig:
    """Settings of one run. `contexts` is N for MCG-Par-N; MCG-Seq launches up to `max_contexts_seq`."""

    task_path: Path
    strategy: str
    researcher_model: str
    supervisor_model: str
    budgets: BudgetLimits = field(default_factory=BudgetLimits)
    contexts: int = 1
    base_url: str | None = None
    backend: str = "docker"
    cluster: str | None = None  # a Ray cluster (`auto`, ray://HOST:PORT): where contexts' sandboxes run
    image: str | None = None
    run_id: str | None = None
    workspaces_root: Path = Path("workspaces")
    seeds: int | list[int] | None = None  # the main workload's seeds: a count, or public seeds
    max_contexts_seq: int = 8
    target_improvement: float | None = None  # None: the task's default
    # Trusted evaluations made while the run goes on (the trusted curve): designs that improved their
    # context's best claim, at most this many per run (0: only the final judging of each context).
    live_evaluations: int = 8
    # Each agent's model settings as merged at `glia solve` (task < config < flags), kept so a resumed
    # run talks to its models exactly as the first session did: {"researcher": {...}, "supervisor": {...}}.
    model_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Settings of a black-box method (sample, loop, openevolve, eoh, funsearch): `glia.blackbox.settings`.
    blackbox: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.task_path = Path(self.task_path)
        self.workspaces_root = Path(self.workspaces_root)
        self.strategy, self.contexts = normalize_strategy(self.strategy, self.contexts)
        if self.max_contexts_seq < 1:
            raise RunConfigError(f"max_contexts_seq must be at least 1, got {self.max_contexts_seq}")
        if self.live_evaluations < 0:
            raise RunConfigError(f"live_evaluations must be 0 or more, got {self.live_evaluations}")
        if strategies.get(self.strategy).blackbox:
            _check_blackbox(self.strategy, self.blackbox)

    @property
    def label(self) -> str:
        return strategy_label(self.strategy, self.contexts)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["task_path"] = str(self.task_path)
        data["workspaces_root"] = str(self.workspaces_root)
        data["strategy_label"] = self.label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["budgets"] = BudgetLimits(**(data.get("budgets") or {}))
        return cls(**values)


def normalize_strategy(strategy: str, contexts: int) -> tuple[str, int]:
    """('mcg-par-4', _) -> ('mcg-par', 4); checks that the context count fits the strategy."""
    try:
        found, contexts = strategies.parse(strategy, contexts)
    except strategies.UnknownStrategy as exc:
        raise RunConfigError(str(exc)) from None
    return found.name, contexts


def strategy_label(strategy: str, contexts: int) -> str:
    """The paper's names: 'SCG', 'MCG-Seq', 'MCG-Par4'."""
    name, count = normalize_strategy(strategy, contexts)
    return strategies.get(name).label_for(count)


def default_run_id(task_name: str, strategy: str, contexts: int, now: datetime | None = None) -> str:
    """`<task-name>-<strategy>-<YYYYmmdd-HHMMSS>`, e.g. `llm_routing-mcg-par4-20251122-051500`."""
    slug = strategy_label(strategy, contexts).lower()
    return f"{task_name}-{slug}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"


def _check_blackbox(strategy: str, settings: dict[str, Any]) -> None:
    """A black-box method's settings must be usable, and OpenEvolve installed, before anything runs."""
    from glia.blackbox import llm4ad_missing, openevolve_missing
    from glia.blackbox.settings import MethodSettings, SettingsError

    try:
        MethodSettings.from_mapping(settings)
    except SettingsError as exc:
        raise RunConfigError(str(exc)) from None
    if strategy == "openevolve" and (missing := openevolve_missing()):
        raise RunConfigError(missing)
    if strategy in ("eoh", "funsearch") and (missing := llm4ad_missing()):
        raise RunConfigError(missing)
