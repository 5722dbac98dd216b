"""Defaults for services an evaluator may log to, which cannot work in a sandbox without network.

An ADRS or OpenEvolve evaluator (or the simulator it starts as a subprocess) may call `wandb.init()`:
with no network and no key that raises (or waits), and the evaluator then reports a failure that has
nothing to do with the program. Logging is not scoring, so Glia turns such services off, unless the
folder's own environment already chose a mode. Standard library only: it runs in the sandbox."""

from __future__ import annotations

import os

OFFLINE_DEFAULTS = {
    "WANDB_MODE": "disabled",  # Weights & Biases: every call a no-op, nothing logged or sent
    "WANDB_SILENT": "true",
}


def services_offline() -> None:
    """Set the defaults in this process's environment (inherited by the evaluator's subprocesses)."""
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
