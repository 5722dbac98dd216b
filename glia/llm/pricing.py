"""Model prices and the cost of one call.

Prices are data (`glia/data/prices.json`), so users fix or extend them without touching code: a JSON
file named by `GLIA_PRICES`, or a mapping passed to `PriceTable.load`, is merged over the defaults.
A model without a price costs `None` (never a guessed number), so budgets can fall back to tokens.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import structlog

from glia.llm.types import Usage

PRICES_ENV_VAR = "GLIA_PRICES"
_PER_TOKEN = 1e-6  # prices are quoted per million tokens

# A dated snapshot or alias of a priced model ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929",
# "o3-latest") costs what the model costs. Other suffixes ("gpt-5-nano") are different models.
_SNAPSHOT_SUFFIX = re.compile(r"^-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")

_log = structlog.get_logger("glia.llm.pricing")
_warned_models: set[str] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens. Missing cache prices fall back to the plain input price."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelPrice:
        try:
            return cls(
                input=float(data["input"]),
                output=float(data["output"]),
                cached_input=_optional_float(data.get("cached_input")),
                cache_write=_optional_float(data.get("cache_write")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"a price needs numeric 'input' and 'output' fields, got {dict(data)!r}"
            ) from exc

    def cost(self, usage: Usage) -> float:
        """Dollar cost of `usage`; cached and cache-written tokens are billed at their own rates."""
        cached = usage.cached_input_tokens
        written = usage.cache_write_tokens
        plain = max(usage.input_tokens - cached - written, 0)
        dollars = (
            plain * self.input
            + cached * _or(self.cached_input, self.input)
            + written * _or(self.cache_write, self.input)
            + usage.output_tokens * self.output
        )
        return dollars * _PER_TOKEN


class PriceTable:
    """Prices by model name, with dated snapshots of a model resolving to the model's price."""

    def __init__(self, prices: Mapping[str, ModelPrice], warn_unpriced: bool = True) -> None:
        self._prices = dict(prices)
        self.warn_unpriced = warn_unpriced

    def quiet(self) -> PriceTable:
        """The same prices, without the log warning for an unpriced model (the caller warns itself)."""
        return PriceTable(self._prices, warn_unpriced=False)

    @classmethod
    def defaults(cls) -> PriceTable:
        """The prices shipped with Glia, without user overrides."""
        text = resources.files("glia").joinpath("data/prices.json").read_text(encoding="utf-8")
        return cls(_parse_models(json.loads(text), source="glia/data/prices.json"))

    @classmethod
    def load(cls, overrides: str | Path | Mapping[str, Any] | None = None) -> PriceTable:
        """Defaults, then the file in `GLIA_PRICES` (if set), then `overrides` (a path or a mapping)."""
        table = cls.defaults()
        env_path = os.environ.get(PRICES_ENV_VAR)
        if env_path:
            table = table.merged(cls.from_file(env_path))
        if overrides is not None:
            extra = (
                cls.from_file(overrides) if isinstance(overrides, str | Path) else cls.from_mapping(overrides)
            )
            table = table.merged(extra)
        return table

    @classmethod
    def from_file(cls, path: str | Path) -> PriceTable:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(_parse_models(data, source=str(path)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PriceTable:
        """Accepts `{"models": {name: price}}` or a bare `{name: price}`; prices as dicts or ModelPrice."""
        return cls(_parse_models(data, source="overrides"))

    def merged(self, other: PriceTable) -> PriceTable:
        """A new table: these prices, with `other`'s entries replacing same-named ones."""
        return PriceTable({**self._prices, **other._prices})

    def models(self) -> list[str]:
        return sorted(self._prices)

    def price_for(self, model: str) -> ModelPrice | None:
        if model in self._prices:
            return self._prices[model]
        for name in sorted(self._prices, key=len, reverse=True):
            if model.startswith(name) and _SNAPSHOT_SUFFIX.match(model[len(name) :]):
                return self._prices[name]
        return None

    def cost(self, usage: Usage, *models: str) -> float | None:
        """Cost under the first of `models` with a known price; None (warned once per model) otherwise."""
        for model in models:
            price = self.price_for(model)
            if price is not None:
                return price.cost(usage)
        if self.warn_unpriced:
            _warn_unpriced(models[0] if models else "")
        return None


def _warn_unpriced(model: str) -> None:
    with _warned_lock:
        if model in _warned_models:
            return
        _warned_models.add(model)
    _log.warning(
        "llm_price_unknown",
        model=model,
        hint=f"cost reported as None; add the model's price to a JSON file named by {PRICES_ENV_VAR} "
        "(or the config key `prices`)",
    )


def _parse_models(data: Mapping[str, Any], *, source: str) -> dict[str, ModelPrice]:
    entries = data.get("models", data)
    if not isinstance(entries, Mapping):
        raise ValueError(f"{source}: expected an object of model prices")
    prices: dict[str, ModelPrice] = {}
    for name, value in entries.items():
        if isinstance(value, ModelPrice):
            prices[name] = value
        elif isinstance(value, Mapping):
            try:
                prices[name] = ModelPrice.from_dict(value)
            except ValueError as exc:
                raise ValueError(f"{source}: model {name!r}: {exc}") from exc
        # Other top-level keys in a bare mapping (notes, dates) are documentation, not prices.
    return prices


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _or(value: float | None, fallback: float) -> float:
    return fallback if value is None else value
