"""The black-box methods' names, shared by the run configuration, the CLI and the comparison.

Free of imports on purpose: `glia.orchestrator.config` reads these names without loading the methods.
"""

from __future__ import annotations

SAMPLE = "sample"
LOOP = "loop"
OPENEVOLVE = "openevolve"
METHODS = (SAMPLE, LOOP, OPENEVOLVE)
LABELS = {SAMPLE: "Sample", LOOP: "Loop", OPENEVOLVE: "OpenEvolve"}
DESCRIPTIONS = {
    SAMPLE: "the model as it is: independent designs from one detailed prompt, each benchmarked once",
    LOOP: "generate-and-verify: each design checked, benchmarked and summarised into the next prompt",
    OPENEVOLVE: "OpenEvolve (the PyPI package): island-based evolutionary search over the design file",
}


def is_blackbox(strategy: str) -> bool:
    """True for a strategy that runs a black-box method instead of Glia's contexts."""
    return strategy in METHODS
