"""Every predictable failure: one clear message with its fix, exit code 2, no traceback, nothing created."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from glia.cli import main
from glia.cli.explain import explain
from glia.errors import USER_ERROR_EXIT, UserError
from glia.llm.types import MissingAPIKey
from glia.task import TaskError

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK = str(REPO_ROOT / "tasks" / "llm_routing.md")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspaces root; the working directory moves away from any .env file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-used")
    path = tmp_path / "workspaces"
    path.mkdir()
    return path


def solve_fails(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> str:
    code = main(["solve", TASK, "--root", str(root), *extra])
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT, err
    assert "Traceback" not in err
    assert list(root.iterdir()) == [], "a failed pre-flight check must not leave a run folder"
    return err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_missing_api_key_names_the_variable(capsys, root, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    err = solve_fails(
        capsys, root, "--researcher-model", "openai:o3", "--workspace", "local", "--unsafe-local-workspace"
    )
    assert err.startswith("error: openai:o3: no API key; set OPENAI_API_KEY")
    assert "fix: `export OPENAI_API_KEY=...`" in err
    assert "glia bench` needs no key" in err


def test_missing_key_of_the_supervisor_model(capsys, root, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    err = solve_fails(
        capsys,
        root,
        "--supervisor-model",
        "anthropic:claude-sonnet-4-5",
        "--workspace",
        "local",
        "--unsafe-local-workspace",
    )
    assert "ANTHROPIC_API_KEY" in err and "OPENAI_API_KEY" not in err


def test_unknown_model_lists_what_is_known(capsys, root) -> None:
    err = solve_fails(
        capsys, root, "--researcher-model", "gpt-4o", "--workspace", "local", "--unsafe-local-workspace"
    )
    assert "unknown model 'gpt-4o'" in err
    assert "fix: write PROVIDER:MODEL with provider openai or anthropic" in err
    assert "Priced models:" in err and "o3" in err


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--max-simulations", "0"], "max simulations is 0"),
        (["--max-dollars", "0"], "max dollars is 0"),
        (["--max-dollars", "-1", "--max-minutes", "0"], "max dollars is -1, max minutes is 0"),
        (["--max-steps", "0"], "max steps is 0"),
    ],
)
def test_budget_too_small_to_start(capsys, root, flags, said) -> None:
    err = solve_fails(capsys, root, "--workspace", "local", "--unsafe-local-workspace", *flags)
    assert err.startswith(f"error: budget too small to start: {said}")
    assert "fix: raise --max-simulations" in err


def test_malformed_task_names_file_and_field(capsys, root, tmp_path) -> None:
    bad = tmp_path / "bad.md"
    good = Path(TASK).read_text()
    bad.write_text(
        good.replace("direction: minimize", "direction: smaller").replace(
            "simulator: ../sim_repo_template", f"simulator: {REPO_ROOT / 'sim_repo_template'}"
        )
    )
    code = main(["solve", str(bad), "--root", str(root)])
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT
    assert f"error: bad task file: {bad}: field 'metric.direction' must be one of minimize, maximize" in err
    assert "fix field 'metric.direction' in that file" in err and "tasks/README.md" in err
    assert "Traceback" not in err


def test_missing_task_file(capsys, root) -> None:
    code = main(["bench", "no/such/task.md", "--root", str(root)])
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT
    assert "no/such/task.md: cannot read the task file" in err


def test_docker_not_running_says_how_to_start_it(capsys, root, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{closed_port()}")
    err = solve_fails(capsys, root, "--workspace", "docker")
    assert "No Docker engine answers at tcp://127.0.0.1:" in err
    assert "systemctl start docker" in err and "--workspace local" in err


def test_bench_with_docker_down_fails_cleanly(capsys, root, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{closed_port()}")
    code = main(
        ["bench", TASK, "--root", str(root), "--seeds", "1", "--workloads", "main", "--workspace", "docker"]
    )
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT, err
    assert "No Docker engine answers" in err and "Traceback" not in err


@pytest.mark.docker
def test_missing_image_points_to_image_build(capsys, root, docker_client) -> None:
    err = solve_fails(capsys, root, "--workspace", "docker", "--image", "glia-does-not-exist:0")
    assert "'glia-does-not-exist:0' is not built" in err
    assert "fix: build it once with `glia image build`" in err


def test_unknown_run_lists_what_exists(capsys, finished_run) -> None:
    code = main(["show", "nope", "--root", str(finished_run.parent)])
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT
    assert "no run 'nope'" in err and "runs under" in err and "done" in err


def test_explain_leaves_bugs_alone() -> None:
    assert explain(ZeroDivisionError("boom")) is None
    assert explain(KeyError("x")) is None
    problem = explain(TaskError("t.md: field 'name' is required"))
    assert isinstance(problem, UserError) and problem.exit_code == 2
    assert explain(MissingAPIKey("no key")).fix.startswith(
        "`export OPENAI_API_KEY=...` or `export ANTHROPIC_API_KEY"
    )


def test_bugs_keep_their_traceback(monkeypatch, finished_run) -> None:
    def broken(_run_dir):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr("glia.cli.inspect.read_run", broken)
    with pytest.raises(ZeroDivisionError, match="a real bug"):
        main(["runs", "--root", str(finished_run.parent)])


def test_an_existing_run_id_is_never_overwritten(capsys, root, finished_run) -> None:
    before = (finished_run / "run.json").read_text()
    code = main(
        [
            "solve",
            TASK,
            "--root",
            str(finished_run.parent),
            "--run-id",
            "done",
            "--workspace",
            "local",
            "--unsafe-local-workspace",
        ]
    )
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT
    assert "run 'done' already exists" in err and "glia resume done" in err
    assert (finished_run / "run.json").read_text() == before


def test_resuming_a_finished_run_says_there_is_nothing_to_do(capsys, finished_run) -> None:
    assert main(["resume", str(finished_run)]) == USER_ERROR_EXIT
    assert "is finished; there is nothing to resume" in capsys.readouterr().err
