"""The parts of trusted evaluation that need no simulator: statistics, design checks, selection, cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from glia.evaluation import (
    Evaluation,
    SeedResult,
    WorkloadScore,
    bootstrap_mean_ci,
    design_problem,
    select_best,
)
from glia.evaluation.cache import BaselineCache, baseline_key
from glia.task import EvalSpec, Workload

DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
FORBIDDEN = ("num_decode_tokens", "_num_decode_tokens", "decode_tokens")


def _check(text: str, relpath: str = DESIGN) -> str | None:
    return design_problem({relpath: text}, [DESIGN], FORBIDDEN)


# ------------------------------------------------------------------------------------------ statistics


def test_bootstrap_of_identical_values_is_a_point() -> None:
    assert bootstrap_mean_ci([4.0, 4.0, 4.0]) == (4.0, 4.0)
    assert bootstrap_mean_ci([7.5]) == (7.5, 7.5)


def test_bootstrap_of_two_values_matches_the_exact_resampling_distribution() -> None:
    # Resampling two seeds gives a mean of 10 (p=1/4), 15 (p=1/2) or 20 (p=1/4):
    # the 5th percentile is 10 and the 95th is 20.
    assert bootstrap_mean_ci([10.0, 20.0]) == (10.0, 20.0)


def test_bootstrap_interval_is_reproducible_and_brackets_the_mean() -> None:
    values = [38.0, 41.5, 39.2, 44.1, 40.3, 37.8, 42.6, 39.9, 41.0, 40.7]
    low, high = bootstrap_mean_ci(values)
    assert (low, high) == bootstrap_mean_ci(values)  # fixed RNG seed
    assert low < np.mean(values) < high
    # Normal approximation: mean +- 1.645 * sd / sqrt(n) = 40.5 +- 0.98; the bootstrap is close to it.
    half_width = 1.645 * np.std(values) / np.sqrt(len(values))
    assert low == pytest.approx(np.mean(values) - half_width, abs=0.25)
    assert high == pytest.approx(np.mean(values) + half_width, abs=0.25)


def test_bootstrap_rejects_empty_input() -> None:
    with pytest.raises(ValueError):
        bootstrap_mean_ci([])


def test_workload_score_averages_per_seed_means_and_p90s() -> None:
    seeds = [
        SeedResult(seed=s, mean_e2e=m, p90_e2e=p, frac_restarted=0.1, mean_scheduling_delay=1.0)
        for s, m, p in [(2, 30.0, 60.0), (0, 10.0, 20.0), (1, 20.0, 40.0)]
    ]
    score = WorkloadScore.from_seeds("main", 7.5, False, seeds)
    assert score.mean == pytest.approx(20.0)
    assert score.p90 == pytest.approx(40.0)
    assert [s.seed for s in score.seeds] == [0, 1, 2]
    assert 10.0 <= score.ci_low < 20.0 < score.ci_high <= 30.0


# ------------------------------------------------------------------------------------------ design checks


def test_clean_design_passes() -> None:
    source = "class AIGlobalScheduler:\n    def schedule(self):\n        return [r.num_prefill_tokens for r in self.q]\n"
    assert _check(source) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = req.num_decode_tokens\n", "uses forbidden name 'num_decode_tokens'"),
        ("x = req._num_decode_tokens\n", "uses forbidden name '_num_decode_tokens'"),
        ("x = getattr(req, 'num_decode_tokens')\n", "uses forbidden name 'num_decode_tokens'"),
        ("# peek at decode_tokens later\nx = 1\n", ":1: uses forbidden name 'decode_tokens'"),
        ("x = getattr(req, 'num_decode' + '_tokens')\n", "builds forbidden name 'num_decode_tokens'"),
        ("x = getattr(req, f'{\"_num_\"}decode_tokens')\n", "forbidden name"),
        (
            "x = getattr(req, '_'.join(['num', 'decode', 'tokens']))\n",
            "builds forbidden name 'num_decode_tokens'",
        ),
        ("def broken(:\n", "does not parse"),
    ],
)
def test_forbidden_or_broken_source_is_rejected(source: str, expected: str) -> None:
    problem = _check(source)
    assert problem is not None and expected in problem
    assert problem.startswith(DESIGN)


def test_names_only_match_as_whole_identifiers() -> None:
    assert _check("my_decode_tokens_estimate = 3\nprefill_tokens = 2\n") is None


def test_files_outside_the_design_are_rejected() -> None:
    problem = design_problem({DESIGN: "x = 1\n", "llmsim/replica.py": "y = 2\n"}, [DESIGN], FORBIDDEN)
    assert problem == f"llmsim/replica.py: not a design file (only {DESIGN} may be changed)"
    assert design_problem({}, [DESIGN], FORBIDDEN) == "the design supplies no files"


# ------------------------------------------------------------------------------------------ selection


def _evaluation(label: str, score: float | None) -> Evaluation:
    if score is None:
        return Evaluation.invalid(label, "seed 0 (main): crashed")
    return Evaluation(label=label, valid=True, reason=None, score=score)


def test_select_best_ignores_invalid_and_uses_trusted_score() -> None:
    candidates = [
        _evaluation("a", 40.0),
        _evaluation("cheat", None),
        _evaluation("b", 31.5),
        _evaluation("c", 35.0),
    ]
    assert select_best(candidates, "minimize").label == "b"
    assert select_best(candidates, "maximize").label == "a"
    assert select_best([_evaluation("cheat", None)], "minimize") is None
    assert select_best([], "minimize") is None
    # An invalid evaluation carrying a (bogus) score is still never selected.
    bogus = Evaluation(label="bogus", valid=False, reason="unfinished requests", score=1.0)
    assert select_best([bogus, _evaluation("a", 40.0)], "minimize").label == "a"
    with pytest.raises(ValueError):
        select_best(candidates, "lower")


def test_select_best_keeps_the_earliest_on_ties() -> None:
    assert select_best([_evaluation("first", 30.0), _evaluation("second", 30.0)], "minimize").label == "first"


# ------------------------------------------------------------------------------------------ serialisation


def _full_evaluation() -> Evaluation:
    seeds = [
        SeedResult(
            seed=s,
            mean_e2e=20.0 + s,
            p90_e2e=50.0,
            frac_restarted=0.2,
            mean_scheduling_delay=3.0,
            num_requests=7000,
            wall_time_s=12.0,
        )
        for s in range(3)
    ]
    workload = WorkloadScore.from_seeds("main", 7.5, False, seeds)
    return Evaluation(
        label="design-1",
        valid=True,
        reason=None,
        score=workload.mean,
        workloads={"main": workload},
        design_sha256="ab" * 32,
        duration_s=42.0,
        router="ai",
    )


def test_evaluation_round_trips_through_json() -> None:
    original = _full_evaluation()
    restored = Evaluation.from_dict(json.loads(json.dumps(original.to_dict())))
    assert restored == original
    assert restored.workloads["main"].seeds[1].mean_e2e == 21.0


# ------------------------------------------------------------------------------------------ baseline cache


def _spec(seeds: tuple[int, ...] = (0, 1)) -> EvalSpec:
    return EvalSpec(
        command="run {router} {qps} {seed} {output_root}",
        time_limit_s=60.0,
        workloads=(Workload("main", 7.5, seeds),),
        baselines=("llq",),
        reference_baseline="llq",
        design_router="ai",
    )


def test_baseline_key_tracks_template_files_and_spec_but_not_outputs(tmp_path: Path) -> None:
    template = tmp_path / "sim"
    (template / "pkg").mkdir(parents=True)
    (template / "pkg" / "router.py").write_text("A = 1\n")
    key = baseline_key(template, _spec())
    (template / "simulator_results" / "x").mkdir(parents=True)
    (template / "simulator_results" / "x" / "summary.json").write_text("{}")
    (template / "pkg" / "__pycache__").mkdir()
    (template / "pkg" / "__pycache__" / "router.cpython-311.pyc").write_bytes(b"\0")
    assert baseline_key(template, _spec()) == key
    assert baseline_key(template, _spec(seeds=(0, 1, 2))) != key
    (template / "pkg" / "router.py").write_text("A = 2\n")
    assert baseline_key(template, _spec()) != key


def test_cache_stores_and_ignores_damaged_files(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path / "cache", "k" * 64)
    assert cache.get("llq") is None
    cache.put("llq", _full_evaluation())
    assert cache.get("llq") == _full_evaluation()
    assert BaselineCache(tmp_path / "cache", "other" * 13).get("llq") is None
    next((tmp_path / "cache").glob("baseline-llq-*.json")).write_text("{not json")
    assert cache.get("llq") is None


# ------------------------------------------------------------------------------------------ imports and escapes

ALLOWED = ("__future__", "math", "typing", "llmsim.global_schedulers.base")


def _check_code(source: str) -> str | None:
    return design_problem({DESIGN: source}, [DESIGN], FORBIDDEN, ALLOWED, ["preempt", "admit"])


def test_allowed_imports_and_type_checking_imports_pass() -> None:
    source = (
        "from __future__ import annotations\n"
        "import math\n"
        "from typing import TYPE_CHECKING\n"
        "from llmsim.global_schedulers.base import GlobalScheduler\n"
        "if TYPE_CHECKING:\n"
        "    from llmsim.request import Request\n"
    )
    assert _check_code(source) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\n", ":1: imports 'os'"),
        ("from llmsim.request import Request\n", ":1: imports 'llmsim.request'"),
        ("import math\nfrom llmsim import workload\n", ":2: imports 'llmsim'"),
        ("from . import registry\n", "imports '.'"),
        ("x = eval('1')\n", "banned builtin 'eval'"),
        ("f = open\n", "banned builtin 'open'"),
        ("g = self.schedule.__globals__\n", "banned attribute '__globals__'"),
        ("g = getattr(self.schedule, '__glob' + 'als__')\n", "banned attribute '__globals__' in a string"),
        ("setattr(request, 'num_prefill_tokens', 1)\n", "banned builtin 'setattr'"),
        ("n = request._processed\n", "private attribute '_processed' of an object other than self"),
        (
            "self.replicas[0].num_blocks = 10**9\n",
            "changes attribute 'num_blocks' of an object other than self",
        ),
        ("type(replica).can_admit = lambda s, r: True\n", "changes attribute 'can_admit'"),
        ("self.replicas[0].preempt(request, 0.0)\n", "forbidden attribute 'preempt'"),
        ("m = getattr(replica, 'admit')\n", "forbidden attribute 'admit' in a string"),
    ],
)
def test_escapes_from_the_router_interface_are_rejected(source: str, expected: str) -> None:
    problem = _check_code(source)
    assert problem is not None and expected in problem


def test_own_state_and_comments_about_forbidden_attributes_are_fine() -> None:
    source = (
        "class Router:\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self._history = []  # avoid making replicas preempt or admit too much\n"
        "        self._history.append(1)\n"
    )
    assert _check_code(source) is None


def test_imports_are_unrestricted_without_an_allow_list() -> None:
    assert design_problem({DESIGN: "import os\n"}, [DESIGN], FORBIDDEN, None) is None
