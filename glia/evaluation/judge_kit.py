"""The judge's own code and rules, copied into a sandbox as data so that the Researcher can check a design there.

`python -m llmsim check` (in the workspace) runs the same static checks as the trusted evaluator, from
the same source file (`design_checks.py`, copied byte for byte, never imported back on the host), and
one isolated simulation the way trusted evaluation runs it: the design in a process of its own behind
the same channel (`glia_isolation`), with the evaluation's own command on the main workload's public
seed 0 (the shipped trace) and the same CPU-time limit. Everything lands under `.glia/lib` of the
repository (`llmsim/glia_lib.py` puts it on `sys.path`).

Nothing here is secret: the rules are the task file's, the command is the task's with seed 0. A
Researcher who edits the kit only misleads itself; the judge uses its own copy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from glia.evaluation.sandboxes import LIB_DIR, isolation_tree, template_tree
from glia.task import Task
from glia.task_kinds import kind_of
from glia.workspace.tree import MODE_FILE, Tree, TreeEntry

CHECKS_PACKAGE = "glia_checks"
CHECKS_SOURCE = Path(__file__).resolve().with_name("design_checks.py")
RULES_FILE = "rules.json"
CHECK_RESULTS = "glia_check"  # under the task's results folder: where the checker's runs land
CHECK_SEED = 0  # the main workload's public seed 0 is the shipped trace (`./run_all.sh`), bit for bit


def judge_kit_tree(task: Task) -> dict[str, TreeEntry]:
    """The files `python -m llmsim check` needs, as tree entries under LIB_DIR (empty for a task whose
    design is not hosted apart, there is no isolated run to reproduce, or whose kind has no such checker)."""
    if task.design.host is None or not kind_of(task).judge_kit:
        return {}
    package = f"{LIB_DIR}/{CHECKS_PACKAGE}"
    rules = json.dumps(judge_rules(task), indent=1, sort_keys=True).encode()
    return {
        **isolation_tree(),
        f"{package}/__init__.py": TreeEntry(
            MODE_FILE, b'"""Copied in by Glia: the judge\'s static checks."""\n'
        ),
        f"{package}/design_checks.py": TreeEntry(MODE_FILE, CHECKS_SOURCE.read_bytes()),
        f"{package}/{RULES_FILE}": TreeEntry(MODE_FILE, rules),
    }


def with_judge_kit(template: Tree, task: Task) -> Tree:
    """A workspace's first tree: the simulator template plus the judge kit under LIB_DIR."""
    kit = judge_kit_tree(task)
    if not kit:
        return template
    return Tree({**template, **kit}, skipped=template.skipped, complete=template.complete)


def judge_rules(task: Task) -> dict:
    """What the judge applies to a design of this task, in the form the in-sandbox checker reads."""
    spec = task.evaluation
    primary = spec.primary
    output_root = f"{task.results_dir}/{CHECK_RESULTS}"
    command = spec.render_command(
        task.design.name, primary, CHECK_SEED, "check", output_root, design_seed=CHECK_SEED
    )
    template = template_tree(task, task.results_dir)
    return {
        "task": task.name,
        "design_files": list(task.design_files),
        "forbidden_names": list(task.forbidden_names),
        "allowed_imports": list(task.allowed_imports) if task.allowed_imports is not None else None,
        "forbidden_attributes": list(task.forbidden_attributes),
        "command": command,
        "output_root": output_root,
        "experiment": "check",
        "workload": primary.name,
        "time_limit_s": spec.time_limit_s,
        "metric": task.metric.name,
        # how many simulations the judge runs (which held-out workloads they are stays the judge's)
        "judge_simulations": _seed_count(primary.seeds),
        "heldout_simulations": sum(_seed_count(w.seeds) for w in spec.workloads if w.heldout),
        "template_sha256": {
            path: hashlib.sha256(entry.data).hexdigest()
            for path, entry in template.items()
            if path.endswith(".py")
        },
    }


def _seed_count(seeds: int | tuple[int, ...] | list[int]) -> int:
    return seeds if isinstance(seeds, int) else len(seeds)
