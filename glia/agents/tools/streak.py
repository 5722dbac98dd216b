"""Counting consecutive failures (malformed replies, timed-out commands) that end a context."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Streak:
    """Counts consecutive failures of one kind; reaching `limit` ends the context."""

    limit: int
    count: int = 0

    def hit(self) -> bool:
        """Record one failure; True when the limit is reached."""
        self.count += 1
        return self.reached()

    def reset(self) -> None:
        self.count = 0

    def reached(self) -> bool:
        return self.limit > 0 and self.count >= self.limit
