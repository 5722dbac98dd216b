"""From a model string a user typed to a ready provider, with keys from the environment.

Accepted forms: `openai:MODEL`, `anthropic:MODEL`; add `base_url` to reach an OpenAI-compatible
server (vLLM, Ollama, llama.cpp), which needs no key.
"""

from __future__ import annotations

import os

from dotenv import find_dotenv, load_dotenv

from glia.llm.anthropic_provider import AnthropicProvider
from glia.llm.base import BaseProvider, GenerationOptions
from glia.llm.openai_provider import OpenAIProvider
from glia.llm.pricing import PriceTable
from glia.llm.retry import RetryPolicy
from glia.llm.types import LLMProvider, MissingAPIKey, UnknownModel

PROVIDERS: dict[str, type[BaseProvider]] = {"openai": OpenAIProvider, "anthropic": AnthropicProvider}
ACCEPTED_FORMS = (
    "openai:MODEL (e.g. openai:o3), anthropic:MODEL (e.g. anthropic:claude-sonnet-4-5), "
    "or openai:MODEL with a base URL for an OpenAI-compatible server (e.g. http://localhost:8000/v1)"
)
# Local servers ignore the key, but the SDK insists on having one.
PLACEHOLDER_KEY = "no-key-needed"


def split_model_string(model: str) -> tuple[str, str]:
    """`"openai:o3"` -> `("openai", "o3")`; anything else raises `UnknownModel` listing the forms."""
    provider, sep, name = model.partition(":")
    if not sep or provider.strip().lower() not in PROVIDERS or not name.strip():
        raise UnknownModel(f"unknown model {model!r}; use {ACCEPTED_FORMS}")
    return provider.strip().lower(), name.strip()


def make_provider(
    model: str,
    base_url: str | None = None,
    *,
    timeout_s: float = 600,
    max_retries: int = 6,
    max_wait_s: float = 120,
    reasoning_effort: str | None = None,
    temperature: float | None = None,
    max_output_tokens: int = 16000,
    thinking_budget: int | None = None,
    prices: PriceTable | None = None,
) -> LLMProvider:
    """A provider for `model`. `max_retries` bounds attempts in all; `max_wait_s` the total backoff.

    `reasoning_effort` applies to OpenAI(-compatible) models, `thinking_budget` (extended thinking)
    to Anthropic ones. `prices` is used as given; build it with `PriceTable.load(...)` to merge
    overrides over the defaults (the default is `PriceTable.load()`: defaults + GLIA_PRICES).
    """
    provider_name, model_name = split_model_string(model)
    provider_class = PROVIDERS[provider_name]
    dotenv_path = find_dotenv(usecwd=True)  # searched upward from the working directory
    if dotenv_path:
        load_dotenv(dotenv_path, override=False)
    api_key = os.environ.get(provider_class.key_env_var, "").strip()
    if not api_key:
        if base_url is None:
            raise MissingAPIKey(
                f"{model}: no API key; set {provider_class.key_env_var} in the environment or in a .env file"
            )
        api_key = PLACEHOLDER_KEY
    if provider_name == "anthropic" and base_url:
        base_url = _without_version_suffix(base_url)  # the Anthropic SDK appends /v1 itself
    return provider_class(
        model_name,
        api_key=api_key,
        base_url=base_url,
        options=GenerationOptions(
            max_output_tokens=max_output_tokens,
            temperature=temperature,
            reasoning_effort=reasoning_effort,
            thinking_budget=thinking_budget,
            timeout_s=timeout_s,
        ),
        retry_policy=RetryPolicy(max_attempts=max(1, max_retries), max_total_wait_s=max_wait_s),
        prices=prices if prices is not None else PriceTable.load(),
    )


def compatible_base_url(model: str, base_url: str | None) -> str | None:
    """The `--base-url` of a run names an OpenAI-compatible server, so only `openai:` models use it.

    An `anthropic:` Supervisor next to a local vLLM Researcher must still reach Anthropic (or whatever
    ANTHROPIC_BASE_URL says, which the Anthropic SDK reads itself).
    """
    provider_name, _ = split_model_string(model)
    return base_url if provider_name == "openai" else None


def _without_version_suffix(base_url: str) -> str:
    trimmed = base_url.rstrip("/")
    return trimmed[: -len("/v1")] if trimmed.endswith("/v1") else trimmed
