"""Requirements resolve together with the image's own packages: nothing already there is shadowed.

A requirement that pulls a newer numpy used to install it over the image's numpy, and the image's pandas
then failed (`numpy.dtype size changed`). The packages here are wheels written by the test (offline, as a
private wheel folder would be): `fakenum` stands in for numpy, in the image's version and a newer one.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from glia.problems import load_problem
from glia.workspace.task_image import (
    SandboxPython,
    TaskImageError,
    download,
    prepare_task_image,
    probe_python,
    task_requirements,
)
from tests.compat.conftest import FOLDERS

IMAGE_PYTHON = SandboxPython(
    "3.11", "x86_64", (2, 36), "/usr/lib/python3/dist-packages", (("fakenum", "1.0"),)
)


def wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A pure-Python wheel with one module and its dependencies declared (written directly: no build)."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: glia-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    wheels = tmp_path / "wheels"
    wheel(wheels, "fakenum", "1.0")
    wheel(wheels, "fakenum", "2.0")
    wheel(wheels, "pullsany", "0.1", ("fakenum>=0.5",))  # unpinned: alone, pip picks fakenum 2.0
    wheel(wheels, "needsnew", "0.3", ("fakenum>=2",))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def installed(target: Path) -> set[str]:
    return {p.name[: -len(".dist-info")] for p in target.glob("*.dist-info")}


def test_a_requirement_resolves_with_the_images_own_version(index: Path, tmp_path: Path) -> None:
    alone = SandboxPython("3.11", "x86_64", (2, 36), "/usr/lib/python3/dist-packages")
    download(["pullsany"], alone, tmp_path / "alone", tmp_path / "requirements.txt")
    assert installed(tmp_path / "alone") == {"pullsany-0.1", "fakenum-2.0"}  # what broke the image's pandas
    download(["pullsany"], IMAGE_PYTHON, tmp_path / "with", tmp_path / "requirements.txt")
    # resolved against the image's fakenum 1.0, which is then left to the image: nothing shadows it
    assert installed(tmp_path / "with") == {"pullsany-0.1"}
    assert not (tmp_path / "with" / "fakenum").exists() and (tmp_path / "with" / "pullsany").is_dir()


def test_a_requirement_that_needs_another_version_is_one_line_naming_both(
    index: Path, tmp_path: Path
) -> None:
    source = tmp_path / "requirements.txt"
    source.write_text("needsnew\n")
    with pytest.raises(TaskImageError) as caught:
        download(["needsnew"], IMAGE_PYTHON, tmp_path / "t", source)
    message, fix = str(caught.value), caught.value.fix
    assert "\n" not in message and "\n" not in fix
    assert message.startswith(
        "requirement needsnew of the problem's requirements.txt (needsnew 0.3 depends on fakenum>=2) "
        "cannot be installed together with the sandbox image's own fakenum==1.0"
    ), message
    assert fix.startswith("pin a version of needsnew that works with fakenum==1.0"), fix


@pytest.mark.docker
def test_a_numpy_pulling_requirement_leaves_the_images_numpy_and_pandas_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workspace_image: str, docker_client
) -> None:
    """`numpy>=1.20` (the folder's requirements.txt) offered numpy 2.0 and the image's own version:
    it resolves to the image's version, which is then left to the image, so its pandas still imports."""
    own = dict(probe_python(docker_client, workspace_image).packages)["numpy"]
    wheels = tmp_path / "wheels"
    wheel(wheels, "numpy", own)  # stand-ins: were either installed, it would shadow the real numpy
    wheel(wheels, "numpy", "2.0.0")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    task = load_problem(FOLDERS / "numpy_requirement")
    assert task_requirements(task) == ["numpy>=1.20"]
    tag = prepare_task_image(task, workspace_image, client=docker_client)
    try:
        output = docker_client.containers.run(
            tag, ["python3", "-c", "import numpy, pandas; print(numpy.__version__, numpy.__file__, pandas.__version__)"],
            network_mode="none", remove=True,
        )  # fmt: skip
        version, where, _ = output.decode().split()
        assert version == own and not where.startswith("/opt/glia/task-packages")
    finally:
        docker_client.images.remove(tag, force=True)
