"""The comparison's plan, its cost estimate and its table, without running anything."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from glia.blackbox.prompts import sample_prompt
from glia.compare.estimate import RESEARCHER_TURNS_PER_SIMULATION, estimate_plan, per_simulation_usage
from glia.compare.plan import ComparePlan, Entry, PlanError, parse_budgets, parse_methods
from glia.compare.results import RunOutcome, running_best, value_at
from glia.compare.table import csv_text, markdown_table, summarize
from glia.evaluation.stats import bootstrap_mean_ci
from glia.llm.pricing import PriceTable
from glia.metric import Metric
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
ROUTING = REPO / "tasks" / "llm_routing.md"
LATENCY = Metric("mean_e2e", "minimize", "s")


def plan(**overrides: object) -> ComparePlan:
    values: dict = dict(compare_id="c", task_path=ROUTING, task_name="llm_routing",
                        methods=parse_methods("scg,mcg-seq,mcg-par4,sample,loop,openevolve"), budgets=[15, 100],
                        repeats=3, researcher_model="openai:o3", supervisor_model="openai:o3",
                        workspaces_root=Path("/tmp/glia-plan-test"), max_dollars=30.0)  # fmt: skip
    values.update(overrides)
    return ComparePlan(**values)


def test_methods_and_budgets_are_parsed_strictly() -> None:
    specs = parse_methods("scg, mcg-par, mcg_par2,loop")
    assert [(s.key, s.strategy, s.contexts) for s in specs] == [
        ("scg", "scg", 1), ("mcg-par4", "mcg-par", 4), ("mcg-par2", "mcg-par", 2), ("loop", "loop", 1)]  # fmt: skip
    with pytest.raises(PlanError, match="unknown strategy 'alphaevolve'"):
        parse_methods("scg,alphaevolve")
    with pytest.raises(PlanError, match="listed twice"):
        parse_methods("loop,loop")
    assert parse_budgets("100, 15") == [15, 100]
    for bad in ("0", "15,15", "many"):
        with pytest.raises(PlanError):
            parse_budgets(bad)


def test_entries_interleave_methods_and_carry_the_settings() -> None:
    p = plan(blackbox={"islands": 6})
    entries = p.entries()
    assert len(entries) == 6 * 2 * 3
    assert [e.method for e in entries[:6]] == ["scg", "mcg-seq", "mcg-par4", "sample", "loop", "openevolve"]
    assert (
        entries[0] == Entry("scg", 15, 1, "c.scg-s15-r1")
        and entries[6].repeat == 2
        and entries[-1].budget == 100
    )
    config = p.run_config(Entry("openevolve", 100, 2, "c.openevolve-s100-r2"))
    assert (
        config.strategy == "openevolve" and config.budgets.simulations == 100 and config.budgets.dollars == 30
    )
    assert config.blackbox == {"islands": 6} and config.workspaces_root == Path("/tmp/glia-plan-test")
    assert p.run_config(Entry("mcg-par4", 15, 1, "x")).contexts == 4
    assert p.run_config(Entry("scg", 15, 1, "x")).blackbox == {}
    assert ComparePlan.from_dict(p.to_dict()).to_dict() == p.to_dict()
    assert p.same_work(plan(blackbox={"islands": 6})) == []
    assert (
        p.same_work(plan(repeats=5, blackbox={"islands": 6})) == []
    )  # more repeats extend the same comparison
    assert p.same_work(plan(budgets=[15])) == ["budgets", "blackbox"]


def test_the_estimate_follows_the_stated_assumptions() -> None:
    task = load_task(ROUTING)
    template = {f: (task.simulator / f).read_text() for f in task.design_files}
    ((_, usage),) = per_simulation_usage("sample", task, 15)
    assert usage.input_tokens == len(sample_prompt(task, {}, template)) // 4 and usage.output_tokens == 5_000
    glia = dict(per_simulation_usage("scg", task, 15))
    assert glia["researcher"].input_tokens == RESEARCHER_TURNS_PER_SIMULATION * 50_000
    prices = PriceTable.defaults()
    estimates = {(e.entry.method, e.entry.budget): e for e in estimate_plan(plan(repeats=1), task, prices)}
    # o3: 6 turns x (5k uncached x $2 + 45k cached x $0.5 + 1.5k out x $8) + 0.5 reviews x (40k x $2 + 1.5k x $8)
    per_sim = 6 * (5_000 * 2 + 45_000 * 0.5 + 1_500 * 8) / 1e6 + 0.5 * (40_000 * 2 + 1_500 * 8) / 1e6
    assert estimates[("scg", 15)].dollars == pytest.approx(15 * per_sim, rel=1e-3)
    assert (
        estimates[("scg", 100)].dollars == 30.0 and estimates[("scg", 100)].capped
    )  # the run's dollar limit
    sample = estimates[("sample", 15)]
    assert sample.dollars == pytest.approx(15 * (usage.input_tokens * 2 + 5_000 * 8) / 1e6, rel=1e-6)
    # Anthropic bills the uncached tenth of a Researcher turn as a cache write ($3.75), reviews as input
    sonnet = "anthropic:claude-sonnet-4-5"
    claude = {(e.entry.method, e.entry.budget): e
              for e in estimate_plan(plan(researcher_model=sonnet, supervisor_model=sonnet, repeats=1), task, prices)}  # fmt: skip
    per_sim = 6 * (5_000 * 3.75 + 45_000 * 0.3 + 1_500 * 15) / 1e6 + 0.5 * (40_000 * 3 + 1_500 * 15) / 1e6
    assert claude[("scg", 15)].dollars == pytest.approx(15 * per_sim, rel=1e-3)
    unpriced = estimate_plan(plan(researcher_model="openai:my-local-model", supervisor_model="openai:my-local-model",
                                  repeats=1), task, prices)  # fmt: skip
    assert all(e.dollars is None for e in unpriced)


def outcome(method: str, repeat: int, trusted: float | None, simulations: int = 15, reasons: tuple = ("simulation_budget",),
            curve: list | None = None) -> RunOutcome:  # fmt: skip
    return RunOutcome(entry=Entry(method, 15, repeat, f"c.{method}-s15-r{repeat}"), label=method.upper(),
                      status="finished" if trusted is not None else "failed", done=True, trusted=trusted, simulations=simulations, limit=15, dollars=1.5, designs=10, invalid_designs=2,
                      end_reasons=list(reasons), curve=curve or [])  # fmt: skip


def test_the_table_is_the_mean_and_interval_of_the_runs_trusted_scores() -> None:
    p = plan(methods=parse_methods("scg,loop"), budgets=[15])
    runs = [
        outcome("scg", 1, 30.0, simulations=9, reasons=("finished",)),
        outcome("scg", 2, 26.0),
        outcome("scg", 3, None, reasons=("model_error",)),
        outcome("loop", 1, 40.0),
        outcome("loop", 2, 38.0),
        outcome("loop", 3, 42.0),
    ]
    scg, loop = summarize(p, runs, LATENCY)
    assert scg.mean == 28.0 and scg.best == 26.0 and scg.no_trusted == 1 and scg.stopped_early == 1
    assert scg.ci == bootstrap_mean_ci([30.0, 26.0])
    assert loop.mean == 40.0 and loop.best == 38.0 and loop.ci == bootstrap_mean_ci([40.0, 38.0, 42.0])
    table = markdown_table([scg, loop], LATENCY, 15)
    assert "| SCG | 3 | 28.000 |" in table and "1 run(s) without a trusted design" in table
    assert "1 run(s) stopped before spending the budget" in table
    rows = csv_text([scg, loop]).splitlines()
    assert rows[1].startswith("15,SCG,3,3,28,") and rows[2].startswith("15,Loop,3,3,40,")
    higher = summarize(p, [outcome("loop", 1, 0.5), outcome("loop", 2, 0.7)], Metric("hits", "maximize"))[1]
    assert higher.best == 0.7


def test_curves_are_running_bests_read_at_any_simulation() -> None:
    curve = running_best([(3, 40.0), (1, 45.0), (7, 41.0), (9, 33.0)], LATENCY)
    assert curve == [(1, 45.0), (3, 40.0), (9, 33.0)]
    assert value_at(curve, 0) is None and value_at(curve, 5) == 40.0 and value_at(curve, 100) == 33.0
    assert running_best([(1, 0.2), (2, 0.1), (3, 0.5)], Metric("hits", "maximize")) == [(1, 0.2), (3, 0.5)]
    assert math.isclose(sum(v for v in (value_at(curve, x) for x in range(1, 4)) if v), 45.0 + 45.0 + 40.0)
