"""The image builder's interface (building itself is exercised by CI's `--method debian` step)."""

from __future__ import annotations

import pytest

from glia.workspace.image import DEBIAN_PACKAGES, build_image, dockerfile_dir, main


def test_the_dockerfile_ships_inside_the_package():
    text = (dockerfile_dir() / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11" in text
    for tool in ("git", "procps", "gawk", "numpy", "pandas"):
        assert tool in text


def test_the_debian_image_has_the_same_toolset():
    for package in (
        "python3",
        "python-is-python3",
        "python3-numpy",
        "python3-pandas",
        "git",
        "procps",
        "gawk",
    ):
        assert package in DEBIAN_PACKAGES


def test_unknown_methods_are_refused_before_touching_docker():
    with pytest.raises(ValueError, match="auto, dockerfile, debian"):
        build_image(method="nix")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--method", "nix"])
    assert exit_info.value.code == 2


def test_another_debian_suite_is_built_from_debian_packages_only(capsys):
    with pytest.raises(ValueError, match="unknown Debian suite 'sid'; choose one of bookworm, trixie"):
        build_image(suite="sid")
    assert main(["build", "--method", "dockerfile", "--suite", "trixie"]) == 1
    assert "the Dockerfile builds bookworm; build trixie with --method debian" in capsys.readouterr().err
