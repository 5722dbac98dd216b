"""OpenAI chat completions through the official SDK: OpenAI itself or any compatible server."""

from __future__ import annotations

from typing import Any

import openai

from glia.llm import openai_wire
from glia.llm.base import BaseProvider, GenerationOptions, ParsedReply
from glia.llm.pricing import PriceTable
from glia.llm.retry import RetryPolicy
from glia.llm.types import Message, ToolSpec


class OpenAIProvider(BaseProvider):
    provider_name = "openai"
    key_env_var = "OPENAI_API_KEY"

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
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=options.timeout_s, max_retries=0
        )

    def _send(
        self, system: str, messages: list[Message], tools: list[ToolSpec], max_output_tokens: int
    ) -> Any:
        request = openai_wire.build_request(
            self.model,
            system,
            messages,
            tools,
            max_output_tokens=max_output_tokens,
            temperature=self.options.temperature,
            reasoning_effort=self.options.reasoning_effort,
        )
        return self._client.chat.completions.create(**request, timeout=self.options.timeout_s)

    def _parse(self, raw: Any) -> ParsedReply:
        return openai_wire.parse_response(raw.model_dump(warnings=False), self.model)
