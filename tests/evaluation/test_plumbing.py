"""The evaluator's procedure, driven through the stand-in simulator on the local backend (fast)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from glia.evaluation import Evaluation, Evaluator

DESIGN = "llmsim/design.py"


def _design(router: str) -> dict[str, str]:
    return {DESIGN: f'ROUTER = "{router}"\n'}


def test_valid_design_is_scored_per_workload(fake_task, tmp_path: Path) -> None:
    evaluator = Evaluator(fake_task, tmp_path / "run", backend="local", workers=2)
    evaluation = evaluator.evaluate_design(_design("llq"), "ctx-1-step-3")
    assert evaluation.valid and evaluation.reason is None
    main, heavy = evaluation.workloads["main"], evaluation.workloads["heavy"]
    assert [s.seed for s in main.seeds] == [0, 1, 2]
    assert main.mean == pytest.approx(7.5 + 40 + 1)  # mean of 47.5, 48.5, 49.5
    assert evaluation.score == main.mean
    assert heavy.heldout and heavy.mean == pytest.approx(8.5 + 40 + 10.5)
    assert main.p90 == 90.0 and main.seeds[0].frac_restarted == 0.25
    assert main.ci_low <= main.mean <= main.ci_high
    assert evaluator.simulations_run == 5
    assert evaluation.design_sha256 and evaluation.router == "ai"
    assert Evaluation.from_dict(json.loads(json.dumps(evaluation.to_dict()))) == evaluation


def test_evaluation_uses_a_pristine_copy_and_keeps_only_summaries(fake_task, tmp_path: Path) -> None:
    # Tampering with the template's other files after loading must not matter... because the copy is
    # taken from the template, the design text is all that changes. Check the copy holds only the design.
    evaluator = Evaluator(fake_task, tmp_path / "run", backend="local", workers=2)
    evaluator.evaluate_design(_design("fast"), "d1")
    (folder,) = (tmp_path / "run" / "evaluations").iterdir()
    assert (folder / "design" / DESIGN).read_text() == 'ROUTER = "fast"\n'
    assert not (folder / "repo").exists()
    summaries = sorted(p.relative_to(folder / "results").parts[0] for p in folder.rglob("summary.json"))
    assert summaries == ["heavy"] * 2 + ["main"] * 3
    assert (fake_task.simulator / DESIGN).read_text() == 'ROUTER = "llq"\n'  # template untouched


@pytest.mark.parametrize(
    ("router", "reason"),
    [
        ("crash", "exited with code 3: Traceback: boom"),
        ("cheat", "router read hidden attribute num_decode_tokens"),
        ("strand", "only 97 of 100 requests completed"),
    ],
)
def test_any_failing_simulation_invalidates_the_design(
    fake_task, tmp_path: Path, router: str, reason: str
) -> None:
    evaluation = Evaluator(fake_task, tmp_path / "run", backend="local", workers=2).evaluate_design(
        _design(router), router
    )
    assert not evaluation.valid and evaluation.score is None and evaluation.workloads == {}
    assert evaluation.reason.startswith("seed ")
    assert reason in evaluation.reason


def test_first_failing_seed_is_reported(fake_task, tmp_path: Path) -> None:
    evaluation = Evaluator(fake_task, tmp_path / "run", backend="local", workers=1).evaluate_design(
        _design("crash_on_seed_1"), "d"
    )
    assert evaluation.reason.startswith("seed 1 (main): exited with code 3")


def test_timeout_invalidates_and_stops_remaining_seeds(fake_task, tmp_path: Path) -> None:
    task = fake_task.with_overrides(time_limit_s=1)
    evaluator = Evaluator(task, tmp_path / "run", backend="local", workers=1)
    evaluation = evaluator.evaluate_design(_design("sleepy"), "slow")
    assert not evaluation.valid
    assert evaluation.reason == "seed 0 (main): exceeded the time limit of 1 s"
    assert evaluator.simulations_run == 1  # the other four seeds were cancelled
    assert evaluation.duration_s < 20  # killed 5 s after the limit, not after 60 s


def test_forbidden_design_is_rejected_without_running(fake_task, tmp_path: Path) -> None:
    evaluator = Evaluator(fake_task, tmp_path / "run", backend="local")
    evaluation = evaluator.evaluate_design({DESIGN: "x = r.num_decode_tokens\n"}, "cheat")
    assert evaluation.reason == f"{DESIGN}:1: uses forbidden name 'num_decode_tokens'"
    outside = evaluator.evaluate_design({"llmsim/__main__.py": "print(1)\n"}, "edit")
    assert not outside.valid and "not a design file" in outside.reason
    assert evaluator.simulations_run == 0
    assert not (tmp_path / "run" / "evaluations").exists()


def test_baselines_are_cached_on_disk(fake_task, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Evaluator(fake_task, tmp_path / "run1", backend="local", workers=2, cache_dir=cache)
    baselines = first.baselines()
    assert list(baselines) == ["llq", "fast"]
    assert baselines["fast"].score == pytest.approx(21.0) and baselines["llq"].score == pytest.approx(48.5)
    assert first.simulations_run == 10

    second = Evaluator(fake_task, tmp_path / "run2", backend="local", workers=2, cache_dir=cache)
    assert second.baselines() == baselines
    assert second.simulations_run == 0  # served from the cache

    (fake_task.simulator / "llmsim" / "__init__.py").write_text("# changed\n")
    third = Evaluator(fake_task, tmp_path / "run3", backend="local", workers=2, cache_dir=cache)
    third.baselines()
    assert third.simulations_run == 10  # the template changed: the cache no longer applies


def test_concurrent_callers_are_serialised(fake_task, tmp_path: Path) -> None:
    evaluator = Evaluator(fake_task, tmp_path / "run", backend="local", workers=2)
    results: list[Evaluation] = []
    threads = [
        threading.Thread(target=lambda r=r: results.append(evaluator.evaluate_design(_design(r), r)))
        for r in ("llq", "fast", "crash")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_label = {e.label: e for e in results}
    assert by_label["fast"].score == pytest.approx(21.0)
    assert by_label["llq"].score == pytest.approx(48.5)
    assert not by_label["crash"].valid
    assert len(list((tmp_path / "run" / "evaluations").iterdir())) == 3


def test_design_that_changes_simulator_files_is_invalid(fake_task, tmp_path: Path) -> None:
    evaluation = Evaluator(fake_task, tmp_path / "run", backend="local", workers=2).evaluate_design(
        _design("scribble"), "scribble"
    )
    assert not evaluation.valid
    assert evaluation.reason.startswith("the simulator's files changed during the evaluation")
    assert (fake_task.simulator / "llmsim" / "__init__.py").read_text() == ""  # the template is untouched
