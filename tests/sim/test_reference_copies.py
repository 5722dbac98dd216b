"""OpenEvolve starts from the task's reference baseline. Where the reference is built into the simulator,
Glia hands OpenEvolve a design-file copy of it (`glia/blackbox/initial.py`): each copy must make exactly
the built-in's decisions, or the black-box methods would start from a different point than the paper's."""

from __future__ import annotations

import types

import pytest
from llmsim.config import SimulationConfig
from llmsim.runner import build_simulator, metrics_of

from glia.blackbox.initial import BUILTIN_REFERENCES

from .conftest import TEMPLATE

CLASS_OF_SLOT = {"global_schedulers": "AIGlobalScheduler", "autoscalers": "AIAutoscaler",
                 "replica_schedulers": "AIReplicaScheduler"}  # fmt: skip
SCENARIOS = {  # short, loaded runs of each slot's own task
    "llq": dict(router="llq", qps=7.5, duration=300, seed=4),
    "threshold": dict(
        router="llq",
        autoscaler="threshold",
        arrivals="sinusoid",
        period=900,
        duration=900,
        qps_low=7.5,
        qps_high=22.5,
        max_replicas=32,
        seed=3,
    ),  # fmt: skip
    "sarathi": dict(router="llq", replica_scheduler="sarathi", qps=7.5, duration=300, seed=4),
}


def design_class(design_file: str, text: str | None) -> type:
    source = text if text is not None else (TEMPLATE / design_file).read_text(encoding="utf-8")
    module = types.ModuleType(f"copy_of_{design_file.replace('/', '_')}")
    exec(compile(source, design_file, "exec"), module.__dict__)  # noqa: S102 - our own shipped text
    return getattr(module, CLASS_OF_SLOT[design_file.split("/")[1]])


def run(config: SimulationConfig, design: type | None, slot: str) -> tuple:
    keyword = {"global_schedulers": "router_cls", "autoscalers": "autoscaler_cls",
               "replica_schedulers": "scheduler_policy"}[slot]  # fmt: skip
    result = build_simulator(config, **{keyword: design}).run()
    frame = metrics_of(result, config)
    return tuple(frame["request_e2e_time"].round(9)), tuple(tuple(row) for row in result.logs.scaling)


@pytest.mark.parametrize("key", list(BUILTIN_REFERENCES), ids=[name for _, name, _ in BUILTIN_REFERENCES])
def test_each_design_file_copy_decides_exactly_as_the_built_in(key) -> None:
    design_file, name, _marker = key
    slot = design_file.split("/")[1]
    settings = SCENARIOS[name]
    built_in = SimulationConfig(**settings, router_log=False)
    as_design = {"global_schedulers": {"router": "ai"}, "autoscalers": {"autoscaler": "ai"},
                 "replica_schedulers": {"replica_scheduler": "ai"}}[slot]  # fmt: skip
    copy = SimulationConfig(**{**settings, **as_design}, router_log=False)
    expected = run(built_in, None, slot)
    got = run(copy, design_class(design_file, BUILTIN_REFERENCES[key]), slot)
    assert len(expected[0]) > 500
    assert got == expected
