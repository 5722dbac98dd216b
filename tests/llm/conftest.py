"""Shared fixtures: a running fake server, no real keys or .env leaking in, fast retry policies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glia.llm import RetryPolicy
from glia.llm.base import BaseProvider
from tests.fake_llm import FakeLLMServer

FAST_RETRIES = RetryPolicy(
    max_attempts=4, max_total_wait_s=5.0, initial_wait_s=0.01, max_wait_per_retry_s=0.1, jitter_s=0
)


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No provider keys in the environment and no .env to find (the cwd is an empty folder)."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GLIA_PRICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def srv(no_keys: None) -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def fast(provider: object, policy: RetryPolicy = FAST_RETRIES) -> BaseProvider:
    """The same provider with millisecond backoff, so fault tests stay fast."""
    assert isinstance(provider, BaseProvider)
    provider.retry_policy = policy
    return provider
