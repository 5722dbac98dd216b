"""What an honest account of a run must say besides the winner's score.

- `claim_gap`: per context, its best claim next to the trusted verdict on the same snapshot, so a context
  that reported a number its design cannot reach shows it;
- `outside_changes`: files a context changed outside the design (a claim measured with a modified
  simulator is not a claim about the design), and files it only added (its own analysis scripts: harmless);
- `statistical_tie`: whether the top two feasible designs are within each other's 90% intervals on the
  primary workload, so a choice between them is within noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from glia.metric import Metric
from glia.record.view import ContextView, RunView, Simulation, Verdict
from glia.workspace.history import HISTORY_DIR, History, HistoryError


@dataclass(frozen=True)
class ClaimGap:
    """A context's best claim and the trusted verdict on the design that made it."""

    context: int
    claim: Simulation
    verdict: Verdict | None

    def gap(self, metric: Metric) -> float | None:
        """How much worse the truth is than the claim, as a fraction of the claim (negative: better)."""
        if self.verdict is None or self.verdict.score is None or self.claim.claimed_score is None:
            return None
        gain = metric.improvement(self.verdict.score, self.claim.claimed_score)
        return None if gain is None else -gain

    def text(self, metric: Metric) -> str:
        claimed = metric.format(self.claim.claimed_score, 3)
        if self.verdict is None:
            return f"claimed {claimed} (simulation {self.claim.index}); this snapshot was not judged"
        if not self.verdict.valid:
            return f"claimed {claimed} (simulation {self.claim.index}); {self.verdict.describe(metric)}"
        gap = self.gap(metric)
        tail = "" if gap is None else f" ({_gap_words(gap)})"
        return f"claimed {claimed} (simulation {self.claim.index}), trusted {metric.format(self.verdict.score, 3)}{tail}"


def _gap_words(gap: float) -> str:
    if abs(gap) < 0.005:
        return "as claimed"
    return f"{abs(gap):.0%} {'worse' if gap > 0 else 'better'} than claimed"


def claim_gap(context: ContextView) -> ClaimGap | None:
    best = context.best_claim()
    if best is None:
        return None
    return ClaimGap(context.index, best, context.verdict_for(best.snapshot))


@dataclass(frozen=True)
class FileChanges:
    """Paths a snapshot differs from the template in, outside the design files."""

    changed: tuple[str, ...]  # modified or deleted files of the simulator
    added: tuple[str, ...]  # new files (analysis scripts, notes): harmless

    @property
    def any(self) -> bool:
        return bool(self.changed)


def outside_changes(
    run_dir: Path, context: int, sha: str | None, design_files: Sequence[str]
) -> FileChanges | None:
    """What the snapshot `sha` of context `context` changed beside the design; None when unreadable."""
    history_dir = Path(run_dir) / f"ctx-{context}" / HISTORY_DIR
    if not sha or not (history_dir / "HEAD").is_file():
        return None
    try:
        history = History(history_dir)
        base = history.first_commit()
        paths = [p for p in history.changed_paths(base, sha) if p not in set(design_files)]
        in_template = {p: _exists(history, base, p) for p in paths}
    except (HistoryError, KeyError, OSError, ValueError):
        return None
    changed = tuple(p for p in paths if in_template[p])
    added = tuple(p for p in paths if not in_template[p])
    return FileChanges(changed, added)


def _exists(history: History, sha: str, relpath: str) -> bool:
    try:
        history.read_file(sha, relpath)
    except KeyError:
        return False
    return True


@dataclass(frozen=True)
class Tie:
    """The top two feasible designs, whose 90% intervals on the primary workload overlap."""

    first: tuple[int, Verdict]
    second: tuple[int, Verdict]

    def text(self, metric: Metric) -> str:
        (k1, a), (k2, b) = self.first, self.second
        return (
            f"Statistical tie: the chosen design (ctx-{k1}, {_with_interval(a, metric)}) and the runner-up "
            f"(ctx-{k2}, {_with_interval(b, metric)}) have overlapping 90% intervals on the primary "
            "workload; the difference between them is within the noise of the evaluation."
        )


def _with_interval(verdict: Verdict, metric: Metric) -> str:
    interval = verdict.interval
    score = metric.format(verdict.score, 3)
    if interval is None:
        return score
    return f"{score} [{metric.format(interval[0], 3)}, {metric.format(interval[1], 3)}]"


def statistical_tie(run: RunView) -> Tie | None:
    """The tie between the top two distinct feasible designs, or None (fewer than two, or apart)."""
    seen: set[str] = set()
    designs: list[tuple[int, Verdict]] = []
    for context in run.contexts:
        for verdict in context.verdicts:
            key = verdict.entry.design_hash or f"{context.index}:{verdict.entry.sha}"
            if not verdict.valid or not verdict.entry.feasible or key in seen:
                continue
            seen.add(key)
            designs.append((context.index, verdict))
    if len(designs) < 2:
        return None
    ranked: list[tuple[int, Verdict]] = []
    pool = list(designs)
    for _ in range(2):
        top = run.metric.best(pool, score=lambda item: item[1].score)
        assert top is not None
        ranked.append(top)
        pool.remove(top)
    (_, a), (_, b) = ranked
    if a.interval is None or b.interval is None:
        return None
    overlap = a.interval[0] <= b.interval[1] and b.interval[0] <= a.interval[1]
    return Tie(ranked[0], ranked[1]) if overlap else None
