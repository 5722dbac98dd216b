"""The trusted curve, drawn as the run goes (the paper's Fig. 7): each design that improved its context's
best claim is evaluated by the trusted evaluator while the contexts keep working.

A background thread follows the contexts' transcripts. When a claim (a benchmark run of the design
under the task's conditions) ends valid and becomes its context's best claim (the metric decides, feasible
claims first), the snapshot taken when that simulation started is queued; the thread evaluates the queue
one design at a time (the judge serialises evaluations with the contexts' final ones) and records each
verdict with the run's simulation count when the design ran. At most `limit` evaluations per run (over
every session of it): past that, only the final judging of each context happens. Designs already judged
(the same snapshot or the same text) are skipped.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from glia.evaluation.trusted import TrustedJudge, TrustedVerdict
from glia.metric import Metric
from glia.record import events as ev
from glia.record.transcript import TRANSCRIPT_FILE, TranscriptFollower
from glia.record.view import ContextView

log = structlog.get_logger()

POLL_S = 0.5


@dataclass(frozen=True)
class Improvement:
    """A claim that set its context's best: the design to judge."""

    context: int
    sim_index: int
    sha: str
    run_total: int | None

    @property
    def label(self) -> str:
        return f"sim{self.sim_index}"


class LiveJudge:
    """Follows the contexts it is told about and judges their improving designs, within `limit`."""

    def __init__(
        self,
        judge: TrustedJudge,
        run_dir: Path,
        metric: Metric,
        limit: int,
        used: int,
        on_verdict: Callable[[TrustedVerdict], None],
        on_problem: Callable[[int, str], None],
        poll_s: float = POLL_S,
    ) -> None:
        self.judge = judge
        self.run_dir = Path(run_dir)
        self.metric = metric
        self.limit = max(0, limit)
        self.used = used
        self._on_verdict = on_verdict
        self._on_problem = on_problem
        self._poll_s = poll_s
        self._lock = threading.Lock()  # the followers, the queue and the reservations
        self._reserved = 0  # evaluations under way (counted against the limit until they are done)
        self._followers: dict[int, tuple[TranscriptFollower, ContextView]] = {}
        self._queue: deque[Improvement] = deque()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._draining = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="glia-live-judge", daemon=True)
        self._thread.start()

    def follow(self, context: int) -> None:
        """Watch context `context`'s transcript from its beginning (a resumed context's past included)."""
        with self._lock:
            if context not in self._followers:
                path = self.run_dir / f"ctx-{context}" / TRANSCRIPT_FILE
                self._followers[context] = (TranscriptFollower(path), ContextView(context, self.metric))
        self._wake.set()

    def settle(self, context: int) -> None:
        """Judge a context's pending improvements now, in the caller's thread: the context has ended and
        its final judging comes next, so the curve keeps the labels of the simulations that made it."""
        if not self.enabled:
            return
        while (item := self._next(context)) is not None:
            self._evaluate(item)

    def drain(self) -> None:
        """Judge what is still queued (within the limit), then stop: the contexts have all ended."""
        if self._thread is None:
            return
        self._draining.set()
        self._wake.set()
        self._thread.join()
        self._thread = None

    def close(self) -> None:
        """Stop now (the run was interrupted): an evaluation under way finishes, the queue is dropped."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # -- the thread --------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._closing.is_set():
            item = self._next()
            if item is not None:
                self._evaluate(item)
                continue
            if self._draining.is_set():
                return
            self._wake.wait(self._poll_s)
            self._wake.clear()

    def _scan(self) -> None:
        """Read what the transcripts gained; queue each claim that became its context's best. Under
        `_lock`: the thread and `settle` both scan."""
        for context, (follower, view) in self._followers.items():
            for raw in follower.new_events():
                event = ev.parse_event(raw)
                before = view.best_claim()
                view.apply(event)
                if not isinstance(event, ev.SimulationEnded):
                    continue
                after = view.best_claim()
                if (
                    after is not None
                    and after is not before
                    and after.index == event.index
                    and after.snapshot
                ):
                    self._queue.append(Improvement(context, after.index, after.snapshot, after.run_total))

    def _next(self, context: int | None = None) -> Improvement | None:
        """The next design to judge (of `context` only, when given), or None; reserves a slot of the
        limit for it, so the thread and `settle` never run more evaluations than allowed."""
        with self._lock:
            self._scan()
            while True:
                if self.used + self._reserved >= self.limit:
                    self._queue.clear()
                    return None
                item = next((i for i in self._queue if context is None or i.context == context), None)
                if item is None:
                    return None
                self._queue.remove(item)
                if not self.judge.knows(item.sha, self.judge.design_hash_at(item.context, item.sha)):
                    self._reserved += 1
                    return item

    def _evaluate(self, item: Improvement) -> None:
        try:
            self._judge_one(item)
        finally:
            with self._lock:
                self._reserved -= 1

    def _judge_one(self, item: Improvement) -> None:
        try:
            verdict, problem = self.judge.judge_snapshot(
                item.context, item.label, item.sha, item.sim_index, item.run_total
            )
        except Exception as exc:  # noqa: BLE001 - a live evaluation must never end the run
            log.exception("live_judge.failed", context=item.context, label=item.label)
            self._on_problem(item.context, f"ctx{item.context}-{item.label}: {type(exc).__name__}: {exc}")
            return
        if verdict is None:
            if problem:
                self._on_problem(item.context, problem)
            return
        if verdict.duplicate_of is None:
            with self._lock:
                self.used += 1
        self._on_verdict(verdict)
