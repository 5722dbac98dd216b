"""OpenAI Chat Completions through the official SDK: OpenAI itself or any compatible server."""

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
    api_name = "chat"
    reply_field = "choices"
    reply_name = "a chat completion"
    reply_field_non_empty = True

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
        raw = self._client.chat.completions.with_raw_response.create(
            **request, timeout=self.options.timeout_s
        )
        return raw.http_response

    def _parse(self, data: dict[str, Any]) -> ParsedReply:
        return openai_wire.parse_response(data, self.model)
