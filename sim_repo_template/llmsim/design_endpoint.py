"""Whether this run talks to a design process, and where: ``GLIA_DESIGN_ENDPOINT``.

In Glia's trusted evaluation ``GLIA_DESIGN_ENDPOINT`` names the socket of a design process
(``python -m llmsim.design_host``) that serves exactly one design; the slot whose option is ``ai`` talks
to it (``llmsim/design_slots.py``). Imports nothing above the errors, so any slot may use it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from llmsim.errors import DesignError

if TYPE_CHECKING:
    from llmsim.config import SimulationConfig

DESIGN_ENDPOINT_ENV = "GLIA_DESIGN_ENDPOINT"
DESIGN_NAME = "ai"
SLOTS = ("router", "replica_scheduler", "autoscaler")


def isolated_slot(config: SimulationConfig) -> str | None:
    """The slot the design endpoint serves in this run, or None (no endpoint, or no design slot)."""
    if not os.environ.get(DESIGN_ENDPOINT_ENV):
        return None
    chosen = [slot for slot in SLOTS if getattr(config, slot) == DESIGN_NAME]
    if len(chosen) > 1:
        raise DesignError(
            f"{DESIGN_ENDPOINT_ENV} serves one design, but {' and '.join(chosen)} are all '{DESIGN_NAME}'"
        )
    return chosen[0] if chosen else None


def endpoint() -> str:
    """The design process's socket; the channel code (`glia_isolation`) is made importable first."""
    from llmsim.glia_lib import add_glia_lib

    add_glia_lib()
    return os.environ[DESIGN_ENDPOINT_ENV]
