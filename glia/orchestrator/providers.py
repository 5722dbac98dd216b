"""The model providers of a session: one Researcher and one Supervisor per context (no client shared
between threads), made from the run's recorded model settings so that a resume talks to the same models."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from glia.orchestrator.config import RunConfig


class Providers:
    """Makes each context's providers; the first pair is made up front (a missing API key fails there,
    before any cost) and handed to the first context that asks."""

    def __init__(self, config: RunConfig, factory: Callable[..., Any]) -> None:
        self._config = config
        self._factory = factory
        self._first: tuple[Any, Any] | None = None

    def prepare(self) -> None:
        self._first = self.make()

    def for_context(self, index: int) -> tuple[Any, Any]:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return self.make()

    def make(self) -> tuple[Any, Any]:
        from glia.llm import compatible_base_url

        models = {"researcher": self._config.researcher_model, "supervisor": self._config.supervisor_model}
        researcher, supervisor = (
            self._factory(
                model,
                base_url=compatible_base_url(model, self._config.base_url),
                **({"agent": agent} if accepts_agent(self._factory) else {}),
            )
            for agent, model in models.items()
        )
        return researcher, supervisor


def default_provider_factory(config: RunConfig) -> Callable[..., Any]:
    """The models with each agent's settings as the run recorded them (so a resume changes nothing)."""
    from glia.llm import AgentModelSettings, AgentProviderFactory

    models = {"researcher": config.researcher_model, "supervisor": config.supervisor_model}
    settings = {
        agent: AgentModelSettings.from_mapping(values, f"run.json model_settings.{agent}")
        for agent, values in (config.model_settings or {}).items()
    }
    return AgentProviderFactory(models, settings)


def accepts_agent(factory: Callable[..., Any]) -> bool:
    """Whether a provider factory takes `agent=` (the real one does; simple test doubles may not)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "agent" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
