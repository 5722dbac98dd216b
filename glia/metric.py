"""What "better" means for a task: one objective, its direction, and constraints. The only place.

Every part of Glia that compares scores (the ledger ranking claims, the judge choosing the best design,
the Supervisor's stall check, progress, notes, reports, bench tables) asks a `Metric`; none of them
knows whether lower or higher wins, or what makes a design feasible.

A design is *feasible* when every constraint holds for it (for a trusted evaluation: on the mean over
the primary workload's seeds). Ranking puts feasible designs first, then the better objective; so an
infeasible design is never chosen over a feasible one, however good its objective.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

DIRECTIONS = ("minimize", "maximize")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")

T = TypeVar("T")


class MetricError(ValueError):
    """A metric or constraint is malformed; the message says what was expected."""


@dataclass(frozen=True)
class Constraint:
    """`key op bound`, e.g. `p90_ttft <= 1.5`; `key` is a key of the simulator's summary."""

    key: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        match = _CONSTRAINT.match(text) if isinstance(text, str) else None
        if not match:
            raise MetricError(
                f"a constraint looks like 'p90_ttft <= 1.5' (one of <=, <, >=, >), got {text!r}"
            )
        key, op, bound = match.groups()
        try:
            value = float(bound)
        except ValueError:
            raise MetricError(f"the bound of {text!r} is not a number") from None
        if not math.isfinite(value):
            raise MetricError(f"the bound of {text!r} must be finite")
        return cls(key, op, value)

    def holds(self, value: float | None) -> bool:
        """False for a missing or non-finite value: an unmeasured constraint is not met."""
        if value is None or isinstance(value, bool) or not math.isfinite(value):
            return False
        return _OPERATORS[self.op](float(value), self.bound)

    def violation(self, value: float | None) -> str | None:
        """A sentence saying how `value` breaks this constraint, or None when it holds."""
        if self.holds(value):
            return None
        shown = "not measured" if value is None else f"{value:.4g}"
        return f"{self.key} = {shown}, required {self.op} {self.bound:g}"

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.bound:g}"


@dataclass(frozen=True)
class Metric:
    """The task's objective (a key of summary.json), its direction, unit and constraints."""

    name: str
    direction: str
    unit: str = ""
    constraints: tuple[Constraint, ...] = ()
    report: tuple[str, ...] = ()  # further summary keys shown beside the objective

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise MetricError(f"direction must be minimize or maximize, got {self.direction!r}")

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "minimize"

    @property
    def keys(self) -> tuple[str, ...]:
        """Every summary key a result must carry: objective, constraint keys, reported keys."""
        ordered = [self.name, *(c.key for c in self.constraints), *self.report]
        return tuple(dict.fromkeys(ordered))

    # -- comparing objectives ---------------------------------------------------------------------

    def better(self, a: float | None, b: float | None) -> bool:
        """True when objective `a` is strictly better than `b` (a number beats no number)."""
        if a is None or not math.isfinite(a):
            return False
        if b is None or not math.isfinite(b):
            return True
        return a < b if self.lower_is_better else a > b

    def improvement(self, score: float | None, reference: float | None) -> float | None:
        """How much better `score` is than `reference`, as a fraction of it (negative: worse)."""
        if score is None or reference is None or reference == 0:
            return None
        if not (math.isfinite(score) and math.isfinite(reference)):
            return None
        gain = (reference - score) if self.lower_is_better else (score - reference)
        return gain / abs(reference)

    def times_better(self, score: float, reference: float) -> float | None:
        """How many times better `score` is than `reference` (>1 better, <1 worse), as papers state
        speed-ups; None when either is not a positive number."""
        if not (score > 0 and reference > 0):
            return None
        return reference / score if self.lower_is_better else score / reference

    def rank_key(self, score: float) -> float:
        """A sort key that puts better objectives first (`sorted(..., key=...)`)."""
        return score if self.lower_is_better else -score

    def as_maximised(self, score: float) -> float:
        """The objective on a scale where higher is better (for tools that only maximise)."""
        return -score if self.lower_is_better else score

    @property
    def better_word(self) -> str:
        """`lower` or `higher`: how tables and axes say which way is better."""
        return "lower" if self.lower_is_better else "higher"

    def target(self, reference: float, gain: float) -> float:
        """The objective a design must reach to be `gain` (a fraction) better than `reference`."""
        return reference * (1 - gain) if self.lower_is_better else reference * (1 + gain)

    # -- constraints ------------------------------------------------------------------------------

    def violations(self, values: Mapping[str, Any] | None) -> list[str]:
        """Each constraint broken by `values` (summary-like: key -> number), as a sentence."""
        values = values or {}
        found = []
        for constraint in self.constraints:
            problem = constraint.violation(_number(values.get(constraint.key)))
            if problem:
                found.append(problem)
        return found

    def feasible(self, values: Mapping[str, Any] | None) -> bool:
        return not self.violations(values)

    # -- ranking ----------------------------------------------------------------------------------

    def outranks(
        self,
        score: float | None,
        feasible: bool,
        other_score: float | None,
        other_feasible: bool,
    ) -> bool:
        """Feasible first, then the better objective."""
        if feasible != other_feasible:
            return feasible
        return self.better(score, other_score)

    def best(
        self,
        items: Iterable[T],
        score: Callable[[T], float | None],
        feasible: Callable[[T], bool] = lambda item: True,
    ) -> T | None:
        """The top-ranked item with a score; the earliest wins a tie."""
        chosen: T | None = None
        chosen_score: float | None = None
        chosen_feasible = False
        for item in items:
            value = score(item)
            if value is None or not math.isfinite(value):
                continue
            ok = feasible(item)
            if chosen is None or self.outranks(value, ok, chosen_score, chosen_feasible):
                chosen, chosen_score, chosen_feasible = item, value, ok
        return chosen

    # -- display and storage ----------------------------------------------------------------------

    def format(self, value: float | None, digits: int = 2) -> str:
        if value is None or not math.isfinite(value):
            return "—"
        return f"{value:.{digits}f}"

    def describe(self) -> str:
        """`minimize mean_e2e (s)`, with constraints: `subject to p90_ttft <= 1.5`."""
        unit = f" ({self.unit})" if self.unit else ""
        text = f"{self.direction} {self.name}{unit}"
        if self.constraints:
            text += " subject to " + ", ".join(str(c) for c in self.constraints)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "unit": self.unit,
            "constraints": [str(c) for c in self.constraints],
            "report": list(self.report),
            "lower_is_better": self.lower_is_better,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metric:
        """Read back `to_dict` (also older records holding only name and direction)."""
        return cls(
            name=str(data.get("name") or "score"),
            direction=str(data.get("direction") or "minimize"),
            unit=str(data.get("unit") or ""),
            constraints=tuple(Constraint.parse(c) for c in data.get("constraints") or ()),
            report=tuple(data.get("report") or ()),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
