"""The user config file and the precedence task front matter < config file < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.cli import build_parser
from glia.cli.solve import build_run_config
from glia.config import UserConfig, apply_environment, config_path, load_config
from glia.errors import GliaUsageError

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK = str(REPO_ROOT / "tasks" / "llm_routing.md")


def solve_args(*flags: str):
    return build_parser().parse_args(["solve", TASK, *flags])


def test_defaults_come_from_the_task() -> None:
    config = build_run_config(solve_args(), UserConfig())
    assert (config.strategy, config.contexts, config.label) == ("scg", 1, "SCG")
    assert (config.researcher_model, config.supervisor_model) == ("openai:o3", "openai:o3")
    assert config.budgets.dollars == 30 and config.budgets.simulations == 100
    assert config.budgets.wall_time_s == 240 * 60 and config.budgets.steps == 300
    assert (config.backend, config.image, config.seeds) == ("docker", None, None)
    assert config.workspaces_root == Path("workspaces")


def test_config_file_overrides_the_task_and_flags_override_both(tmp_path, monkeypatch) -> None:
    path = tmp_path / "glia.yaml"
    path.write_text(
        "researcher_model: anthropic:claude-sonnet-4-5\n"
        "strategy: mcg-par\ncontexts: 3\n"
        "max_dollars: 12.5\nmax_simulations: 40\nmax_minutes: 30\n"
        "workspace: local\nallow_unsafe_local: true\nworkspaces_root: /tmp/glia-runs\nseeds: 3\n"
    )
    monkeypatch.setenv("GLIA_CONFIG", str(path))
    user = load_config()
    from_file = build_run_config(solve_args(), user)
    assert (from_file.strategy, from_file.contexts, from_file.label) == ("mcg-par", 3, "MCG-Par3")
    assert from_file.researcher_model == from_file.supervisor_model == "anthropic:claude-sonnet-4-5"
    assert (from_file.budgets.dollars, from_file.budgets.simulations) == (12.5, 40)
    assert from_file.budgets.wall_time_s == 1800 and from_file.budgets.steps == 300  # steps: the task's
    assert from_file.backend == "local" and from_file.workspaces_root == Path("/tmp/glia-runs")
    assert from_file.seeds == 3  # three of the main workload's seeds

    flags = solve_args(
        "--strategy", "mcg-seq", "--max-dollars", "2", "--supervisor-model", "openai:gpt-5",
        "--seeds", "4,7", "--root", str(tmp_path / "mine"), "--max-steps", "9",
    )  # fmt: skip
    from_flags = build_run_config(flags, user)
    assert (from_flags.strategy, from_flags.label) == ("mcg-seq", "MCG-Seq")
    assert from_flags.budgets.dollars == 2 and from_flags.budgets.simulations == 40
    assert from_flags.budgets.steps == 9
    assert from_flags.researcher_model == "anthropic:claude-sonnet-4-5"
    assert from_flags.supervisor_model == "openai:gpt-5"
    assert from_flags.seeds == [4, 7]
    assert from_flags.workspaces_root == tmp_path / "mine"


def test_config_path_follows_xdg_and_glia_config(tmp_path, monkeypatch, isolated_config) -> None:
    assert config_path() == isolated_config / ".config" / "glia" / "config.yaml"
    monkeypatch.setenv("GLIA_CONFIG", str(tmp_path / "x.yaml"))
    assert config_path() == tmp_path / "x.yaml"


def test_missing_default_config_is_empty() -> None:
    assert load_config() == UserConfig()


def test_glia_config_naming_a_missing_file_is_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GLIA_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(GliaUsageError, match="does not exist"):
        load_config()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("max_dolars: 3\n", "unknown key 'max_dolars'"),
        ("contexts: four\n", "key 'contexts' must be int, got 'four'"),
        ("max_dollars: true\n", "key 'max_dollars' must be int or float, got True"),
        ("- a\n- b\n", "must be a mapping"),
        ("researcher_model: [unclosed\n", "cannot read the config file"),
    ],
)
def test_bad_config_files_say_what_is_wrong(tmp_path, text, said) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(GliaUsageError, match=said.replace("(", r"\(").replace("[", r"\[")) as raised:
        load_config(path)
    assert str(path) in str(raised.value)


def test_price_file_goes_to_glia_prices(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GLIA_PRICES", "")  # restored after the test
    apply_environment(UserConfig(prices=str(tmp_path / "p.json")))
    import os

    assert os.environ["GLIA_PRICES"] == str(tmp_path / "p.json")
    apply_environment(UserConfig(prices="/elsewhere.json"))  # never overrides the environment
    assert os.environ["GLIA_PRICES"] == str(tmp_path / "p.json")


def test_bad_config_through_the_cli(tmp_path, monkeypatch, capsys) -> None:
    from glia.cli import main

    path = tmp_path / "c.yaml"
    path.write_text("colour: blue\n")
    monkeypatch.setenv("GLIA_CONFIG", str(path))
    assert main(["runs", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'colour'" in err and "allowed keys: researcher_model" in err


def test_contexts_caps_mcg_seq_and_target_improvement_reaches_the_run() -> None:
    config = build_run_config(
        solve_args("--strategy", "mcg-seq", "--contexts", "3", "--target-improvement", "0.2"), UserConfig()
    )
    assert (config.label, config.max_contexts_seq, config.target_improvement) == ("MCG-Seq", 3, 0.2)
    parallel = build_run_config(solve_args("--strategy", "mcg-par", "--contexts", "4"), UserConfig())
    assert (parallel.label, parallel.contexts, parallel.max_contexts_seq) == ("MCG-Par4", 4, 8)
