"""`glia compare` at the command line: the plan costs nothing, mistakes end in one line with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.cli import main
from glia.compare.plan import ComparePlan, new_state, parse_methods, save_state

REPO = Path(__file__).resolve().parents[2]
ROUTING = str(REPO / "tasks" / "llm_routing.md")


def test_the_plan_prints_runs_and_costs_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    code = main(["compare", ROUTING, "--plan", "--root", str(root), "--repeats", "2", "--methods", "scg,sample,openevolve",
                 "--max-simulations", "15,100", "--researcher-model", "anthropic:claude-sonnet-4-5", "--name", "p1"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "12 runs (3 methods × 2 budget(s) × 2 repeats)" in out
    assert "SCG" in out and "Sample" in out and "OpenEvolve" in out
    assert "At most 690 budgeted simulations" in out  # 2 repeats x 3 methods x (15 + 100)
    assert "20 simulations per evaluated design" in out  # 10 + 5 + 5 seeds of the routing task
    assert not root.exists()  # nothing created, nothing spent


def test_an_existing_comparison_with_other_settings_is_not_silently_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    stored = ComparePlan(compare_id="same", task_path=Path(ROUTING), task_name="llm_routing", methods=parse_methods("loop"),
                         budgets=[15], repeats=1, researcher_model="openai:o3", supervisor_model="openai:o3",
                         workspaces_root=root, max_dollars=30.0, max_minutes=240.0, max_steps=300)  # fmt: skip
    save_state(stored.folder, new_state(stored))
    code = main(
        [
            "compare",
            ROUTING,
            "--root",
            str(root),
            "--name",
            "same",
            "--methods",
            "sample",
            "--max-simulations",
            "15",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "comparison same exists with other settings (methods)" in err and "glia compare --resume same" in err
    )


def test_unknown_methods_and_missing_comparisons_are_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", ROUTING, "--plan", "--root", str(tmp_path), "--methods", "scg,alphaevolve"]) == 2
    assert "unknown strategy 'alphaevolve'" in capsys.readouterr().err
    assert main(["compare", "--resume", "nothing-here", "--root", str(tmp_path)]) == 2
    assert "no comparison 'nothing-here'" in capsys.readouterr().err
    assert main(["compare", "--root", str(tmp_path)]) == 2
    assert "needs a TASK" in capsys.readouterr().err


def test_solve_accepts_the_black_box_strategies(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    out = capsys.readouterr().out
    assert "sample" in out and "loop" in out and "openevolve" in out


def test_the_plan_lists_all_seven_methods_with_eoh_and_funsearch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from glia.compare.estimate import per_simulation_usage
    from glia.task_kinds import load_task

    root = tmp_path / "ws"
    methods = "scg,mcg-par4,sample,loop,openevolve,eoh,funsearch"
    code = main(["compare", ROUTING, "--plan", "--root", str(root), "--methods", methods, "--repeats", "1",
                 "--max-simulations", "15", "--researcher-model", "openai:o3", "--population", "4"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "7 runs (7 methods × 1 budget(s) × 1 repeats)" in out
    rows = [line.split()[0] for line in out.splitlines() if line.split() and line.split()[-1].startswith("$")]
    assert rows[:7] == ["SCG", "MCG-Par4", "Sample", "Loop", "OpenEvolve", "EoH", "FunSearch"]
    assert "At most 105 budgeted simulations" in out and not root.exists()
    task = load_task(ROUTING)
    ((_, eoh),) = per_simulation_usage("eoh", task, 15)
    ((_, funsearch),) = per_simulation_usage("funsearch", task, 15)
    assert eoh == funsearch and eoh.output_tokens == 5_000 and eoh.input_tokens > 3 * 1_000
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    assert "eoh" in capsys.readouterr().out
    code = main(["compare", ROUTING, "--plan", "--methods", "eoh", "--population", "0", "--root", str(root)])
    assert code != 0 and "population" in capsys.readouterr().err
