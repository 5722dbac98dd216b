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
import subprocess
import sys
import time
from collections.abc import Callable
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


def counted(arguments: list[str], results_dir: str, run: Callable[[], Any], what: str) -> int:
    """Report one simulation whose conditions are `arguments`' options, call `run` (it returns or raises
    the exit code), report its end with the newest summary.json; refused: 1, and `run` is never called."""
    report = Report()
    try:
        report.start(conditions(arguments), results_dir)
    except LedgerRefused as refused:
        print(f"glia: {refused}", file=sys.stderr)
        return 1
    started = time.time() - 1.0  # file times can be a little coarse
    code: Any = 0
    try:
        code = run()
    except SystemExit as exit_:
        code = exit_.code
    except BaseException as exc:  # noqa: BLE001 - the failure is reported, then re-raised
        report.end(False, f"{type(exc).__name__}: {exc}", {})
        raise
    error = f"{what} exited with {code}" if code not in (0, None) else None
    summary = newest_summary(".", started) or {}
    valid = error is None and summary.get("valid", True) is not False and bool(summary)
    report.end(valid, error or (None if summary else "no summary.json was written"), summary)
    return code if isinstance(code, int) else (0 if code is None else 1)


def run_counted(original: str, results_dir: str) -> int:
    """`python SCRIPT.py ARGS`: run the author's script, kept as `original`, as __main__ with ARGS."""
    arguments = sys.argv[1:]
    sys.argv = [original, *arguments]

    def run() -> None:
        runpy.run_path(original, run_name="__main__")

    return counted(arguments, results_dir, run, original)


def run_module_counted(original: str, namespace: dict[str, Any], results_dir: str) -> int:
    """`python -m MODULE ARGS`: run the author's module source, kept as `original`, in the stand-in's own
    namespace (so its package, relative imports and `__name__ == "__main__"` are what -m gives)."""
    with open(original, encoding="utf-8") as handle:
        code = compile(handle.read(), original, "exec")

    def run() -> None:
        exec(code, namespace)  # noqa: S102 - the author's own module, as -m would run it

    return counted(sys.argv[1:], results_dir, run, original)


def run_command_counted(spec: dict[str, Any], command: list[str]) -> int:
    """A shell script, an executable or the task's whole benchmark command, run as a child process;
    the conditions are the options of `spec["fixed"]` words plus the command's words from `spec["skip"]`."""
    words = [str(word) for word in spec.get("fixed", [])] + command[int(spec.get("skip", 0)) :]

    def run() -> int:
        returncode = subprocess.run(command, check=False).returncode
        return returncode if returncode >= 0 else 128 - returncode  # killed by a signal: as a shell says

    return counted(words, str(spec["results_dir"]), run, " ".join(command[:2]))
