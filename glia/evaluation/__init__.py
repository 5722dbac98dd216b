"""Trusted evaluation of designs: the design in a sandbox of its own, the core pristine, results checked.

See `sandboxes` for what runs where, `evaluator.Evaluator` for the procedure, `verify` for the checks on
the host, `secrets` for the seeds and `results.Evaluation` for what it reports; `task_checks` runs a
task's static checks (`design_checks`' rules, as the task's kind reads them). `trusted` judges a run's
designs with it and keeps the verdicts; `faithful` checks that a problem scores the same isolated.
"""

from glia.evaluation.design_checks import design_problem
from glia.evaluation.evaluator import EvaluationRefused, Evaluator, design_sha256
from glia.evaluation.results import Evaluation, SeedResult, WorkloadScore, select_best
from glia.evaluation.stats import bootstrap_mean_ci

__all__ = [
    "Evaluation",
    "EvaluationRefused",
    "Evaluator",
    "SeedResult",
    "WorkloadScore",
    "bootstrap_mean_ci",
    "design_problem",
    "design_sha256",
    "select_best",
]
