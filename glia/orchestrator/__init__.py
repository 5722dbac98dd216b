"""The orchestrator: strategies over contexts (SCG, MCG-Seq, MCG-Par-N), the shared budget, trusted
re-evaluation and selection of the best design, run state on disk, interruption and resume.

Modules: `config` (what a run is asked to do), `run` (doing it), `live` (judging improving designs while
the run goes on), `best` (the `best/` folder), `interrupts` (Ctrl-C handling). Re-evaluation and selection
are `glia.evaluation.trusted` (black-box methods use them too); what a run records, and how a context
ended, are defined in `glia.record`.
"""

from glia.orchestrator.config import (
    RunConfig,
    RunConfigError,
    default_run_id,
    normalize_strategy,
    strategy_label,
)
from glia.orchestrator.run import (
    RunExists,
    RunInUse,
    RunNotResumable,
    RunResult,
    execute_run,
    prepare_run,
    resume_run,
    task_for,
)

__all__ = [
    "RunConfig",
    "RunConfigError",
    "RunExists",
    "RunInUse",
    "RunNotResumable",
    "RunResult",
    "default_run_id",
    "execute_run",
    "normalize_strategy",
    "prepare_run",
    "resume_run",
    "strategy_label",
    "task_for",
]
