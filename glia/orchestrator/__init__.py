"""The orchestrator: strategies over contexts (SCG, MCG-Seq, MCG-Par-N), the shared budget, trusted
re-evaluation and selection of the best design, run state on disk, interruption and resume.

Modules: `config` (what a run is asked to do), `run` (the public API: prepare, execute, resume), `session`
(one session: open, hand the contexts to the strategy of `glia.strategies`, close), `contexts` (one
context's lifecycle), `live` and `live_curve` (judging improving
designs while the run goes on), `baselines`, `selection` and `best` (the best design and the `best/`
folder), `resume`, `providers`, `evaluator_setup`, `cleanup`, `run_edits` (every change to run.json),
`state` (what a session's parts share), `interrupts` (Ctrl-C handling).
Re-evaluation and selection are `glia.evaluation.trusted` (black-box methods use them too); what a run
records, and how a context ended, are defined in `glia.record`.
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
