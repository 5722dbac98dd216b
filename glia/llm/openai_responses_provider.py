"""OpenAI's Responses API through the official SDK, statelessly, for reasoning models (o3, GPT-5, ...).

The wire translation and the reasons for this API are in `openai_responses_wire.py`. This adapter adds
one behaviour: reasoning summaries need a verified OpenAI organisation, so when the API refuses them the
adapter says so once in the log and carries on without summaries instead of failing every call (the
reasoning itself is still replayed; only its readable summary is missing from the notes).
"""

from __future__ import annotations

import threading
from typing import Any

import openai
import structlog

from glia.llm import openai_responses_wire as wire
from glia.llm.base import BaseProvider, ParsedReply
from glia.llm.retry import provider_message
from glia.llm.types import Message, ToolSpec

_log = structlog.get_logger("glia.llm")


def summaries_refused(exc: BaseException) -> bool:
    """True for the API's refusal to summarise reasoning (an unverified organisation)."""
    if not isinstance(exc, openai.BadRequestError):
        return False
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    text = provider_message(exc).lower()
    return inner.get("param") == "reasoning.summary" or ("summar" in text and "verif" in text)


class OpenAIResponsesProvider(BaseProvider):
    provider_name = "openai"
    sdk_client = openai.OpenAI
    key_env_var = "OPENAI_API_KEY"
    api_name = "responses"
    reply_field = "output"
    reply_name = "a Responses API reply"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._summary = self.options.reasoning_summary
        self._summary_lock = threading.Lock()

    @property
    def reasoning_summary(self) -> str | None:
        """The summary setting in use: the configured one, or None once the API has refused it."""
        return self._summary

    def _send(
        self, system: str, messages: list[Message], tools: list[ToolSpec], max_output_tokens: int
    ) -> Any:
        summary = self._summary
        try:
            return self._create(system, messages, tools, max_output_tokens, summary)
        except openai.BadRequestError as exc:
            if summary is None or not summaries_refused(exc):
                raise
            with self._summary_lock:
                if self._summary is not None:
                    self._summary = None
                    _log.warning(
                        "llm_reasoning_summaries_refused",
                        model=self.label,
                        detail=provider_message(exc),
                        hint="continuing without reasoning summaries; verify the OpenAI organisation to get them",
                    )
            return self._create(system, messages, tools, max_output_tokens, None)

    def _create(
        self,
        system: str,
        messages: list[Message],
        tools: list[ToolSpec],
        max_output_tokens: int,
        summary: str | None,
    ) -> Any:
        request = wire.build_request(
            self.model,
            system,
            messages,
            tools,
            max_output_tokens=max_output_tokens,
            temperature=self.options.temperature,
            reasoning_effort=self.options.reasoning_effort,
            reasoning_summary=summary,
        )
        raw = self._client.responses.with_raw_response.create(**request, timeout=self.options.timeout_s)
        return raw.http_response

    def _check_reply(self, data: dict[str, Any]) -> None:
        wire.check_status(data, self.label)

    def _parse(self, data: dict[str, Any]) -> ParsedReply:
        return wire.parse_response(data, self.model)
