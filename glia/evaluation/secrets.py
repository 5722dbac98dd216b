"""Secret seeds for trusted evaluation: drawn on the host, never seen by a design, kept for reproduction.

A workload may ask for N secret seeds (`seeds: 10` in the task file). They are HMAC-SHA256 values of
the task, workload and index under a key kept in the workspaces root (`.secrets/evaluation.key`,
readable by the user only; no sandbox ever sees it), cut to 63 bits. So every run and every
`glia bench` on this machine scores designs and baselines on the same workloads (comparisons are
paired, baselines can be cached), while a design can neither enumerate the seeds nor tell a held-out
workload by its seed. The design's own random seed (`{design_seed}`) is drawn the same way, separately,
so it says nothing about the workload. Every evaluation records the seeds it used.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from glia.task import Task

KEY_FILE = "evaluation.key"
KEY_BYTES = 32
SEED_MASK = (1 << 63) - 1


class SeedKey:
    """The machine's evaluation key (or any fixed key, in tests)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("an evaluation key needs at least 16 bytes")
        self._key = key

    @classmethod
    def load_or_create(cls, folder: Path) -> SeedKey:
        """The key in `folder/evaluation.key`, created (mode 0600) on first use."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / KEY_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = secrets.token_bytes(KEY_BYTES)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another glia process made it first: use theirs
                return cls(path.read_bytes())
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        return cls(data)

    def draw(self, *parts: str) -> int:
        message = "\x1f".join(parts).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") & SEED_MASK


@dataclass(frozen=True)
class SeedPlan:
    """The seeds one workload is simulated with: workload seeds and the design's own seeds, paired."""

    workload: str
    seeds: tuple[int, ...]
    design_seeds: tuple[int, ...]
    secret: bool


def plan_seeds(task: Task, key: SeedKey) -> dict[str, SeedPlan]:
    """Resolve every workload's seeds (secret counts are drawn; public lists are kept as they are)."""
    plans = {}
    for workload in task.evaluation.workloads:
        if isinstance(workload.seeds, int):
            seeds = tuple(
                key.draw(task.name, workload.name, "workload", str(i)) for i in range(workload.seeds)
            )
        else:
            seeds = workload.seeds
        design_seeds = tuple(
            key.draw(task.name, workload.name, "design", str(i), str(seed)) for i, seed in enumerate(seeds)
        )
        plans[workload.name] = SeedPlan(workload.name, seeds, design_seeds, workload.secret)
    return plans
