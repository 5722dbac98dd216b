"""Trusted re-evaluation of a black-box method's designs: the only scores the comparison ranks by.

Each design that improved the method's best claim (the points of the Fig. 7 curve) and the method's
final choice are scored by the run's trusted evaluator, which runs the design text in a sandbox of its
own on the secret workloads. The same text is never evaluated twice; evaluations already on disk (a
resumed run) are kept. Results go where a context's go (`evaluations/ctx1-<label>.json`, the context
entry's `trusted` list, the run's timeline), and into the run's judge, which picks `best/`.
"""

from __future__ import annotations

from typing import Any

import structlog

from glia.blackbox.host import MethodHost
from glia.blackbox.store import CandidateRecord, CandidateStore, improvements
from glia.evaluation import Evaluation, select_best
from glia.evaluation.trusted import FINAL, TrustedVerdict, load_evaluation, save_evaluation
from glia.record.run import TRUSTED, TimelinePoint, add_timeline, context_entry, set_context
from glia.run_store import context_dir

log = structlog.get_logger()


def judging_targets(
    records: list[CandidateRecord], metric: Any, final: int | None
) -> list[tuple[str, CandidateRecord]]:
    """(label, candidate) to evaluate: every improvement of the best claim, then the final choice."""
    targets = [(f"improved-{r.n}", r) for r in improvements(records, metric)]
    chosen = next((r for r in records if r.n == final), None)
    if chosen is not None and chosen.design_hash and chosen.sha:
        targets.append((FINAL, chosen))
    return targets


def judge_method(host: MethodHost, final: int | None) -> bool:
    """Evaluate what is not evaluated yet; True when every target has its verdict (False: stopped)."""
    run_dir = host.run_dir
    store = CandidateStore(context_dir(run_dir, 1))
    records = store.records()
    entry = context_entry(host.record.snapshot(), 1)
    done: dict[str, TrustedVerdict] = {}
    for item in entry.get("trusted") or []:
        try:
            verdict = load_evaluation(run_dir / item["file"])
        except (OSError, ValueError, KeyError):
            continue  # evaluated again below
        done[verdict.label] = verdict
    by_hash = {c.design_hash: c for c in done.values()}
    problems: list[str] = list(entry.get("evaluation_problems") or [])
    for label, record in judging_targets(records, host.task.metric, final):
        if label in done:
            continue
        if host.stop.is_set():
            return False
        if record.design_hash is None or record.sha is None:
            problems.append(f"ctx1-{label}: candidate {record.n} has no design to evaluate")
            continue
        earlier = by_hash.get(record.design_hash)
        if earlier is not None:
            evaluation, duplicate_of = earlier.evaluation, earlier.name
        else:
            evaluation, duplicate_of = (
                _evaluate(host, store.design(record.design_hash), f"ctx1-{label}"),
                None,
            )
        verdict = TrustedVerdict(
            1, label, record.sha, record.sim_index, record.design_hash, evaluation, duplicate_of
        )
        save_evaluation(run_dir, verdict)
        host.judge.restore([verdict])
        done[label] = verdict
        by_hash.setdefault(record.design_hash, verdict)
        _record(host, verdict, record, list(done.values()), problems)
        host.emit(event="evaluation", context=1, label=label, valid=evaluation.valid, score=evaluation.score)
    host.record.update(lambda d: set_context(d, 1, judged=True, evaluation_problems=problems))
    return True


def _evaluate(host: MethodHost, files: dict[str, str], name: str) -> Evaluation:
    log.info("evaluation.start", context=1, label=name)
    try:
        evaluation = host.judge.evaluator.evaluate_design(files, label=name)
    except Exception as exc:  # an evaluator crash marks this design invalid, not the whole run
        log.exception("evaluation.crashed", label=name)
        evaluation = Evaluation.invalid(name, f"evaluation crashed: {type(exc).__name__}: {exc}")
    log.info(
        "evaluation.done",
        label=name,
        valid=evaluation.valid,
        score=evaluation.score,
        reason=evaluation.reason,
    )
    return evaluation


def _record(
    host: MethodHost,
    verdict: TrustedVerdict,
    record: CandidateRecord,
    judged: list[TrustedVerdict],
    problems: list[str],
) -> None:
    best = select_best([c.evaluation for c in judged], host.task.metric)
    point = TimelinePoint(record.run_total, 1, TRUSTED, verdict.evaluation.score, sha=verdict.sha,
                          label=verdict.label, valid=verdict.evaluation.valid)  # fmt: skip

    def change(data: dict[str, Any]) -> None:
        entry = context_entry(data, 1)
        trusted = [t for t in entry.get("trusted") or [] if t.get("label") != verdict.label]
        entry["trusted"] = [*trusted, verdict.summary(host.run_dir)]
        entry["best_trusted"] = best.score if best is not None else None
        entry["evaluation_problems"] = list(problems)
        if verdict.duplicate_of is None:
            add_timeline(data, [point])

    host.record.update(change)
