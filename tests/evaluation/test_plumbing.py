"""The evaluator's procedure, driven through a stand-in simulator in real Docker sandboxes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from glia.evaluation import Evaluation, EvaluationRefused, Evaluator
from glia.evaluation.sandboxes import EvaluationSandboxes

pytestmark = pytest.mark.docker

DESIGN = "llmsim/design.py"


def _design(router: str) -> dict[str, str]:
    return {DESIGN: f'ROUTER = "{router}"\n'}


def _evaluator(task, root: Path, name: str = "run", **options) -> Evaluator:
    options.setdefault("workers", 2)
    return Evaluator(task, root / name, secrets_dir=root / "secrets", cache_dir=root / "cache", **options)


def test_valid_design_is_scored_per_workload_on_public_and_secret_seeds(
    workspace_image, fake_task, tmp_path: Path
) -> None:
    evaluator = _evaluator(fake_task, tmp_path)
    evaluation = evaluator.evaluate_design(_design("llq"), "ctx-1-step-3")
    assert evaluation.valid and evaluation.reason is None and evaluation.feasible
    main, heavy = evaluation.workloads["main"], evaluation.workloads["heavy"]
    assert [s.seed for s in main.seeds] == [0, 1, 2] and not main.secret
    assert main.mean == pytest.approx(7.5 + 40 + 1)  # mean of 47.5, 48.5, 49.5
    assert evaluation.score == main.mean
    assert main.value("p90_e2e") == 90.0 and main.seeds[0].values["frac_restarted"] == 0.25
    assert main.ci_low <= main.mean <= main.ci_high
    assert heavy.heldout and heavy.secret and len(heavy.seeds) == 2
    assert all(s.seed > 2**32 for s in heavy.seeds)  # drawn from the secret key
    assert evaluator.simulations_run == 5 and evaluation.simulations == 5
    assert evaluation.design_sha256 and evaluation.design == "ai" and evaluation.isolation == "none"
    assert Evaluation.from_dict(json.loads(json.dumps(evaluation.to_dict()))) == evaluation
    (folder,) = (tmp_path / "run" / "evaluations").iterdir()
    assert (folder / "design" / DESIGN).read_text() == 'ROUTER = "llq"\n'
    seeds = json.loads((folder / "seeds.json").read_text())
    assert seeds["heavy"]["seeds"] == [s.seed for s in heavy.seeds]  # recorded to reproduce the figures
    assert sorted(p.parent.parent.name for p in folder.rglob("summary.json")) == ["heavy"] * 2 + ["main"] * 3
    assert (fake_task.simulator / DESIGN).read_text() == 'ROUTER = "llq"\n'  # template untouched


def test_any_failing_simulation_invalidates_the_design_and_names_the_failure(
    workspace_image, fake_task, tmp_path: Path
) -> None:
    evaluator = _evaluator(fake_task, tmp_path, workers=1)
    # Jobs start in a random order, so a design that fails on every run is named by whichever ran first.
    anywhere = r"(main workload, run [123]|heavy workload, run [12]): "
    expected = {
        "crash": anywhere + "no readable summary.json",
        "cheat": anywhere + "router read hidden attribute num_decode_tokens",
        "strand": anywhere + r"only 3 of \d requests completed",
        "misreport": anywhere + r"summary.json says mean_e2e = 1.0, but mean\(e2e\) over requests.csv",
        "crash_on_seed_1": "main workload, run 2: no readable summary.json",
    }
    for router, reason in expected.items():
        evaluation = evaluator.evaluate_design(_design(router), router)
        assert not evaluation.valid and evaluation.score is None and evaluation.workloads == {}
        assert re.match(reason, evaluation.reason), evaluation.reason
        if "crash" in router:
            assert "exited with code 3: Traceback: boom" in evaluation.reason


def test_timeout_invalidates_and_stops_remaining_seeds(workspace_image, fake_task, tmp_path: Path) -> None:
    task = fake_task.with_overrides(time_limit_s=1)
    evaluator = _evaluator(task, tmp_path, workers=1)
    evaluation = evaluator.evaluate_design(_design("sleepy"), "slow")
    assert not evaluation.valid
    assert re.fullmatch(
        r"(main|heavy) workload, run \d: did not finish within the wall-clock hang guard of 15 s "
        r"\(the time limit is 1 s of CPU time\)",
        evaluation.reason,
    )  # a sleeper uses no CPU: only the hang guard (10 x the limit, plus a grace period) stops it;
    # jobs start in a random order (held-out runs must not be recognisable by their place)
    assert evaluator.simulations_run in (1, 2, 3)  # run again only if the machine was oversubscribed
    # killed at the 15 s guard, not at 60 s: a margin of 40 s for starting (and byte-compiling) the two
    # sandboxes on a busy machine still tells the two apart for 1 to 3 runs
    assert evaluation.duration_s < 15 * evaluator.simulations_run + 40


def test_rejected_designs_never_run_and_the_local_backend_never_runs_designs(
    fake_task, tmp_path: Path
) -> None:
    evaluator = _evaluator(fake_task, tmp_path)
    evaluation = evaluator.evaluate_design({DESIGN: "x = r.num_decode_tokens\n"}, "cheat")
    assert (
        evaluation.reason == f"rejected before running: {DESIGN}:1: uses forbidden name 'num_decode_tokens'"
    )
    outside = evaluator.evaluate_design({"llmsim/__main__.py": "print(1)\n"}, "edit")
    assert not outside.valid and "not a design file" in outside.reason
    unchecked = _evaluator(fake_task, tmp_path, "unchecked", static_checks=False)
    assert "not a design file" in unchecked.evaluate_design({"llmsim/__main__.py": "x\n"}, "edit").reason
    assert evaluator.simulations_run == 0 and not (tmp_path / "run" / "evaluations").exists()
    local = _evaluator(fake_task, tmp_path, "local", backend="local")
    with pytest.raises(EvaluationRefused, match="only in Docker sandboxes"):
        local.evaluate_design(_design("llq"), "d")


def test_baselines_are_cached_on_disk_until_the_template_changes(
    workspace_image, fake_task, tmp_path: Path
) -> None:
    first = _evaluator(fake_task, tmp_path, "run1")
    baselines = first.baselines()
    assert list(baselines) == ["llq", "fast"]
    assert baselines["fast"].score == pytest.approx(21.0) and baselines["llq"].score == pytest.approx(48.5)
    assert all(e.isolation == "builtin" for e in baselines.values())
    assert first.simulations_run == 10

    second = _evaluator(fake_task, tmp_path, "run2")
    assert second.baselines() == baselines and second.simulations_run == 0  # served from the cache

    (fake_task.simulator / "llmsim" / "__init__.py").write_text("# changed\n")
    third = _evaluator(fake_task, tmp_path, "run3")
    third.baselines()
    assert third.simulations_run == 10  # the template changed: the cache no longer applies


def test_a_simulation_costs_one_command_and_one_read_of_the_core_and_runs_compiled_sources(
    workspace_image, fake_task, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    compiled: list[str] = []
    original_run, original_read = EvaluationSandboxes.run, EvaluationSandboxes.read

    def run(self: EvaluationSandboxes, command: str, kill_after_s: float):
        calls.append("run")
        outcome = original_run(self, command, kill_after_s)
        assert self.core is not None
        compiled.append(self.core.exec("ls llmsim/__pycache__", timeout_s=30).output)
        return outcome

    def read(self: EvaluationSandboxes, relpath: str, max_bytes: int) -> bytes:
        calls.append(f"read {relpath}")
        return original_read(self, relpath, max_bytes)

    monkeypatch.setattr(EvaluationSandboxes, "run", run)
    monkeypatch.setattr(EvaluationSandboxes, "read", read)
    for method in ("list_folder", "remove"):
        monkeypatch.setattr(EvaluationSandboxes, method, lambda *a, name=method: calls.append(name) or [])
    evaluation = _evaluator(fake_task, tmp_path, workers=1).evaluate_design(_design("llq"), "counted")
    assert evaluation.valid and evaluation.simulations == 5
    assert calls == ["run", "read trusted_collected/glia-eval_0/results.tar"] * 5  # no ls, no rm, one read
    assert all("__main__.cpython-" in listing for listing in compiled)  # compiled once, before the runs
