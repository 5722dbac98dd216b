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
from glia.evaluation.secrets import SeedKey, plan_seeds
from glia.evaluation.verify import SimulationFailed, check_per_request, check_summary
from glia.metric import Constraint, Metric
from glia.task import Aggregate, PerRequestCheck
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
LATENCY = Metric("mean_e2e", "minimize", "s", report=("p90_e2e", "frac_restarted"))

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


def _seed(seed: int, mean: float, p90: float = 50.0, restarted: float = 0.1) -> SeedResult:
    return SeedResult(seed=seed, values={"mean_e2e": mean, "p90_e2e": p90, "frac_restarted": restarted})


def test_workload_score_averages_every_key_over_seeds() -> None:
    seeds = [_seed(s, m, p) for s, m, p in [(2, 30.0, 60.0), (0, 10.0, 20.0), (1, 20.0, 40.0)]]
    score = WorkloadScore.from_seeds("main", {"qps": 7.5}, False, True, seeds, LATENCY)
    assert score.mean == pytest.approx(20.0) and score.value("p90_e2e") == pytest.approx(40.0)
    assert score.stats["frac_restarted"].mean == pytest.approx(0.1)
    assert 10.0 <= score.ci_low < 20.0 < score.ci_high <= 30.0
    assert score.violations == () and score.secret


def test_workload_score_names_the_violated_constraint() -> None:
    metric = Metric("throughput", "maximize", constraints=(Constraint.parse("p90_ttft <= 1.5"),))
    seeds = [SeedResult(seed=s, values={"throughput": 5.0, "p90_ttft": t}) for s, t in [(0, 1.2), (1, 2.2)]]
    score = WorkloadScore.from_seeds("main", {}, False, False, seeds, metric)
    assert score.violations == ("p90_ttft = 1.7, required <= 1.5",)


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


def _evaluation(label: str, score: float | None, feasible: bool = True) -> Evaluation:
    if score is None:
        return Evaluation.invalid(label, "main workload, run 1: crashed")
    return Evaluation(label=label, valid=True, reason=None, score=score, feasible=feasible)


def test_select_best_ignores_invalid_and_uses_trusted_score() -> None:
    candidates = [
        _evaluation("a", 40.0),
        _evaluation("cheat", None),
        _evaluation("b", 31.5),
        _evaluation("c", 35.0),
    ]
    assert select_best(candidates, LATENCY).label == "b"
    assert select_best(candidates, Metric("mean_e2e", "maximize")).label == "a"
    assert select_best([_evaluation("cheat", None)], LATENCY) is None
    assert select_best([], LATENCY) is None
    # An invalid evaluation carrying a (bogus) score is still never selected.
    bogus = Evaluation(label="bogus", valid=False, reason="unfinished requests", score=1.0)
    assert select_best([bogus, _evaluation("a", 40.0)], LATENCY).label == "a"


def test_select_best_prefers_feasible_designs_and_keeps_the_earliest_on_ties() -> None:
    assert select_best([_evaluation("first", 30.0), _evaluation("second", 30.0)], LATENCY).label == "first"
    infeasible_but_faster = _evaluation("fast", 10.0, feasible=False)
    assert select_best([infeasible_but_faster, _evaluation("ok", 30.0)], LATENCY).label == "ok"


# ------------------------------------------------------------------------------------------ serialisation


def _full_evaluation() -> Evaluation:
    seeds = [
        SeedResult(seed=s, design_seed=100 + s, values={"mean_e2e": 20.0 + s, "p90_e2e": 50.0,
                   "frac_restarted": 0.2}, wall_time_s=12.0)
        for s in range(3)
    ]  # fmt: skip
    workload = WorkloadScore.from_seeds("main", {"qps": 7.5}, False, True, seeds, LATENCY)
    return Evaluation(
        label="design-1",
        valid=True,
        reason=None,
        score=workload.mean,
        workloads={"main": workload},
        design_sha256="ab" * 32,
        duration_s=42.0,
        design="ai",
        isolation="sandbox",
    )


def test_evaluation_round_trips_through_json_and_refuses_other_formats() -> None:
    original = _full_evaluation()
    restored = Evaluation.from_dict(json.loads(json.dumps(original.to_dict())))
    assert restored == original
    assert restored.workloads["main"].seeds[1].values["mean_e2e"] == 21.0
    old = original.to_dict() | {"version": 1}
    with pytest.raises(ValueError, match="evaluate the design again"):
        Evaluation.from_dict(old)


# ------------------------------------------------------------------------------------------ baseline cache


def test_baseline_key_tracks_template_spec_and_seeds_but_not_outputs(tmp_path: Path) -> None:
    task = load_task(REPO / "tasks" / "llm_routing.md")
    key = SeedKey(b"k" * 32)
    plans = plan_seeds(task, key)
    first = baseline_key(task, plans)
    assert baseline_key(task, plans) == first
    assert baseline_key(task, plan_seeds(task, SeedKey(b"j" * 32))) != first  # other secret seeds
    assert baseline_key(task.with_overrides(duration_s=200), plans) != first
    assert (
        baseline_key(task.with_overrides(seeds=[1, 2]), plan_seeds(task.with_overrides(seeds=[1, 2]), key))
        != first
    )


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
        ("from typing import sys\n", "imports the module 'sys' through 'from typing import sys'"),
        ("import typing\nm = typing.sys.modules\n", "reaches the module 'sys' through 'typing.sys'"),
        ("from math import *\n", "name what you import"),
        ("import typing\ntyping.sys.setattr(1, 'a', 2)\n", "banned builtin 'setattr' as an attribute"),
        ("x = getattr(request, 'f_' + 'kcab'[::-1])\n", "name computed at run time"),
        ("x = getattr(request, name)\n", "name computed at run time"),
        ("x = getattr(request, '_processed')\n", "private attribute '_processed'"),
        ("x = self.rng.__class__.__init_subclass__\n", "banned attribute '__init_subclass__'"),
        (
            "try:\n    1 / 0\nexcept Exception as e:\n    f = e.__traceback__\n",
            "banned attribute '__traceback__'",
        ),
        ("g = (lambda: 0).gi_frame\n", "banned attribute 'gi_frame'"),
        ("import math\nmath.setattr\n", "reaches the banned builtin 'setattr' as an attribute"),
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


