"""`python -m glia` runs the same command line as the `glia` console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest import MonkeyPatch

from glia.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _python_m_glia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COLUMNS": "100",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "glia", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_python_m_glia_help_exits_0_and_shows_the_console_scripts_help(monkeypatch: MonkeyPatch) -> None:
    result = _python_m_glia("--help")
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width: the same on both sides
    assert result.stdout == build_parser().format_help()


def test_python_m_glia_passes_its_exit_code_on() -> None:
    result = _python_m_glia("no-such-command")
    assert result.returncode == 2
    assert "no-such-command" in result.stderr
