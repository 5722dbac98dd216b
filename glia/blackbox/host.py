"""What a black-box method run gets from the orchestrator: the run's shared parts, nothing private.

`glia.orchestrator.run` builds one of these in place of contexts; the method charges the same `Budget`,
writes the same run record and hands its designs to the same trusted judge as Glia's contexts do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glia.budget import Budget
from glia.run_store import RunRecord
from glia.task import Task
from glia.workspace.base import Limits


@dataclass
class MethodHost:
    run_dir: Path
    run_id: str
    strategy: str  # the method's name (sample, loop, openevolve)
    settings: Mapping[str, Any]  # RunConfig.blackbox
    backend: str
    image: str | None
    task: Task
    budget: Budget
    record: RunRecord
    stop: threading.Event
    judge: Any  # glia.evaluation.trusted.TrustedJudge
    provider: Any  # the model (an LLMProvider): the run's researcher model
    baselines: Mapping[str, float | None]
    limits: Limits
    emit: Callable[..., None]  # progress events, like the orchestrator's
    on_simulation: Callable[[int, int], None]  # the orchestrator's run_totals bookkeeping
    simulation_limit: int | None = None  # the run's simulation budget (for the generation cap)
