"""Evaluation backends that spread one evaluation's simulations over other machines, by name.

The evaluator runs designs in Docker sandboxes on this machine; a package that can run them elsewhere
(`glia.cluster`: a Ray cluster's nodes) registers itself here under the backend's name when it is
imported, so the evaluator never imports the packages above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SpreadBackend:
    """What the evaluator needs of a spreading backend."""

    sandboxes: Any  # the class standing in for EvaluationSandboxes: one evaluation's sandboxes
    kept: Callable[
        [str, str | None, float], Any
    ]  # (run id, image, kill-after s) -> what is kept between evaluations
    width: Callable[[], int]  # how many simulations it runs at once


_SPREAD: dict[str, SpreadBackend] = {}


def register_spread_backend(name: str, backend: SpreadBackend) -> None:
    _SPREAD[name] = backend


def require_spread_backend(name: str) -> SpreadBackend:
    found = _SPREAD.get(name)
    if found is None:
        raise ValueError(
            f"the evaluation backend {name!r} runs on a cluster that this process has not joined; "
            "pass --cluster (Ray: install glia[cluster])"
        )
    return found
