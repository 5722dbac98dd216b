"""One provider factory per run that applies each agent's model settings (Researcher and Supervisor).

It sits above both `settings` (what an agent asked for) and `factory` (how a provider is made), so neither
of those imports the other back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from glia.llm.settings import AGENTS, AgentModelSettings


class AgentProviderFactory:
    """A provider factory (`factory(model, base_url=...)`, as `execute_run` takes one) that applies each
    agent's settings.

    Pass `agent="researcher"` / `"supervisor"` to choose the settings directly. Without it the settings
    are found by model string; when both agents use the same model string with different settings,
    that lookup cannot tell them apart and uses the Researcher's (see `ambiguous`).
    """

    def __init__(
        self,
        models: Mapping[str, str],
        settings: Mapping[str, AgentModelSettings],
        make: Callable[..., Any] | None = None,
    ) -> None:
        if make is None:  # the SDKs load only when a provider is made, not when the CLI parses arguments
            from glia.llm.factory import make_provider

            make = make_provider
        self._make = make
        self.models = {agent: models[agent] for agent in AGENTS if agent in models}
        self.settings = {agent: settings.get(agent, AgentModelSettings()) for agent in self.models}

    @property
    def ambiguous(self) -> bool:
        """Both agents use one model string with different settings (the lookup by model cannot tell)."""
        researcher, supervisor = (self.models.get(agent) for agent in AGENTS)
        return researcher == supervisor and self.settings.get("researcher") != self.settings.get("supervisor")

    def settings_for(self, model: str, agent: str | None = None) -> AgentModelSettings:
        if agent is not None:
            return self.settings.get(agent, AgentModelSettings())
        for name in AGENTS:
            if self.models.get(name) == model:
                return self.settings[name]
        return AgentModelSettings()

    def __call__(
        self, model: str, base_url: str | None = None, *, agent: str | None = None, **options: Any
    ) -> Any:
        merged = {**self.settings_for(model, agent).provider_options(), **options}
        return self._make(model, base_url=base_url, **merged)
