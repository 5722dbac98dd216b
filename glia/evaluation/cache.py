"""On-disk cache of baseline evaluations, keyed by everything that could change their result.

Baselines cost dozens of simulations; they depend only on the simulator template's files and on the
evaluation spec, so one hash of both names a cached result that stays valid until either changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from glia.evaluation.results import Evaluation
from glia.task import EvalSpec

# Folders and files of a template that are outputs or caches, not part of the simulator.
IGNORED_PARTS = frozenset({".git", "__pycache__", ".pytest_cache", ".ruff_cache", "simulator_results"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def template_files(template: Path, exclude: str | None = None) -> list[Path]:
    """The template's own files, sorted, without outputs, caches, version-control data and `exclude`."""
    ignored = IGNORED_PARTS | ({exclude} if exclude else set())
    files = []
    for path in template.rglob("*"):
        relative = path.relative_to(template)
        if any(part in ignored for part in relative.parts) or path.suffix in IGNORED_SUFFIXES:
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(template).as_posix())


def tree_fingerprint(folder: Path, exclude: str | None = None) -> str:
    """sha256 over a source tree's file paths and contents (outputs and caches left out)."""
    digest = hashlib.sha256()
    for path in template_files(folder, exclude):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def baseline_key(template: Path, spec: EvalSpec) -> str:
    """sha256 over the template's files (paths and bytes) and the evaluation spec."""
    digest = hashlib.sha256(tree_fingerprint(template).encode())
    spec_data = asdict(spec)
    spec_data.pop("baselines")  # which baselines are listed does not change any one baseline's result
    spec_data.pop("reference_baseline")
    digest.update(json.dumps(spec_data, sort_keys=True).encode())
    return digest.hexdigest()


class BaselineCache:
    """Evaluations of built-in routers stored as `<router>-<key>.json` in one folder."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder, self.key = folder, key

    def _path(self, router: str) -> Path:
        return self.folder / f"baseline-{router}-{self.key[:20]}.json"

    def get(self, router: str) -> Evaluation | None:
        path = self._path(router)
        if not path.is_file():
            return None
        try:
            return Evaluation.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError):
            return None  # a damaged cache file is recomputed, not trusted

    def put(self, router: str, evaluation: Evaluation) -> None:
        """Store atomically (write then rename) so a crash never leaves half a file behind."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(router)
        partial = path.with_suffix(".json.part")
        partial.write_text(json.dumps(evaluation.to_dict(), indent=2))
        partial.replace(path)
