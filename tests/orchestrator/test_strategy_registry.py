"""Adding a strategy is one `Strategy` plus one registry entry: a toy one is offered by `glia solve`,
planned by `glia compare`, accepted by task files and run by the orchestrator, and gone once removed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glia import strategies
from glia.cli import build_parser
from glia.compare.plan import is_glia, parse_methods
from glia.orchestrator import RunConfigError
from glia.run_store import load_run
from glia.strategies import Strategy, StrategyHost

from .fakes import Design, Plan


def _two_in_a_row(host: StrategyHost) -> None:
    """Exactly two contexts, one after the other, whatever the budget says."""
    while len(host.context_indices()) < 2 and not host.stop.is_set():
        host.advance_context(host.launch_context())
    host.stop_launching("two_done")


TOY = Strategy(name="mcg-pair", label="MCG-Pair", run=_two_in_a_row, help="mcg-pair: two contexts in a row",
               open_ended=True)  # fmt: skip


@pytest.fixture
def toy_strategy() -> Iterator[Strategy]:
    strategies.register(TOY)
    try:
        yield TOY
    finally:
        strategies.unregister(TOY.name)


def test_a_registered_strategy_reaches_every_reader_and_leaves_with_its_entry(
    toy_strategy, make_config, harness
) -> None:
    args = build_parser().parse_args(["solve", "task.md", "--strategy", "mcg-pair"])
    assert args.strategy == "mcg-pair"
    assert "mcg-pair: two contexts in a row" in strategies.solve_help()
    assert strategies.task_pattern().fullmatch("mcg-pair")
    [spec] = parse_methods("mcg-pair")
    assert (spec.key, spec.label, spec.blackbox, is_glia(spec.key)) == ("mcg-pair", "MCG-Pair", False, True)

    h = harness({1: Plan([Design(45.0)]), 2: Plan([Design(41.0)])})
    result = h.run(make_config("mcg-pair"))
    assert result.status == "finished" and result.strategy_label == "MCG-Pair"
    assert h.runner.calls == [(1, False), (2, False)]
    run = load_run(result.run_dir)
    assert run["strategy"] == "mcg-pair" and run["stopped_launching"] == "two_done"
    assert [c["context"] for c in run["contexts"]] == [1, 2] and result.best["context"] == 2
    # run.json's timeline keeps its layout: a claim has no verdict fields, a verdict has them before `sha`
    shapes = {p["kind"]: list(p) for p in run["timeline"]}
    assert shapes == {
        "claimed": ["simulations", "context", "kind", "score", "sha"],
        "trusted": ["simulations", "context", "kind", "score", "valid", "label", "sha"],
    }

    strategies.unregister("mcg-pair")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["solve", "task.md", "--strategy", "mcg-pair"])
    with pytest.raises(RunConfigError, match="unknown strategy 'mcg-pair': use scg, mcg-seq, mcg-par"):
        make_config("mcg-pair")
    assert not is_glia("mcg-pair")


def test_the_builtin_registry_keeps_the_documented_names() -> None:
    assert strategies.names() == (
        "scg",
        "mcg-seq",
        "mcg-par",
        "sample",
        "loop",
        "openevolve",
        "eoh",
        "funsearch",
    )
    assert strategies.task_choices() == "one of scg, mcg-seq, mcg-par or mcg-par-N"
    assert [strategies.parse(n, 3)[1] for n in ("scg", "mcg-seq", "mcg_par_5", "loop")] == [1, 3, 5, 1]
