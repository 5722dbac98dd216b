"""`python -m glia` runs the same command line as the `glia` console script."""

from __future__ import annotations

import argparse
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


def test_every_subcommands_help_reads_as_written() -> None:
    """argparse %-formats help strings but not descriptions: a '90%%' meant for one shows up doubled."""
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(subparsers.choices) >= 8
    for name, sub in subparsers.choices.items():
        text = sub.format_help()
        assert "%%" not in text, f"glia {name} --help: {text}"
        assert "%(" not in text, f"glia {name} --help: {text}"
    bench = subparsers.choices["bench"].format_help()
    assert "90% confidence interval" in " ".join(bench.split())
