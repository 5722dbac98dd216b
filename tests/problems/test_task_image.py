"""Task images: a problem's requirements (and openevolve, when its evaluator imports it) installed offline.

The packages are local wheels built in the test from folders with a pyproject.toml (a tiny build backend
of our own, so pip builds them without the network); pip is pointed at them with its own settings
(PIP_NO_INDEX, PIP_FIND_LINKS), as a user with a private index or a wheel folder would do.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from glia.cli.explain import explain
from glia.evaluation import Evaluator
from glia.problems import load_problem
from glia.workspace.task_image import TaskImageError, prepare_task_image, task_requirements
from tests.problems.support import FIXTURES, SIMPLE_PROGRAM, make_problem, write

BACKEND = FIXTURES / "wheel_backend" / "glia_test_backend.py"
EVALUATOR = """
import importlib.util
import gliatestpkg
from openevolve.evaluation_result import EvaluationResult

def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    return EvaluationResult(metrics={"combined_score": float(program.solve(gliatestpkg.VALUE))},
                            artifacts={"where": gliatestpkg.__file__})
"""


def build_wheel(source: Path, wheels: Path, name: str, files: dict[str, str]) -> None:
    """A local package folder with a pyproject.toml, built into a wheel by pip (offline)."""
    folder = source / name
    write(folder, {"pyproject.toml": (
        '[build-system]\nrequires = []\nbuild-backend = "glia_test_backend"\nbackend-path = ["."]\n'
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n'
    ), **files})  # fmt: skip
    shutil.copy(BACKEND, folder / BACKEND.name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(folder)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packages")
    wheels = root / "wheels"
    build_wheel(root, wheels, "gliatestpkg", {"gliatestpkg/__init__.py": "VALUE = 41\n"})
    build_wheel(root, wheels, "openevolve", {
        "openevolve/__init__.py": "",
        "openevolve/evaluation_result.py": (
            "from dataclasses import dataclass, field\n\n\n@dataclass\nclass EvaluationResult:\n"
            "    metrics: dict\n    artifacts: dict = field(default_factory=dict)\n"
        ),
    })  # fmt: skip
    return wheels


@pytest.fixture
def offline_pip(wheels: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


@pytest.fixture
def built_images(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    tags: list[str] = []
    yield tags
    for tag in tags:
        with contextlib.suppress(docker.errors.DockerException):
            docker_client.images.remove(tag, force=True)


def test_requirements_of_a_task() -> None:
    root = Path(__file__).resolve().parents[2]
    from glia.task_kinds import load_task

    assert task_requirements(load_task(root / "tasks" / "llm_routing.md")) == []
    assert task_requirements(load_task(root / "tasks" / "shard_placement")) == []


def test_requirements_lines_and_openevolve(tmp_path: Path) -> None:
    folder = make_problem(
        tmp_path / "p",
        evaluator=EVALUATOR,
        files={"requirements.txt": "# numbers\nGliaTestPkg==0.1.0  # pinned\n\n"},
    )
    assert task_requirements(load_problem(folder)) == ["GliaTestPkg==0.1.0", "openevolve"]
    write(folder, {"requirements.txt": "gliatestpkg\nOpenEvolve>=0.1\n"})
    assert task_requirements(load_problem(folder)) == ["gliatestpkg", "OpenEvolve>=0.1"]  # named already


def test_no_requirements_keeps_the_base_image(tmp_path: Path) -> None:
    task = load_problem(make_problem(tmp_path / "p"))
    assert prepare_task_image(task, "any-image:tag") == "any-image:tag"  # no engine needed


@pytest.mark.docker
def test_task_image_with_local_wheels_runs_the_evaluation(
    tmp_path: Path, offline_pip: Path, workspace_image: str, docker_client, built_images
) -> None:
    folder = make_problem(
        tmp_path / "p", evaluator=EVALUATOR, files={"requirements.txt": "gliatestpkg==0.1.0\n"}
    )
    task = load_problem(folder).with_overrides(time_limit_s=60)
    tag = prepare_task_image(task, workspace_image, client=docker_client)
    built_images.append(tag)
    assert tag.startswith("glia-task-p:") and tag != workspace_image
    assert prepare_task_image(task, workspace_image, client=docker_client) == tag  # built once
    image = docker_client.images.get(tag)
    assert image.labels["glia.task-image"] == "1" and image.labels["glia.workspace-image"] == "1"
    # The packages are importable whatever PYTHONPATH a command sets, by the sandbox's unprivileged user,
    # with no network.
    output = docker_client.containers.run(
        tag, ["python3", "-c", "import gliatestpkg, openevolve.evaluation_result as r; print(gliatestpkg.VALUE, r.__name__)"],
        user="12345:12345", network_mode="none", environment={"PYTHONPATH": "/nowhere"}, remove=True,
    )  # fmt: skip
    assert output.decode().split() == ["41", "openevolve.evaluation_result"]
    # The trusted evaluation in that image: the evaluator imports both packages in the core sandbox.
    evaluator = Evaluator(task, tmp_path / "run", image=tag, secrets_dir=tmp_path / "secrets")
    result = evaluator.evaluate_design({"initial_program.py": SIMPLE_PROGRAM}, "design")
    assert result.valid, result.reason
    assert result.score == 42.0 and result.isolation == "sandbox"


@pytest.mark.docker
def test_a_requirement_that_cannot_be_installed_is_named(
    tmp_path: Path, offline_pip: Path, workspace_image: str, docker_client
) -> None:
    folder = make_problem(
        tmp_path / "p", files={"requirements.txt": "gliatestpkg==0.1.0\nno-such-package-xyz==9.9\n"}
    )
    with pytest.raises(TaskImageError) as error:
        prepare_task_image(load_problem(folder), workspace_image, client=docker_client)
    rendered = explain(error.value).render()
    assert (
        "error: requirement no-such-package-xyz==9.9 of the problem's requirements.txt cannot be installed"
        in rendered
    )
    assert "Python 3.11 on Linux" in rendered and "fix: pin a version" in rendered


@pytest.mark.docker
def test_openevolve_added_for_the_evaluator_is_named_when_missing(
    tmp_path: Path, offline_pip: Path, workspace_image: str, docker_client, monkeypatch
) -> None:
    only = tmp_path / "only-test-package"
    only.mkdir()
    for wheel in offline_pip.glob("gliatestpkg-*.whl"):
        shutil.copy(wheel, only)
    monkeypatch.setenv("PIP_FIND_LINKS", str(only))
    folder = make_problem(tmp_path / "p", evaluator=EVALUATOR, files={"requirements.txt": "gliatestpkg\n"})
    with pytest.raises(
        TaskImageError, match=r"requirement openevolve \(added because the evaluator imports it\)"
    ):
        prepare_task_image(load_problem(folder), workspace_image, client=docker_client)
