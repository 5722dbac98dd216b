"""``python -m llmsim check``: what Glia's judge will say about the design, found out the way the judge does.

1. The judge's static checks, from the judge's own source (``.glia/lib/glia_checks``, put there by Glia),
   with the task's rules: a design they reject is never run by the judge.
2. One isolated simulation, as trusted evaluation runs it: the design in a process of its own
   (``python -m llmsim.design_host``, in a scratch folder holding only this repository's Python sources
   and the design), the simulator talking to it over the channel, with the evaluation's own command on
   the main workload's seed 0 (the shipped trace ``./run_all.sh`` replays, bit for bit) and the same
   CPU-time limit. Inside Glia it is counted as one simulation. ``--static`` skips it.

The judge then runs the same command on secret seeds (and on held-out workloads), with the shipped
simulator: files you changed outside the design are listed, because the judge does not use them.
Exit status: 0 when the judge would accept the design on this run, 1 when it would not, 2 when the
check itself could not run (no judge kit here, a ledger refusal).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from llmsim.cpu_limits import CPU_LIMIT_ENV, wall_guard_s
from llmsim.design_endpoint import DESIGN_ENDPOINT_ENV
from llmsim.glia_lib import LIB_DIR, add_glia_lib

REPO = LIB_DIR.parents[1]
RULES = LIB_DIR / "glia_checks" / "rules.json"


def load_rules() -> dict:
    if not RULES.is_file():
        raise SystemExit(
            f"llmsim check: no judge kit at {RULES.relative_to(REPO)}; it is copied in by Glia "
            "(run this inside a Glia workspace)"
        )
    return json.loads(RULES.read_text(encoding="utf-8"))


def static_problem(rules: dict) -> str | None:
    """The judge's static checks on the design files as they are now (None: they pass)."""
    add_glia_lib()
    from glia_checks.design_checks import design_problem

    files = {}
    for relpath in rules["design_files"]:
        path = REPO / relpath
        if path.is_file():
            files[relpath] = path.read_text(encoding="utf-8")
    return design_problem(
        files,
        rules["design_files"],
        rules["forbidden_names"],
        rules["allowed_imports"],
        rules["forbidden_attributes"],
    )


def changed_outside_design(rules: dict) -> list[str]:
    """Python files of the simulator that differ from the shipped ones (the judge uses the shipped ones)."""
    design = set(rules["design_files"])
    changed = []
    for relpath, digest in sorted(rules["template_sha256"].items()):
        if relpath in design:
            continue
        path = REPO / relpath
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            changed.append(relpath)
    return changed


def design_folder(rules: dict, scratch: Path) -> Path:
    """What the judge's design sandbox holds: the Python sources, the design, and the channel code."""
    for path in REPO.rglob("*.py"):
        relative = path.relative_to(REPO)
        if relative.parts[0] in (".git", ".glia") or "__pycache__" in relative.parts:
            continue
        target = scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    shutil.copytree(LIB_DIR / "glia_isolation", scratch / ".glia" / "lib" / "glia_isolation")
    return scratch


def isolated_run(rules: dict) -> tuple[int, dict | None, str]:
    """Run the evaluation's command with the design served from its own process: (exit, summary, output)."""
    limit = float(rules["time_limit_s"])
    with tempfile.TemporaryDirectory(prefix="glia-check-") as scratch:
        folder = design_folder(rules, Path(scratch) / "design")
        socket_path = str(Path(scratch) / "design.sock")
        design_env = {
            key: value for key, value in os.environ.items() if not key.startswith(("GLIA_", "PYTHON"))
        }
        design_env.update(PYTHONPATH=str(folder / ".glia" / "lib"), **{CPU_LIMIT_ENV: f"{limit:g}"})
        host = subprocess.Popen(
            [sys.executable, "-m", "llmsim.design_host", "--listen", socket_path, "--accept-timeout", "60"],
            cwd=folder,
            env=design_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            core = subprocess.run(
                shlex.split(rules["command"]),
                cwd=REPO,
                env={**os.environ, DESIGN_ENDPOINT_ENV: socket_path, "PYTHONPATH": str(LIB_DIR)},
                capture_output=True,
                text=True,
                timeout=wall_guard_s(limit) + 30,
            )
            exit_code, output = core.returncode, core.stdout + core.stderr
        except subprocess.TimeoutExpired:
            exit_code, output = (
                -1,
                f"did not finish within the wall-clock hang guard of {wall_guard_s(limit):g} s",
            )
        finally:
            try:
                host.wait(timeout=5)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()
        design_output = host.stdout.read() if host.stdout else ""
    summary = run_summary(output)
    if design_output.strip():
        output += "\n[design process] " + design_output.strip()[-2000:]
    return exit_code, summary, output


def run_summary(output: str) -> dict | None:
    """The summary of the run just made, from the folder the simulator printed (`results: <folder>`)."""
    for line in output.splitlines():
        if line.startswith("results: "):
            folder = (REPO / line[len("results: ") :].strip()).resolve()
            path = folder / "summary.json"
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                data["_folder"] = (
                    str(folder.relative_to(REPO)) if folder.is_relative_to(REPO) else str(folder)
                )
                return data
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmsim check", description=__doc__.split("\n")[0])
    parser.add_argument("--static", action="store_true", help="only the static checks (no simulation)")
    args = parser.parse_args(argv)
    rules = load_rules()
    problem = static_problem(rules)
    if problem:
        print(f"static checks: FAIL: {problem}")
        print(f"the judge will say: invalid: rejected before running: {problem}")
        return 1
    print(f"static checks: pass ({', '.join(rules['design_files'])})")
    changed = changed_outside_design(rules)
    if changed:
        print(f"note: the judge uses the shipped simulator, not your changes to: {', '.join(changed)}")
    if args.static:
        return 0
    print(
        f"isolated run (as the judge runs it, seed 0 of the {rules['workload']} workload): {rules['command']}"
    )
    sys.stdout.flush()
    exit_code, summary, output = isolated_run(rules)
    if exit_code == 2 and summary is None:
        print(output.strip()[-2000:])
        return 2  # the ledger refused the run (budget spent): nothing was simulated
    if summary is None or not summary.get("valid"):
        reason = (summary or {}).get(
            "error"
        ) or f"no result (exit code {exit_code}): {output.strip()[-1500:]}"
        print(f"the judge will say: invalid: {rules['workload']} workload, run 1: {reason}")
        return 1
    metric = rules["metric"]
    print(f"results: {summary['_folder']}")
    print(
        f"{metric}: {summary.get(metric)!r} | CPU time {summary.get('cpu_time_s', 0):.2f} s of the "
        f"{rules['time_limit_s']:g} s limit (simulator; the design's own is in decision_cpu_s: "
        f"{summary.get('decision_cpu_s', 0):.2f} s) | decision cost {summary.get('decision_cpu_ms', 0):.3f} ms "
        "CPU per decision"
    )
    print(
        "the judge will say: valid on this run; it scores the design on "
        f"{rules['judge_simulations']} secret seeds of the {rules['workload']} workload (and checks "
        f"{rules['heldout_simulations']} runs on held-out workloads), each under the same limits"
    )
    return 0
