"""The workspace template of a problem: the folder as its author wrote it, plus what Glia adds.

Glia never writes into the user's folder. It builds a copy in its cache (`$GLIA_CACHE`, else
`$XDG_CACHE_HOME/glia`, else `~/.cache/glia`) under `problems/<name>-<digest>/`, holding the problem's
files, `glia_support/` (the benchmark, the harness and `problem.json`, see `support/`) and
`glia_benchmark.py`. That copy is the task's template (`Task.simulator`): each context's sandbox
starts from it, and the trusted evaluation's core gets it pristine. The name carries a digest of the
content, so an unchanged problem maps to the same template (and cached baselines stay valid), and a
changed one to a new template. Copies are written to a scratch folder and renamed into place, so a
template folder is always complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from glia.problems.folder import EXCLUDES
from glia.problems.support.settings import SETTINGS_FILE, ProblemSettings
from glia.task import TaskError
from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, TreeEntry, tree_from_folder

SUPPORT_PACKAGE = Path(__file__).resolve().parent / "support"
SUPPORT_DIR = "glia_support"
BENCHMARK_SCRIPT = "glia_benchmark.py"
BENCHMARK_COMMAND = f"python {BENCHMARK_SCRIPT}"
HARNESS_MODULE = f"{SUPPORT_DIR}.harness"
SHIM = f'''"""Evaluate the program with the problem's evaluator; every run counts (see {SUPPORT_DIR}/benchmark.py)."""

from {SUPPORT_DIR}.benchmark import main

raise SystemExit(main())
'''


def cache_root() -> Path:
    """Where Glia keeps derived files: $GLIA_CACHE, $XDG_CACHE_HOME/glia or ~/.cache/glia."""
    explicit = os.environ.get("GLIA_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "glia"


def template_files(
    root: Path, settings: ProblemSettings, design_files: tuple[str, ...]
) -> dict[str, TreeEntry]:
    """Every file of the template: the problem's, then Glia's support package and script."""
    tree = tree_from_folder(root, excludes=EXCLUDES)
    if not tree.complete or tree.skipped:
        raise TaskError(
            f"{root}: the problem folder cannot be carried into the sandbox: " + "; ".join(tree.skipped[:5])
        )
    files = dict(tree.items())
    pristine = {
        path: hashlib.sha256(entry.data).hexdigest()
        for path, entry in files.items()
        if not entry.is_symlink and path not in design_files and not _documentation(path)
    }
    settings = replace(settings, pristine=pristine)
    for module in sorted(SUPPORT_PACKAGE.glob("*.py")):
        files[f"{SUPPORT_DIR}/{module.name}"] = TreeEntry(MODE_FILE, module.read_bytes())
    files[f"{SUPPORT_DIR}/{SETTINGS_FILE}"] = TreeEntry(MODE_FILE, settings.to_json().encode())
    files[BENCHMARK_SCRIPT] = TreeEntry(MODE_EXECUTABLE, SHIM.encode())
    return files


def _documentation(path: str) -> bool:
    """Files that never change a score (notes, settings read by Glia only): editing them is no experiment."""
    return path.endswith((".md", ".rst")) or path in ("glia.yaml", "config.yaml", "requirements.txt")


def materialize(name: str, files: dict[str, TreeEntry]) -> Path:
    """The template folder holding exactly `files`, created once per content."""
    digest = hashlib.sha256()
    for path in sorted(files):
        entry = files[path]
        digest.update(path.encode() + b"\0" + oct(entry.mode).encode() + b"\0")
        digest.update(hashlib.sha256(entry.data).digest())
    folder = cache_root() / "problems"
    target = folder / f"{name}-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
    try:
        for path, entry in files.items():
            destination = scratch / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            if entry.is_symlink:
                os.symlink(entry.data.decode("utf-8", "surrogateescape"), destination)
                continue
            destination.write_bytes(entry.data)
            destination.chmod(0o755 if entry.is_executable else 0o644)
        scratch.chmod(0o755)
        try:
            scratch.rename(target)
        except OSError:
            if not target.is_dir():  # not another process that made the same template meanwhile
                raise
    except OSError as exc:
        raise TaskError(f"cannot write the problem's workspace template under {folder}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
