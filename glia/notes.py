"""Research notes: a context's transcript rendered as a lab notebook in Markdown.

Called by the context loop while the run works, so rendering is a pure function of the transcript (and
run.json / evaluations when present): fast, idempotent, and it never raises on an odd event. A reader
who skims only the headings and the highlighted lines should still follow the research story.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from git import GitError, Repo

from glia.progress import (
    ContextState,
    as_number,
    best_context_evaluation,
    better,
    context_dirs,
    context_records,
    evaluation_score,
    iter_events,
    load_json,
    lower_is_better,
    shorten,
)

OUTPUT_FOLD_CHARS = 4000
DIFF_MAX_LINES = 400


def write_notes(ctx_dir: Path) -> Path:
    """Render ctx_dir/transcript.jsonl into ctx_dir/notes.md (atomically) and return the notes path."""
    ctx_dir = Path(ctx_dir)
    target = ctx_dir / "notes.md"
    try:
        text = render_notes(ctx_dir)
    except Exception as exc:  # notes must never take the run down
        text = f"# Research notes\n\n_Rendering failed: {type(exc).__name__}: {exc}_\n"
    tmp = target.with_name(f".notes.md.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


def write_run_notes(run_dir: Path) -> list[Path]:
    """Render every context's notes again, e.g. once trusted scores have landed after the contexts ended."""
    return [write_notes(ctx_dir) for ctx_dir in context_dirs(Path(run_dir))]


def render_notes(ctx_dir: Path) -> str:
    """The notes Markdown for one context folder."""
    run = load_json(ctx_dir.parent / "run.json")
    book = _Notebook(ctx_dir=ctx_dir, lower=lower_is_better(run))
    for event in iter_events(ctx_dir / "transcript.jsonl"):
        try:
            book.add(event)
        except Exception as exc:  # one odd event must not hide the rest
            book.lines.append(f"\n_(could not render a `{event.get('type')}` event: {exc})_\n")
    return book.finish()


def _fence(text: str, lang: str = "text") -> str:
    """A fenced block that survives backticks inside the text."""
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    if "```" in text:
        ticks = "`" * max(len(ticks), 4)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


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


def _summary_text(summary: Any) -> str:
    """The finish summary: free text, or the finish tool's fields as labelled paragraphs."""
    if isinstance(summary, dict):
        return "\n\n".join(f"**{str(k).replace('_', ' ').capitalize()}:** {v}" for k, v in summary.items())
    return str(summary or "").strip()


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


