"""From a model string a user typed to a ready provider, with keys from the environment.

Accepted forms: `openai:MODEL`, `anthropic:MODEL`; add `base_url` to reach an OpenAI-compatible
server (vLLM, Ollama, llama.cpp), which needs no key.

Which OpenAI API (`openai_api="auto"`): the Responses API for reasoning models (o-series, GPT-5) on
OpenAI's own endpoint, because only there their reasoning survives tool calls and comes back as a
readable summary; Chat Completions for every other model and every compatible server, which is the API
those servers implement. `"responses"` or `"chat"` forces one.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from dotenv import find_dotenv, load_dotenv

from glia.llm.anthropic_provider import AnthropicProvider
from glia.llm.base import BaseProvider, GenerationOptions
from glia.llm.endpoint import validate_base_url
from glia.llm.openai_provider import OpenAIProvider
from glia.llm.openai_responses_provider import OpenAIResponsesProvider
from glia.llm.openai_wire import is_reasoning_model
from glia.llm.pricing import PriceTable
from glia.llm.retry import RetryPolicy
from glia.llm.settings import OPENAI_APIS, AgentModelSettings
from glia.llm.types import LLMProvider, MissingAPIKey, UnknownModel

PROVIDERS: dict[str, type[BaseProvider]] = {"openai": OpenAIProvider, "anthropic": AnthropicProvider}
OPENAI_APIS_BY_NAME: dict[str, type[BaseProvider]] = {
    "chat": OpenAIProvider,
    "responses": OpenAIResponsesProvider,
}
OPENAI_HOST = "api.openai.com"
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
    reasoning_summary: str | None = "auto",
    temperature: float | None = None,
    max_output_tokens: int = 16000,
    thinking_budget: int | None = None,
    openai_api: str = "auto",
    prices: PriceTable | None = None,
) -> LLMProvider:
    """A provider for `model`. `max_retries` bounds attempts in all; `max_wait_s` the total backoff.

    `reasoning_effort` and `reasoning_summary` (None: no summaries) apply to OpenAI(-compatible)
    models, `thinking_budget` (extended thinking) to Anthropic ones; `openai_api` picks the OpenAI API
    (see the module docstring). `AgentModelSettings.provider_options()` fills these four. `prices` is
    used as given; build it with `PriceTable.load(...)` to merge overrides over the defaults (the
    default is `PriceTable.load()`: defaults + GLIA_PRICES). Bad settings raise `ModelSettingsError`, a
    base URL without scheme `InvalidBaseURL`.
    """
    provider_name, model_name = split_model_string(model)
    AgentModelSettings(  # the same checks as the task, config and CLI get
        reasoning_effort=reasoning_effort,
        reasoning_summary=reasoning_summary,
        thinking_budget=thinking_budget,
        openai_api=openai_api,
    )
    if base_url is not None:
        base_url = validate_base_url(base_url, model)
    provider_class = PROVIDERS[provider_name]
    if provider_name == "openai":
        provider_class = OPENAI_APIS_BY_NAME[choose_openai_api(model_name, base_url, openai_api)]
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
            reasoning_summary=None if reasoning_summary == "off" else reasoning_summary,
            thinking_budget=thinking_budget or None,
            timeout_s=timeout_s,
        ),
        retry_policy=RetryPolicy(max_attempts=max(1, max_retries), max_total_wait_s=max_wait_s),
        prices=prices if prices is not None else PriceTable.load(),
    )


def choose_openai_api(model_name: str, base_url: str | None, requested: str = "auto") -> str:
    """`"responses"` or `"chat"`: the requested one, or under `"auto"` the Responses API exactly for
    reasoning models on OpenAI's own endpoint (also when OPENAI_BASE_URL names another server, the
    SDK goes there, so that counts as a compatible server)."""
    if requested not in OPENAI_APIS:
        raise ValueError(f"openai_api must be one of {', '.join(OPENAI_APIS)}, got {requested!r}")
    if requested != "auto":
        return requested
    endpoint = base_url or os.environ.get("OPENAI_BASE_URL") or f"https://{OPENAI_HOST}/v1"
    official = (urlsplit(endpoint).hostname or "") == OPENAI_HOST
    return "responses" if official and is_reasoning_model(model_name) else "chat"


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
