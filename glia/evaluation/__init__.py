"""Trusted evaluation of designs: pristine simulator copy, design file text only, seeds x workloads.

See `evaluator.Evaluator` for the procedure and `results.Evaluation` for what it reports.
"""

from glia.evaluation.design_checks import design_problem
from glia.evaluation.evaluator import Evaluator, design_sha256
from glia.evaluation.results import Evaluation, SeedResult, WorkloadScore, select_best
from glia.evaluation.stats import bootstrap_mean_ci

__all__ = [
    "Evaluation",
    "Evaluator",
    "SeedResult",
    "WorkloadScore",
    "bootstrap_mean_ci",
    "design_problem",
    "design_sha256",
    "select_best",
]
