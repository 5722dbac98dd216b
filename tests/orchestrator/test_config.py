"""Strategy names, labels and run ids."""

from __future__ import annotations

from datetime import datetime

import pytest

from glia.orchestrator import RunConfig, RunConfigError, default_run_id, normalize_strategy, strategy_label
from glia.task import BudgetLimits


@pytest.mark.parametrize(
    ("strategy", "contexts", "label"),
    [
        ("scg", 1, "SCG"),
        ("scg", 4, "SCG"),
        ("mcg-seq", 4, "MCG-Seq"),
        ("mcg-par", 4, "MCG-Par4"),
        ("mcg-par-2", 9, "MCG-Par2"),
        ("MCG_Par", 6, "MCG-Par6"),
    ],  # fmt: skip
)
def test_labels_follow_the_paper(strategy: str, contexts: int, label: str) -> None:
    assert strategy_label(strategy, contexts) == label


def test_normalize_strategy_takes_n_from_the_name_and_one_context_for_scg() -> None:
    assert normalize_strategy("mcg-par-3", 1) == ("mcg-par", 3)
    assert normalize_strategy("scg", 4) == ("scg", 1)
    with pytest.raises(RunConfigError, match="unknown strategy"):
        normalize_strategy("best-of-n", 2)
    with pytest.raises(RunConfigError, match="at least one context"):
        normalize_strategy("mcg-par", 0)


def test_default_run_id() -> None:
    when = datetime(2025, 11, 22, 5, 15, 0)
    assert default_run_id("llm_routing", "mcg-par", 4, when) == "llm_routing-mcg-par4-20251122-051500"
    assert default_run_id("llm_routing", "scg", 1, when) == "llm_routing-scg-20251122-051500"


def test_config_round_trips_through_a_dict(tmp_path) -> None:
    config = RunConfig(task_path=tmp_path / "t.md", strategy="mcg-par-3", researcher_model="openai:o3",
                       supervisor_model="openai:o3", budgets=BudgetLimits(dollars=5, simulations=20),
                       seeds=[1, 2], base_url="http://127.0.0.1:9/v1")  # fmt: skip
    data = config.to_dict()
    assert data["strategy"] == "mcg-par" and data["contexts"] == 3 and data["strategy_label"] == "MCG-Par3"
    assert RunConfig.from_dict(data) == config
