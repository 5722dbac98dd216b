"""Running one black-box method as a Glia run: the search, its record in run.json, then trusted judging.

A method run is shaped like a one-context run, so every reader of run folders works on it unchanged
(`glia runs`, `show`, `report`, the live view, `best/`): its folder is `ctx-1/` (transcript, candidate
records, designs, the history of every design that ran, command logs), its entry is context 1, its
progress points are on the run's timeline. What only a method has goes in run.json's `blackbox` section.
A resumed run continues the search where it stopped (or only the judging, if the search had ended).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import structlog

from glia.blackbox.host import MethodHost
from glia.blackbox.judging import judge_method
from glia.blackbox.session import MethodEnded, MethodSession
from glia.blackbox.settings import MethodSettings
from glia.blackbox.store import VALID, CandidateRecord, best_claim
from glia.record.outcome import INTERRUPTED, ContextOutcome, SnapshotRef
from glia.record.run import context_entry, now_iso, set_context
from glia.strategies.method_names import (
    DESCRIPTIONS,
    EOH,
    FUNSEARCH,
    LABELS,
    LLM4AD_METHODS,
    LOOP,
    OPENEVOLVE,
    SAMPLE,
)
from glia.workspace.base import WorkspaceDead

log = structlog.get_logger()


def run_method(host: MethodHost) -> ContextOutcome:
    """Search (or continue searching), record how it ended, then judge its designs; never leaves
    run.json without the method's end when the search ran."""
    entry = context_entry(host.record.snapshot(), 1)
    if entry.get("status") == "finished" and entry.get("outcome"):
        outcome = ContextOutcome.from_dict(entry["outcome"])
        if entry.get("judged"):
            return outcome
    else:
        outcome = _search(host, MethodSettings.from_mapping(host.settings))
        if outcome.interrupted:
            return outcome
    final = (host.record.snapshot().get("blackbox") or {}).get("final_candidate")
    judge_method(host, final)
    return outcome


def _search(host: MethodHost, settings: MethodSettings) -> ContextOutcome:
    resumed = bool(context_entry(host.record.snapshot(), 1).get("started"))
    host.record.update(lambda d: set_context(d, 1, status="running", started=now_iso()))
    host.emit(event="context_started", context=1, resumed=resumed)
    log.info("blackbox.started", method=host.strategy, resumed=resumed)
    session = MethodSession(host, settings)
    chosen: int | None = None
    facts: dict[str, Any] = {}
    error: str | None = None
    try:
        session.start()
        reason, chosen, facts = _search_of(host.strategy)(session)
    except MethodEnded as exc:
        reason, error = exc.reason, exc.detail
    except WorkspaceDead as exc:
        reason, error = (INTERRUPTED, None) if host.stop.is_set() else ("workspace_dead", str(exc))
    except Exception as exc:  # noqa: BLE001 - the run records the failure; its candidates stay on disk
        log.exception("blackbox.crashed", method=host.strategy)
        reason, error = "exception", _summary(exc)
    finally:
        session.close_sandbox()
    if host.stop.is_set():
        reason = INTERRUPTED
    try:
        return _record_end(host, session, reason, error, chosen, facts)
    finally:
        session.close_transcript()


Search = Callable[[MethodSession], tuple[str, int | None, dict[str, Any]]]


def _sample(session: MethodSession) -> tuple[str, int | None, dict[str, Any]]:
    from glia.blackbox.sample import run_sample

    return run_sample(session), None, {}


def _loop(session: MethodSession) -> tuple[str, int | None, dict[str, Any]]:
    from glia.blackbox.loop import run_loop

    return run_loop(session), None, {}


def _openevolve(session: MethodSession) -> tuple[str, int | None, dict[str, Any]]:
    from glia.blackbox.openevolve_method import run_openevolve

    return run_openevolve(session)


def _llm4ad(session: MethodSession) -> tuple[str, int | None, dict[str, Any]]:
    from glia.blackbox.llm4ad_method import run_llm4ad

    return run_llm4ad(session)


# Each method's search: how it ended, the candidate it chose (if it chooses one) and its own facts.
_SEARCHES: dict[str, Search] = {SAMPLE: _sample, LOOP: _loop, OPENEVOLVE: _openevolve, EOH: _llm4ad,
                                FUNSEARCH: _llm4ad}  # fmt: skip


def _search_of(method: str) -> Search:
    try:
        return _SEARCHES[method]
    except KeyError:
        raise ValueError(f"{method!r} is not a black-box method") from None


