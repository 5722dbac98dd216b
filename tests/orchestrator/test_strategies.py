"""SCG, MCG-Seq and MCG-Par-N driven by scripted contexts and a fake evaluator (no models, no Docker)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from glia.llm.types import MissingAPIKey
from glia.orchestrator import RunExists, RunNotResumable, execute_run, prepare_run, resume_run
from glia.orchestrator.run import CONTAINER_LIFETIME_MARGIN_S
from glia.run_store import load_run
from glia.task import BudgetLimits

from .fakes import Design, FakeEvaluator, Plan, commit_design, design_text

SUMMARY = {"summary": "Route to the replica with the most free KV blocks.", "accepted": True}


def test_scg_runs_one_context_and_writes_the_best_design(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0), Design(40.0), Design(42.0)], summary=SUMMARY)})
    result = h.run(make_config("scg", contexts=4))  # SCG always has exactly one context

    assert result.status == "finished" and result.strategy_label == "SCG"
    assert h.runner.calls == [(1, False)]
    # final (42) and best claimed (40) are both evaluated; 40 wins on trusted score
    assert sorted(label for label, _ in h.evaluator.evaluated) == ["ctx1-best-claimed", "ctx1-final"]
    assert result.best["context"] == 1 and result.best["label"] == "best-claimed"
    assert result.best["score"] == pytest.approx(40.0)
    assert result.best["improvement_over_reference"] == pytest.approx(0.2)  # (50 - 40) / 50

    best = result.run_dir / "best"
    assert (best / "design.py").read_text() == design_text(40.0, "ctx1 step2")
    evaluation = json.loads((best / "evaluation.json").read_text())
    assert evaluation["score"] == pytest.approx(40.0)
    assert [s["seed"] for s in evaluation["workloads"]["main"]["seeds"]] == [0, 1, 2]
    diff = (best / "design.diff").read_text()
    assert "-SCORE = 100.0" in diff and "+SCORE = 40.0" in diff
    explanation = (best / "explanation.md").read_text()
    assert "most free KV blocks" in explanation
    assert "| llq (reference) | score | 50.000 |" in explanation and "+20.0%" in explanation
    main_row = next(line for line in explanation.splitlines() if line.startswith("| this design | main |"))
    assert main_row.endswith("| 50.000 | +20.0% |")  # each workload is set against llq on that workload

    for name in ("ctx1-final.json", "ctx1-best-claimed.json", "llq.json", "round_robin.json"):
        assert (result.run_dir / "evaluations" / name).is_file()
    assert h.cleanup.run_ids == [result.run_id]
    spec = h.runner.specs[0]
    assert spec.baselines == {"llq": 50.0, "round_robin": 60.0}
    assert spec.max_steps == 50 and spec.run_id == result.run_id and spec.ctx_dir == result.run_dir / "ctx-1"
    assert (
        spec.researcher.model == "openai:fake-researcher"
        and spec.supervisor.model == "openai:fake-supervisor"
    )


def test_run_json_is_complete(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0, cost_usd=0.25, tokens=300), Design(40.0, cost_usd=0.5, tokens=200)])})
    result = h.run(make_config("scg", budgets=BudgetLimits(dollars=10, simulations=20, steps=50)))
    run = load_run(result.run_dir)

    assert run["status"] == "finished" and run["strategy"] == "scg" and run["strategy_label"] == "SCG"
    assert run["started"] and run["ended"] and run["error"] is None
    assert run["config"]["researcher_model"] == "openai:fake-researcher"
    assert (
        Path(run["config"]["task_path"]).is_absolute()
        and Path(run["config"]["workspaces_root"]).is_absolute()
    )
    assert run["budgets"] == {
        "dollars": 10,
        "simulations": 20,
        "wall_time_s": None,
        "steps": 50,
        "tokens": None,
    }
    assert run["usage"]["simulations"] == 2 and run["usage"]["dollars"] == pytest.approx(0.75)
    assert run["usage"]["tokens"] == 500 and run["usage"]["cost_known"] is True
    assert run["version"] == 2
    llq = run["baselines"]["llq"]
    assert (llq["score"], llq["valid"], llq["reason"]) == (50.0, True, None)
    assert llq["ci_low"] < 50.0 < llq["ci_high"]  # the primary workload's 90% interval, for the report
    assert run["task"]["metric"]["direction"] == "minimize" and run["reference_baseline"] == "llq"
    (ctx,) = run["contexts"]
    assert ctx["status"] == "finished" and ctx["end_reason"] == "finished"
    assert ctx["simulations"] == 2 and ctx["cost_usd"] == pytest.approx(0.75) and ctx["steps"] == 2
    assert ctx["best_claimed"] == 40.0 and ctx["best_trusted"] == pytest.approx(40.0)
    assert ctx["run_totals"] == [1, 2] and ctx["judged"] is True
    assert [t["label"] for t in ctx["trusted"]] == ["final"]  # best claimed is the final one here
    assert run["best"]["context"] == 1 and run["best"]["score"] == pytest.approx(40.0)
    kinds = [(p["simulations"], p["kind"], p["score"]) for p in run["timeline"]]
    assert (1, "claimed", 45.0) in kinds and (2, "claimed", 40.0) in kinds
    assert any(k == "trusted" and x == 2 for x, k, _ in kinds)
    assert run["notes"] == [] and run["budget_exhausted"] is None
    events = [e["event"] for e in h.events]
    assert events[0] == "run_started" and events[-1] == "run_ended"
    assert {"baselines", "context_started", "simulation", "context_ended", "evaluation", "best"} <= set(
        events
    )


def test_run_json_is_valid_json_at_every_moment_of_a_run(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0), Design(40.0)])})
    run_dir = prepare_run(make_config("scg"))
    seen: list[str] = []

    def check(event: dict) -> None:
        seen.append(json.loads((run_dir / "run.json").read_text())["status"])

    injectables = h.injectables() | {"progress": check}
    execute_run(run_dir, **injectables)
    assert len(seen) > 5 and set(seen[:-1]) == {"running"} and seen[-1] == "finished"


def test_mcg_par_runs_contexts_at_the_same_time(make_config, harness) -> None:
    together = threading.Barrier(3)
    plans = {k: Plan([Design(60.0 - k)], barrier=together) for k in (1, 2, 3)}
    h = harness(plans)
    result = h.run(make_config("mcg-par", contexts=3))
    assert result.strategy_label == "MCG-Par3" and result.status == "finished"
    assert sorted(h.runner.calls) == [(1, False), (2, False), (3, False)]
    assert not together.broken  # all three were inside the runner at once
    assert result.best["context"] == 3 and result.best["score"] == pytest.approx(57.0)
    assert load_run(result.run_dir)["usage"]["simulations"] == 3


@pytest.mark.parametrize("failure", ["returns model_error", "raises"])
def test_mcg_par3_one_context_fails_the_others_finish_and_the_best_is_chosen(
    make_config, harness, failure
) -> None:
    broken = (
        Plan(end_reason="model_error", error="LLMError: 401 invalid key")
        if failure == "returns model_error"
        else Plan(raises=RuntimeError("container vanished"))
    )
    h = harness({1: Plan([Design(48.0)]), 2: broken, 3: Plan([Design(44.0), Design(46.0)])})
    result = h.run(make_config("mcg-par", contexts=3))

    assert result.status == "finished"
    contexts = {c["context"]: c for c in result.contexts}
    assert contexts[1]["end_reason"] == "finished" and contexts[3]["end_reason"] == "finished"
    if failure == "raises":
        assert contexts[2]["end_reason"] == "error" and "container vanished" in contexts[2]["error"]
    else:
        assert contexts[2]["end_reason"] == "model_error" and "401" in contexts[2]["error"]
    assert contexts[2]["status"] == "finished" and contexts[2]["trusted"] == []
    expected = "no snapshot to evaluate" if failure == "raises" else "the design is the untouched template"
    assert expected in contexts[2]["evaluation_problems"][0]
    assert sorted(label for label, _ in h.evaluator.evaluated) == [
        "ctx1-final",
        "ctx3-best-claimed",
        "ctx3-final",
    ]
    assert result.best["context"] == 3 and result.best["score"] == pytest.approx(44.0)


def test_a_run_where_no_context_produced_a_valid_design_fails_with_each_reason(make_config, harness) -> None:
    h = harness(
        {1: Plan(raises=RuntimeError("boom")), 2: Plan(end_reason="workspace_dead", error="container died")}
    )
    result = h.run(make_config("mcg-par", contexts=2))
    run = load_run(result.run_dir)
    assert result.status == "failed" and run["status"] == "failed" and run["best"] is None
    assert "ctx-1: error (RuntimeError: boom); ctx1: no snapshot to evaluate" in run["no_best_reason"]
    assert (
        "ctx-2: workspace_dead (container died); ctx2-final: the design is the untouched template"
        in (run["no_best_reason"])
    )
    assert run["error"] == run["no_best_reason"]
    assert not (result.run_dir / "best").exists()
    # every context has ended and been judged: there is nothing to resume
    with pytest.raises(RunNotResumable, match="failed: no context produced .* nothing to resume"):
        resume_run(result.run_dir, **h.injectables())


def test_a_rejected_design_fails_the_run_and_says_why(make_config, harness, template) -> None:
    h = harness({1: Plan([Design(30.0)])})
    original = h.runner.__call__

    def runner(spec, budget, stop, resume=False):
        result = original(spec, budget, stop, resume)
        result.final_sha = commit_design(spec.ctx_dir, "# INVALID\nSCORE = 5.0\n", "cheat")
        result.snapshots, result.best_claimed = [], None
        return result

    result = execute_run(prepare_run(make_config("scg")), **(h.injectables() | {"context_runner": runner}))
    run = load_run(result.run_dir)
    assert result.status == "failed"
    assert "ctx-1: finished; its design was rejected: requests left unfinished" in run["no_best_reason"]


def test_selection_trusts_the_evaluator_not_the_claims(make_config, harness) -> None:
    # context 1 reports 1.0 s for a design that really scores 90; context 2 is honest at 48
    h = harness({1: Plan([Design(45.0, claimed=44.0), Design(90.0, claimed=1.0)]), 2: Plan([Design(48.0)])})
    result = h.run(make_config("mcg-par", contexts=2))
    contexts = {c["context"]: c for c in result.contexts}
    assert contexts[1]["best_claimed"] == 1.0
    assert contexts[1]["best_trusted"] == pytest.approx(90.0)  # only the claimed-best (= final) design counts
    assert result.best["context"] == 2 and result.best["score"] == pytest.approx(48.0)
    assert "SCORE = 48.0" in (result.run_dir / "best" / "design.py").read_text()


def test_invalid_and_crashing_evaluations_never_win(make_config, harness, template) -> None:
    h = harness({1: Plan([Design(10.0)]), 2: Plan([Design(30.0)]), 3: Plan([Design(35.0)])})
    run_dir = prepare_run(make_config("mcg-par", contexts=3))

    def factory(*args, **kwargs):
        evaluator = FakeEvaluator(*args, **kwargs)
        evaluator.crash_on = {10.0}
        return evaluator

    original = h.runner.__call__

    def runner(spec, budget, stop, resume=False):
        result = original(spec, budget, stop, resume)
        if spec.index == 2:  # context 2's design breaks the rules: the evaluator marks it invalid
            result.final_sha = commit_design(spec.ctx_dir, "# INVALID\nSCORE = 5.0\n", "cheat")
        return result

    result = execute_run(
        run_dir, **(h.injectables() | {"evaluator_factory": factory, "context_runner": runner})
    )
    contexts = {c["context"]: c for c in result.contexts}
    crashed = contexts[1]["trusted"][0]
    assert (
        crashed["valid"] is False
        and "evaluation crashed: RuntimeError: simulator exploded" in crashed["reason"]
    )
    invalid = {t["label"]: t for t in contexts[2]["trusted"]}
    assert invalid["final"]["valid"] is False and invalid["final"]["reason"] == "requests left unfinished"
    # context 2's earlier, honest snapshot (30) still counts: the cheat only spoiled its final design
    assert (result.best["context"], result.best["label"]) == (2, "best-claimed")
    assert result.best["score"] == pytest.approx(30.0)


def test_identical_designs_are_evaluated_once(make_config, harness) -> None:
    h = harness({1: Plan([Design(41.0)]), 2: Plan([Design(41.0)])})
    run_dir = prepare_run(make_config("mcg-seq", max_contexts_seq=2, target_improvement=0.9))

    def runner(spec, budget, stop, resume=False):
        result = h.runner(spec, budget, stop, resume)
        # make both contexts end on byte-identical design text
        result.final_sha = commit_design(spec.ctx_dir, design_text(41.0, "same"), "same")
        result.best_claimed = None
        result.snapshots = []
        return result

    result = execute_run(run_dir, **(h.injectables() | {"context_runner": runner}))
    assert [label for label, _ in h.evaluator.evaluated] == ["ctx1-final"]
    second = json.loads((run_dir / "evaluations" / "ctx2-final.json").read_text())
    assert second["duplicate_of"] == "ctx1-final" and second["evaluation"]["score"] == pytest.approx(41.0)
    assert result.best["context"] == 1  # ties go to the first


def test_mcg_seq_stops_when_the_target_is_met(make_config, harness) -> None:
    # target 30% better than llq (50): at most 35. Context 2 reaches 34, so context 3 never starts.
    h = harness({1: Plan([Design(45.0)]), 2: Plan([Design(40.0), Design(34.0)]), 3: Plan([Design(20.0)])})
    result = h.run(make_config("mcg-seq", max_contexts_seq=5, target_improvement=0.3))
    assert result.strategy_label == "MCG-Seq"
    assert h.runner.calls == [(1, False), (2, False)]
    run = load_run(result.run_dir)
    assert run["stopped_launching"] == "target_met" and len(run["contexts"]) == 2
    assert result.best["context"] == 2 and result.best["improvement_over_reference"] == pytest.approx(0.32)


def test_mcg_seq_stops_at_the_context_cap(make_config, harness) -> None:
    h = harness({}, default=Plan([Design(49.0)]))
    result = h.run(make_config("mcg-seq", max_contexts_seq=3))
    assert [k for k, _ in h.runner.calls] == [1, 2, 3]
    assert load_run(result.run_dir)["stopped_launching"] == "max_contexts"


def test_mcg_seq_shares_the_simulation_budget_across_contexts(make_config, harness) -> None:
    h = harness({}, default=Plan([Design(49.0), Design(48.0), Design(47.0)]))
    result = h.run(make_config("mcg-seq", max_contexts_seq=5, budgets=BudgetLimits(simulations=4)))
    contexts = {c["context"]: c for c in result.contexts}
    assert [k for k, _ in h.runner.calls] == [1, 2]
    assert contexts[1]["end_reason"] == "finished" and contexts[1]["simulations"] == 3
    assert contexts[2]["end_reason"] == "simulation_budget" and contexts[2]["simulations"] == 1
    run = load_run(result.run_dir)
    assert run["stopped_launching"] == "simulation_budget" and run["budget_exhausted"] == "simulation_budget"
    assert run["usage"]["simulations"] == 4 and result.status == "finished"


def test_mcg_par_shares_the_dollar_budget(make_config, harness) -> None:
    # three contexts spending 1$ per design against a 4$ pool: four designs in all, then every context ends
    h = harness({}, default=Plan([Design(49.0 - i, cost_usd=1.0, sleep_s=0.02) for i in range(5)]))
    result = h.run(make_config("mcg-par", contexts=3, budgets=BudgetLimits(dollars=4.0)))
    run = load_run(result.run_dir)
    assert {c["end_reason"] for c in run["contexts"]} == {"dollar_budget"}
    assert run["usage"]["dollars"] == pytest.approx(4.0, abs=2.0)  # a step already under way may finish
    assert 4 <= run["usage"]["simulations"] <= 6 and run["budget_exhausted"] == "dollar_budget"


def test_time_limit_ends_contexts(make_config, harness) -> None:
    h = harness({}, default=Plan([Design(49.0 - i, sleep_s=0.1) for i in range(50)]))
    result = h.run(make_config("mcg-par", contexts=2, budgets=BudgetLimits(wall_time_s=0.5)))
    run = load_run(result.run_dir)
    assert {c["end_reason"] for c in run["contexts"]} == {"time_limit"}
    assert 0 < run["usage"]["simulations"] < 20 and run["budget_exhausted"] == "time_limit"
    assert result.best is not None
    for spec in h.runner.specs:  # no container may outlive the run's time limit by more than the margin
        assert 0 < spec.limits.lifetime_s <= 0.5 + CONTAINER_LIFETIME_MARGIN_S


def test_token_limit_with_unknown_prices_ends_the_run_and_says_so(make_config, harness) -> None:
    h = harness({1: Plan([Design(49.0 - i, cost_usd=None, tokens=1000) for i in range(10)])})
    result = h.run(make_config("scg", budgets=BudgetLimits(dollars=5.0, tokens=3000)))
    run = load_run(result.run_dir)
    assert run["contexts"][0]["end_reason"] == "token_budget"
    assert run["usage"]["tokens"] == 3000 and run["usage"]["cost_known"] is False
    assert any("no known price" in note and "token limit" in note for note in run["notes"])


def test_a_run_id_is_never_reused(make_config, harness) -> None:
    prepare_run(make_config("scg"))
    with pytest.raises(RunExists, match="already exists"):
        prepare_run(make_config("scg"))


def test_a_prepared_run_executes_once(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0)])})
    result = h.run(make_config("scg"))
    with pytest.raises(RunNotResumable, match="already been started"):
        execute_run(result.run_dir, **h.injectables())
    with pytest.raises(RunNotResumable, match="is finished"):
        resume_run(result.run_dir, **h.injectables())


def test_missing_api_key_fails_the_run_before_any_cost(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0)])})
    h.providers.error = MissingAPIKey("set OPENAI_API_KEY")
    run_dir = prepare_run(make_config("scg"))
    with pytest.raises(MissingAPIKey):
        execute_run(run_dir, **h.injectables())
    run = load_run(run_dir)
    assert run["status"] == "failed" and "OPENAI_API_KEY" in run["error"]
    assert h.runner.calls == [] and FakeEvaluator.instances == []  # no baselines were paid for
    assert h.cleanup.run_ids == ["toy-scg-1"]


def test_seeds_override_reaches_the_evaluator(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0)])})
    h.run(make_config("scg", seeds=[7, 8]))
    assert h.evaluator.task.evaluation.primary.seeds == (7, 8)
    assert isinstance(h.evaluator.work_dir, Path)


def test_container_cleanup_repeats_until_no_container_is_left(make_config, harness) -> None:
    h = harness({1: Plan([Design(45.0)])})
    h.cleanup.leftovers = [["glia-x-ctx-1"], ["glia-x-ctx-1"]]  # removal still under way twice
    result = h.run(make_config("scg"))
    assert h.cleanup.run_ids == [result.run_id] * 3
