"""Research notes: a context's transcript rendered as a lab notebook in Markdown.

Called by the context loop while the run works, so rendering is a pure function of the run folder (read
through `glia.record.view`): fast, idempotent, and it never raises on an odd event. A reader who skims
only the headings and the highlighted lines should still follow the research story: each turn, each
simulation where the command that ran it stands (a claim with the running best claim, an experiment with
its conditions and number, never ranked against claims), the Supervisor's words, and at the end the
trusted verdict on the design, with the reason when it was rejected.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glia.progress import shorten
from glia.record import events as ev
from glia.record.account import ACCOUNT_LABEL, account_text
from glia.record.audit import claim_gap, outside_changes
from glia.record.transcript import TRANSCRIPT_FILE, read_events
from glia.record.view import ContextView, RunView, Simulation, read_context
from glia.safe_text import md_code, md_fence, md_html_text, md_inline, md_prose
from glia.workspace.history import HISTORY_DIR, History, HistoryError

OUTPUT_FOLD_CHARS = 4000
DIFF_MAX_LINES = 400
# Reasoning (OpenAI reasoning summaries, Claude's thinking) longer than this, or in several paragraphs,
# is folded under its first line so the actions stay easy to follow.
THINKING_FOLD_CHARS = 500


def write_notes(ctx_dir: Path) -> Path:
    """Render ctx_dir/transcript.jsonl into ctx_dir/notes.md (atomically) and return the notes path."""
    ctx_dir = Path(ctx_dir)
    target = ctx_dir / "notes.md"
    try:
        text = render_notes(ctx_dir)
    except Exception as exc:  # notes must never take the run down
        text = f"# Research notes\n\n_Rendering failed: {type(exc).__name__}: {exc}_\n"
    tmp = target.with_name(f".notes.md.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


def write_run_notes(run_dir: Path) -> list[Path]:
    """Render every context's notes again, e.g. once trusted scores have landed after the contexts ended."""
    run_dir = Path(run_dir)
    folders = sorted((p for p in run_dir.glob("ctx-*") if p.is_dir()), key=lambda p: (len(p.name), p.name))
    return [write_notes(folder) for folder in folders]


def render_notes(ctx_dir: Path) -> str:
    """The notes Markdown for one context folder."""
    ctx_dir = Path(ctx_dir)
    raw_events = read_events(ctx_dir / TRANSCRIPT_FILE)
    run, view = read_context(ctx_dir, raw_events)
    book = _Notebook(ctx_dir, run, view)
    for raw in raw_events:
        event = ev.parse_event(raw)
        try:
            book.add(event)
        except Exception as exc:  # one odd event must not hide the rest
            book.lines.append(
                f"\n_(could not render a {md_code(event.type, 40)} event: {md_inline(exc, 300)})_\n"
            )
    return book.finish()


def _fence(text: str, lang: str = "text") -> str:
    """A fenced block that nothing inside can close (the Markdown sanitiser's)."""
    return md_fence(text, lang)


def _fold_output(output: str) -> str:
    if len(output) <= OUTPUT_FOLD_CHARS:
        return output
    half = OUTPUT_FOLD_CHARS // 2
    return f"{output[:half]}\n… [{len(output) - OUTPUT_FOLD_CHARS} characters cut] …\n{output[-half:]}"


