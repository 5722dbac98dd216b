"""A simulator written by someone else, wrapped by following the README alone.

`folders/external_sim/` is its own package (`faassim`, Python 3.12 syntax, a requirement) whose policy keeps
state on the scheduler object it is given (`s.waiting_queue = []`); `folders/external_sim.md` is the task
file the README's steps produce. The llmsim rules stay with the llmsim tasks: this task gets the basic checks.
"""

from __future__ import annotations

import pytest

from glia.evaluation.design_checks import design_problem
from glia.evaluation.task_checks import task_design_problem
from glia.task import TaskError
from glia.task_kinds import load_task
from glia.workspace import task_image
from glia.workspace.task_image import TaskImageError, prepare_task_image, task_requirements
from tests.compat.conftest import FOLDERS

TASK = FOLDERS / "external_sim.md"
POLICY = "faassim/policy.py"


def test_the_task_declares_its_checks_requirements_and_python() -> None:
    task = load_task(TASK)
    assert task.static_checks == "basic"  # not llmsim's: the simulator holds no llmsim package
    assert task.requirements == ("networkx>=3.0",) and task_requirements(task) == ["networkx>=3.0"]
    assert task.python == "3.13"
    policy = (task.simulator / POLICY).read_text()
    assert task_design_problem(task, {POLICY: policy}) is None
    # the llmsim rules would have rejected the simulator's own style
    assert "changes attribute 'waiting_queue' of an object other than self" in design_problem(
        {POLICY: policy}, task.design_files, (), rules="llmsim"
    )
    # basic checks still catch what wastes an evaluation
    assert "does not parse" in task_design_problem(task, {POLICY: "def pick(s, now)\n"})
    assert "not a design file" in task_design_problem(task, {"run_bench.py": "x = 1\n"})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("static_checks: strict", "field 'static_checks' must be one of llmsim, basic, none, got 'strict'"),
        (
            "python: 3.10",
            "field 'python' must be a Python version such as \"3.13\" (quoted, major.minor), got 3.1",
        ),
        (
            "requirements: networkx",
            "field 'requirements' must be a list of non-empty strings, got 'networkx'",
        ),
    ],
)
def test_bad_fields_name_the_field(tmp_path, line: str, message: str) -> None:
    text = TASK.read_text().replace('python: "3.13"\n', "").replace('requirements: ["networkx>=3.0"]\n', "")
    (tmp_path / "external_sim").symlink_to(FOLDERS / "external_sim")
    path = tmp_path / "task.md"
    path.write_text(text.replace("---\nMake", f"{line}\n---\nMake"))
    with pytest.raises(TaskError) as caught:
        load_task(path)
    assert str(caught.value) == f"{path}: {message}"


@pytest.mark.docker
def test_a_python_no_image_has_is_one_line_with_the_build_command(
    workspace_image: str, docker_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_image, "python_image_tag", lambda version: f"glia-test-absent:py{version}")
    task = load_task(TASK)
    with pytest.raises(TaskImageError) as caught:
        prepare_task_image(task, workspace_image, client=docker_client)
    message = str(caught.value)
    assert message.startswith(
        f"{TASK}: field 'python' asks for Python 3.13, but image {workspace_image} runs Python 3.11 on Linux"
    )
    assert message.endswith("and there is no image glia-test-absent:py3.13") and "\n" not in message
    assert caught.value.fix.startswith(
        "build it with `python -m glia.workspace.image build --method debian --suite trixie "
        "--tag glia-test-absent:py3.13`"
    )


@pytest.mark.docker
def test_a_task_asking_for_python_3_13_runs_on_the_trixie_image(
    python313_image: str, tmp_path, capsys
) -> None:
    """The task says `python: "3.13"`: glia bench picks the image built from Debian trixie, installs the
    requirement for that Python, says which Python runs, and the simulator's 3.12 syntax runs."""
    from glia.cli import main

    code = main(["bench", str(TASK), "--root", str(tmp_path), "--workloads", "main", "--seeds", "1"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    assert (
        "Sandbox Python: Python 3.13." in out
        and "(/usr/bin/python3.13) in image glia-task-faas_scheduling:" in out
    )
    assert "Reference baseline shortest_first:" in out
