"""Building the workspace image: from the shipped Dockerfile, or from Debian packages without a registry.

`python -m glia.workspace.image build [--method auto|dockerfile|debian] [--tag TAG]` builds it, so CI can
prepare the image before the CLI exists; `glia image build` calls the same `build_image`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import docker
import docker.errors
import structlog

from glia.workspace.base import WorkspaceError
from glia.workspace.engine import DEFAULT_IMAGE, docker_client

log = structlog.get_logger(__name__)

IMAGE_LABEL = "glia.workspace-image"
DEBIAN_SUITE = "bookworm"  # Python 3.11, the image's default
# Debian releases debootstrap can build the image from, with the Python each ships as python3.
DEBIAN_SUITES = {"bookworm": "3.11", "trixie": "3.13"}
DEBIAN_MIRROR = os.environ.get("GLIA_DEBIAN_MIRROR") or "http://deb.debian.org/debian"

# Same toolset as the Dockerfile: Python 3.11 with numpy and pandas, git, the shell tools an agent expects.
DEBIAN_PACKAGES = (
    "python3",
    "python-is-python3",
    "python3-numpy",
    "python3-pandas",
    "git",
    "procps",
    "gawk",
    "bc",
    "less",
    "ca-certificates",
)

# Applied by `docker import` so the Debian image behaves like the Dockerfile one.
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    "ENV PYTHONUNBUFFERED=1",
    "WORKDIR /workspace",
    f'LABEL {IMAGE_LABEL}="1"',
    'CMD ["sleep", "infinity"]',
)

METHODS = ("auto", "dockerfile", "debian")


def dockerfile_dir() -> Path:
    """The folder holding the Dockerfile shipped inside the package."""
    return Path(str(resources.files("glia") / "data" / "workspace_image"))


def build_image(tag: str = DEFAULT_IMAGE, method: str = "auto", suite: str = DEBIAN_SUITE) -> str:
    """Build the workspace image and return its id.

    "auto" tries the Dockerfile and falls back to Debian packages when the base image cannot be pulled
    and debootstrap is installed. Another Debian `suite` (trixie: Python 3.13) is built from Debian
    packages only: the shipped Dockerfile is bookworm's.
    """
    if method not in METHODS:
        raise ValueError(f"unknown image build method {method!r}; choose one of {', '.join(METHODS)}")
    if suite not in DEBIAN_SUITES:
        raise ValueError(f"unknown Debian suite {suite!r}; choose one of {', '.join(DEBIAN_SUITES)}")
    if suite != DEBIAN_SUITE and method == "dockerfile":
        raise ValueError(f"the Dockerfile builds {DEBIAN_SUITE}; build {suite} with --method debian")
    client = docker_client(timeout_s=1800)
    if suite != DEBIAN_SUITE:
        return _build_from_debian(client, tag, suite)
    if method == "dockerfile":
        return _build_from_dockerfile(client, tag)
    if method == "debian":
        return _build_from_debian(client, tag)
    try:
        return _build_from_dockerfile(client, tag)
    except WorkspaceError as err:
        if shutil.which("debootstrap") is None:
            raise WorkspaceError(
                f"{err}\nNo registry seems reachable and debootstrap is not installed: install it "
                "(`apt-get install debootstrap`) and run `glia image build --method debian`."
            ) from err
        log.warning("dockerfile_build_failed_falling_back_to_debian", error=str(err))
        return _build_from_debian(client, tag)


def _build_from_dockerfile(client: docker.DockerClient, tag: str) -> str:
    log.info("image_build_start", method="dockerfile", tag=tag)
    try:
        image, _logs = client.images.build(path=str(dockerfile_dir()), tag=tag, rm=True, pull=False)
    except (docker.errors.BuildError, docker.errors.APIError) as err:
        raise WorkspaceError(f"Building {tag} from the Dockerfile failed: {err}") from err
    log.info("image_built", method="dockerfile", tag=tag, id=image.id)
    return image.id


def _build_from_debian(client: docker.DockerClient, tag: str, suite: str = DEBIAN_SUITE) -> str:
    """debootstrap a minimal Debian `suite` with our packages, then `docker import` it (needs root)."""
    if shutil.which("debootstrap") is None:
        raise WorkspaceError("debootstrap is not installed: `apt-get install debootstrap` (needs root).")
    repository, version = docker.utils.parse_repository_tag(tag)
    log.info("image_build_start", method="debian", suite=suite, tag=tag, packages=list(DEBIAN_PACKAGES))
    with tempfile.TemporaryDirectory(prefix="glia-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(DEBIAN_PACKAGES)}",
                suite,
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            what="debootstrap",
        )
        _trim_rootfs(rootfs)
        disable_user_site(rootfs)
        tarball = Path(scratch) / "rootfs.tar"
        _run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], what="tar")
        client.api.import_image_from_file(
            str(tarball), repository=repository, tag=version or "latest", changes=list(IMPORT_CHANGES)
        )
    image = client.images.get(tag)
    log.info("image_built", method="debian", tag=tag, id=image.id)
    return image.id


USER_SITE_LINE = "ENABLE_USER_SITE = None"
USER_SITE_OFF = "ENABLE_USER_SITE = False  # Glia: no per-user site (.pth, usercustomize) in a sandbox"


def disable_user_site(rootfs: Path) -> list[Path]:
    """Turn Python's per-user site off in every site.py of the image, whatever the environment says
    (PYTHONUSERBASE, HOME): the files are on the read-only root, so a sandbox cannot turn it back on."""
    patched = []
    for site_py in sorted(rootfs.glob("usr/lib/python3*/site.py")) + sorted(
        rootfs.glob("usr/local/lib/python3*/site.py")
    ):
        text = site_py.read_text(encoding="utf-8")
        if USER_SITE_LINE in text:
            site_py.write_text(text.replace(USER_SITE_LINE, USER_SITE_OFF, 1), encoding="utf-8")
            patched.append(site_py)
    if not patched:
        raise WorkspaceError(
            f"no site.py with {USER_SITE_LINE!r} under {rootfs}: cannot turn the user site off"
        )
    return patched


def _trim_rootfs(rootfs: Path) -> None:
    """Drop package caches, docs and translations; a smaller image starts faster on the vfs driver."""
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        folder = rootfs / leftover
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.is_file():
                    entry.unlink()
    for bulk in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale"):
        shutil.rmtree(rootfs / bulk, ignore_errors=True)
        (rootfs / bulk).mkdir()
    workspace = rootfs / "workspace"
    workspace.mkdir(exist_ok=True)
    workspace.chmod(0o1777)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise WorkspaceError(f"{what} failed (exit {result.returncode}):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glia.workspace.image", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the workspace image")
    build.add_argument("--method", choices=METHODS, default="auto")
    build.add_argument("--tag", default=DEFAULT_IMAGE)
    build.add_argument(
        "--suite",
        choices=sorted(DEBIAN_SUITES),
        default=DEBIAN_SUITE,
        help="Debian release to build from ("
        + ", ".join(f"{s}: Python {v}" for s, v in DEBIAN_SUITES.items())
        + ")",
    )
    args = parser.parse_args(argv)
    try:
        image_id = build_image(tag=args.tag, method=args.method, suite=args.suite)
    except (WorkspaceError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"built {args.tag} ({image_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
