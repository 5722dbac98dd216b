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

from glia.problems.folder import EXCLUDES, SHINKA_ADAPTER, SHINKA_COMPAT_DIR
from glia.problems.support.settings import SETTINGS_FILE, ProblemSettings
from glia.task import TaskError
from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, TreeEntry, tree_from_folder

SUPPORT_PACKAGE = Path(__file__).resolve().parent / "support"
SUPPORT_DIR = "glia_support"
SHINKA_COMPAT = Path(__file__).resolve().parent / "shinka_compat"
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
    root: Path,
    settings: ProblemSettings,
    design_files: tuple[str, ...],
    adapter: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, TreeEntry]:
    """Every file of the template: the problem's, then Glia's support package and script; `adapter` is
    the ShinkaEvolve adapter's source, `extra` files Glia derives (the suite's requirements)."""
    tree = tree_from_folder(root, excludes=EXCLUDES)
    if not tree.complete or tree.skipped:
        raise TaskError(
            f"{root}: the problem folder cannot be carried into the sandbox: " + "; ".join(tree.skipped[:5])
        )
    files = dict(tree.items())
    for relpath, text in (extra or {}).items():
        files.setdefault(relpath, TreeEntry(MODE_FILE, text.encode()))
    if adapter is not None:
        files[SHINKA_ADAPTER] = TreeEntry(MODE_FILE, adapter.encode())
        for module in sorted(SHINKA_COMPAT.rglob("*.py")):
            relpath = module.relative_to(SHINKA_COMPAT).as_posix()
            files[f"{SHINKA_COMPAT_DIR}/{relpath}"] = TreeEntry(MODE_FILE, module.read_bytes())
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


SHINKA_ADAPTER_SOURCE = '''"""Glia's evaluate(program_path) around a ShinkaEvolve evaluator: {evaluator}'s {entry}(program_path,
results_dir) writes metrics.json and correct.json into a scratch folder; their numbers are the metrics."""

import importlib.util
import json
import sys
import tempfile
from pathlib import Path

EVALUATOR = {evaluator!r}
ENTRY = {entry!r}


def _load():
    here = Path(__file__).resolve().parent
    if importlib.util.find_spec("shinka") is None:  # Glia's stand-in for shinka.core.run_shinka_eval
        sys.path.append(str(here / {compat!r}))
    path = here / EVALUATOR
    spec = importlib.util.spec_from_file_location("shinka_evaluation_module", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["shinka_evaluation_module"] = module
    spec.loader.exec_module(module)
    return getattr(module, ENTRY)


def _read(folder, name):
    path = Path(folder) / name
    if not path.is_file():
        raise RuntimeError(f"{{EVALUATOR}}: {{ENTRY}}() wrote no {{name}} into results_dir")
    return json.loads(path.read_text(encoding="utf-8"))


def evaluate(program_path):
    main = _load()
    with tempfile.TemporaryDirectory(prefix="glia-shinka-") as results:
        main(program_path, results)
        metrics = _read(results, "metrics.json")
        correct = _read(results, "correct.json")
    if not isinstance(metrics, dict):
        raise RuntimeError(f"{{EVALUATOR}}: metrics.json holds a {{type(metrics).__name__}}, not a mapping")
    verdict = correct.get("correct") if isinstance(correct, dict) else correct
    if verdict is not True:
        why = correct.get("error") if isinstance(correct, dict) else None
        raise RuntimeError(f"{{EVALUATOR}}: correct.json says the program is incorrect: {{why or 'no reason given'}}")
    found = {{}}
    for key, value in metrics.items():
        if isinstance(value, dict):  # ShinkaEvolve's public and private metrics
            found.update({{f"{{key}}.{{k}}": v for k, v in value.items()}})
        else:
            found[key] = value
    return found
'''


def shinka_adapter(evaluator: str, entry: str) -> str:
    """The source of the adapter that gives a ShinkaEvolve evaluator OpenEvolve's entry point."""
    return SHINKA_ADAPTER_SOURCE.format(evaluator=evaluator, entry=entry, compat=SHINKA_COMPAT_DIR)
