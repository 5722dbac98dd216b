"""The model provider layer: one neutral conversation format, OpenAI and Anthropic adapters.

Start here: `make_provider("openai:o3")` or `make_provider("anthropic:claude-sonnet-4-5")`, then
`provider.complete(system, messages, tools)`. Retries live in `retry.py`, prices in `pricing.py`.
"""

from glia.llm.cost_tracker import CostTotals, CostTracker
from glia.llm.factory import compatible_base_url, make_provider, split_model_string
from glia.llm.pricing import ModelPrice, PriceTable
from glia.llm.retry import RetryPolicy
from glia.llm.tool_calls import validate_tool_calls
from glia.llm.types import (
    ContextLengthExceeded,
    LLMError,
    LLMProvider,
    LLMResponse,
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

__all__ = [
    "compatible_base_url",
    "ContextLengthExceeded",
    "CostTotals",
    "CostTracker",
    "LLMError",
    "LLMProvider",
    "LLMResponse",
    "Message",
    "MissingAPIKey",
    "ModelPrice",
    "PriceTable",
    "ProviderRejected",
    "RetriesExhausted",
    "RetryPolicy",
    "Role",
    "ToolCall",
    "ToolSpec",
    "UnknownModel",
    "Usage",
    "make_provider",
    "split_model_string",
    "validate_tool_calls",
]
