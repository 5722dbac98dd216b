"""`python -m llmsim check` and `python -m llmsim runs` in a copy of the template holding Glia's judge kit,
run the way a Researcher runs them: from the repository, without PYTHONPATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from glia.evaluation.design_checks import design_problem
from glia.evaluation.judge_kit import judge_kit_tree, judge_rules
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
SNEAKY = """from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        return self.route_all(lambda request: getattr(request, "num_" + "decode_tokens") % 4)
"""


def _workspace(tmp_path: Path) -> tuple[Path, dict]:
    task = load_task(REPO / "tasks" / "llm_routing.md").with_overrides(duration_s=60)
    repo = tmp_path / "repo"
    shutil.copytree(
        REPO / "sim_repo_template", repo, ignore=shutil.ignore_patterns("__pycache__", "simulator_results")
    )
    for relpath, entry in judge_kit_tree(task).items():
        (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
        (repo / relpath).write_bytes(entry.data)
    return repo, judge_rules(task)


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GLIA_"))}
    return subprocess.run(
        [sys.executable, "-m", "llmsim", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_says_what_the_judge_says_and_runs_are_found_by_their_settings(tmp_path: Path) -> None:
    repo, rules = _workspace(tmp_path)
    (repo / DESIGN).write_text(SNEAKY)
    rejected = _run(repo, "check")
    judge = design_problem(
        {DESIGN: SNEAKY}, rules["design_files"], rules["forbidden_names"], rules["allowed_imports"],
        rules["forbidden_attributes"],
    )  # fmt: skip
    assert judge and rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert f"the judge will say: invalid: rejected before running: {judge}" in rejected.stdout

    (repo / DESIGN).write_text((REPO / "sim_repo_template" / DESIGN).read_text())
    (repo / "llmsim" / "metrics.py").write_text((repo / "llmsim" / "metrics.py").read_text() + "\n# mine\n")
    accepted = _run(repo, "check")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "static checks: pass" in accepted.stdout and "the judge will say: valid" in accepted.stdout
    assert "not your changes to: llmsim/metrics.py" in accepted.stdout
    folder = repo / next(line[9:] for line in accepted.stdout.splitlines() if line.startswith("results: "))
    config = json.loads((folder / "config.json").read_text())
    assert (config["router"], config["seed"], config["duration"], config["time_limit"]) == (
        "ai",
        0,
        60.0,
        120.0,
    )

    other = _run(repo, "run", "--router", "llq", "--duration", "60", "--experiment", "check",
                 "--output-root", rules["output_root"])  # fmt: skip
    assert other.returncode == 0, other.stderr
    listed = _run(repo, "runs", "router=ai", "duration=60", "--output-root", rules["output_root"])
    assert listed.stdout.splitlines() == [
        f"{folder.relative_to(repo)}  valid  mean_e2e={json.loads((folder / 'summary.json').read_text())['mean_e2e']}"
    ]

    hosted = _run(repo, "check", "--static")
    assert hosted.returncode == 0 and "isolated run" not in hosted.stdout
    alone = subprocess.run(
        [sys.executable, "-m", "llmsim.design_host", "--listen", str(tmp_path / "s.sock"), "--accept-timeout", "0.2"],
        cwd=repo, env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert alone.returncode == 3 and "no core connected" in alone.stderr  # glia_isolation was found
