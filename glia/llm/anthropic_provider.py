"""Anthropic Messages API through the official SDK, with prompt caching and optional thinking."""

from __future__ import annotations

from typing import Any

import anthropic

from glia.llm import anthropic_wire
from glia.llm.base import BaseProvider, GenerationOptions, ParsedReply
from glia.llm.pricing import PriceTable
from glia.llm.retry import RetryPolicy
from glia.llm.types import Message, ToolSpec


class AnthropicProvider(BaseProvider):
    provider_name = "anthropic"
    key_env_var = "ANTHROPIC_API_KEY"

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None,
        options: GenerationOptions,
        retry_policy: RetryPolicy,
        prices: PriceTable,
    ) -> None:
        super().__init__(model, options=options, retry_policy=retry_policy, prices=prices)
        self.base_url = base_url
        # max_retries=0: retries live in glia.llm.retry only.
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=options.timeout_s, max_retries=0
        )

    def _send(
        self, system: str, messages: list[Message], tools: list[ToolSpec], max_output_tokens: int
    ) -> Any:
        request = anthropic_wire.build_request(
            self.model,
            system,
            messages,
            tools,
            max_output_tokens=max_output_tokens,
            temperature=self.options.temperature,
            thinking_budget=self.options.thinking_budget,
        )
        # An explicit timeout also stops the SDK refusing large max_tokens without streaming.
        return self._client.messages.create(**request, timeout=self.options.timeout_s)

    def _parse(self, raw: Any) -> ParsedReply:
        return anthropic_wire.parse_response(raw.model_dump(warnings=False), self.model)
