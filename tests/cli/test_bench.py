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
    """(router, workload) -> the row's cells, with blank router cells filled from the row above."""
    rows, router = {}, ""
    for line in out.splitlines():
        if line.count("│") < 8:
            continue
        cells = [c.strip() for c in line.split("│")[1:-1]]
        router = cells[0] or router
        rows[(router, cells[1])] = cells
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
    assert main(["bench", TASK, *QUICK, "--workspace", "local", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    routers = {router for router, _ in rows}
    assert routers == {"random", "round_robin", "llq", "lor"}
    assert {workload for _, workload in rows} == {"main @7.5", "heldout_6.5* @6.5", "heldout_8.5* @8.5"}
    # The printed numbers are the evaluator's numbers (cached per task), to two decimals.
    for router in routers:
        main_scores = cached_evaluation(root, router)["workloads"]["main"]
        row = rows[(router, "main @7.5")]
        assert row[2] == "2"
        assert row[3] == f"{main_scores['mean']:.2f}"
        assert row[4] == f"{main_scores['ci_low']:.2f}–{main_scores['ci_high']:.2f}"
        assert row[5] == f"{main_scores['p90']:.2f}"
        assert float(row[3]) > 0 and float(row[6].rstrip("%")) >= 0
    assert "held-out workload" in out
    llq = cached_evaluation(root, "llq")["score"]
    assert f"Reference baseline llq: {llq:.2f} s" in out


def test_bench_design_file_matches_the_router_it_implements(capsys, tmp_path, wide) -> None:
    """The template's design is a random router, so it must score exactly like the built-in `random`."""
    root = str(tmp_path / "ws")
    common = ["bench", TASK, *QUICK, "--workloads", "main", "--workspace", "local", "--root", root]
    assert main([*common, "--design", str(TEMPLATE_DESIGN)]) == 0
    design_rows = table_rows(capsys.readouterr().out)
    assert main([*common, "--router", "random"]) == 0
    random_rows = table_rows(capsys.readouterr().out)
    design = design_rows[("ai_global_scheduler", "main @7.5")]
    assert design[2:] == random_rows[("random", "main @7.5")][2:]


def test_bench_rejects_a_cheating_design(capsys, tmp_path, wide) -> None:
    cheat = tmp_path / "ai_global_scheduler.py"
    cheat.write_text(TEMPLATE_DESIGN.read_text() + "\n# peeks at request.num_decode_tokens\n")
    code = main(
        [
            "bench",
            TASK,
            *QUICK,
            "--workloads",
            "main",
            "--workspace",
            "local",
            "--root",
            str(tmp_path),
            "--design",
            str(cheat),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "invalid" in out and "num_decode_tokens" in out


@pytest.mark.docker
def test_bench_router_in_docker(capsys, tmp_path, wide, workspace_image) -> None:
    args = ["bench", TASK, "--seeds", "1", "--duration", "100", "--workloads", "main", "--router", "llq"]
    assert (
        main([*args, "--workspace", "docker", "--image", workspace_image, "--root", str(tmp_path / "d")]) == 0
    )
    docker_row = table_rows(capsys.readouterr().out)[("llq", "main @7.5")]
    assert main([*args, "--workspace", "local", "--root", str(tmp_path / "l")]) == 0
    local_row = table_rows(capsys.readouterr().out)[("llq", "main @7.5")]
    assert docker_row[2] == "1"
    assert docker_row[2:] == local_row[2:], "the sandbox must not change the simulator's numbers"
