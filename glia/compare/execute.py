"""Running a comparison's plan: each entry an ordinary Glia run, resumed where it stopped.

Order: budget by budget, repeat by repeat, every method, so partial results always cover every method.
A run that ended for good is kept (finished, or failed because no design passed trusted evaluation: a
result, not an accident); an interrupted or crashed one is resumed with `resume_run`; a run that raises is
recorded with its error and the comparison goes on with the next (retried once per session). A Ctrl-C
stops the run in progress cleanly and ends the session: run the same command (or `glia compare --resume
ID`) to continue. With several runs at once (a cluster), the Ctrl-C reaches the main thread only: it
stops every run under way (each ends 'interrupted', its containers closed), starts no new one, and
waits for them; a second Ctrl-C cleans them all up at once and leaves.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import structlog

from glia.compare.plan import ComparePlan, Entry, load_state, save_state
from glia.orchestrator import RunNotResumable, execute_run, prepare_run, resume_run
from glia.orchestrator.interrupts import OFF_MAIN
from glia.record.run import UNKNOWN_STATUS, RunDoc
from glia.run_store import RunNotFound

log = structlog.get_logger()

Say = Callable[[str], None]
Watch = Callable[[Path], AbstractContextManager[Any]]


def run_plan(
    plan: ComparePlan,
    *,
    say: Say = print,
    watch: Watch | None = None,
    at_once: int = 1,
    **collaborators: Any,
) -> str:
    """Run every entry not finished yet; returns the comparison's status (finished / interrupted /
    incomplete). `collaborators` go to `execute_run` / `resume_run` (provider_factory, evaluator_factory,
    context_runner, container_cleanup: the CLI passes the checked provider factory, tests their fakes).
    `at_once` > 1 (a cluster: `glia.cluster.runs_at_once`) runs that many entries at the same time, in
    plan order, without `watch`; a Ctrl-C then stops the runs under way (interrupted: they resume next
    time) and starts no other."""
    folder = plan.folder
    state = load_state(folder)
    entries = plan.entries()
    lock = threading.Lock()  # the comparison's state, shared by the runs under way
    stopping = threading.Event()  # a Ctrl-C came: no entry starts any more

    def one(number: int, entry: Entry) -> str:
        if stopping.is_set():
            return "interrupted"
        with lock:
            state["runs"].setdefault(entry.run_id, {"method": entry.method, "budget": entry.budget,
                                                           "repeat": entry.repeat, "status": "pending", "error": None})  # fmt: skip
        run_dir = plan.workspaces_root / entry.run_id
        current = _run_status(run_dir)
        if completed(run_dir):
            _mark(folder, state, entry, current or "finished", None, lock)
            return "finished"
        head = f"[{number}/{len(entries)}] {plan.method(entry.method).label}, {entry.budget} simulations, repeat {entry.repeat}"
        say(f"{head}: {'resuming' if current else 'starting'} run {entry.run_id}")
        _mark(folder, state, entry, "running", None, lock)
        try:
            with watch(run_dir) if watch and at_once == 1 else contextlib.nullcontext():
                result_status = _run_one(plan, entry, run_dir, current, at_once == 1, **collaborators)
        except KeyboardInterrupt:
            _mark(folder, state, entry, "interrupted", None, lock)
            return "interrupted"
        except Exception as exc:  # noqa: BLE001 - one failed run must not end the comparison
            log.exception("compare.run_failed", run_id=entry.run_id)
            _mark(folder, state, entry, "failed", f"{type(exc).__name__}: {exc}", lock)
            say(f"{head}: failed: {type(exc).__name__}: {exc}")
            return "incomplete"
        _mark(folder, state, entry, result_status, None, lock)
        say(f"{head}: {result_status}{_best_text(run_dir)}")
        if result_status == "interrupted":
            return "interrupted"
        return "finished" if completed(run_dir) else "incomplete"

    status = "finished"
    if at_once <= 1:
        for number, entry in enumerate(entries, 1):
            outcome = one(number, entry)
            if outcome != "finished":
                status = outcome
            if outcome == "interrupted":
                break
    else:
        from glia.logging_setup import log_to_run

        log_to_run(folder)  # one log for the runs under way together (glia.log of the comparison)
        outcomes = _run_at_once(entries, one, at_once, stopping, say)
        status = next((o for o in ("interrupted", "incomplete") if o in outcomes), "finished")
    state["status"] = status
    save_state(folder, state)
    return status


def _run_at_once(
    entries: list[Entry], one: Callable[[int, Entry], str], at_once: int, stopping: threading.Event, say: Say
) -> list[str]:
    """Run `at_once` entries at a time. The runs under way have no signal handler of their own (not the
    main thread): a Ctrl-C here stops them through `OFF_MAIN` and waits for them to end interrupted."""
    OFF_MAIN.reset()
    pool = ThreadPoolExecutor(at_once, thread_name_prefix="glia-compare")
    futures = [pool.submit(one, number, entry) for number, entry in enumerate(entries, 1)]
    try:
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            stopping.set()
            for future in futures:
                future.cancel()  # not started yet: left pending for the next session
            runs = OFF_MAIN.stop_all()
            say(f"stopping the {runs} run(s) under way (Ctrl-C again quits at once)")
        try:
            return [future.result() if not future.cancelled() else "interrupted" for future in futures]
        except KeyboardInterrupt:  # the second: no waiting
            OFF_MAIN.clean_up_all()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        OFF_MAIN.reset()


def _run_one(
    plan: ComparePlan, entry: Entry, run_dir: Path, current: str | None, own_log: bool, **collaborators: Any
) -> str:
    from glia.logging_setup import log_to_run

    if current is None:
        run_dir = prepare_run(plan.run_config(entry))
        if own_log:
            log_to_run(run_dir)
        return execute_run(run_dir, **collaborators).status
    if own_log:
        log_to_run(run_dir)
    try:
        return resume_run(run_dir, **collaborators).status
    except RunNotResumable:
        return _run_status(run_dir) or "failed"


def completed(run_dir: Path) -> bool:
    """Whether the run has ended for good: finished, or failed only because no design passed trusted
    evaluation (a result of the comparison, not something to retry). A run that failed with an error
    (a crash) or was interrupted is resumed."""
    try:
        doc = RunDoc.read(run_dir)
    except RunNotFound:
        return False
    return doc.status == "finished" or (doc.status == "failed" and not doc.error)


def _run_status(run_dir: Path) -> str | None:
    """The status run.json records, or None when the run was never created."""
    try:
        doc = RunDoc.read(run_dir)
    except RunNotFound:
        return None
    return doc.status if doc.status != UNKNOWN_STATUS else "running"


def _mark(
    folder: Path, state: dict[str, Any], entry: Entry, status: str, error: str | None, lock: threading.Lock
) -> None:
    with lock:
        item = state["runs"][entry.run_id]
        item.update(status=status, error=error)
        if status == "running":
            item["attempts"] = int(item.get("attempts") or 0) + 1
        state["status"] = "running"
        save_state(folder, state)


def _best_text(run_dir: Path) -> str:
    try:
        doc = RunDoc.read(run_dir)
    except (RunNotFound, ValueError):
        return ""
    score = doc.best.score if doc.best is not None else None
    shown = f"best trusted {score:.4g}" if score is not None else "no trusted design"
    return f" ({shown}; {doc.usage.simulations} simulations, ${doc.usage.dollars:.2f})"
