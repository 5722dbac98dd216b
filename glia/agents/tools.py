"""The Researcher's tools, defined once in the neutral `ToolSpec` format, and the checks on its calls.

Adapters in `glia/llm/` turn these specs into OpenAI function tools and Anthropic tool definitions. A
malformed call is answered with a tool error the model can fix, and counted: a model that keeps
producing garbage (or commands that keep timing out) ends its context instead of burning the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glia.llm.tool_calls import tool_call_problem
from glia.llm.types import ToolCall, ToolSpec
from glia.workspace.base import ExecResult, Limits

BASH = "bash"
FINISH = "finish"

NO_TOOL_CALL_REMINDER = (
    "Your last reply did not call a tool. Every turn must call `bash` to act on the repository or "
    "`finish` to submit your design. Please continue with a tool call."
)


def bash_tool(limits: Limits) -> ToolSpec:
    """The shell tool; its description teaches the rules the workspace and the ledger enforce."""
    default_s = int(limits.default_timeout_s)
    max_s = int(limits.max_timeout_s)
    description = (
        "Run one shell command (bash -lc) in the repository root of your sandbox. Every call starts a "
        "fresh shell: `cd`, exported variables and shell state do not carry over, so chain commands "
        "with && when needed. The sandbox has no network.\n"
        f"The command is killed after `timeout` seconds (default {default_s}, at most {max_s}). "
        f"Output (stdout and stderr together) longer than {limits.output_limit_chars} characters is cut "
        "to its head and tail; the full output is saved to a file whose path is given in the result.\n"
        "For long runs, start them in the background with the output redirected, e.g. "
        "`setsid nohup python -m llmsim run ... > logs/run1.txt 2>&1 &`, then poll the log file or the "
        "results folder with later commands.\n"
        "Every simulation the simulator starts counts as one simulation against your budget, however "
        "it was started (the benchmark script, the command line with any options, or your own scripts "
        "calling the simulator) and whether it succeeds, fails or is left unfinished; once the budget is "
        "spent the simulator refuses to start. The result of each command tells you which simulations "
        "it ran, how many you have used and what budget remains."
    )
    return ToolSpec(
        name=BASH,
        description=description,
        parameters={
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The shell command to run."},
                "timeout": {
                    "type": "integer",
                    "description": f"Seconds before the command is killed (default {default_s}, max {max_s}).",
                },
            },
            "required": ["command"],
        },
    )


def finish_tool() -> ToolSpec:
    """The submit tool: the Researcher's account of its design, reviewed by the Supervisor."""
    return ToolSpec(
        name=FINISH,
        description=(
            "Submit your final design and end the research session. The design file as it is in the "
            "repository now is what gets evaluated. The Supervisor reviews your summary and may send "
            "you back to work with feedback."
        ),
        parameters={
            "type": "object",
            "properties": {
                "design": {"type": "string", "description": "What the design is and why it works."},
                "evidence": {
                    "type": "string",
                    "description": "The measurements that support it (runs, scores, comparisons).",
                },
                "tried_and_rejected": {
                    "type": "string",
                    "description": "Ideas you tried or considered and why you dropped them.",
                },
                "expected_score": {
                    "type": "number",
                    "description": "Optional: the score you expect the design to reach on the benchmark.",
                },
            },
            "required": ["design", "evidence", "tried_and_rejected"],
        },
    )


def researcher_tools(limits: Limits) -> list[ToolSpec]:
    return [bash_tool(limits), finish_tool()]


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
    if call.name == BASH and not call.arguments["command"].strip():
        return "The `command` argument is empty."
    return None


def bash_timeout(arguments: dict[str, Any], limits: Limits) -> float:
    """The timeout asked for, capped by the workspace limit (default when absent or not positive)."""
    asked = arguments.get("timeout")
    if not isinstance(asked, int | float) or isinstance(asked, bool) or asked <= 0:
        return limits.default_timeout_s
    return float(min(asked, limits.max_timeout_s))


def render_exec_result(result: ExecResult) -> str:
    """The text the model sees for one command: status line first, then the (truncated) output."""
    if result.timed_out:
        status = f"TIMED OUT after {result.duration_s:.1f}s (the command was killed)"
    else:
        status = f"exit code {result.exit_code}, {result.duration_s:.1f}s"
    lines = [f"[{status}]"]
    if result.truncated and result.output_path is not None:
        lines.append(
            f"[output truncated: {result.output_bytes} bytes in total, full output in {result.output_path}]"
        )
    lines.append(result.output.rstrip() or "(no output)")
    return "\n".join(lines)


@dataclass
class Streak:
    """Counts consecutive failures of one kind; reaching `limit` ends the context."""

    limit: int
    count: int = 0

    def hit(self) -> bool:
        """Record one failure; True when the limit is reached."""
        self.count += 1
        return self.reached()

    def reset(self) -> None:
        self.count = 0

    def reached(self) -> bool:
        return self.limit > 0 and self.count >= self.limit
