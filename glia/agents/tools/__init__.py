"""The Researcher's tools: one module per tool, one registry the context's turn dispatches through.

Each tool is defined once in the neutral `ToolSpec` format (adapters in `glia/llm/` turn the specs into
OpenAI function tools and Anthropic tool definitions). A malformed call is answered with a tool error the
model can fix, and counted: a model that keeps producing garbage (or commands that keep timing out) ends
its context instead of burning the budget.

Adding a tool: write its module (a class with `name`, `spec`, `check` and `run`, see `registry.Tool`) and
add it to `BUILTIN_TOOLS` below.
"""

from __future__ import annotations

from glia.agents.tools.bash import BashTool, bash_timeout, bash_tool, render_exec_result
from glia.agents.tools.finish import FinishTool, finish_tool
from glia.agents.tools.names import BASH, FINISH
from glia.agents.tools.registry import (
    GO_ON,
    Tool,
    ToolHost,
    ToolOutcome,
    register,
    registered,
    researcher_tools,
    tool_named,
    unregister,
    validate_call,
)
from glia.agents.tools.streak import Streak

BUILTIN_TOOLS: tuple[Tool, ...] = (BashTool(), FinishTool())  # offered in this order

for _tool in BUILTIN_TOOLS:
    register(_tool)

NO_TOOL_CALL_REMINDER = (
    "Your last reply did not call a tool. Every turn must call `bash` to act on the repository or "
    "`finish` to submit your design. Please continue with a tool call."
)

__all__ = [
    "BASH",
    "BUILTIN_TOOLS",
    "FINISH",
    "GO_ON",
    "NO_TOOL_CALL_REMINDER",
    "Streak",
    "Tool",
    "ToolHost",
    "ToolOutcome",
    "bash_timeout",
    "bash_tool",
    "finish_tool",
    "register",
    "registered",
    "render_exec_result",
    "researcher_tools",
    "tool_named",
    "unregister",
    "validate_call",
]
