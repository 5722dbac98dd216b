"""Per-agent model settings: checks, precedence, provider options and the per-agent provider factory."""

from __future__ import annotations

from typing import Any

import pytest

from glia.llm import AgentModelSettings, AgentProviderFactory, ModelSettingsError, make_provider
from glia.llm.anthropic_provider import AnthropicProvider
from glia.llm.openai_responses_provider import OpenAIResponsesProvider


def test_defaults_fill_in_what_is_not_set() -> None:
    assert AgentModelSettings().provider_options() == {
        "reasoning_effort": None,
        "reasoning_summary": "auto",
        "thinking_budget": None,
        "openai_api": "auto",
    }
    off = AgentModelSettings(reasoning_summary="off", thinking_budget=0).provider_options()
    assert (off["reasoning_summary"], off["thinking_budget"]) == (None, None)


def test_stronger_sources_override_field_by_field() -> None:
    task = AgentModelSettings(reasoning_effort="medium", thinking_budget=4096)
    config = AgentModelSettings(reasoning_effort="high", openai_api="chat")
    flags = AgentModelSettings(openai_api="responses")
    assert flags.over(config.over(task)) == AgentModelSettings(
        reasoning_effort="high", thinking_budget=4096, openai_api="responses"
    )
    assert AgentModelSettings.from_mapping(flags.over(task).to_dict()) == flags.over(task)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"reasoning_effort": "hgih"}, "reasoning_effort must be one of none, minimal, low, medium, high"),
        ({"reasoning_summary": "short"}, "reasoning_summary must be one of auto, concise, detailed, off"),
        ({"openai_api": "completions"}, "openai_api must be one of auto, responses, chat"),
        ({"thinking_budget": 500}, "thinking_budget must be 0 (off) or a whole number of at least 1024"),
        ({"thinking_budget": "8000"}, "thinking_budget must be 0 (off)"),
        ({"effort": "high"}, "unknown model setting(s) effort; known: reasoning_effort"),
    ],
)
def test_bad_settings_name_the_source_and_the_accepted_values(data: dict[str, Any], said: str) -> None:
    with pytest.raises(ModelSettingsError) as caught:
        AgentModelSettings.from_mapping(data, "config file, researcher")
    assert str(caught.value).startswith("config file, researcher: ") and said in str(caught.value)


def test_make_provider_checks_settings_too(no_keys: None) -> None:
    with pytest.raises(ModelSettingsError, match="openai_api must be one of"):
        make_provider("openai:o3", base_url="http://localhost:8000/v1", openai_api="legacy")


def test_settings_reach_each_agents_provider(no_keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    factory = AgentProviderFactory(
        {"researcher": "openai:o3", "supervisor": "anthropic:claude-sonnet-4-5"},
        {
            "researcher": AgentModelSettings(reasoning_effort="high", reasoning_summary="detailed"),
            "supervisor": AgentModelSettings(thinking_budget=2048),
        },
    )
    researcher = factory("openai:o3", base_url=None)  # as the orchestrator calls it: by model string
    supervisor = factory("anthropic:claude-sonnet-4-5", base_url=None)
    assert isinstance(researcher, OpenAIResponsesProvider) and isinstance(supervisor, AnthropicProvider)
    assert (researcher.options.reasoning_effort, researcher.reasoning_summary) == ("high", "detailed")
    assert supervisor.options.thinking_budget == 2048 and supervisor.options.reasoning_effort is None
    assert not factory.ambiguous


def test_one_model_for_both_agents() -> None:
    made: list[tuple[str, dict[str, Any]]] = []

    def record(model: str, **options: Any) -> str:
        made.append((model, options))
        return model

    same = AgentProviderFactory(
        {"researcher": "openai:o3", "supervisor": "openai:o3"},
        {"researcher": AgentModelSettings(reasoning_effort="high"), "supervisor": AgentModelSettings()},
        make=record,
    )
    assert same.ambiguous
    same("openai:o3", base_url=None, agent="supervisor")
    same("openai:o3", base_url=None)
    assert [options["reasoning_effort"] for _, options in made] == [None, "high"]
    agreed = AgentProviderFactory(
        {"researcher": "openai:o3", "supervisor": "openai:o3"},
        {
            "researcher": AgentModelSettings(reasoning_effort="low"),
            "supervisor": AgentModelSettings(reasoning_effort="low"),
        },
        make=record,
    )
    assert not agreed.ambiguous
    agreed("openai:gpt-4o", base_url="http://x/v1", max_retries=2)  # a model neither agent uses: defaults
    assert made[-1] == (
        "openai:gpt-4o",
        {
            "base_url": "http://x/v1",
            "reasoning_effort": None,
            "reasoning_summary": "auto",
            "thinking_budget": None,
            "openai_api": "auto",
            "max_retries": 2,
        },
    )
