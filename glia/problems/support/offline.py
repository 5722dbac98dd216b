"""The environment of an evaluation: Glia's defaults for services that cannot work in a sandbox, and the
variables the problem's settings declare (`env:` in glia.yaml or the task file).

An ADRS or OpenEvolve evaluator (or the simulator it starts as a subprocess, or the program) may call
`wandb.init()`: with no network and no key that raises (or waits), and the evaluation then reports a
failure that has nothing to do with the program. Logging is not scoring, so Glia turns such services off
unless the folder's own settings (or, run by hand, the caller's environment) chose a mode. This is the one
home of those defaults: the harness applies them to the evaluator's process (inherited by its
subprocesses), and the task's design host command gives them to the program's sandbox. Standard library
only: it runs in the sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

OFFLINE_DEFAULTS = {
    "WANDB_MODE": "disabled",  # Weights & Biases: every call a no-op, nothing logged or sent
    "WANDB_SILENT": "true",
}


def evaluation_environment(declared: Mapping[str, str]) -> dict[str, str]:
    """What a sandbox of the evaluation gets: the defaults, then the declared variables (which win)."""
    return {**OFFLINE_DEFAULTS, **declared}


def apply_environment(declared: Mapping[str, str]) -> None:
    """Set this process's environment (inherited by the evaluator's subprocesses): the declared
    variables always, the defaults unless the environment already has them."""
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.update(declared)