def _first_sentence(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    for mark in (". ", "? ", "! ", "\n"):
        cut = flat.find(mark)
        if 0 < cut < width:
            return flat[: cut + 1]
    return shorten(flat, width)


def _plain(text: str) -> str:
    """Text without Markdown emphasis markers (reasoning summaries open with a **bold** heading)."""
    return text.replace("**", "").replace("__", "").strip()


def _thinking(reasoning: str) -> str:
    """The model's reasoning before its actions: inline when short, folded under its first line when long."""
    if len(reasoning) <= THINKING_FOLD_CHARS and "\n\n" not in reasoning:
        return f"💭 *Thinking:* {md_inline(reasoning, None)}\n"
    title = md_html_text(shorten(_plain(reasoning.lstrip().splitlines()[0]), 90))
    return f"<details><summary>💭 Thinking: {title}</summary>\n\n{md_prose(reasoning)}\n\n</details>\n"


def summary_text(summary: Mapping[str, Any] | str | None) -> str:
    """The finish summary as a labelled fenced block (free text, or the finish tool's fields as titled
    paragraphs): the Researcher's words can never read as the notebook's own."""
    text = account_text(dict(summary) if isinstance(summary, Mapping) else str(summary or "").strip())
    return f"**{ACCOUNT_LABEL}**\n\n{md_fence(text, 'text', 20_000)}"


class _Notebook:
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
        self.started_shown: set[int] = set()
        self.indices: set[int] = set()
        self.best_shown: Simulation | None = None
        self.commands_shown: set[str] = set()  # commands shown when they started (their runs follow)

    # -- events ------------------------------------------------------------------------------------

    def add(self, event: ev.Event) -> None:
        if isinstance(event, ev.SessionStarted) and event.resumed:
            self._resumed()
            return
        if self.end is not None and not isinstance(event, ev.ContextEnded):
            self._resumed()  # a resumed session written before session_start existed
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

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
            fenced = _fence(event.text, "markdown")
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
        summary = self._turn_summary(event)
        self.lines.append(f"\n### Turn {self.turn} · {md_inline(summary, 200)}\n")
        reasoning, text = event.reasoning.strip(), event.text.strip()
        if reasoning and reasoning != summary:
            self.lines.append(_thinking(reasoning))
        if text and text != summary:
            self.lines.append(f"{md_prose(text)}\n")
        for call in event.tool_calls:
            if call.name in (ev.BASH, ev.FINISH) or call.command is not None:
                continue  # shown with its result, or as the submission
            arguments = json.dumps(dict(call.arguments), indent=2, default=str)
            self.lines.append(f"Calls {md_code(call.name, 80)}:\n\n{_fence(arguments, 'json')}\n")

    def _turn_summary(self, event: ev.AssistantTurn) -> str:
        if event.text.strip():
            return _first_sentence(event.text)
        if event.reasoning.strip():  # its first line: a summary's bold heading, or its first sentence
            return _first_sentence(_plain(event.reasoning.lstrip().splitlines()[0]))
        for call in event.tool_calls:
            if call.command is not None:
                return f"runs: {shorten(call.command, 70)}"
            return f"calls {call.name or 'a tool'}"
        return "(empty turn)"

    def _on_command_started(self, event: ev.CommandStarted) -> None:
        self.commands_shown.add(event.id)
        self.lines.append(f"{_fence(event.command or '(unknown command)', 'bash')}\n")

    def _on_tool_result(self, event: ev.ToolResult) -> None:
        if event.name == ev.FINISH and not event.is_error:
            return  # the review it carries is shown as the Supervisor's block
        command = event.command or self.commands.get(event.id) or event.name or "(unknown command)"
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
        output = event.output
        lines = output.count("\n") + (1 if output else 0)
        if event.id not in self.commands_shown:
            self.lines.append(f"{_fence(command, 'bash')}\n")
        summary = f"{status} · {lines} line{'s' if lines != 1 else ''} of output"
        if event.output_path:
            summary += f" (full: {event.output_path})"
        self.lines.append(
            f"<details><summary>{md_html_text(summary, 400)}</summary>\n\n{_fence(_fold_output(output))}\n\n</details>\n"
        )

    def _index(self, index: int) -> int:
        """The simulation's number as the view folded it (an unreadable one is the next number)."""
        if index <= 0:
            index = max(self.indices, default=0) + 1
        self.indices.add(index)
        return index

    def _on_simulation_started(self, event: ev.SimulationStarted) -> None:
        index = self._index(event.index)
        sim = self.view.simulations.get(index)
        if sim is not None:
            self.started_shown.add(index)
            self._simulation(sim)

    def _on_simulation(self, event: ev.SimulationEnded) -> None:
        index = self._index(event.index)
        if index in self.started_shown:
            return  # shown where it started, with its outcome
        sim = self.view.simulations.get(index)
        if sim is not None:
            self._simulation(sim)

    def _simulation(self, sim: Simulation) -> None:
        metric = self.metric
        if not sim.is_claim:
            value = sim.value(metric)
            number = f" · {metric.name} {metric.format(value, 3)}" if value is not None else ""
            state = self._state(sim)
            self.lines.append(
                f"\n## 🧪 Simulation {sim.index} · experiment ({md_inline(sim.conditions_text(), 200)}){number}{state} · "
                "not ranked against claims\n"
            )
        elif not sim.ended or not sim.valid:
            self.lines.append(f"\n## 🧪 Simulation {sim.index} · claim{self._state(sim)}\n")
        else:
            best = self.view.best_claim(upto=sim.index)
            if best is sim and best is not self.best_shown:
                flag = " · ★ new best"
                self.best_shown = best
            else:
                shown = self.best_shown.claimed_score if self.best_shown else None
                flag = f" · best so far {metric.format(shown, 3)}"
            self.lines.append(
                f"\n## 🧪 Simulation {sim.index} · claimed {metric.format(sim.claimed_score, 3)}{flag}\n"
            )
        facts = [f"results {md_code(sim.result_dir, 200)}" if sim.result_dir else ""]
        if sim.snapshot:
            facts.append(f"snapshot {md_code(sim.snapshot[:10])}")
        if facts := [f for f in facts if f]:
            label = "Benchmark" if sim.is_claim else "Experiment"
            self.lines.append(f"> **{label}:** {' · '.join(facts)}\n")

    def _state(self, sim: Simulation) -> str:
        if not sim.ended:
            return " · still running" if self.view.live else " · no end recorded"
        if not sim.valid:
            return f" · invalid: {md_inline(shorten(sim.error or 'invalid run', 120), 120)}"
        return ""

    def _on_supervisor(self, event: ev.SupervisorSpoke) -> None:
        trigger = event.trigger or "?"
        title = md_inline(f"Supervisor ({trigger}{', ' + event.verdict if event.verdict else ''})", 80)
        if trigger == ev.FINISH:
            self.review_at = len(self.lines)  # the submission it reviews is shown before it
        text = event.text.strip()
        self.lines.append(f"\n### 🧭 {title}: {md_inline(_first_sentence(text, 80), 120)}\n")
        quoted = "\n".join(f"> {line}" if line else ">" for line in md_prose(text).splitlines())
        self.lines.append(f"{quoted}\n")

    def _on_format_error(self, event: ev.FormatError) -> None:
        self.lines.append(f"\n> ⚠️ **Format error:** {md_inline(shorten(event.detail, 300), 300)}\n")

    def _on_budget(self, event: ev.BudgetNote) -> None:
        self.lines.append(f"\n> ⏳ **Budget:** {md_inline(shorten(event.detail, 300), 300)}\n")

    def _on_error(self, event: ev.ErrorEvent) -> None:
        self.lines.append(f"\n> ❗ **Error:** {md_inline(shorten(event.detail, 300), 300)}\n")

    def _on_finish(self, event: ev.FinishCalled) -> None:
        state = {True: "accepted", False: "sent back"}.get(event.accepted, "submitted")  # type: ignore[arg-type]
        block = [f"\n## ✅ The Researcher submits ({state})\n", f"{summary_text(event.summary)}\n"]
        at = len(self.lines) if self.review_at is None else self.review_at
        self.lines[at:at] = block
        self.review_at = None

    def _on_context_end(self, event: ev.ContextEnded) -> None:
        self.end = event

    # -- closing sections --------------------------------------------------------------------------

    def finish(self) -> str:
        summary = self._summary_block()
        closing = self._final_design_block() if self.end else [self._unfinished_line()]
        return "\n".join([*self.header, "", *summary, *self.lines, *closing]).rstrip() + "\n"

    def _unfinished_line(self) -> str:
        status = self.run.status
        if self.run.live:
            return "\n_The context is still working._\n"
        if status in ("interrupted", "failed"):
            return f"\n_The run was {status} before this context ended; `glia resume` continues it._\n"
        return "\n_This context has no recorded end, and no process is working on its run._\n"

    def _summary_block(self) -> list[str]:
        view, metric = self.view, self.metric
        best = view.best_claim()
        best_text = f"{metric.format(best.claimed_score, 3)} (simulation {best.index})" if best else "—"
        status = md_inline(f"ended: {self.end.reason}" if self.end else view.status, 200)
        experiments = len(view.experiments())
        plural = "s" if experiments != 1 else ""
        sims = f"{len(view.simulations)}" + (f" ({experiments} experiment{plural})" if experiments else "")
        rows = [
            "| status | turns | simulations | best claim | trusted | cost |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {status} | {self.turn} | {sims} | {best_text} | {md_inline(view.verdict_text(3), 200)} | ${view.cost_usd:.2f} |",
        ]
        return [*rows, ""]

    def _final_design_block(self) -> list[str]:
        end = self.end
        assert end is not None
        view, metric = self.view, self.metric
        lines = ["\n## The final design\n", f"Ended because: **{md_inline(end.reason, 200)}**."]
        if end.final_snapshot:
            lines.append(f"Final snapshot {md_code(end.final_snapshot[:10])}.")
        lines += self._verdict_lines()
        gap = claim_gap(view)
        if gap is not None and gap.verdict is not None:
            lines.append(f"Best claim against trusted: {md_inline(gap.text(metric), 400)}.")
        changes = outside_changes(self.run.run_dir, view.index, end.final_snapshot, self.run.doc.design_files)
        if changes is not None and changes.changed:
            lines.append(
                "**⚠ Changed outside the design:** "
                + ", ".join(md_code(p, 200) for p in changes.changed)
                + " (its own measurements ran on that modified simulator; trusted evaluation uses the "
                "design file(s) alone)."
            )
        diff = _design_diff(self.ctx_dir / HISTORY_DIR, end.final_snapshot)
        if diff:
            lines.append(
                f"\n<details><summary>Diff from the template</summary>\n\n{_fence(diff, 'diff')}\n\n</details>\n"
            )
        return lines

    def _verdict_lines(self) -> list[str]:
        view, metric = self.view, self.metric
        best = view.best_verdict()
        lines = []
        if best is not None:
            lines.append(
                f"**Trusted score: {md_inline(best.describe(metric), 300)}** (re-evaluated by the evaluator)."
            )
        verdicts = view.verdicts
        problems = view.entry.evaluation_problems if view.entry else ()
        if not verdicts and not problems:
            if view.judged:
                lines.append("**Trusted verdict:** nothing to evaluate.")
            elif self.run.live:
                lines.append(
                    "**Trusted verdict:** not evaluated yet (designs are judged as the run goes on)."
                )
            else:
                lines.append(
                    "**Trusted verdict:** not evaluated (the run stopped first; `glia resume` judges it)."
                )
            return lines
        if best is None:
            lines.append(f"**Trusted verdict: {md_inline(view.verdict_text(3), 600)}**.")
        for verdict in verdicts:
            interval = verdict.interval
            ci = f" [{metric.format(interval[0], 3)}, {metric.format(interval[1], 3)}]" if interval else ""
            same = f" (same design as {verdict.entry.duplicate_of})" if verdict.entry.duplicate_of else ""
            described = f"{md_inline(verdict.describe(metric), 600)}{ci if verdict.valid else ''}{md_inline(same, 80)}"
            lines.append(f"- {md_inline(verdict.label, 40)} {md_code(verdict.entry.sha[:10])}: {described}")
        for problem in problems:
            lines.append(f"- not evaluated: {md_inline(problem, 600)}")
        return lines


def _design_diff(history_dir: Path, snapshot: str | None) -> str:
    """The diff of the final snapshot against the template commit (the history's first), capped."""
    if not snapshot or not (history_dir / "HEAD").is_file():
        return ""
    try:
        history = History(history_dir)
        diff = history.diff(history.first_commit(), snapshot)
    except (HistoryError, KeyError, OSError, ValueError):
        return ""
    lines = diff.splitlines()
    if len(lines) > DIFF_MAX_LINES:
        lines = [*lines[:DIFF_MAX_LINES], f"… [{len(lines) - DIFF_MAX_LINES} more lines]"]
    return "\n".join(lines)
