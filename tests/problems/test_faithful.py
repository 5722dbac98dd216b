"""The faithfulness verdict: the initial program scored in process and isolated must agree."""

from __future__ import annotations

from glia.evaluation.faithful import judge


def test_equal_scores_are_faithful_and_a_deterministic_difference_is_not() -> None:
    assert judge([4.5, 2.0], [4.5, 2.0]).faithful
    assert judge([4.5], [4.5 + 1e-12]).faithful  # float rounding
    verdict = judge([4.5, 2.0], [4.5, 1.0])
    assert not verdict.faithful  # one seed agrees exactly: the evaluator is deterministic, so all must
    assert "scores 3.25 when the evaluator runs it in process but 2.75 isolated" in verdict.reason
    assert "\n" not in verdict.reason


def test_a_noisy_evaluator_may_differ_within_its_spread() -> None:
    assert judge([10.0, 11.0, 9.0, 10.5], [10.2, 10.7, 9.3, 10.4]).faithful
    assert not judge([10.0, 11.0, 9.0, 10.5], [20.0, 21.2, 19.1, 20.4]).faithful


def test_invalid_only_when_isolated_says_why_with_the_fix() -> None:
    error = (
        "the program could not run in its sandbox: a module it imports is missing in its sandbox (helper_sim)"
    )
    verdict = judge([4.76], [None], isolated_error=error)
    assert not verdict.faithful
    assert verdict.reason.startswith("the initial program scores 4.76 when the evaluator runs it in process")
    assert "helper_sim" in verdict.reason and "requirements.txt" in verdict.reason
    refused = judge([1.0], [None], isolated_error="Glia refused: the evaluator applied == to a 'X' object")
    assert "return plain data" in refused.reason
    assert judge(
        [None], [None], in_process_error="boom", isolated_error="boom"
    ).faithful  # the evaluator's own
    assert not judge([None], [3.0], in_process_error="needs a file").faithful


def test_one_seed_that_differs_is_measured_again_for_the_evaluators_own_spread() -> None:
    assert not judge([0.50], [0.52]).faithful
    assert judge([0.50], [0.52], repeat=[0.49]).faithful  # an unseeded evaluator: 0.01 apart by itself
    assert not judge([0.50], [0.90], repeat=[0.49]).faithful
    assert not judge([5.0], [0.0], repeat=[5.0]).faithful  # deterministic: the repeat agrees exactly
    # an unseeded evaluator whose one repeat undersells its spread (scores shaped like ADRS
    # txn_scheduling's: 2617.8 in process, 2747.3 isolated); more in-process draws show the spread
    assert not judge([2617.8], [2747.3], repeat=[2644.9]).faithful
    assert judge([2617.8], [2747.3], samples=[2644.9, 2710.0, 2690.4]).faithful
    assert not judge([2617.8], [4000.0], samples=[2644.9, 2710.0, 2690.4]).faithful


def test_a_program_subclassing_the_folders_framework_class_is_named_as_the_cause(tmp_path) -> None:
    """ADRS cant-be-late-multi's program subclasses the simulator's own strategy class, which the
    simulator finds with issubclass and drives: isolated it finds none. The fix says so, not 'make the
    program work without the folder's other files'."""
    from glia.problems.subclasses import framework_subclasses
    from tests.problems.support import write

    folder = write(
        tmp_path / "framework",
        {
            "sim/kit/__init__.py": "",
            "sim/kit/base.py": "class Strategy:\n    pass\n",
            "helpers.py": "class Local:\n    pass\n",
            "initial_program.py": (
                "import dataclasses\nimport kit.base as kb\nfrom kit.base import Strategy as S\n"
                "from helpers import Local\n\n"
                "class Mine(S):\n    pass\n\nclass Other(kb.Strategy):\n    pass\n\n"
                "class Plain(dataclasses.dataclass):\n    pass\n\nclass Own(Local, object):\n    pass\n"
            ),
        },
    )
    found = framework_subclasses(folder, "initial_program.py")
    assert found == ["Mine(S from kit.base)", "Other(kb.Strategy from kit.base)", "Own(Local from helpers)"]
    error = "the evaluator's metrics have no numeric 'combined_score'; its stderr ends: No concrete strategy"
    verdict = judge([-88.38], [None], isolated_error=error, subclasses=found)
    assert not verdict.faithful and "\n" not in verdict.reason
    assert (
        "fix: the program's class Mine(S from kit.base) subclasses a class of the folder's own"
        in verdict.reason
    )
    assert (
        "issubclass and isinstance" in verdict.reason
        and "without the folder's other files" not in verdict.reason
    )
    differs = judge([4.5], [1.0], subclasses=found)
    assert "fix: the program's class Mine" in differs.reason
    assert "without the folder's other files" in judge([4.5], [None], isolated_error=error).reason


def test_a_cause_that_names_its_own_fix_gets_no_second_one() -> None:
    """erdos_min_overlap's program imports tqdm, which its requirements.txt omits: the harness's line
    already says which requirement to add; the verdict does not append a generic fix after it."""
    error = (
        "the program could not run in its sandbox: a module it imports is missing in its sandbox (No module "
        "named 'tqdm'); fix: add `tqdm` to the folder's requirements.txt"
    )
    reason = judge([0.0], [None], isolated_error=error).reason
    assert reason.endswith("fix: add `tqdm` to the folder's requirements.txt") and reason.count("fix:") == 1
