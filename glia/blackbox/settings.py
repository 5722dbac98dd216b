"""Settings of a black-box method run, kept in run.json (`config.blackbox`) so a resume runs the same.

Defaults follow the Glia paper's Table 1 where it gives a value (OpenEvolve: exploration 0.6,
exploitation 0.4, the reference baseline as the initial program) and OpenEvolve's own defaults
elsewhere (5 islands, SEARCH/REPLACE edits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

GENERATIONS_PER_SIMULATION = 3  # the default cap on model calls: a model that never writes a runnable
DEFAULT_GENERATIONS = 100  # design must not spend money forever (100 without a simulation budget)


class SettingsError(ValueError):
    """A black-box setting with a value the method cannot use; the message names it."""


@dataclass(frozen=True)
class MethodSettings:
    """What a black-box method may be told besides the run's budgets and model."""

    max_generations: int | None = None  # model calls at most; None: 3 per simulation of the budget
    initial_program: str | None = None  # openevolve: the starting design file; None: the reference
    history: int = 30  # loop: earlier attempts summarised in each prompt
    islands: int = 5  # openevolve: OpenEvolve's default island count
    exploration: float = 0.6  # openevolve: Table 1 of the Glia paper
    exploitation: float = 0.4  # openevolve: Table 1 of the Glia paper
    workers: int = 2  # openevolve: iterations in flight (model calls overlap; benchmarks take turns)
    diff_based: bool = True  # openevolve: SEARCH/REPLACE edits (its default) instead of full rewrites
    seed: int | None = None  # openevolve's random seed; None: derived from the run id
    checkpoint_interval: int = 1  # openevolve: iterations between checkpoints (resume granularity)
    population: int = 20  # eoh: initial population size N (Table 1 of the Glia paper)
    prompt_programs: int = 3  # funsearch: programs shown in each prompt, k (Table 1)
    funsearch_islands: int = 6  # funsearch: number of islands (Table 1)
    samples_per_prompt: int = 4  # funsearch: designs asked for per prompt (LLM4AD's default)
    island_capacity: int = 20  # funsearch: programs an island holds at most (Table 1)

    def __post_init__(self) -> None:
        for name in ("history", "islands", "workers", "checkpoint_interval", "population", "prompt_programs",
                     "funsearch_islands", "samples_per_prompt", "island_capacity"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"blackbox setting {name!r} must be a whole number >= 1, got {value!r}")
        if self.max_generations is not None and (
            isinstance(self.max_generations, bool)
            or not isinstance(self.max_generations, int)
            or self.max_generations < 1
        ):
            raise SettingsError(
                f"blackbox setting 'max_generations' must be >= 1, got {self.max_generations!r}"
            )
        for name in ("exploration", "exploitation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise SettingsError(f"blackbox setting {name!r} must be a fraction in [0, 1], got {value!r}")
        if self.exploration + self.exploitation > 1 + 1e-9:
            raise SettingsError(
                f"exploration ({self.exploration}) plus exploitation ({self.exploitation}) must not exceed 1"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> MethodSettings:
        """From run.json or the CLI; unknown keys are errors so a typo never passes silently."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(
                f"unknown blackbox setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def generation_cap(self, simulations: int | None) -> int:
        """How many model calls the method may make at most."""
        if self.max_generations is not None:
            return self.max_generations
        if simulations is None:
            return DEFAULT_GENERATIONS
        return max(1, GENERATIONS_PER_SIMULATION * simulations)
