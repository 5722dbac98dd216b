"""Before a run spends anything: does each endpoint answer like a model API, and is each model priced?

`check_endpoint` sends the smallest real request (16 output tokens, no tools) with the provider's own
settings (model, API, reasoning effort), under a short retry policy, and lets the typed error of a bad
endpoint through: `EndpointError` subclasses carry a `fix`, `ProviderRejected` the provider's own words
(bad key, unknown model, unsupported setting). It costs a fraction of a cent on a paid API.
"""

from __future__ import annotations

import copy
import dataclasses

from glia.llm.base import BaseProvider
from glia.llm.pricing import PRICES_ENV_VAR, PriceTable
from glia.llm.retry import RetryPolicy
from glia.llm.types import LLMProvider, LLMResponse, Message

PROBE_MAX_OUTPUT_TOKENS = 16  # the Responses API's smallest allowed limit
PROBE_TIMEOUT_S = 60.0
# A few quick attempts: enough to ride out one hiccup, short enough that a dead endpoint fails in seconds.
# Retries are logged at debug level: the check's own error says what went wrong.
PROBE_RETRIES = RetryPolicy(
    max_attempts=3,
    max_total_wait_s=8.0,
    initial_wait_s=0.5,
    max_wait_per_retry_s=4.0,
    jitter_s=0.25,
    log_level="debug",
)
PROBE_SYSTEM = "This is a connectivity check. Reply with the single word: ok"
PROBE_MESSAGE = "ok?"


def check_endpoint(
    provider: LLMProvider, *, timeout_s: float = PROBE_TIMEOUT_S, retry_policy: RetryPolicy = PROBE_RETRIES
) -> LLMResponse:
    """Send one minimal request through `provider`; return its reply or raise the typed `LLMError`.

    The provider itself is left unchanged (a copy with the short policy and timeout is used). Extended
    thinking is left out of the probe: its budget would set the probe's size, not the endpoint.
    """
    probe = provider
    if isinstance(provider, BaseProvider):
        probe = copy.copy(provider)
        probe.retry_policy = retry_policy
        probe.prices = (
            provider.prices.quiet()
        )  # an unpriced model is the caller's to report (unpriced_notice)
        probe.options = dataclasses.replace(
            provider.options, timeout_s=min(provider.options.timeout_s, timeout_s), thinking_budget=None
        )
    return probe.complete(
        PROBE_SYSTEM, [Message("user", PROBE_MESSAGE)], tools=None, max_output_tokens=PROBE_MAX_OUTPUT_TOKENS
    )


def unpriced_notice(model: str, prices: PriceTable | None = None) -> str | None:
    """None when `model` ("provider:name") has a price; else one sentence saying what follows and how to
    price it."""
    name = model.partition(":")[2] or model
    table = prices if prices is not None else PriceTable.load()
    if table.price_for(name) is not None:
        return None
    example = f'{{"models": {{"{name}": {{"input": 1.0, "output": 4.0}}}}}}'
    return (
        f"{model} has no price in Glia's price table, so its cost is recorded as unknown and --max-dollars "
        f"cannot stop it; to price it, write {example} (USD per million tokens) into a JSON file and point "
        f"{PRICES_ENV_VAR} (or the config key `prices`) at it"
    )