# ------------------------------------------------------------------------------------------ hostile sources


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "-" * 200_000 + "1\n",
        "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
        "x = [" + "[" * 3000 + "]" * 3000 + "]\n",
        "# " + "a" * (600 * 1024) + "\n",
    ],
    ids=["unary-chain", "parentheses", "nested-lists", "huge-file"],
)
def test_pathological_sources_are_rejected_with_a_message_not_a_crash(source: str) -> None:
    problem = _check_code(source)
    assert problem is not None and problem.startswith(DESIGN)
    assert any(word in problem for word in ("too deeply nested", "is over", "does not parse"))


def test_checking_never_imports_what_a_design_names_on_the_host() -> None:
    import sys

    before = set(sys.modules)
    problem = design_problem(
        {DESIGN: "from antigravity import x\nimport this\nfrom math import antigravity\n"},
        [DESIGN],
        FORBIDDEN,
        ("math", "typing"),
    )
    assert problem is not None and "imports 'antigravity'" in problem
    assert "antigravity" not in set(sys.modules) - before and "this" not in set(sys.modules) - before


# ------------------------------------------------------------------------------------------ secrets


def test_secret_seeds_are_stable_per_key_and_unguessable_across_keys(tmp_path: Path) -> None:
    task = load_task(REPO / "tasks" / "llm_routing.md")
    key = SeedKey.load_or_create(tmp_path / "secrets")
    assert oct((tmp_path / "secrets" / "evaluation.key").stat().st_mode & 0o777) == "0o600"
    again = SeedKey.load_or_create(tmp_path / "secrets")
    plans, plans_again = plan_seeds(task, key), plan_seeds(task, again)
    assert plans == plans_again
    main = plans["main"]
    assert len(main.seeds) == 10 and len(set(main.seeds)) == 10 and main.secret
    assert all(0 <= s < 2**63 for s in main.seeds) and min(main.seeds) > 2**32  # not small, not enumerable
    assert set(main.design_seeds).isdisjoint(main.seeds)
    other = plan_seeds(task, SeedKey.load_or_create(tmp_path / "elsewhere"))
    assert set(other["main"].seeds).isdisjoint(main.seeds)
    public = plan_seeds(task.with_overrides(seeds=[0, 1]), key)["main"]
    assert public.seeds == (0, 1) and not public.secret


# ------------------------------------------------------------------------------------------ verification


def test_summary_checks_name_what_is_wrong() -> None:
    good = {"valid": True, "num_requests": 10, "num_completed": 10, "mean_e2e": 3.0, "p90_e2e": 5.0,
            "frac_restarted": 0.1}  # fmt: skip
    assert check_summary(good, LATENCY) == {"mean_e2e": 3.0, "p90_e2e": 5.0, "frac_restarted": 0.1}
    cases = [
        (
            {"valid": False, "error": "RouterError: router schedule() raised ZeroDivisionError"},
            "ZeroDivision",
        ),
        ({"num_completed": 9}, "only 9 of 10 requests completed"),
        ({"mean_e2e": float("nan")}, "'mean_e2e' is not a finite number"),
        ({"p90_e2e": "fast"}, "'p90_e2e' is not a finite number"),
        ({"valid": "yes"}, "not valid"),
    ]
    for change, message in cases:
        with pytest.raises(SimulationFailed, match=message):
            check_summary(good | change, LATENCY)


def test_per_request_records_must_agree_with_the_summary() -> None:
    rows = "request_id,request_e2e_time,request_num_restarts\n0,2.0,0\n1,4.0,1\n2,3.0,0\n"
    check = PerRequestCheck(
        "requests.csv",
        {
            "num_requests": Aggregate("count"),
            "mean_e2e": Aggregate("mean", "request_e2e_time"),
            "frac_restarted": Aggregate("fraction", "request_num_restarts", ">", 0.0),
        },
    )
    summary = {"num_requests": 3, "mean_e2e": 3.0, "frac_restarted": 1 / 3}
    check_per_request(summary, rows.encode(), check)
    with pytest.raises(SimulationFailed, match=r"says mean_e2e = 1.0, but mean\(request_e2e_time\)"):
        check_per_request(summary | {"mean_e2e": 1.0}, rows.encode(), check)
    with pytest.raises(SimulationFailed, match="has 2 rows for 3 requests"):
        check_per_request(summary, rows.rsplit("\n", 2)[0].encode() + b"\n", check)
    with pytest.raises(SimulationFailed, match="missing or non-finite"):
        check_per_request(summary, rows.replace("4.0", "").encode(), check)
    with pytest.raises(SimulationFailed, match="not a readable CSV"):
        check_per_request(summary, b"\xff\xfe", check)
