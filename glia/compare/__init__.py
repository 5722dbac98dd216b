"""`glia compare`: Glia against black-box search on one task, with equal budgets, in one command.

Modules: `plan` (methods x budgets x repeats, compare.json, resume), `estimate` (simulations and dollars
before anything is spent, with the token assumptions it rests on), `execute` (each entry an ordinary
Glia run, resumed where it stopped), `results` (numbers read back from the run folders), `table`,
`figures` (the paper's Fig. 2, 3 and 7 views), `report` (the Markdown report), `outputs` (writing them).
"""

from glia.compare.plan import (
    DEFAULT_BUDGETS,
    DEFAULT_METHODS,
    ComparePlan,
    Entry,
    MethodSpec,
    PlanError,
    parse_budgets,
    parse_methods,
)

__all__ = [
    "DEFAULT_BUDGETS",
    "DEFAULT_METHODS",
    "ComparePlan",
    "Entry",
    "MethodSpec",
    "PlanError",
    "parse_budgets",
    "parse_methods",
]
