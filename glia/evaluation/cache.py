"""On-disk cache of baseline evaluations, keyed by everything that could change their result.

Baselines cost dozens of simulations; they depend only on the simulator template's files, the evaluation
spec, the metric and the seeds, so one hash of all of them names a cached result that stays valid until
any of them changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from glia.evaluation.results import Evaluation
from glia.evaluation.secrets import SeedPlan
from glia.task import Task
from glia.workspace.tree import tree_from_folder

IGNORED = (".git", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")


def tree_fingerprint(folder: Path, excludes: tuple[str, ...] = IGNORED) -> str:
    """sha256 over a source tree's file paths, modes and contents (outputs and caches left out)."""
    digest = hashlib.sha256()
    for relpath, entry in tree_from_folder(folder, excludes=excludes).items():
        digest.update(relpath.encode() + b"\0" + oct(entry.mode).encode() + b"\0")
        digest.update(hashlib.sha256(entry.data).digest())
    return digest.hexdigest()


def baseline_key(task: Task, plans: Mapping[str, SeedPlan]) -> str:
    """sha256 over the template, the evaluation spec, the metric, the seeds and baseline files."""
    spec = task.evaluation
    digest = hashlib.sha256(tree_fingerprint(task.simulator, (*IGNORED, task.results_dir)).encode())
    described = {
        "command": spec.command,
        "time_limit_s": spec.time_limit_s,
        "workloads": [
            {"name": w.name, "params": dict(w.params), "heldout": w.heldout} for w in spec.workloads
        ],
        "per_request": asdict(spec.per_request) if spec.per_request else None,
        "metric": task.metric.to_dict(),
        "seeds": {name: [list(p.seeds), list(p.design_seeds)] for name, p in plans.items()},
        "files": {
            b.name: hashlib.sha256(b.file.read_bytes()).hexdigest()
            for b in spec.baseline_designs
            if b.file is not None
        },
        "design_files": list(task.design_files),
        "design_name": task.design.name,
        "design_host": task.design.host,
    }
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class BaselineCache:
    """Evaluations of baselines stored as `baseline-<name>-<key>.json` in one folder."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder, self.key = folder, key

    def _path(self, name: str) -> Path:
        return self.folder / f"baseline-{name}-{self.key[:20]}.json"

    def get(self, name: str) -> Evaluation | None:
        path = self._path(name)
        if not path.is_file():
            return None
        try:
            return Evaluation.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError):
            return None  # a damaged or older cache file is recomputed, not trusted

    def put(self, name: str, evaluation: Evaluation) -> None:
        """Store atomically (write then rename) so a crash never leaves half a file behind."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        partial = path.with_suffix(".json.part")
        partial.write_text(json.dumps(evaluation.to_dict(), indent=2))
        partial.replace(path)
