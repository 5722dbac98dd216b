"""Helpers for the tests of the newer design slots (replica scheduler, autoscaler) and workloads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from llmsim.config import SimulationConfig
from llmsim.request import Request
from llmsim.simulator import Simulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "designs"


def run_with(
    requests: list[Request],
    *,
    router_cls: type | None = None,
    scheduler_policy: type | None = None,
    autoscaler_cls: type | None = None,
    source=None,
    **config,
) -> Simulator:
    """Run a simulation with design classes passed in; returns the Simulator (result in .result)."""
    config.setdefault("check_invariants", True)
    sim = Simulator(
        SimulationConfig(**config),
        requests,
        router_cls,
        source=source,
        scheduler_policy=scheduler_policy,
        autoscaler_cls=autoscaler_cls,
    )
    sim.result = sim.run()
    return sim


def fixture_class(filename: str, class_name: str) -> type:
    """A class from a head-room design fixture, imported as its own module."""
    path = FIXTURES / filename
    spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, class_name)
