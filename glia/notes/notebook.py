"""The walk over a context's events: one handler per event type, each adding the notebook's lines for
it (turns, commands and their output, the Supervisor's words, submissions, sessions stopped and resumed).
Simulations are `simulations`' and the closing sections `closing`'s."""

from __future__ import annotations

import json
from pathlib import Path

from glia.notes.closing import final_design_block, summary_block, unfinished_line
from glia.notes.simulations import SimulationLines
from glia.notes.text import fence, first_sentence, fold_output, plain, summary_text, thinking
from glia.progress import shorten
from glia.record import events as ev
from glia.record.view import ContextView, RunView
from glia.safe_text import md_code, md_html_text, md_inline, md_prose


class Notebook:
    """Accumulates Markdown while walking the events once."""

    def __init__(self, ctx_dir: Path, run: RunView, view: ContextView) -> None:
        self.ctx_dir = ctx_dir
        self.run = run
        self.view = view
        self.metric = run.metric
        self.header: list[str] = [f"# Research notes · {ctx_dir.name}"]
        self.lines: list[str] = []
        self.turn = 0
        self.commands: dict[str, str] = {}
        self.briefed = False
        self.end: ev.ContextEnded | None = None
        self.review_at: int | None = None  # where the latest finish review starts in `lines`
        self.simulations = SimulationLines(view, run.metric)
        self.commands_shown: set[str] = set()  # commands shown when they started (their runs follow)

    def add(self, event: ev.Event) -> None:
        if isinstance(event, ev.SessionStarted) and event.resumed:
            self._resumed()
            return
        if self.end is not None and not isinstance(event, ev.ContextEnded):
            self._resumed()  # a resumed session written before session_start existed
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def finish(self) -> str:
        """The whole notebook: header, summary table, the walk's lines, the closing section."""
        summary = summary_block(self.view, self.metric, self.end, self.turn)
        if self.end:
            closing = final_design_block(self.ctx_dir, self.run, self.view, self.end)
        else:
            closing = [unfinished_line(self.run)]
        return "\n".join([*self.header, "", *summary, *self.lines, *closing]).rstrip() + "\n"

    def _resumed(self) -> None:
        if self.end is not None:
            self.lines.append(
                f"\n> ⏸ **Session stopped ({md_inline(self.end.reason, 200)}); resumed below.**\n"
            )
        else:
            self.lines.append(
                "\n> ⏸ **Session cut off (the process stopped without recording an end); resumed below.**\n"
            )
        self.end = None

    # -- the conversation -------------------------------------------------------------------------

    def _on_context_start(self, event: ev.ContextStarted) -> None:
        facts = [
            ("run", event.run_id),
            ("strategy", event.strategy),
            ("researcher", event.researcher_model),
            ("supervisor", event.supervisor_model),
            ("task", event.task),
            ("started", event.ts),
        ]
        self.header.append(" · ".join(f"**{k}** {md_inline(v, 200)}" for k, v in facts if v))

    def _on_user(self, event: ev.UserMessage) -> None:
        if not self.briefed:
            self.briefed = True
            self.lines.append("\n## The brief\n")
            # Fenced, so the brief's own headings do not mix with the notebook's.
            fenced = fence(event.text, "markdown")
            self.lines.append(
                f"<details><summary>Task given to the Researcher</summary>\n\n{fenced}\n\n</details>\n"
            )
        else:
            self.lines.append(f"\n> **Note to the Researcher:** {md_inline(shorten(event.text, 600), 600)}\n")

    def _on_assistant(self, event: ev.AssistantTurn) -> None:
        self.turn += 1
        for call in event.tool_calls:
            if call.command is not None:
                self.commands[call.id] = call.command
        summary = _turn_summary(event)
        self.lines.append(f"\n### Turn {self.turn} · {md_inline(summary, 200)}\n")
        reasoning, text = event.reasoning.strip(), event.text.strip()
        if reasoning and reasoning != summary:
            self.lines.append(thinking(reasoning))
        if text and text != summary:
            self.lines.append(f"{md_prose(text)}\n")
        for call in event.tool_calls:
            if call.name in (ev.BASH, ev.FINISH) or call.command is not None:
                continue  # shown with its result, or as the submission
            arguments = json.dumps(dict(call.arguments), indent=2, default=str)
            self.lines.append(f"Calls {md_code(call.name, 80)}:\n\n{fence(arguments, 'json')}\n")

    def _on_supervisor(self, event: ev.SupervisorSpoke) -> None:
        trigger = event.trigger or "?"
        title = md_inline(f"Supervisor ({trigger}{', ' + event.verdict if event.verdict else ''})", 80)
        if trigger == ev.FINISH:
            self.review_at = len(self.lines)  # the submission it reviews is shown before it
        text = event.text.strip()
        self.lines.append(f"\n### 🧭 {title}: {md_inline(first_sentence(text, 80), 120)}\n")
        quoted = "\n".join(f"> {line}" if line else ">" for line in md_prose(text).splitlines())
        self.lines.append(f"{quoted}\n")

    def _on_finish(self, event: ev.FinishCalled) -> None:
        state = {True: "accepted", False: "sent back"}.get(event.accepted, "submitted")  # type: ignore[arg-type]
        block = [f"\n## ✅ The Researcher submits ({state})\n", f"{summary_text(event.summary)}\n"]
        at = len(self.lines) if self.review_at is None else self.review_at
        self.lines[at:at] = block
        self.review_at = None

    def _on_context_end(self, event: ev.ContextEnded) -> None:
        self.end = event

    # -- commands and simulations -----------------------------------------------------------------

    def _on_command_started(self, event: ev.CommandStarted) -> None:
        self.commands_shown.add(event.id)
        self.lines.append(f"{fence(event.command or '(unknown command)', 'bash')}\n")

    def _on_tool_result(self, event: ev.ToolResult) -> None:
        if event.name == ev.FINISH and not event.is_error:
            return  # the review it carries is shown as the Supervisor's block
        command = event.command or self.commands.get(event.id) or event.name or "(unknown command)"
        if event.id not in self.commands_shown:
            self.lines.append(f"{fence(command, 'bash')}\n")
        output = event.output
        lines = output.count("\n") + (1 if output else 0)
        summary = f"{_result_status(event)} · {lines} line{'s' if lines != 1 else ''} of output"
        if event.output_path:
            summary += f" (full: {event.output_path})"
        self.lines.append(
            f"<details><summary>{md_html_text(summary, 400)}</summary>\n\n{fence(fold_output(output))}\n\n</details>\n"
        )

    def _on_simulation_started(self, event: ev.SimulationStarted) -> None:
        self.lines += self.simulations.started(event.index)

    def _on_simulation(self, event: ev.SimulationEnded) -> None:
        self.lines += self.simulations.ended(event.index)

    # -- notes from the loop ----------------------------------------------------------------------

    def _on_format_error(self, event: ev.FormatError) -> None:
        self.lines.append(f"\n> ⚠️ **Format error:** {md_inline(shorten(event.detail, 300), 300)}\n")

    def _on_budget(self, event: ev.BudgetNote) -> None:
        self.lines.append(f"\n> ⏳ **Budget:** {md_inline(shorten(event.detail, 300), 300)}\n")

    def _on_error(self, event: ev.ErrorEvent) -> None:
        self.lines.append(f"\n> ❗ **Error:** {md_inline(shorten(event.detail, 300), 300)}\n")


def _turn_summary(event: ev.AssistantTurn) -> str:
    """A turn's heading: its text's first sentence, its reasoning's first line, or what it calls."""
    if event.text.strip():
        return first_sentence(event.text)
    if event.reasoning.strip():  # its first line: a summary's bold heading, or its first sentence
        return first_sentence(plain(event.reasoning.lstrip().splitlines()[0]))
    for call in event.tool_calls:
        if call.command is not None:
            return f"runs: {shorten(call.command, 70)}"
        return f"calls {call.name or 'a tool'}"
    return "(empty turn)"


def _result_status(event: ev.ToolResult) -> str:
    """How a command ended, as the output block's summary starts."""
    if event.recovered == "interrupted":
        status = "⏸ interrupted while running (the session stopped; told to the Researcher on resume)"
    elif event.recovered == "not_run":
        status = "⏸ not run (the session stopped first)"
    elif event.timed_out:
        status = "❌ timed out"
    else:
        failed = event.is_error or event.exit_code not in (0, None)
        status = f"{'❌ ' if failed else ''}exit {event.exit_code}"
    if event.duration_s is not None:
        status += f", {event.duration_s:.1f} s"
    return status