class _Notebook:
    """Accumulates Markdown while walking the events once."""

    def __init__(self, ctx_dir: Path, lower: bool) -> None:
        self.ctx_dir = ctx_dir
        self.lower = lower
        self.header: list[str] = [f"# Research notes · {ctx_dir.name}"]
        self.lines: list[str] = []
        self.turn = 0
        self.best: float | None = None
        self.best_index: int | None = None
        self.simulations = 0
        self.cost = 0.0
        self.commands: dict[str, str] = {}
        self.briefed = False
        self.end: dict[str, Any] | None = None
        self.finish_event: dict[str, Any] | None = None
        self.review_at: int | None = None  # where the latest finish review starts in `lines`
        self.snapshots: list[tuple[int, str]] = []

    # -- events ------------------------------------------------------------------------------------

    def add(self, event: dict[str, Any]) -> None:
        if self.end is not None and event.get("type") != "context_end":
            # The context stopped (e.g. Ctrl-C) and a resumed session carried on.
            self.lines.append(f"\n> ⏸ **Session stopped ({self.end.get('reason')}); resumed below.**\n")
            self.end = None
        handler = getattr(self, f"_on_{event.get('type')}", None)
        if handler is None:
            return
        handler(event)

    def _on_context_start(self, event: dict[str, Any]) -> None:
        facts = [
            ("run", event.get("run_id")),
            ("strategy", event.get("strategy")),
            ("researcher", event.get("researcher_model")),
            ("supervisor", event.get("supervisor_model")),
            ("task", event.get("task")),
            ("started", event.get("ts")),
        ]
        self.header.append(" · ".join(f"**{k}** {v}" for k, v in facts if v))

    def _on_user(self, event: dict[str, Any]) -> None:
        text = str(event.get("text") or "")
        if not self.briefed:
            self.briefed = True
            self.lines.append("\n## The brief\n")
            # Fenced, so the brief's own headings do not mix with the notebook's.
            fenced = _fence(text, "markdown")
            self.lines.append(
                f"<details><summary>Task given to the Researcher</summary>\n\n{fenced}\n\n</details>\n"
            )
        else:
            self.lines.append(f"\n> **Note to the Researcher:** {shorten(text, 600)}\n")

    def _on_assistant(self, event: dict[str, Any]) -> None:
        self.turn += 1
        reasoning = str(event.get("reasoning") or "").strip()
        text = str(event.get("text") or "").strip()
        calls = [c for c in event.get("tool_calls") or [] if isinstance(c, dict)]
        for call in calls:
            args = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
            if "command" in args:
                self.commands[str(call.get("id"))] = str(args["command"])
        summary = self._turn_summary(reasoning, text, calls)
        self.lines.append(f"\n### Turn {self.turn} · {summary}\n")
        if reasoning and reasoning != summary:
            self.lines.append(f"*Thinking:* {reasoning}\n")
        if text and text != summary:
            self.lines.append(f"{text}\n")
        for call in calls:
            args = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
            if call.get("name") in ("bash", "finish") or "command" in args:
                continue  # shown with its result, or as the submission
            self.lines.append(
                f"Calls `{call.get('name')}`:\n\n{_fence(json.dumps(args, indent=2), 'json')}\n"
            )

    def _turn_summary(self, reasoning: str, text: str, calls: list[dict[str, Any]]) -> str:
        if text or reasoning:
            return _first_sentence(text or reasoning)
        for call in calls:
            args = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
            if "command" in args:
                command = shorten(str(args["command"]), 70).replace("`", "'")
                return f"runs `{command}`"
            return f"calls {call.get('name')}"
        return "(empty turn)"

    def _on_model_call(self, event: dict[str, Any]) -> None:
        self.cost += as_number(event.get("cost_usd")) or 0.0

    def _on_tool_result(self, event: dict[str, Any]) -> None:
        if event.get("name") == "finish" and not event.get("is_error"):
            return  # the review it carries is shown as the Supervisor's block
        command = str(
            event.get("command")
            or self.commands.get(str(event.get("id")))
            or event.get("name")
            or "(unknown command)"
        )
        exit_code = event.get("exit_code")
        status = "timed out" if event.get("timed_out") else f"exit {exit_code}"
        duration = as_number(event.get("duration_s"))
        if duration is not None:
            status += f", {duration:.1f} s"
        output = str(event.get("output") or "")
        lines = output.count("\n") + (1 if output else 0)
        marker = (
            "❌ " if event.get("is_error") or event.get("timed_out") or exit_code not in (0, None) else ""
        )
        self.lines.append(f"{_fence(command, 'bash')}\n")
        summary = f"{marker}{status} · {lines} lines of output"
        if event.get("output_path"):
            summary += f" (full: `{event['output_path']}`)"
        self.lines.append(
            f"<details><summary>{summary}</summary>\n\n{_fence(_fold_output(output))}\n\n</details>\n"
        )

    def _on_simulation(self, event: dict[str, Any]) -> None:
        index = event.get("index")
        self.simulations = index if isinstance(index, int) and index > 0 else self.simulations + 1
        if isinstance(event.get("snapshot"), str):
            self.snapshots.append((self.simulations, event["snapshot"]))
        claimed = as_number(event.get("claimed_score"))
        valid = event.get("valid", True) is not False
        if not valid:
            reason = shorten(str(event.get("error") or "invalid run"), 120)
            self.lines.append(f"\n## 🧪 Simulation {self.simulations} · invalid: {reason}\n")
        elif event.get("design_run", True) is False:
            router = event.get("router") or "another router"
            self.lines.append(
                f"\n## 🧪 Simulation {self.simulations} · {router} (reference run) {_score(claimed)}\n"
            )
        else:
            record = valid and better(claimed, self.best, self.lower)
            if record:
                self.best, self.best_index = claimed, self.simulations
            flag = " · ★ new best" if record else f" · best so far {_score(self.best)}"
            self.lines.append(f"\n## 🧪 Simulation {self.simulations} · claimed {_score(claimed)}{flag}\n")
        facts = [f"results `{event.get('result_dir')}`" if event.get("result_dir") else ""]
        if event.get("snapshot"):
            facts.append(f"snapshot `{str(event['snapshot'])[:10]}`")
        if facts := [f for f in facts if f]:
            self.lines.append(f"> **Benchmark:** {' · '.join(facts)}\n")

    def _on_supervisor(self, event: dict[str, Any]) -> None:
        trigger = event.get("trigger") or "?"
        verdict = event.get("verdict")
        text = str(event.get("text") or "").strip()
        title = f"Supervisor ({trigger}{', ' + str(verdict) if verdict else ''})"
        if trigger == "finish":
            self.review_at = len(self.lines)  # the submission it reviews is shown before it
        self.lines.append(f"\n### 🧭 {title}: {_first_sentence(text, 80)}\n")
        quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
        self.lines.append(f"{quoted}\n")

    def _on_format_error(self, event: dict[str, Any]) -> None:
        self.lines.append(f"\n> ⚠️ **Format error:** {shorten(str(event.get('detail') or ''), 300)}\n")

    def _on_budget(self, event: dict[str, Any]) -> None:
        self.lines.append(f"\n> ⏳ **Budget:** {shorten(str(event.get('detail') or ''), 300)}\n")

    def _on_error(self, event: dict[str, Any]) -> None:
        self.lines.append(f"\n> ❗ **Error:** {shorten(str(event.get('detail') or ''), 300)}\n")

    def _on_finish(self, event: dict[str, Any]) -> None:
        self.finish_event = event
        accepted = event.get("accepted")
        state = {True: "accepted", False: "sent back"}.get(accepted, "submitted")
        block = [f"\n## ✅ The Researcher submits ({state})\n", f"{_summary_text(event.get('summary'))}\n"]
        at = len(self.lines) if self.review_at is None else self.review_at
        self.lines[at:at] = block
        self.review_at = None

    def _on_context_end(self, event: dict[str, Any]) -> None:
        self.end = event

    # -- closing sections --------------------------------------------------------------------------

    def finish(self) -> str:
        summary = self._summary_block()
        closing = self._final_design_block() if self.end else [self._unfinished_line()]
        return "\n".join([*self.header, "", *summary, *self.lines, *closing]).rstrip() + "\n"

    def _unfinished_line(self) -> str:
        status = load_json(self.ctx_dir.parent / "run.json").get("status")
        if status in ("interrupted", "failed"):
            return f"\n_The run was {status} before this context ended; `glia resume` continues it._\n"
        return "\n_The context is still working._\n"

    def _summary_block(self) -> list[str]:
        best = f"{_score(self.best)} (simulation {self.best_index})" if self.best is not None else "—"
        status = f"ended: {self.end.get('reason')}" if self.end else "running"
        rows = [
            "| status | turns | simulations | best claimed | cost |",
            "| --- | --- | --- | --- | --- |",
            f"| {status} | {self.turn} | {self.simulations} | {best} | ${self.cost:.2f} |",
        ]
        return [*rows, ""]

    def _final_design_block(self) -> list[str]:
        end = self.end or {}
        snapshot = end.get("final_snapshot")
        lines = ["\n## The final design\n"]
        lines.append(f"Ended because: **{end.get('reason', '?')}**.")
        if snapshot:
            lines.append(f"Final snapshot `{str(snapshot)[:10]}`.")
        trusted = self._trusted_score()
        lines.append(
            f"**Trusted score: {_score(trusted)}** (re-evaluated by the evaluator)."
            if trusted is not None
            else "Trusted score: not evaluated yet."
        )
        diff = _design_diff(self.ctx_dir / "repo", str(snapshot) if snapshot else None)
        if diff:
            lines.append(
                f"\n<details><summary>Diff from the template</summary>\n\n{_fence(diff, 'diff')}\n\n</details>\n"
            )
        return lines

    def _trusted_score(self) -> float | None:
        """The context's best trusted score: run.json's record of it, else its evaluation files."""
        state = ContextState(name=self.ctx_dir.name, lower_is_better=self.lower, snapshots=self.snapshots)
        run_dir = self.ctx_dir.parent
        for name, record in context_records(load_json(run_dir / "run.json")).items():
            if name == self.ctx_dir.name:
                for key in ("best_trusted", "trusted_score"):
                    if (score := as_number(record.get(key))) is not None:
                        return score
        best = best_context_evaluation(run_dir, state)
        return evaluation_score(best) if best else None


def _design_diff(repo: Path, snapshot: str | None) -> str:
    """The diff of the final snapshot against the template commit (the repository's first), capped."""
    if not snapshot or not (repo / ".git").exists():
        return ""
    try:
        git = Repo(repo).git
        root = git.rev_list("--max-parents=0", snapshot).split()[0]
        diff = git.diff(root, snapshot, "--", ".", ":(exclude)simulator_results")
    except (GitError, OSError, ValueError, IndexError):
        return ""
    lines = diff.splitlines()
    if len(lines) > DIFF_MAX_LINES:
        lines = [*lines[:DIFF_MAX_LINES], f"… [{len(lines) - DIFF_MAX_LINES} more lines]"]
    return "\n".join(lines)
