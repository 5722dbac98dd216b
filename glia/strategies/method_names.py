"""The black-box methods' names, shared by the run configuration, the CLI and the comparison.

Free of imports on purpose: the strategy registry, the task file and the run configuration read these
names without loading the methods.
"""

from __future__ import annotations

SAMPLE = "sample"
LOOP = "loop"
OPENEVOLVE = "openevolve"
EOH = "eoh"  # EoH and FunSearch: the LLM4AD package (PyPI `llm4ad`)
FUNSEARCH = "funsearch"
LLM4AD_METHODS = (EOH, FUNSEARCH)
METHODS = (SAMPLE, LOOP, OPENEVOLVE, EOH, FUNSEARCH)
LABELS = {SAMPLE: "Sample", LOOP: "Loop", OPENEVOLVE: "OpenEvolve", EOH: "EoH", FUNSEARCH: "FunSearch"}
DESCRIPTIONS = {
    SAMPLE: "the model as it is: independent designs from one detailed prompt, each benchmarked once",
    LOOP: "generate-and-verify: each design checked, benchmarked and summarised into the next prompt",
    OPENEVOLVE: "OpenEvolve (the PyPI package): island-based evolutionary search over the design file",
    EOH: "EoH (the LLM4AD package): a population of designs evolved by crossover and mutation prompts",
    FUNSEARCH: "FunSearch (the LLM4AD package): islands of designs, each prompt showing the best of one island",
}


def is_blackbox(strategy: str) -> bool:
    """True for a strategy that runs a black-box method instead of Glia's contexts."""
    return strategy in METHODS
