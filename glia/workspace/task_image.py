"""Task images: the workspace image plus what a problem folder needs, built without network in a sandbox.

A problem folder may bring a `requirements.txt` (numpy, scipy, ...), and an evaluator may import the real
`openevolve` package (for `EvaluationResult`). Sandboxes have no network at run time, so before a run
`prepare_task_image(task, base)` derives an image from the workspace image with those packages:

1. the base image's Python is asked (in a container with no network) for its version, platform and
   site-packages folder;
2. on the host, pip resolves and downloads wheels for *that* Python and platform into a scratch folder
   (`pip install --target ... --only-binary=:all: --python-version ... --platform ...`), so no container
   ever needs the network and nothing is built inside one;
   with the image's own packages as constraints (`--constraint`: each pinned to the image's version), so
   a requirement resolves together with what is there (numpy stays the numpy the image's pandas was built
   against); a requirement that needs another version is one clear error naming both; distributions
   the image already has in that version are then dropped from the folder, so nothing is shadowed;
3. the folder is copied into a container created (never started) from the base image, at
   `/opt/glia/task-packages`, with a `.pth` file that puts it first on `sys.path` (so a pinned version
   wins over the image's own, and it works whatever PYTHONPATH a command sets), and the container is
   committed as `glia-task-<name>:<digest>`.

The digest covers the base image, the requirements and this recipe, so an image is built once per
requirements and reused after. pip's own settings apply (`PIP_INDEX_URL`, `PIP_FIND_LINKS`,
`PIP_NO_INDEX`, pip.conf), so a private index or a folder of wheels works as it does for pip. A
requirement that cannot be installed for the sandbox's Python and platform is one clear error naming it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import structlog

from glia.errors import GliaUsageError
from glia.task import Task
from glia.workspace.engine import DEFAULT_IMAGE, docker_client, require_image

log = structlog.get_logger(__name__)

RECIPE_VERSION = "2"  # bump when the way images are built changes: old images are then rebuilt
PACKAGES_DIR = "/opt/glia/task-packages"
PTH_NAME = "glia-task-packages.pth"
TASK_IMAGE_PREFIX = "glia-task-"  # every task image's repository name starts so
TASK_IMAGE_LABEL = "glia.task-image"
REQUIREMENTS_FILE = "requirements.txt"
OPENEVOLVE = "openevolve"
PIP_TIMEOUT_S = 1800
PROBE = (
    "import json, os, platform, site, sys, sysconfig, importlib.metadata as m; "
    "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], 'machine': platform.machine(), "
    "'release': sys.version.split()[0], 'executable': os.path.realpath(sys.executable), "
    "'libc': platform.libc_ver(), 'platform': sysconfig.get_platform(), "
    "'site': site.getsitepackages(), "
    "'packages': sorted({(d.metadata['Name'] or '', d.version) for d in m.distributions()})}))"
)


PYTHON_LABEL = "glia.python"  # on a task image: its Python, as `SandboxPython.line` says it
# What `glia bench` prints about this machine's Python (the local backend): "Python 3.11.7 (/usr/...)".
WHICH_PYTHON = (
    "import os, sys; print(f'Python {sys.version.split()[0]} ({os.path.realpath(sys.executable)})')"
)


class TaskImageError(GliaUsageError):
    """The task's image cannot be built; the message names what failed, `fix` says what to do."""


@dataclass(frozen=True)
class SandboxPython:
    """The Python of the base image, as pip needs to know it to pick wheels."""

    version: str  # "3.11"
    machine: str  # "x86_64"
    glibc: tuple[int, int] | None  # (2, 36); None for a non-glibc image
    site_packages: str
    packages: tuple[tuple[str, str], ...] = ()  # the image's own distributions: (name, version)
    release: str = ""  # "3.11.2"
    executable: str = ""  # "/usr/bin/python3.11"

    def line(self) -> str:
        """What `glia bench` prints: "Python 3.11.2 (/usr/bin/python3.11)"."""
        return f"Python {self.release or self.version} ({self.executable or 'python3'})"

    def constraints(self) -> list[str]:
        """Pins of the image's own packages: requirements resolve together with them, so a requirement
        that pulls another numpy cannot shadow the one the image's pandas was built against."""
        return sorted(
            {
                f"{requirement_name(name)}=={version}"
                for name, version in self.packages
                if name and _pep440(version)
            }
        )

    @property
    def abi(self) -> str:
        return "cp" + self.version.replace(".", "")

    def platforms(self) -> list[str]:
        """Wheel platform tags this interpreter accepts, newest first."""
        tags = []
        if self.glibc is not None:
            major, minor = self.glibc
            tags += [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 4, -1)]
            legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
            tags += [f"{name}_{self.machine}" for (a, b), name in legacy.items() if (major, minor) >= (a, b)]
        tags.append(f"linux_{self.machine}")
        return tags

    def describe(self) -> str:
        libc = f"glibc {self.glibc[0]}.{self.glibc[1]}" if self.glibc else "no glibc"
        return f"Python {self.version} on Linux {self.machine} ({libc})"


