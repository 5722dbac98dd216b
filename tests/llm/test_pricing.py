"""Cost arithmetic (cached and cache-written tokens), price overrides, unknown models, the tracker."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from glia.llm import CostTracker, LLMResponse, Message, ModelPrice, PriceTable, Usage
from glia.llm import pricing as pricing_module

DEFAULT_MODELS = {
    "o3",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-4.1",
    "gpt-4o",
    "claude-sonnet-4-5",
    "claude-opus-4-1",
    "claude-haiku-4-5",
}


@pytest.fixture(autouse=True)
def _no_user_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLIA_PRICES", raising=False)
    monkeypatch.setattr(pricing_module, "_warned_models", set())


def test_shipped_table_prices_every_model_the_docs_promise() -> None:
    table = PriceTable.defaults()
    assert set(table.models()) == DEFAULT_MODELS
    for model in DEFAULT_MODELS:
        price = table.price_for(model)
        assert price is not None and 0 < price.input < price.output
        assert price.cached_input is not None and price.cached_input < price.input
    for model in ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"):
        price = table.price_for(model)
        assert price is not None and price.cache_write is not None and price.cache_write > price.input


def test_openai_cost_with_cached_and_reasoning_tokens() -> None:
    # o3: $2 input, $0.50 cached, $8 output per million tokens. Reasoning is part of output.
    usage = Usage(
        input_tokens=100_000, cached_input_tokens=80_000, output_tokens=10_000, reasoning_tokens=6_000
    )
    cost = PriceTable.defaults().cost(usage, "o3")
    assert cost == pytest.approx(20_000 * 2e-6 + 80_000 * 0.5e-6 + 10_000 * 8e-6)
    assert cost == pytest.approx(0.16)


def test_anthropic_cost_with_cache_reads_and_writes() -> None:
    # claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
    usage = Usage(
        input_tokens=50_000, cached_input_tokens=40_000, cache_write_tokens=8_000, output_tokens=2_000
    )
    cost = PriceTable.defaults().cost(usage, "claude-sonnet-4-5")
    assert cost == pytest.approx(2_000 * 3e-6 + 40_000 * 0.3e-6 + 8_000 * 3.75e-6 + 2_000 * 15e-6)
    assert cost == pytest.approx(0.078)


def test_missing_cache_prices_fall_back_to_the_input_price() -> None:
    price = ModelPrice(input=1.0, output=2.0)
    usage = Usage(
        input_tokens=1_000_000, cached_input_tokens=500_000, cache_write_tokens=100_000, output_tokens=0
    )
    assert price.cost(usage) == pytest.approx(1.0)


def test_dated_snapshots_resolve_but_other_variants_do_not() -> None:
    table = PriceTable.defaults()
    assert table.price_for("claude-sonnet-4-5-20250929") == table.price_for("claude-sonnet-4-5")
    assert table.price_for("gpt-4o-2024-08-06") == table.price_for("gpt-4o")
    assert table.price_for("gpt-5-mini-2025-08-07") == table.price_for("gpt-5-mini")
    assert table.price_for("gpt-5-nano") is None
    assert table.price_for("gpt-4o-mini") is None


def test_unknown_model_costs_none_and_warns_once() -> None:
    table = PriceTable.defaults()
    with capture_logs() as logs:
        assert table.cost(Usage(input_tokens=10), "qwen3-32b") is None
        assert table.cost(Usage(input_tokens=20), "qwen3-32b") is None
        assert table.cost(Usage(input_tokens=20), "llama-3.3-70b") is None
    warned = [entry["model"] for entry in logs if entry["event"] == "llm_price_unknown"]
    assert warned == ["qwen3-32b", "llama-3.3-70b"]


def test_second_name_is_tried_when_the_first_is_unpriced() -> None:
    cost = PriceTable.defaults().cost(Usage(input_tokens=1_000_000), "my-alias", "gpt-4.1-2025-04-14")
    assert cost == pytest.approx(2.0)


def test_env_file_and_argument_overrides_merge_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices_file = tmp_path / "prices.json"
    prices_file.write_text(
        json.dumps(
            {"models": {"o3": {"input": 1.0, "output": 4.0}, "qwen3-32b": {"input": 0.1, "output": 0.2}}}
        )
    )
    monkeypatch.setenv("GLIA_PRICES", str(prices_file))
    table = PriceTable.load(
        {"qwen3-32b": {"input": 0.05, "output": 0.1, "cached_input": 0.01}, "note": "ignored"}
    )
    assert table.price_for("o3") == ModelPrice(input=1.0, output=4.0)
    assert table.price_for("qwen3-32b") == ModelPrice(input=0.05, output=0.1, cached_input=0.01)
    assert table.price_for("gpt-5") == PriceTable.defaults().price_for("gpt-5")


def test_a_price_without_output_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"model 'm'.*'input' and 'output'"):
        PriceTable.from_mapping({"models": {"m": {"input": 1.0}}})


def _response(cost: float | None, usage: Usage, retries: int = 0) -> LLMResponse:
    return LLMResponse(Message("assistant", "x"), usage, "end_turn", "m", 0.1, cost_usd=cost, retries=retries)


def test_tracker_totals_per_agent_and_context() -> None:
    tracker = CostTracker()
    tracker.record(_response(0.5, Usage(100, 10, 5)), agent="researcher", context="ctx-0")
    tracker.record(_response(0.25, Usage(50, 0, 5), retries=2), agent="supervisor", context="ctx-0")
    tracker.record(_response(None, Usage(70, 0, 7)), agent="researcher", context="ctx-1")
    everything = tracker.totals()
    assert (everything.calls, everything.cost_usd, everything.unpriced_calls, everything.retries) == (
        3,
        0.75,
        1,
        2,
    )
    assert everything.usage == Usage(input_tokens=220, cached_input_tokens=10, output_tokens=17)
    assert not everything.fully_priced
    researcher = tracker.totals(agent="researcher")
    assert (researcher.calls, researcher.cost_usd, researcher.usage.input_tokens) == (2, 0.5, 170)
    ctx0 = tracker.totals(context="ctx-0")
    assert (ctx0.calls, ctx0.cost_usd, ctx0.fully_priced) == (2, 0.75, True)
    assert tracker.totals(agent="supervisor", context="ctx-1").calls == 0
    assert tracker.keys() == [("researcher", "ctx-0"), ("researcher", "ctx-1"), ("supervisor", "ctx-0")]


def test_tracker_is_exact_under_parallel_threads() -> None:
    tracker = CostTracker()

    def work(context: str) -> None:
        for _ in range(2000):
            tracker.record(
                _response(0.001, Usage(input_tokens=3, output_tokens=1)), agent="researcher", context=context
            )

    threads = [threading.Thread(target=work, args=(f"ctx-{k}",)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    totals = tracker.totals()
    assert totals.calls == 16_000
    assert totals.usage.input_tokens == 48_000 and totals.usage.output_tokens == 16_000
    assert totals.cost_usd == pytest.approx(16.0)
    assert tracker.totals(context="ctx-3").calls == 2000
