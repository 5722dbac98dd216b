"""Anthropic Messages API through the official SDK, with prompt caching and optional thinking."""

from __future__ import annotations

from typing import Any

import anthropic

from glia.llm import anthropic_wire
from glia.llm.base import BaseProvider, ParsedReply
from glia.llm.types import Message, ToolSpec


class AnthropicProvider(BaseProvider):
    provider_name = "anthropic"
    sdk_client = anthropic.Anthropic
    key_env_var = "ANTHROPIC_API_KEY"
    api_name = "messages"
    reply_field = "content"
    reply_name = "a Messages API reply"

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
        raw = self._client.messages.with_raw_response.create(**request, timeout=self.options.timeout_s)
        return raw.http_response

    def _parse(self, data: dict[str, Any]) -> ParsedReply:
        return anthropic_wire.parse_response(data, self.model)
