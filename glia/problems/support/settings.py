"""The problem's settings, written by Glia into `glia_support/problem.json` when it loads the folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETTINGS_FILE = "problem.json"


@dataclass(frozen=True)
class ProblemSettings:
    """What the benchmark and the harness need to call the problem's evaluator."""

    program: str  # the program file, relative to the problem folder
    evaluator: str  # the evaluator file, relative to the problem folder
    entry: str = "evaluate"  # the evaluator's function: entry(program_path, **arguments)
    seed_argument: str | None = None  # the keyword that takes a seed, when the evaluator has one
    metric: str = "combined_score"
    average_if_missing: bool = True  # OpenEvolve's rule: no objective -> the mean of numeric metrics
    time_limit_s: float = 300.0
    results_dir: str = "glia_results"
    benchmark_seed: int = 0
    benchmark_params: dict[str, Any] = field(default_factory=dict)
    # OpenEvolve's cascade (config.yaml's evaluator.cascade_thresholds) when it runs the stages; else None
    cascade_thresholds: list[float] | None = None
    pristine: dict[str, str] = field(default_factory=dict)  # relpath -> sha256 of the problem's files
    environment: dict[str, str] = field(default_factory=dict)  # the settings' `env:`, checked when loaded

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, folder: Path) -> ProblemSettings:
        data = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        return cls(**data)


def parse_param(text: str) -> tuple[str, Any]:
    """`key=value` from the command line; numbers become numbers, as the task file wrote them."""
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise ValueError(f"--param takes key=value, got {text!r}")
    for kind in (int, float):
        try:
            return key, kind(raw)
        except ValueError:
            continue
    return key, raw