def _record_end(
    host: MethodHost,
    session: MethodSession,
    reason: str,
    error: str | None,
    chosen: int | None,
    facts: dict[str, Any],
) -> ContextOutcome:
    records = session.store.records()
    metric = host.task.metric
    best = best_claim(records, metric)
    final = next((r for r in records if r.n == chosen and r.status == VALID), None) or best
    snapshots = [
        SnapshotRef(r.sha, r.sim_index, r.claimed_score, r.status == VALID)
        for r in records
        if r.ran and r.sha
    ]
    outcome = ContextOutcome(
        index=1,
        end_reason=reason,
        steps=session.generations,
        simulations=session.bench.simulations,
        cost_usd=round(session.cost_usd, 6),
        tokens=session.tokens,
        final_sha=final.sha if final else None,
        snapshots=snapshots,
        best_claimed=_ref(best),
        finish_summary=_account(host, final, records),
        error=error,
    )
    session.events.context_ended(
        reason=reason,
        simulations=outcome.simulations,
        cost_usd=outcome.cost_usd,
        final_snapshot=outcome.final_sha,
        best_claimed=asdict(outcome.best_claimed) if outcome.best_claimed else None,
        result={**outcome.to_dict(), "candidates": len(records)},
    )
    section = {
        "method": host.strategy,
        "label": LABELS[host.strategy],
        "description": DESCRIPTIONS[host.strategy],
        "settings": session.settings.to_dict(),
        "generation_cap": session.cap,
        "counts": session.counts(),
        "final_candidate": final.n if final else None,
        "best_claimed_candidate": best.n if best else None,
        "cost_known": session.cost_known,
        "timings": session.timings.to_dict(),
        **({("llm4ad" if host.strategy in LLM4AD_METHODS else "openevolve"): facts} if facts else {}),
    }
    status = "interrupted" if reason == INTERRUPTED else "finished"

    def change(data: dict[str, Any]) -> None:
        set_context(
            data,
            1,
            status=status,
            ended=now_iso(),
            end_reason=reason,
            error=error,
            steps=outcome.steps,
            simulations=outcome.simulations,
            cost_usd=outcome.cost_usd,
            tokens=outcome.tokens,
            best_claimed=best.claimed_score if best else None,
            best_claimed_sha=best.sha if best else None,
            final_snapshot=outcome.final_sha,
            outcome=outcome.to_dict(),
        )
        earlier = data.get("blackbox") or {}
        timings = _add_timings(earlier.get("timings_total"), section["timings"])
        data["blackbox"] = {**earlier, **section, "timings_total": timings}
        usage = host.budget.usage()
        usage["minutes"] = round(usage["wall_time_s"] / 60.0, 3)
        data["usage"] = usage

    host.record.update(change)
    log.info("blackbox.ended", method=host.strategy, reason=reason, simulations=outcome.simulations,
             candidates=len(records), error=error)  # fmt: skip
    host.emit(event="context_ended", context=1, end_reason=reason, error=error)
    return outcome


def _ref(record: CandidateRecord | None) -> SnapshotRef | None:
    if record is None or record.sha is None:
        return None
    return SnapshotRef(record.sha, record.sim_index, record.claimed_score, record.status == VALID)


def _account(
    host: MethodHost, final: CandidateRecord | None, records: list[CandidateRecord]
) -> dict[str, Any]:
    """What `best/explanation.md` says about how the design was found (a method has no Researcher)."""
    account: dict[str, Any] = {"method": f"{LABELS[host.strategy]}: {DESCRIPTIONS[host.strategy]}."}
    if final is not None:
        account["design"] = final.idea or "The model stated no idea for this design; read its code."
        account["found"] = (
            f"Candidate {final.n} of {len(records)}, benchmarked as simulation {final.sim_index} of this run "
            f"with a claimed {host.task.metric.name} of {final.claimed_score:.4g} (the trusted score above is "
            "Glia's own)."
        )
    return account


def _add_timings(total: dict[str, float] | None, session: dict[str, float]) -> dict[str, float]:
    """Wall, model and benchmark time over every session of the run (a resume adds a session)."""
    total = dict(total or {})
    for key, value in session.items():
        total[key] = round(float(total.get(key, 0.0)) + float(value), 3)
    return total


def _summary(exc: BaseException, frames: int = 4) -> str:
    tb = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in tb)
    return f"{type(exc).__name__}: {exc} (at {where})" if where else f"{type(exc).__name__}: {exc}"
