"""The model provider layer: one neutral conversation format, OpenAI and Anthropic adapters.

Start here: `make_provider("openai:o3")` or `make_provider("anthropic:claude-sonnet-4-5")`, then
`provider.complete(system, messages, tools)`. OpenAI reasoning models on OpenAI's endpoint go through
the Responses API (reasoning kept across tool calls), everything else OpenAI-shaped through Chat
Completions (see `factory.py`). Retries live in `retry.py`, prices in `pricing.py`, per-agent settings
in `settings.py`, the pre-run endpoint check in `preflight.py`.

Names are imported on first use: the model SDKs take about two seconds to import, and commands that
only need a setting's allowed values (the CLI's argument parser) should not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CostTotals": "glia.llm.cost_tracker",
    "CostTracker": "glia.llm.cost_tracker",
    "choose_openai_api": "glia.llm.factory",
    "compatible_base_url": "glia.llm.factory",
    "make_provider": "glia.llm.factory",
    "split_model_string": "glia.llm.factory",
    "check_endpoint": "glia.llm.preflight",
    "unpriced_notice": "glia.llm.preflight",
    "ModelPrice": "glia.llm.pricing",
    "PriceTable": "glia.llm.pricing",
    "RetryPolicy": "glia.llm.retry",
    "AgentModelSettings": "glia.llm.settings",
    "AgentProviderFactory": "glia.llm.agent_providers",
    "ModelSettingsError": "glia.llm.settings",
    "validate_tool_calls": "glia.llm.tool_calls",
    **{
        name: "glia.llm.types"
        for name in (
            "ContextLengthExceeded",
            "EndpointError",
            "EndpointUnreachable",
            "EndpointUnsupported",
            "InvalidBaseURL",
            "LLMError",
            "LLMProvider",
            "LLMResponse",
            "MalformedReply",
            "Message",
            "MissingAPIKey",
            "ProviderRejected",
            "RetriesExhausted",
            "Role",
            "ToolCall",
            "ToolSpec",
            "UnknownModel",
            "Usage",
        )
    },
}

__all__ = [
    "AgentModelSettings",
    "AgentProviderFactory",
    "ContextLengthExceeded",
    "CostTotals",
    "CostTracker",
    "EndpointError",
    "EndpointUnreachable",
    "EndpointUnsupported",
    "InvalidBaseURL",
    "LLMError",
    "LLMProvider",
    "LLMResponse",
    "MalformedReply",
    "Message",
    "MissingAPIKey",
    "ModelPrice",
    "ModelSettingsError",
    "PriceTable",
    "ProviderRejected",
    "RetriesExhausted",
    "RetryPolicy",
    "Role",
    "ToolCall",
    "ToolSpec",
    "UnknownModel",
    "Usage",
    "check_endpoint",
    "choose_openai_api",
    "compatible_base_url",
    "make_provider",
    "split_model_string",
    "unpriced_notice",
    "validate_tool_calls",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'glia.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what static checkers and IDEs see
    from glia.llm.agent_providers import AgentProviderFactory
    from glia.llm.cost_tracker import CostTotals, CostTracker
    from glia.llm.factory import choose_openai_api, compatible_base_url, make_provider, split_model_string
    from glia.llm.preflight import check_endpoint, unpriced_notice
    from glia.llm.pricing import ModelPrice, PriceTable
    from glia.llm.retry import RetryPolicy
    from glia.llm.settings import AgentModelSettings, ModelSettingsError
    from glia.llm.tool_calls import validate_tool_calls
    from glia.llm.types import (
        ContextLengthExceeded,
        EndpointError,
        EndpointUnreachable,
        EndpointUnsupported,
        InvalidBaseURL,
        LLMError,
        LLMProvider,
        LLMResponse,
        MalformedReply,
        Message,
        MissingAPIKey,
        ProviderRejected,
        RetriesExhausted,
        Role,
        ToolCall,
        ToolSpec,
        UnknownModel,
        Usage,
    )
