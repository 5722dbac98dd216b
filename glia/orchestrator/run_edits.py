"""Every change the orchestrator makes to run.json, one named method each, so that no caller edits the
raw dictionary (the layout is `glia.record.run`'s; the lock and the atomic write are `RunRecord`'s)."""

from __future__ import annotations

import os
import socket
from typing import Any

from glia.budget import Budget
from glia.record.outcome import ContextOutcome
from glia.record.run import TimelinePoint, add_timeline, context_entry, now_iso, pending_context, set_context
from glia.run_store import RunRecord


class RunEdits:
    """Typed writes of one run's run.json; `usage` reads the budget's totals as run.json stores them."""

    def __init__(self, record: RunRecord, budget: Budget) -> None:
        self.record = record
        self._budget = budget

    def usage(self) -> dict[str, Any]:
        usage = self._budget.usage()
        usage["minutes"] = round(usage["wall_time_s"] / 60.0, 3)
        return usage

    # -- the session ------------------------------------------------------------------------------

    def open_session(self, resuming: bool) -> None:
        def change(data: dict[str, Any]) -> None:
            data["status"] = "running"
            data["ended"] = None
            data["error"] = None
            data.setdefault("sessions", []).append(
                {"started": now_iso(), "resumed": resuming, "pid": os.getpid(), "host": socket.gethostname()}
            )

        self.record.update(change)

    def close_session(self, status: str, error: str | None = None) -> None:
        """End the session with `status` (a failed one with `error`, the exception that ended it)."""
        self.record.update(lambda data: self._close(data, status, error))

    def try_close_session(self, status: str, timeout_s: float) -> bool:
        """As `close_session`, giving up after `timeout_s` if another thread holds run.json (a second Ctrl-C)."""
        return self.record.try_update(lambda data: self._close(data, status, None), timeout_s=timeout_s)

    def _close(self, data: dict[str, Any], status: str, error: str | None) -> None:
        data["status"] = status
        data["ended"] = now_iso()
        data["usage"] = self.usage()
        data["budget_exhausted"] = self._budget.exhausted()
        notes = [note for note in data.get("notes", []) if note not in self._budget.notes()]
        data["notes"] = notes + self._budget.notes()
        data.pop("no_best_reason", None)
        if data.get("best") is None:
            failed = [why_no_design(c) for c in data.get("contexts", []) if c.get("status") != "pending"]
            data["no_best_reason"] = (
                "no context produced a design that passed trusted evaluation" + (": " + "; ".join(failed))
                if failed
                else "no context ran"
            )
            if status == "failed" and not data.get("error"):
                data["error"] = data["no_best_reason"]
        if error is not None:
            data["error"] = error

    # -- run-wide facts ---------------------------------------------------------------------------

    def set_baselines(self, summary: dict[str, dict[str, Any]]) -> None:
        self._set("baselines", summary)

    def set_best(self, summary: dict[str, Any]) -> None:
        self._set("best", summary)

    def save_usage(self) -> None:
        self.record.update(lambda data: data.__setitem__("usage", self.usage()))

    def set_live_judging(self, limit: int, used: int) -> None:
        self._set("live_judging", {"limit": limit, "used": used})

    def launch_context(self) -> int:
        """Add the next context, pending, and return its index."""
        added: list[int] = []

        def change(data: dict[str, Any]) -> None:
            added.append(len(data["contexts"]) + 1)
            data["contexts"].append(pending_context(added[0]))

        self.record.update(change)
        return added[0]

    def stop_launching(self, reason: str) -> None:
        self._set("stopped_launching", reason)

    def _set(self, key: str, value: Any) -> None:
        self.record.update(lambda data: data.__setitem__(key, value))

    # -- one context ------------------------------------------------------------------------------

    def place_context(self, index: int, where: dict[str, Any]) -> None:
        self.record.update(lambda data: set_context(data, index, node=dict(where)))

    def context_started(self, index: int) -> None:
        self.record.update(
            lambda data: set_context(
                data, index, status="running", started=now_iso(), end_reason=None, error=None
            )
        )

    def simulation(self, index: int, run_total: int) -> None:
        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, index)
            entry.setdefault("run_totals", []).append(run_total)
            entry["simulations"] = len(entry["run_totals"])
            data["usage"] = self.usage()

        self.record.update(change)

    def context_ended(self, outcome: ContextOutcome, claimed: list[TimelinePoint]) -> None:
        status = "interrupted" if outcome.interrupted else "finished"

        def change(data: dict[str, Any]) -> None:
            set_context(
                data,
                outcome.index,
                status=status,
                ended=now_iso(),
                end_reason=outcome.end_reason,
                error=outcome.error,
                steps=outcome.steps,
                simulations=outcome.simulations,
                cost_usd=outcome.cost_usd,
                tokens=outcome.tokens,
                best_claimed=outcome.best_claimed.claimed_score if outcome.best_claimed else None,
                best_claimed_sha=outcome.best_claimed.sha if outcome.best_claimed else None,
                final_snapshot=outcome.final_sha,
                outcome=outcome.to_dict(),
            )
            add_timeline(data, claimed)
            data["usage"] = self.usage()

        self.record.update(change)

    def context_judged(
        self,
        index: int,
        verdicts: list[dict[str, Any]],
        best_trusted: float | None,
        problems: list[str],
        points: list[TimelinePoint],
    ) -> None:
        """The final judging of a context: its verdicts merged with the live ones, its curve points."""

        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, index)
            set_context(
                data,
                index,
                judged=True,
                trusted=merge_trusted(entry.get("trusted"), verdicts),
                best_trusted=best_trusted,
                evaluation_problems=merge_problems(entry.get("evaluation_problems"), problems),
            )
            add_timeline(data, points)

        self.record.update(change)

    def live_verdict(
        self,
        index: int,
        verdict: dict[str, Any],
        best_trusted: float | None,
        live_judging: tuple[int, int],
        point: TimelinePoint | None,
    ) -> None:
        """A verdict of the live judge: the context's verdicts, the judge's counter, a curve point."""
        limit, used = live_judging

        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, index)
            entry["trusted"] = merge_trusted(entry.get("trusted"), [verdict])
            entry["best_trusted"] = best_trusted
            data["live_judging"] = {"limit": limit, "used": used}
            if point is not None:
                add_timeline(data, [point])

        self.record.update(change)

    def evaluation_problem(self, index: int, problem: str) -> None:
        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, index)
            entry["evaluation_problems"] = merge_problems(entry.get("evaluation_problems"), [problem])

        self.record.update(change)


def why_no_design(entry: dict[str, Any]) -> str:
    """One context's part of a failed run's reason: how it ended and what trusted evaluation said."""
    text = f"ctx-{entry['context']}: {entry.get('end_reason') or entry.get('status')}"
    if entry.get("error"):
        text += f" ({entry['error']})"
    rejected = [t for t in entry.get("trusted") or [] if not t.get("valid")]
    if rejected:
        text += "; its design was rejected: " + str(rejected[-1].get("reason") or "no reason given")
    elif entry.get("evaluation_problems"):
        text += "; " + str(entry["evaluation_problems"][0])
    return text


def merge_trusted(existing: Any, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A context's verdicts: earlier ones (e.g. the live judge's) kept, a label judged again replaced."""
    labels = {item["label"] for item in new}
    kept = [item for item in existing or [] if isinstance(item, dict) and item.get("label") not in labels]
    return [*kept, *new]


def merge_problems(existing: Any, new: list[str]) -> list[str]:
    return list(dict.fromkeys([*(existing or []), *new]))