def task_requirements(task: Task) -> list[str]:
    """What the task's image must add: its `requirements` (a problem folder's loader has already put its
    requirements.txt and, when the evaluator imports it, openevolve there: `glia.problems.requirements`)."""
    return list(task.requirements)


def prepare_task_image(task: Task, base: str | None = None, client: docker.DockerClient | None = None) -> str:
    """The image to run `task` in: `base` itself when the task needs nothing more, else its task image
    (built now if it is not there yet). A task whose `python` differs from `base`'s runs on the image
    built for that Python (`python_image_tag`). Raises TaskImageError with a fix when it cannot."""
    base = base or DEFAULT_IMAGE
    requirements = task_requirements(task)
    if not requirements and task.python is None:
        return base
    own_client = client is None
    client = client or docker_client(timeout_s=600)
    try:
        python = None
        if task.python is not None:
            base, python = image_for_python(client, task, base)
        require_image(client, base)
        if not requirements:
            return base
        base_id = client.images.get(base).id
        digest = hashlib.sha256(
            json.dumps([RECIPE_VERSION, base_id, requirements], separators=(",", ":")).encode()
        ).hexdigest()[:16]
        tag = f"{TASK_IMAGE_PREFIX}{_repository_name(task.name)}:{digest}"
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        python = python or probe_python(client, base)
        log.info("task_image.build", task=task.name, tag=tag, requirements=requirements)
        with tempfile.TemporaryDirectory(prefix="glia-task-image-") as scratch:
            target = Path(scratch) / "packages"
            download(requirements, python, target, task.simulator / REQUIREMENTS_FILE)
            commit_image(
                client, base, tag, target, python, {"glia.task": task.name, "glia.requirements": digest}
            )
        return tag
    finally:
        if own_client:
            client.close()


def python_image_tag(version: str) -> str:
    """Where the workspace image for another Python lives (`glia-workspace:py3.13`)."""
    repository, _ = docker.utils.parse_repository_tag(DEFAULT_IMAGE)
    return f"{repository}:py{version}"


def image_for_python(client: docker.DockerClient, task: Task, base: str) -> tuple[str, SandboxPython]:
    """`base` when it runs the task's Python, else the image built for that Python; else a refusal
    that says how to build one (a Debian release that ships it) or to name one."""
    require_image(client, base)
    python = probe_python(client, base)
    if python.version == task.python:
        return base, python
    candidate = python_image_tag(str(task.python))
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(candidate)
        other = probe_python(client, candidate)
        if other.version == task.python:
            return candidate, other
    from glia.workspace.image import DEBIAN_SUITES

    suites = [suite for suite, version in DEBIAN_SUITES.items() if version == task.python]
    build = (
        f"build it with `python -m glia.workspace.image build --method debian --suite {suites[0]} "
        f"--tag {candidate}`"
        if suites
        else f"build an image whose python3 is {task.python} and tag it {candidate}"
    )
    raise TaskImageError(
        f"{task.path}: field 'python' asks for Python {task.python}, but image {base} runs "
        f"{python.describe()} and there is no image {candidate}",
        f"{build}, or pass `--image TAG`; or set 'python' to \"{python.version}\"",
    )


def describe_sandbox_python(image: str, client: docker.DockerClient | None = None) -> str:
    """The Python the task's commands run in `image`: version and path (a task image's label, else a probe)."""
    own_client = client is None
    client = client or docker_client(timeout_s=120)
    try:
        labels = client.images.get(image).labels or {}
        if labels.get(PYTHON_LABEL):
            return str(labels[PYTHON_LABEL])[:200]
        return probe_python(client, image).line()
    except (docker.errors.DockerException, TaskImageError) as exc:
        return f"unknown ({type(exc).__name__}: the image's python did not answer)"
    finally:
        if own_client:
            client.close()


