"""Helpers for the problem tests: problem folders written on the fly, and the two sides of a trusted
evaluation (program host and harness) run as local processes in two folders that play the sandboxes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ISOLATION = REPO_ROOT / "glia" / "isolation"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SIMPLE_EVALUATOR = """
import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    value = program.solve(3)
    return {"combined_score": float(value), "doubled": 2.0 * value}
"""
SIMPLE_PROGRAM = """
# EVOLVE-BLOCK-START
def solve(n):
    return n + 1
# EVOLVE-BLOCK-END
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write `files` (relpath -> text, dedented) under `folder`."""
    for relpath, text in files.items():
        path = folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def make_problem(
    folder: Path,
    evaluator: str = SIMPLE_EVALUATOR,
    program: str = SIMPLE_PROGRAM,
    files: dict[str, str] | None = None,
) -> Path:
    """A problem folder: evaluator.py, initial_program.py, and any other files (relpath -> text)."""
    return write(folder, {"evaluator.py": evaluator, "initial_program.py": program, **(files or {})})


def short_dir(prefix: str = "gp") -> Path:
    """A folder with a short path: unix socket paths are limited to 107 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def copy_isolation(folder: Path) -> Path:
    """The glia_isolation package under `folder` (as the sandboxes get it); returns the lib folder."""
    lib = folder / ".glia" / "lib"
    shutil.copytree(ISOLATION, lib / "glia_isolation", ignore=shutil.ignore_patterns("__pycache__"))
    return lib


@dataclass
class HarnessRun:
    summary: dict[str, Any] | None
    harness: subprocess.CompletedProcess[str]
    host_output: str
    host_code: int | None
    core: Path
    design: Path


def run_harness(
    template: Path,
    program: str,
    *,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    time_limit: float = 30.0,
    program_name: str = "initial_program.py",
    core_extra: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    design_extra: dict[str, bytes] | None = None,
) -> HarnessRun:
    """A trusted evaluation without Docker: the core folder gets the template minus the program, the
    design folder gets the program alone; each side runs as Glia runs it, talking over a unix socket."""
    base = short_dir()
    core, design = base / "core", base / "design"
    shutil.copytree(template, core, ignore=shutil.ignore_patterns("__pycache__", "glia_results"))
    (core / program_name).unlink(missing_ok=True)
    if core_extra:
        write(core, core_extra)
    design.mkdir()
    (design / program_name).write_text(textwrap.dedent(program).lstrip("\n"), encoding="utf-8")
    for relpath, data in (design_extra or {}).items():  # what Glia ships beside the program
        (design / relpath).parent.mkdir(parents=True, exist_ok=True)
        (design / relpath).write_bytes(data)
    core_lib, design_lib = copy_isolation(core), copy_isolation(design)
    socket_path = str(base / "p.sock")
    host = subprocess.Popen(
        [sys.executable, "-m", "glia_isolation.program_host", "--program", program_name, "--listen", socket_path,
         "--accept-timeout", str(time_limit + 30)],
        cwd=design,
        env={**_clean_env(), "PYTHONPATH": str(design_lib)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    command = [
        sys.executable, "-m", "glia_support.harness", "--design", "program", "--seed", str(seed),
        "--output-root", "out", "--experiment", "main-0", "--time-limit", f"{time_limit:g}",
    ]  # fmt: skip
    for key, value in (params or {}).items():
        command += ["--param", f"{key}={value}"]
    try:
        harness = subprocess.run(
            command,
            cwd=core,
            env={
                **_clean_env(),
                "PYTHONPATH": str(core_lib),
                "GLIA_DESIGN_ENDPOINT": socket_path,
                **(env or {}),
            },
            capture_output=True,
            text=True,
            timeout=time_limit + 60,
        )
        try:
            host_output, _ = host.communicate(timeout=10)
            host_code = host.returncode
        except subprocess.TimeoutExpired:
            os.killpg(host.pid, signal.SIGKILL)
            host_output, _ = host.communicate()
            host_code = None
    finally:
        if host.poll() is None:
            os.killpg(host.pid, signal.SIGKILL)
            host.wait()
    summary_path = core / "out" / "main-0" / "run" / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
    return HarnessRun(summary, harness, host_output or "", host_code, core, design)


def _clean_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
    return {key: os.environ[key] for key in keep if key in os.environ}


def wait_for(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
