"""``python -m llmsim runs [KEY=VALUE ...]``: the result folders whose settings match, found by config.json.

A run's folder is named by its experiment and the time it was made, so picking "the newest folder" can
pick someone else's run (a script, a parallel run). Instead each run prints ``results: <folder>`` as its
first line, ``--experiment NAME`` puts a run where you choose, and this command lists the folders whose
``config.json`` has every KEY=VALUE given (e.g. ``router=ai seed=3 qps=8.5``), oldest first, each with
its validity and mean_e2e.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def matches(config: dict, wanted: dict[str, str]) -> bool:
    """Whether every wanted setting equals the run's (compared as JSON text, so 8.5 matches 8.5)."""
    for key, text in wanted.items():
        if key not in config:
            return False
        value = config[key]
        try:
            if value != json.loads(text):
                return False
        except json.JSONDecodeError:
            if str(value) != text:
                return False
    return True


def find_runs(root: Path, wanted: dict[str, str]) -> list[Path]:
    found = []
    for config_path in sorted(root.glob("*/*/config.json")):
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(config, dict) and matches(config, wanted):
            found.append(config_path.parent)
    return sorted(found, key=lambda p: p.name)  # the folder names are creation timestamps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmsim runs", description=__doc__.split("\n")[0])
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="settings of config.json to match")
    parser.add_argument("--output-root", default="simulator_results", help="where the runs are")
    args = parser.parse_args(argv)
    wanted = {}
    for item in args.settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"{item!r}: write settings as KEY=VALUE, e.g. router=ai")
        wanted[key] = value
    for folder in find_runs(Path(args.output_root), wanted):
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            summary = {}
        state = "valid" if summary.get("valid") else f"invalid ({summary.get('error') or 'no summary'})"
        print(f"{folder}  {state}  mean_e2e={summary.get('mean_e2e')}")
    return 0
