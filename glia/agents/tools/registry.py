"""The registry of the Researcher's tools: the context's turn dispatches every call through it.

A tool is one module holding a `Tool`: its name, its `ToolSpec` (what the model is offered), an extra
check on well-formed calls, and `run`, which does the work through the `ToolHost` (the context's side)
and says how the turn goes on. Adding a tool is that module plus one entry in `BUILTIN_TOOLS`
(`glia/agents/tools/__init__.py`); tests may `register` a tool of their own and `unregister` it after.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from glia.llm.tool_calls import tool_call_problem
from glia.llm.types import ToolCall, ToolSpec
from glia.registry import Registry
from glia.workspace.base import Limits

if TYPE_CHECKING:
    from glia.agents.ledger import SimulationLedger
    from glia.agents.researcher import Researcher
    from glia.agents.supervisor import SupervisorPolicy, SupervisorReview
    from glia.agents.tools.streak import Streak
    from glia.record.writer import EventWriter
    from glia.workspace.base import Workspace


@dataclass(frozen=True)
class ToolOutcome:
    """How the turn goes on after one call: `end` names the reason the context ends now (None: go on);
    `ends_turn` answers the turn's later calls "not run"; `supervised` means the Supervisor spoke in
    this call, so no check-in follows the turn."""

    end: str | None = None
    ends_turn: bool = False
    supervised: bool = False


GO_ON = ToolOutcome()


class CommandSandbox(Protocol):
    """The part of the context's sandbox (`glia.research_context.sandbox`) the `bash` tool uses."""

    def next_output_log(self) -> Path: ...

    def autosave(self, command: str) -> None: ...


class ToolHost(Protocol):
    """What a tool may use of the context it runs in (`glia.context` provides it)."""

    limits: Limits
    events: EventWriter
    researcher: Researcher | None
    ledger: SimulationLedger
    sandbox: CommandSandbox
    policy: SupervisorPolicy
    timeout_streak: Streak
    finish_summary: dict[str, Any] | None

    @property
    def workspace(self) -> Workspace | None: ...

    def answer(self, call: ToolCall, output: str, is_error: bool = False) -> None:
        """Record `output` as the call's result and give it to the Researcher."""

    def consult(self, trigger: str, finish_summary: dict[str, Any] | None = None) -> SupervisorReview | None:
        """One Supervisor review, or None when it could not be reached."""


class Tool(Protocol):
    """One Researcher tool."""

    name: str

    def spec(self, limits: Limits) -> ToolSpec:
        """The definition offered to the model (its description may teach the workspace's limits)."""

    def check(self, call: ToolCall) -> str | None:
        """Why a call that matches the schema still cannot run (phrased for the model), or None."""

    def run(self, host: ToolHost, call: ToolCall) -> ToolOutcome:
        """Do the call's work: record its result through `host` and say how the turn goes on."""


_TOOLS: Registry[Tool] = Registry("a Researcher tool named {name!r} is registered already")


def register(tool: Tool) -> None:
    """Offer `tool` to every Researcher from now on (after the tools registered before it)."""
    _TOOLS.register(tool)


def unregister(name: str) -> None:
    _TOOLS.unregister(name)


def tool_named(name: str) -> Tool | None:
    return _TOOLS.find(name)


def registered() -> list[Tool]:
    return list(_TOOLS)


def researcher_tools(limits: Limits) -> list[ToolSpec]:
    """The definitions of every registered tool, in registration order (the built-ins first)."""
    return [tool.spec(limits) for tool in _TOOLS]


def validate_call(call: ToolCall, tools: list[ToolSpec]) -> str | None:
    """Return why `call` cannot be run (phrased for the model), or None when it is well formed.

    The schema checks are the LLM layer's (`tool_call_problem`, which providers already applied to set
    `call.error`); checking again here covers providers that do not, such as in-process test doubles.
    """
    by_name = {tool.name: tool for tool in tools}
    if call.name not in by_name:
        return f"Unknown tool {call.name!r}. Available tools: {', '.join(by_name)}."
    if not isinstance(call.arguments, dict):
        return f"The arguments of {call.name!r} must be a JSON object."
    problem = call.error or tool_call_problem(call, by_name)
    if problem:
        return f"Could not use your call to {call.name!r}: {problem}. Send the arguments as a JSON object."
    tool = _TOOLS.find(call.name)
    return tool.check(call) if tool is not None else None
