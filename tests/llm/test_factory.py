"""Model strings, keys from the environment / .env, and base URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.llm import (
    MissingAPIKey,
    PriceTable,
    UnknownModel,
    compatible_base_url,
    make_provider,
    split_model_string,
)
from glia.llm.anthropic_provider import AnthropicProvider
from glia.llm.openai_provider import OpenAIProvider


def test_model_strings() -> None:
    assert split_model_string("openai:o3") == ("openai", "o3")
    assert split_model_string("anthropic:claude-sonnet-4-5") == ("anthropic", "claude-sonnet-4-5")
    assert split_model_string("openai:Qwen/Qwen3-32B:latest") == ("openai", "Qwen/Qwen3-32B:latest")


@pytest.mark.parametrize("model", ["o3", "gpt:o3", "openai:", "claude-sonnet-4-5", ""])
def test_unknown_forms_list_the_accepted_ones(model: str) -> None:
    with pytest.raises(UnknownModel) as caught:
        make_provider(model)
    message = str(caught.value)
    assert "openai:MODEL" in message and "anthropic:MODEL" in message and "base URL" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("model", "variable"),
    [("openai:o3", "OPENAI_API_KEY"), ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY")],
)
def test_missing_key_names_the_variable(no_keys: None, model: str, variable: str) -> None:
    with pytest.raises(MissingAPIKey, match=f"set {variable}") as caught:
        make_provider(model)
    assert "\n" not in str(caught.value)


def test_keys_come_from_environment_or_dotenv(
    no_keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    provider = make_provider("openai:gpt-4o")
    assert isinstance(provider, OpenAIProvider) and provider._client.api_key == "sk-from-env"
    (tmp_path / ".env").write_text("ANTHROPIC_API_KEY=sk-ant-from-dotenv\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")  # load_dotenv will set it: make teardown remove it again
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    provider = make_provider("anthropic:claude-haiku-4-5")
    assert isinstance(provider, AnthropicProvider) and provider._client.api_key == "sk-ant-from-dotenv"


def test_a_base_url_needs_no_key(no_keys: None) -> None:
    provider = make_provider("openai:qwen3-32b", base_url="http://localhost:8000/v1")
    assert isinstance(provider, OpenAIProvider)
    assert provider.model == "qwen3-32b"
    assert str(provider._client.base_url).rstrip("/") == "http://localhost:8000/v1"


def test_anthropic_base_url_drops_the_version_suffix(no_keys: None) -> None:
    for url in (
        "http://127.0.0.1:9000",
        "http://127.0.0.1:9000/",
        "http://127.0.0.1:9000/v1",
        "http://127.0.0.1:9000/v1/",
    ):
        provider = make_provider("anthropic:claude-haiku-4-5", base_url=url)
        assert str(provider._client.base_url).rstrip("/") == "http://127.0.0.1:9000"


def test_options_reach_the_provider(no_keys: None) -> None:
    prices = PriceTable.load({"local": {"input": 0.0, "output": 0.0}})
    provider = make_provider(
        "openai:local",
        base_url="http://localhost:8000/v1",
        timeout_s=30,
        max_retries=3,
        max_wait_s=9,
        temperature=0.1,
        max_output_tokens=2000,
        prices=prices,
    )
    assert isinstance(provider, OpenAIProvider)
    assert (provider.retry_policy.max_attempts, provider.retry_policy.max_total_wait_s) == (3, 9)
    assert (provider.options.timeout_s, provider.options.temperature, provider.options.max_output_tokens) == (
        30,
        0.1,
        2000,
    )
    assert provider.prices is prices
    assert provider._client.max_retries == 0


def test_a_run_base_url_only_redirects_openai_models() -> None:
    """A local vLLM Researcher must not drag an anthropic: Supervisor to the local server."""
    local = "http://localhost:8000/v1"
    assert compatible_base_url("openai:qwen2.5-coder", local) == local
    assert compatible_base_url("anthropic:claude-sonnet-4-5", local) is None
    assert compatible_base_url("openai:o3", None) is None
