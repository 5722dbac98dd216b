"""OpenAI chat completions through the official SDK: OpenAI itself or any compatible server."""

from __future__ import annotations

from typing import Any

import openai

from glia.llm import openai_wire
from glia.llm.base import BaseProvider, ParsedReply
from glia.llm.types import Message, ToolSpec


class OpenAIProvider(BaseProvider):
    provider_name = "openai"
    sdk_client = openai.OpenAI
    key_env_var = "OPENAI_API_KEY"

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
