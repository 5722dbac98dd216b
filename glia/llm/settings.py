"""Per-agent model settings: how hard the model reasons, whether its reasoning is summarised, which API.

The Researcher and the Supervisor may want different settings (a Researcher at high effort, a quick
Supervisor). Settings come from the task, then the user's config file, then the command line, each
overriding the one before (`AgentModelSettings.over`); `provider_options()` turns them into keyword
arguments of `make_provider`. Unset fields mean "the default": the model's own reasoning effort,
summaries `auto` (OpenAI Responses API), no extended thinking (Anthropic), the API chosen by `auto`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
REASONING_SUMMARIES = ("auto", "concise", "detailed", "off")
OPENAI_APIS = ("auto", "responses", "chat")
MIN_THINKING_BUDGET = 1024  # Anthropic's smallest extended-thinking budget
AGENTS = ("researcher", "supervisor")


class ModelSettingsError(ValueError):
    """A model setting with a value no provider accepts; the message lists the accepted ones."""


@dataclass(frozen=True)
class AgentModelSettings:
    """One agent's model settings; None means "not set here" (the default, or a weaker source's value).

    - `reasoning_effort`: OpenAI reasoning models (o-series, GPT-5); one of REASONING_EFFORTS. Not every
      model takes every value (o3: low / medium / high); the endpoint check before a run finds out.
    - `reasoning_summary`: summaries of OpenAI reasoning shown in the notes; auto / concise / detailed,
      or `off`. Default auto.
    - `thinking_budget`: Anthropic extended thinking, in tokens (at least 1024); 0 switches it off.
    - `openai_api`: `auto` (Responses API for reasoning models on OpenAI's own endpoint, else Chat
      Completions), `responses` or `chat`.
    """

    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    thinking_budget: int | None = None
    openai_api: str | None = None

    def __post_init__(self) -> None:
        _check_choice("reasoning_effort", self.reasoning_effort, REASONING_EFFORTS)
        _check_choice("reasoning_summary", self.reasoning_summary, REASONING_SUMMARIES)
        _check_choice("openai_api", self.openai_api, OPENAI_APIS)
        budget = self.thinking_budget
        if budget is not None and (
            isinstance(budget, bool)
            or not isinstance(budget, int)
            or (budget != 0 and budget < MIN_THINKING_BUDGET)
        ):
            raise ModelSettingsError(
                f"thinking_budget must be 0 (off) or a whole number of at least {MIN_THINKING_BUDGET} tokens, "
                f"got {budget!r}"
            )

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, source: str = "settings") -> AgentModelSettings:
        """From a task's or config file's mapping; unknown keys and bad values raise `ModelSettingsError`."""
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.keys()))
        if unknown:
            raise ModelSettingsError(
                f"{source}: unknown model setting(s) {', '.join(unknown)}; known: {', '.join(cls.keys())}"
            )
        try:
            return cls(**data)
        except ModelSettingsError as exc:
            raise ModelSettingsError(f"{source}: {exc}") from exc

    def over(self, base: AgentModelSettings) -> AgentModelSettings:
        """These settings where set, `base`'s elsewhere (so `flags.over(config.over(task))`)."""
        return replace(base, **{key: value for key, value in asdict(self).items() if value is not None})

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, e.g. for a run's record; `from_mapping` reads it back."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def provider_options(self) -> dict[str, Any]:
        """Keyword arguments for `make_provider`, defaults filled in."""
        summary = self.reasoning_summary or "auto"
        return {
            "reasoning_effort": self.reasoning_effort,
            "reasoning_summary": None if summary == "off" else summary,
            "thinking_budget": self.thinking_budget or None,
            "openai_api": self.openai_api or "auto",
        }


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ModelSettingsError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
