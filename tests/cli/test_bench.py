"""`glia bench` end to end on the bundled simulator: quick settings (2 seeds, 100 simulated seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK = str(REPO_ROOT / "tasks" / "llm_routing.md")
TEMPLATE_DESIGN = REPO_ROOT / "sim_repo_template" / "llmsim" / "global_schedulers" / "ai_global_scheduler.py"
QUICK = ["--seeds", "2", "--duration", "100"]


def table_rows(out: str) -> dict[tuple[str, str], list[str]]:
    """(design, workload name) -> the row's cells, with blank design cells filled from the row above."""
    rows, design = {}, ""
    for line in out.splitlines():
        if line.count("│") < 7:
            continue
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells[0] == "design":
            continue  # the header
        design = cells[0] or design
        rows[(design, cells[1].split(" (")[0])] = cells
    return rows


def cached_evaluation(root: Path, router: str) -> dict:
    folder = root / "bench-llm_routing" / "evaluations"
    (path,) = folder.glob(f"baseline-{router}-*.json")
    return json.loads(path.read_text())


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")


def test_bench_all_baselines_locally(capsys, tmp_path, wide) -> None:
    root = tmp_path / "ws"
    assert (
        main(["bench", TASK, *QUICK, "--workspace", "local", "--unsafe-local-workspace", "--root", str(root)])
        == 0
    )
    out = capsys.readouterr().out
    rows = table_rows(out)
    designs = {design for design, _ in rows}
    assert designs == {"random", "round_robin", "llq", "lor"}
    assert {workload for _, workload in rows} == {"main", "heldout_6.5*", "heldout_8.5*"}
    assert "trusted mean_e2e (s), lower is better" in out
    # The printed numbers are the evaluator's numbers (cached per task), to two decimals.
    for design in designs:
        main_scores = cached_evaluation(root, design)["workloads"]["main"]
        row = rows[(design, "main")]
        assert row[2] == "2"  # --seeds 2 cuts the main workload only
        assert rows[(design, "heldout_8.5*")][2] == "5"
        assert row[3] == f"{main_scores['mean']:.2f}"
        assert row[4] == f"{main_scores['ci_low']:.2f}–{main_scores['ci_high']:.2f}"
        assert row[5] == f"{main_scores['stats']['p90_e2e']['mean']:.2f}"  # the task's report keys follow
        assert float(row[3]) > 0 and 0 <= float(row[6]) <= 1
    assert "held-out workload" in out
    llq = cached_evaluation(root, "llq")["score"]
    assert f"Reference baseline llq: {llq:.2f} s" in out


@pytest.mark.docker
def test_bench_design_file_scores_exactly_like_the_router_it_implements(
    workspace_image, capsys, tmp_path, wide
) -> None:
    """The template's design is a random router: in its own sandbox it must score exactly like the built-in
    `random` (same secret workloads, same design seeds)."""
    root = str(tmp_path / "ws")
    common = ["bench", TASK, *QUICK, "--workloads", "main", "--root", root]
    assert main([*common, "--design", str(TEMPLATE_DESIGN)]) == 0
    design_rows = table_rows(capsys.readouterr().out)
    assert main([*common, "--router", "random"]) == 0
    random_rows = table_rows(capsys.readouterr().out)
    design = design_rows[("ai_global_scheduler", "main")]
    # every score column agrees; the last column, CPU ms per decision, is a measurement of each process
    assert design[2:-1] == random_rows[("random", "main")][2:-1]


def test_bench_refuses_designs_on_the_local_backend_and_rejects_a_cheating_design(
    capsys, tmp_path, wide
) -> None:
    common = [
        "bench",
        TASK,
        *QUICK,
        "--workloads",
        "main",
        "--workspace",
        "local",
        "--unsafe-local-workspace",
    ]
    cheat = tmp_path / "ai_global_scheduler.py"
    cheat.write_text(TEMPLATE_DESIGN.read_text() + "\n# peeks at request.num_decode_tokens\n")
    code = main([*common, "--root", str(tmp_path), "--design", str(cheat)])
    out = capsys.readouterr().out
    assert code == 1
    assert "invalid" in out and "num_decode_tokens" in out
    assert "Sandbox Python: Python 3." in out and "(local backend: this machine's)" in out
    code = main([*common, "--root", str(tmp_path), "--design", str(TEMPLATE_DESIGN)])
    assert code == 2 and "only in Docker sandboxes" in capsys.readouterr().err