_PROBED: dict[str, SandboxPython] = {}  # image id -> its Python: an image never changes


def probe_python(client: docker.DockerClient, image: str) -> SandboxPython:
    """Ask the image's Python what it is (in a container with no network, removed afterwards; once
    per image in a process: a container start costs seconds on a loaded machine)."""
    with contextlib.suppress(docker.errors.DockerException):
        known = _PROBED.get(client.images.get(image).id)
        if known is not None:
            return known
    try:
        output = client.containers.run(
            image, ["python3", "-c", PROBE], network_mode="none", remove=True, stdout=True, stderr=True
        )
        data = json.loads(output.decode("utf-8").strip().splitlines()[-1])
    except (docker.errors.DockerException, ValueError, IndexError) as exc:
        raise TaskImageError(
            f"cannot ask the Python of image {image} what it is ({exc})",
            "check that the image runs `python3` (rebuild it with `glia image build`)",
        ) from exc
    libc = data.get("libc") or ["", ""]
    glibc = None
    if libc[0] == "glibc":
        match = re.match(r"(\d+)\.(\d+)", str(libc[1]))
        glibc = (int(match.group(1)), int(match.group(2))) if match else None
    site = [s for s in data.get("site") or [] if s.startswith("/usr")]
    if not site:
        raise TaskImageError(
            f"image {image} has no site-packages folder", "rebuild it with `glia image build`"
        )
    packages = tuple((str(name), str(version)) for name, version in data.get("packages") or [])
    found = SandboxPython(
        str(data["version"]), str(data["machine"]), glibc, site[0], packages,
        str(data.get("release") or ""), str(data.get("executable") or ""),
    )  # fmt: skip
    with contextlib.suppress(docker.errors.DockerException):
        _PROBED[client.images.get(image).id] = found
    return found


