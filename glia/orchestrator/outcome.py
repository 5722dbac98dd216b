"""How a context ended, in the shape the orchestrator needs, whatever `run_context` returned or raised.

`run_context` promises not to raise, but a bug or a dead dependency can still throw; wrapping the result
here lets one failing context end with a reason while the others carry on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SnapshotRef:
    """A design snapshot a context made: its commit, when it was made, and what the context claimed."""

    sha: str
    sim_index: int | None
    claimed_score: float | None
    valid: bool


@dataclass
class ContextOutcome:
    index: int
    end_reason: str
    steps: int = 0
    simulations: int = 0
    cost_usd: float | None = 0.0
    tokens: int = 0
    final_sha: str | None = None
    snapshots: list[SnapshotRef] = field(default_factory=list)
    best_claimed: SnapshotRef | None = None  # the snapshot the context itself called its best
    finish_summary: dict[str, Any] | None = None
    error: str | None = None
    result: dict[str, Any] | None = None  # the ContextResult as a dict, kept in run.json

    @classmethod
    def from_result(cls, index: int, result: Any) -> ContextOutcome:
        """Read a `glia.context.ContextResult` (attributes, not its class, so fakes work too)."""
        snapshots = [_snapshot(snap) for snap in (getattr(result, "snapshots", None) or [])]
        claimed = getattr(result, "best_claimed", None)
        to_dict = getattr(result, "to_dict", None)
        return cls(
            index=index,
            end_reason=str(getattr(result, "end_reason", None) or "unknown"),
            steps=int(getattr(result, "steps", 0) or 0),
            simulations=int(getattr(result, "simulations", 0) or 0),
            cost_usd=getattr(result, "cost_usd", None),
            tokens=_as_token_count(getattr(result, "tokens", 0)),
            final_sha=getattr(result, "final_sha", None),
            snapshots=snapshots,
            best_claimed=_snapshot(claimed) if claimed is not None else None,
            finish_summary=getattr(result, "finish_summary", None),
            error=getattr(result, "error", None),
            result=to_dict() if callable(to_dict) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """For run.json, so a resumed run can still evaluate a context that ended before the stop."""
        data = asdict(self)
        data.pop("result")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContextOutcome:
        snapshots = [SnapshotRef(**snap) for snap in data.get("snapshots", [])]
        claimed = data.get("best_claimed")
        best_claimed = SnapshotRef(**claimed) if claimed else None
        return cls(**{**data, "snapshots": snapshots, "best_claimed": best_claimed})

    @property
    def interrupted(self) -> bool:
        return self.end_reason == "interrupted"

    @classmethod
    def crashed(cls, index: int, exc: BaseException) -> ContextOutcome:
        """The context's runner raised: the context ends with 'error' and the exception as its reason."""
        return cls(index=index, end_reason="error", error=f"{type(exc).__name__}: {exc}")

    def best_claimed_snapshot(self, direction: str) -> SnapshotRef | None:
        """The snapshot the context named as its best, else the valid one with the best claimed score."""
        if self.best_claimed is not None:
            return self.best_claimed
        best: SnapshotRef | None = None
        for snap in self.snapshots:
            if not snap.valid or snap.claimed_score is None:
                continue
            if best is None or _better(snap.claimed_score, best.claimed_score, direction):
                best = snap
        return best

    def sim_index_of(self, sha: str) -> int | None:
        for snap in self.snapshots:
            if snap.sha == sha:
                return snap.sim_index
        return None


def _snapshot(item: Any) -> SnapshotRef:
    """A Snapshot of glia.context (or a dict of one) as a SnapshotRef."""
    return SnapshotRef(
        sha=str(_field(item, "sha")),
        sim_index=_field(item, "sim_index"),
        claimed_score=_field(item, "claimed_score"),
        valid=bool(_field(item, "valid", True)),
    )


def _field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def _as_token_count(tokens: Any) -> int:
    """ContextResult.tokens may be a count or a usage mapping; the budget wants one number."""
    if isinstance(tokens, int | float):
        return int(tokens)
    if isinstance(tokens, dict):
        if isinstance(tokens.get("total"), int | float):
            return int(tokens["total"])
        return int((tokens.get("input_tokens") or 0) + (tokens.get("output_tokens") or 0))
    return 0


def _better(a: float, b: float | None, direction: str) -> bool:
    if b is None:
        return True
    return a < b if direction == "minimize" else a > b
