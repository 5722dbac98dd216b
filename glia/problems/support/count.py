"""Run a simulator's own benchmark script as one counted simulation (Glia's fallback for simulators
that do not report to the ledger; see `glia.problems.counting`). Standard library only.

The run's conditions are the script's `--name value` options (so a task's `benchmark.conditions`, say
`{policy: policy}`, can say which runs are claims); its numbers are the newest `summary.json` written
anywhere under the working folder while it ran.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from typing import Any

from .ledger import LedgerRefused, Report

MAX_FILES_WALKED = 20_000


def conditions(argv: list[str]) -> dict[str, Any]:
    """`--seed 3 --policy=fifo` -> {"seed": 3, "policy": "fifo"}; a bare flag is true."""
    found: dict[str, Any] = {}
    index = 0
    while index < len(argv):
        word = argv[index]
        index += 1
        if not word.startswith("--") or len(word) == 2:
            continue
        name, equals, value = word[2:].partition("=")
        if not equals and index < len(argv) and not argv[index].startswith("--"):
            value, index = argv[index], index + 1
        found[name.replace("-", "_")] = _number(value) if (value or equals) else True
    return found


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def newest_summary(root: str, since: float) -> dict[str, Any] | None:
    """The newest summary.json object under `root` modified at or after `since` (a bounded walk)."""
    best, best_time, walked = None, since, 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [s for s in subfolders if not s.startswith(".") and s != "__pycache__"]
        walked += len(files)
        if walked > MAX_FILES_WALKED:
            break
        if "summary.json" in files:
            path = os.path.join(folder, "summary.json")
            try:
                modified = os.stat(path).st_mtime
            except OSError:
                continue
            if modified >= best_time:
                best, best_time = path, modified
    if best is None:
        return None
    try:
        with open(best, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def run_counted(original: str, results_dir: str) -> int:
    """Report one simulation, run `original` as __main__ with this command's arguments, report its end."""
    arguments = sys.argv[1:]
    report = Report()
    try:
        report.start(conditions(arguments), results_dir)
    except LedgerRefused as refused:
        print(f"glia: {refused}", file=sys.stderr)
        return 1
    started = time.time() - 1.0  # file times can be a little coarse
    code: Any = 0
    error = None
    sys.argv = [original, *arguments]
    try:
        runpy.run_path(original, run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
    except BaseException as exc:  # noqa: BLE001 - the script's failure is reported, then re-raised
        report.end(False, f"{type(exc).__name__}: {exc}", {})
        raise
    if code not in (0, None):
        error = f"{original} exited with {code}"
    summary = newest_summary(".", started) or {}
    valid = error is None and summary.get("valid", True) is not False and bool(summary)
    report.end(valid, error or (None if summary else "no summary.json was written"), summary)
    return code if isinstance(code, int) else (0 if code is None else 1)