def download(requirements: list[str], python: SandboxPython, target: Path, source: Path) -> None:
    """pip, on the host, installs wheels for the sandbox's Python into `target` (nothing is built)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(requirements) + "\n")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write("\n".join(python.constraints()) + "\n")
    command = [
        sys.executable, "-m", "pip", "install", "--target", str(target), "--requirement", listing.name,
        "--constraint", pins.name,
        "--only-binary=:all:", "--python-version", python.version, "--implementation", "cp",
        "--abi", python.abi, "--abi", "abi3", "--abi", "none", "--no-compile", "--no-warn-script-location",
        "--disable-pip-version-check", "--no-input",
    ]  # fmt: skip
    for platform in python.platforms():
        command += ["--platform", platform]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise TaskImageError(
            f"pip did not finish installing the requirements of {source} within {PIP_TIMEOUT_S} s",
            "check the network and the package index (PIP_INDEX_URL), then run again",
        ) from None
    finally:
        Path(listing.name).unlink(missing_ok=True)
        Path(pins.name).unlink(missing_ok=True)
    if result.returncode != 0:
        raise requirement_error(result.stdout + "\n" + result.stderr, requirements, python, source)
    drop_image_packages(target, python)


def drop_image_packages(target: Path, python: SandboxPython) -> list[str]:
    """Remove from `target` every distribution the image already has in that very version: the image's
    own copy then stays the one imported (pinned equal, so nothing changes but nothing is shadowed)."""
    own = {(requirement_name(name), version) for name, version in python.packages if name}
    dropped = []
    for dist_info in sorted(target.glob("*.dist-info")):
        name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
        if (requirement_name(name), version) not in own:
            continue
        record = dist_info / "RECORD"
        lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
        for line in lines:
            relpath = line.split(",", 1)[0]
            path = (target / relpath).resolve()
            if target.resolve() in path.parents and path.is_file():
                path.unlink()
        for folder in sorted({p for p in target.rglob("*") if p.is_dir()}, key=lambda p: -len(p.parts)):
            if not any(folder.iterdir()):
                folder.rmdir()
        if dist_info.exists():
            shutil.rmtree(dist_info)
        dropped.append(f"{name}=={version}")
    return dropped


def requirement_error(
    output: str, requirements: list[str], python: SandboxPython, source: Path
) -> TaskImageError:
    """One line naming the requirement pip could not install, and what to do about it."""
    where = f"the problem's {REQUIREMENTS_FILE}" if source.is_file() else "the task"
    clash = re.search(
        r"\n\s*([A-Za-z0-9][\w.-]*) ([^\s]+) depends on (.+?)\n.*?"
        r"The user requested \(constraint\) ([A-Za-z0-9][\w.-]*)==([^\s]+)",
        output,
        flags=re.S,
    )
    if clash:
        package, version, needs, pinned, pinned_version = clash.groups()
        return TaskImageError(
            f"requirement {package} of {where} ({package} {version} depends on {needs.strip()}) cannot be "
            f"installed together with the sandbox image's own {pinned}=={pinned_version} "
            f"({python.describe()}; the image's packages are built against it)",
            f"pin a version of {package} that works with {pinned}=={pinned_version} "
            f"(for example `{package}<{version}`), or remove the requirement",
        )
    failing = None
    for pattern in (
        r"No matching distribution found for ([^\s]+)",
        r"Could not find a version that satisfies the requirement ([^\s]+)",
        r"ResolutionImpossible.*?requirement ([^\s]+)",
    ):
        match = re.search(pattern, output, flags=re.S)
        if match:
            failing = match.group(1)
            break
    errors = [line.strip() for line in output.splitlines() if line.strip().startswith("ERROR")]
    detail = errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1]
    if failing is not None:
        what = failing
        named_in_file = source.is_file() and OPENEVOLVE in {
            requirement_name(line) for line in source.read_text(encoding="utf-8").splitlines()
        }
        if requirement_name(failing) == OPENEVOLVE and not named_in_file:
            what = f"{failing} (added because the evaluator imports it)"
        return TaskImageError(
            f"requirement {what} of {where} cannot be installed for the sandbox ({python.describe()}): {detail}",
            "pin a version that publishes a wheel for that Python and platform, or remove the requirement; "
            "the sandbox has no network, so Glia installs wheels only",
        )
    return TaskImageError(
        f"the requirements of {where} cannot be installed for the sandbox ({python.describe()}): {detail}",
        "check the requirements with `pip install --dry-run -r requirements.txt`; the sandbox takes wheels only",
    )


def commit_image(
    client: docker.DockerClient,
    base: str,
    tag: str,
    packages: Path,
    python: SandboxPython,
    labels: dict[str, str],
) -> None:
    """Copy `packages` into a container of `base` (created, never started) and commit it as `tag`."""
    container = client.containers.create(base, command=["true"], network_disabled=True)
    try:
        container.put_archive("/", _archive(packages, python))
        repository, version = tag.rsplit(":", 1)
        container.commit(
            repository=repository,
            tag=version,
            message="glia: task packages",
            conf={
                "Labels": {
                    **_labels(client, base),
                    TASK_IMAGE_LABEL: "1",
                    PYTHON_LABEL: python.line(),
                    **labels,
                }
            },
        )
    except docker.errors.DockerException as exc:
        raise TaskImageError(
            f"cannot build the task image {tag}: {exc}", "run again with -v for details"
        ) from exc
    finally:
        try:
            container.remove(force=True)
        except docker.errors.DockerException as exc:  # noqa: PERF203 - best effort
            log.warning("task_image.cleanup_failed", error=str(exc))


def _archive(packages: Path, python: SandboxPython) -> bytes:
    """A tar of the packages at PACKAGES_DIR (world-readable) and the .pth file that puts them first."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def readable(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
            return info

        site = python.site_packages.strip("/")
        for folder in _parents(site):  # the image may not have the site folder yet: Python then skips it
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(packages, arcname=PACKAGES_DIR.lstrip("/"), filter=readable)
        line = f"import sys; sys.path.insert(0, {PACKAGES_DIR!r}) if {PACKAGES_DIR!r} not in sys.path else None\n"
        data = line.encode()
        info = tarfile.TarInfo(f"{site}/{PTH_NAME}")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _labels(client: docker.DockerClient, image: str) -> dict[str, str]:
    return dict(client.images.get(image).labels or {})


def requirement_name(requirement: str) -> str:
    """The normalised project name of a requirement line (`NumPy>=1.2` -> `numpy`)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement.strip().lower()


def _pep440(version: str) -> bool:
    """Whether pip can read `version` (a Debian-built distribution may carry another scheme)."""
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _repository_name(name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("._-") or "task"
