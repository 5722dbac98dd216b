"""The `bash` tool: one shell command in the sandbox, counted by the ledger and saved to the history."""

from __future__ import annotations

from typing import Any

from glia.agents.ledger import CALL_ENV
from glia.agents.tools.names import BASH
from glia.agents.tools.registry import GO_ON, ToolHost, ToolOutcome
from glia.llm.types import ToolCall, ToolSpec
from glia.workspace.base import ExecResult, Limits


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


class BashTool:
    """Runs the command; a run of timed-out commands (the context's streak) ends the context."""

    name = BASH

    def spec(self, limits: Limits) -> ToolSpec:
        return bash_tool(limits)

    def check(self, call: ToolCall) -> str | None:
        return "The `command` argument is empty." if not call.arguments["command"].strip() else None

    def run(self, host: ToolHost, call: ToolCall) -> ToolOutcome:
        if run_command(host, call) and host.timeout_streak.hit():
            return ToolOutcome(end="timeouts")
        return GO_ON


def run_command(host: ToolHost, call: ToolCall) -> bool:
    """Run one command; returns whether it timed out. WorkspaceDead ends the context."""
    command = call.arguments["command"]
    timeout_s = bash_timeout(call.arguments, host.limits)
    host.events.command_started(
        id=call.id, command=command, timeout_s=timeout_s, output_path=str(host.sandbox.next_output_log())
    )  # written first, so recovery after a kill knows the command ran
    assert host.workspace is not None and host.researcher is not None
    host.ledger.begin_command(call.id)  # simulations starting now are attributed to this call
    try:
        result = host.workspace.exec(command, timeout_s=timeout_s, env={CALL_ENV: call.id})
    finally:
        note = host.ledger.end_command()
    output = render_exec_result(result)
    host.events.command_result(
        id=call.id,
        name=call.name,
        command=command,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        duration_s=round(result.duration_s, 3),
        output=output,
        output_path=str(result.output_path) if result.output_path else None,
        timeout_s=timeout_s,
    )
    host.researcher.add_tool_result(call, output)
    if not result.timed_out:
        host.timeout_streak.reset()
    if note:
        host.events.budget(note)
        host.researcher.append_to_last_tool_result(note)
    host.sandbox.autosave(command)
    return result.timed_out
