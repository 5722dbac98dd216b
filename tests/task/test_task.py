"""Loading, validating and overriding task files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from glia.task import BudgetLimits, Task, TaskError
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "tasks" / "llm_routing.md"

DESIGN = "pkg/design.py"


def _header() -> dict:
    return {
        "name": "toy",
        "title": "A toy task",
        "simulator": "sim",
        "design": {"slot": "router", "files": [DESIGN], "name": "ai", "host": "python -m pkg.host"},
        "baselines": ["random", {"name": "llq"}, {"name": "mine", "file": "mine.py"}],
        "metric": {
            "name": "mean_e2e",
            "direction": "minimize",
            "unit": "s",
            "constraints": ["p90_ttft <= 1.5"],
            "report": ["frac_restarted"],
        },
        "benchmark": {"command": "./run_all.sh", "conditions": {"router": "ai", "duration": 1000}},
        "evaluation": {
            "command": "python -m llmsim run --router {design} --qps {qps} --seed {seed} "
            "--router-seed {design_seed} --duration {duration} --output-root {output_root}",
            "time_limit_s": 60,
            "reference": "llq",
            "per_request": {"file": "requests.csv", "recompute": {"mean_e2e": "mean(e2e)", "n": "count()"}},
            "workloads": [
                {"name": "main", "qps": 7.5, "duration": 1000, "seeds": [0, 1, 2]},
                {"name": "heavy", "qps": 8.5, "duration": 1000, "seeds": [10, 11, 12], "heldout": True},
            ],
        },
        "forbidden_names": ["num_decode_tokens"],
        "budgets": {"dollars": 5, "simulations": 20, "wall_time_min": 30, "steps": 50, "tokens": None},
    }


def _write(tmp_path: Path, header: dict, body: str = "Make it fast.\n") -> Path:
    (tmp_path / "sim" / "pkg").mkdir(parents=True, exist_ok=True)
    (tmp_path / "sim" / DESIGN).write_text("class Router: ...\n")
    # Its benchmark reports each run to Glia's ledger, so the task is loaded as written (no counted copy).
    (tmp_path / "sim" / "run_all.sh").write_text('#!/bin/sh\necho "one run" > "$GLIA_LEDGER"\n')
    (tmp_path / "mine.py").write_text("class Router: ...\n")
    path = tmp_path / "toy.md"
    path.write_text("---\n" + yaml.safe_dump(header, sort_keys=False) + "---\n" + body)
    return path


def _set(data: dict, dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[int(key)] if key.isdigit() else data[key]
    if value is _DELETE:
        del data[last]
    else:
        data[last] = value


_DELETE = object()


def test_valid_file_loads_every_field(tmp_path: Path) -> None:
    task = load_task(_write(tmp_path, _header()))
    assert task.name == "toy"
    assert task.simulator == (tmp_path / "sim").resolve()
    assert task.design_files == (DESIGN,) and task.design.slot == "router" and task.design.name == "ai"
    assert task.design.host == "python -m pkg.host"
    assert task.metric.direction == "minimize" and task.metric.better(1.0, 2.0)
    assert [str(c) for c in task.metric.constraints] == ["p90_ttft <= 1.5"]
    assert task.metric.keys == ("mean_e2e", "p90_ttft", "frac_restarted")
    spec = task.evaluation
    assert spec.primary.name == "main" and spec.primary.seeds == (0, 1, 2)
    assert spec.primary.params == {"qps": 7.5, "duration": 1000}
    assert spec.workloads[1].heldout is True
    assert spec.baselines == ("random", "llq", "mine") and spec.reference_baseline == "llq"
    assert spec.baseline("llq").builtin and spec.baseline("mine").file == (tmp_path / "mine.py").resolve()
    assert spec.per_request.file == "requests.csv" and str(spec.per_request.recompute["n"]) == "count()"
    assert task.benchmark.command == "./run_all.sh" and task.results_dir == "simulator_results"
    assert task.benchmark.conditions == {"router": "ai", "duration": 1000}
    assert task.budgets == BudgetLimits(
        dollars=5.0, simulations=20, wall_time_s=1800.0, steps=50, tokens=None
    )
    assert task.supervisor.every_k_turns == 12  # defaults when the section is omitted
    assert task.defaults.strategy == "scg"
    assert task.body == "Make it fast."


def test_per_agent_model_settings_come_from_the_task(tmp_path: Path) -> None:
    header = _header()
    header["models"] = {"researcher": {"reasoning_effort": "high"}, "supervisor": {"thinking_budget": 2048}}
    task = load_task(_write(tmp_path, header))
    assert task.model_settings["researcher"].reasoning_effort == "high"
    assert task.model_settings["supervisor"].thinking_budget == 2048


def test_a_count_of_seeds_means_secret_seeds(tmp_path: Path) -> None:
    header = _header()
    header["evaluation"]["workloads"][0]["seeds"] = 10
    task = load_task(_write(tmp_path, header))
    primary = task.evaluation.primary
    assert primary.secret and primary.count == 10 and not task.evaluation.workloads[1].secret


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "budgets.simulations",
            "lots",
            "field 'budgets.simulations' must be a positive integer or null, got 'lots'",
        ),
        ("budgets.dollars", -3, "field 'budgets.dollars' must be a positive number or null, got -3"),
        (
            "metric.direction",
            "lower",
            "field 'metric.direction' must be one of minimize, maximize, got 'lower'",
        ),
        ("name", _DELETE, "field 'name' is required"),
        ("design.files", [], "field 'design.files' must be a list of non-empty strings (at least one)"),
        (
            "design.files",
            ["../escape.py"],
            "field 'design.files' must be paths inside the simulator repository",
        ),
        (
            "design.files",
            ["pkg/missing.py"],
            "field 'design.files' must be files that exist in the simulator",
        ),
        ("design.slot", "a router", "field 'design.slot' must be letters, digits"),
        ("design.colour", "red", "unknown field 'design.colour'"),
        ("design_files", [DESIGN], "field 'design_files' is now 'design.files'"),
        ("metric.constraints", ["p90_ttft < fast"], "field 'metric.constraints' must be a constraint"),
        ("metric.constraints", "p90_ttft < 1", "field 'metric.constraints' must be a list"),
        ("baselines", [], "field 'baselines' must be a non-empty list"),
        ("baselines", ["llq", "llq"], "field 'baselines' must be baselines with distinct names"),
        ("baselines.2.file", "absent.py", "field 'baselines[2].file' must be a design file relative"),
        ("benchmark.conditions", ["router"], "field 'benchmark.conditions' must be a mapping"),
        (
            "evaluation.per_request.recompute.mean_e2e",
            "median(e2e)",
            "field 'evaluation.per_request.recompute.mean_e2e' must be an aggregate",
        ),
        (
            "evaluation.per_request.recompute.mean_e2e",
            "fraction(e2e)",
            "fraction(column OP value), count() or FUNC(column)",
        ),
        (
            "evaluation.workloads.0.qsp",
            7.5,
            "field 'evaluation.workloads[0].qsp' must be a parameter that evaluation.command uses",
        ),
        (
            "evaluation.workloads.1.qps",
            _DELETE,
            "workload 'heavy' has no {qps}",
        ),
        (
            "evaluation.workloads.0.seed",
            3,
            "field 'evaluation.workloads[0].seed' must be not 'seed', a name Glia fills in itself",
        ),
        (
            "evaluation.workloads.0.seeds",
            0,
            "field 'evaluation.workloads[0].seeds' must be a count between 1 and 1000",
        ),
        ("simulator", "nowhere", "field 'simulator' must be a folder relative to the task file"),
        ("evaluation.time_limit_s", 0, "field 'evaluation.time_limit_s' must be a positive number, got 0"),
        (
            "evaluation.workloads.0.seeds",
            [1, 1],
            "field 'evaluation.workloads[0].seeds' must be a list without repeated",
        ),
        (
            "evaluation.workloads.0.seeds",
            "0-9",
            "field 'evaluation.workloads[0].seeds' must be a count of secret seeds or a list",
        ),
        (
            "evaluation.workloads.0.qps",
            [7.5],
            "field 'evaluation.workloads[0].qps' must be a number or a string",
        ),
        (
            "evaluation.workloads.1.seeds",
            [2, 13],
            "held-out workload 'heavy' seeds disjoint from the primary",
        ),
        ("evaluation.workloads.0.heldout", True, "field 'evaluation.workloads[0].heldout' must be false"),
        (
            "evaluation.reference",
            "lor",
            "field 'evaluation.reference' must be one of the baselines",
        ),
        (
            "evaluation.command",
            "run --qps {qps} {duration}",
            "field 'evaluation.command' must be a template containing {design}, {output_root}, {seed}",
        ),
        (
            "evaluation.command",
            "run {design} {qps} {duration} {seed} {output_root} {gpu}",
            "workload 'main' has no {gpu}",
        ),
        (
            "defaults",
            {"strategy": "greedy"},
            "field 'defaults.strategy' must be one of scg, mcg-seq, mcg-par",
        ),
        (
            "defaults",
            {"target_improvement": 30},
            "field 'defaults.target_improvement' must be a number in [0, 1)",
        ),
        (
            "supervisor",
            {"every_k_turns": 2.5},
            "field 'supervisor.every_k_turns' must be a positive integer, got 2.5",
        ),
        ("budget", {"dollars": 1}, "unknown field 'budget'"),
        ("models", {"researcher": {"reasoning_effort": "huge"}}, "field 'models.researcher' must be model"),
        ("models", {"critic": {}}, "unknown field 'models.critic'"),
    ],
)
def test_malformed_field_names_file_field_and_expectation(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    header = _header()
    _set(header, field, value)
    path = _write(tmp_path, header)
    with pytest.raises(TaskError) as caught:
        load_task(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert message in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("no front matter here", "must start with a '---' line"),
        ("---\nname: x\n", "never closed"),
        ("---\nname: [unclosed\n---\nbody", "not valid YAML"),
        ("---\n- a\n- b\n---\nbody", "must be a mapping of fields"),
    ],
)
def test_broken_file_structure(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.md"
    path.write_text(content)
    with pytest.raises(TaskError, match=message):
        load_task(path)


def test_empty_body_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="body .* is empty"):
        load_task(_write(tmp_path, _header(), body="\n \n"))
    with pytest.raises(TaskError, match="cannot read the task file"):
        load_task(tmp_path / "absent.md")


def test_overrides_trim_seeds_workloads_and_parameters(tmp_path: Path) -> None:
    task = load_task(_write(tmp_path, _header()))
    quick = task.with_overrides(seeds=2, duration_s=200, time_limit_s=30)
    # the count cuts the primary workload only: held-out checks keep their seeds
    assert [w.seeds for w in quick.evaluation.workloads] == [(0, 1), (10, 11, 12)]
    assert all(w.params["duration"] == 200 for w in quick.evaluation.workloads)
    assert quick.evaluation.time_limit_s == 30.0
    assert task.evaluation.primary.seeds == (0, 1, 2)  # the original is untouched (frozen copy)

    explicit = task.with_overrides(seeds=[5], workloads=["main"], budgets=BudgetLimits(simulations=3))
    assert [(w.name, w.seeds) for w in explicit.evaluation.workloads] == [("main", (5,))]
    assert explicit.budgets.simulations == 3
    assert task.with_overrides(params={"qps": 9}).evaluation.workloads[1].params["qps"] == 9
    assert task.with_overrides(baselines=["llq"]).evaluation.baselines == ("llq",)

    with pytest.raises(TaskError, match="unknown workloads"):
        task.with_overrides(workloads=["nope"])
    with pytest.raises(TaskError, match="disjoint"):
        task.with_overrides(seeds=[10, 11])
    with pytest.raises(TaskError, match="positive count"):
        task.with_overrides(seeds=0)
    with pytest.raises(TaskError, match="no workload of this task has that parameter"):
        task.with_overrides(params={"users": 4})
    with pytest.raises(TaskError, match="unknown baselines"):
        task.with_overrides(baselines=["fifo"])


def test_render_command_fills_glia_and_workload_placeholders(tmp_path: Path) -> None:
    task = load_task(_write(tmp_path, _header())).with_overrides(duration_s=150)
    command = task.evaluation.render_command("llq", task.evaluation.primary, 4, "exp", "out", design_seed=9)
    assert command == (
        "python -m llmsim run --router llq --qps 7.5 --seed 4 --router-seed 9 --duration 150 --output-root out"
    )
    odd = task.with_overrides(params={"qps": 7.25})
    assert "--qps 7.25" in odd.evaluation.render_command("a b", odd.evaluation.primary, 0, "e", "o")
    assert "--router 'a b'" in odd.evaluation.render_command("a b", odd.evaluation.primary, 0, "e", "o")


def test_researcher_brief_reports_measured_baselines(tmp_path: Path) -> None:
    task = load_task(_write(tmp_path, _header()))
    brief = task.researcher_brief({"random": 81.234, "llq": 40.0})
    assert brief.startswith("Make it fast.")
    assert "| random | 81.23 |" in brief
    assert "| llq (reference) | 40.00 |" in brief
    assert "at most about 28.00 s" in brief  # 30% better than 40 s, from defaults.target_improvement
    assert "3 seeds" in brief and "qps=7.5, duration=1000" in brief
    assert "subject to p90_ttft <= 1.5" in brief
    partial = task.researcher_brief({"random": None, "llq": 40.0})
    assert "| random | not measured (its evaluation failed) |" in partial
    unmeasured = task.researcher_brief(None)
    assert "has not measured the baselines" in unmeasured and "| llq" not in unmeasured


def test_shipped_designs_pass_the_shipped_task_checks() -> None:
    """The starting design and the baselines' code style must be acceptable designs themselves."""
    from glia.evaluation import design_problem

    task = load_task(SHIPPED)
    folder = task.simulator / "llmsim" / "global_schedulers"
    (design,) = task.design_files
    for source in ("ai_global_scheduler.py", "llq.py", "lor.py", "round_robin.py", "random_scheduler.py"):
        text = (folder / source).read_text()
        problem = design_problem(
            {design: text},
            task.design_files,
            task.forbidden_names,
            task.allowed_imports,
            task.forbidden_attributes,
        )
        assert problem is None, (source, problem)


def test_shipped_routing_task_loads() -> None:
    task = load_task(SHIPPED)
    assert isinstance(task, Task)
    assert task.name == "llm_routing"
    assert task.metric.name == "mean_e2e" and task.metric.direction == "minimize"
    spec = task.evaluation
    assert spec.primary.qps == 7.5 and spec.primary.count == 10 and spec.primary.secret
    assert task.design.host == "python -m llmsim.design_host" and task.design.slot == "router"
    assert task.benchmark.conditions["workload"] == "trace:data/processed_traces/sharegpt_7.5.csv"
    assert [w.heldout for w in spec.workloads[1:]] == [True] * (len(spec.workloads) - 1) and len(
        spec.workloads
    ) >= 3
    assert set(spec.baselines) == {"random", "round_robin", "llq", "lor"}
    assert spec.reference_baseline == "llq"
    assert "num_decode_tokens" in task.forbidden_names
    for relpath in task.design_files:
        assert (task.simulator / relpath).is_file()
    assert "num_decode_tokens" in task.body  # the brief states the hidden-field rule
    assert "llmsim.global_schedulers.base" in task.allowed_imports and "preempt" in task.forbidden_attributes
    assert "| llq (reference) | 54.60 |" in task.researcher_brief({"llq": 54.6})
