"""Start-up hooks cannot make a later, plain command run uncounted code, in a real sandbox.

What a hook needs is a file in a place Python or the shell reads by default: the user site under
HOME=/tmp (a read-only empty mount in every sandbox, and PYTHONNOUSERSITE=1 in every command's
environment; images Glia builds also have the user site off in site.py), or an environment variable,
which no command can leave behind for the next one (each gets a fresh environment from the host).
Whatever a command does to itself (PYTHONPATH with a shadowing sitecustomize, its own `python -c`)
is bounded by the CPU backstop (test_uncounted_compute.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from budget_support import QUICK, SandboxedLedger

from glia.workspace.image import USER_SITE_OFF, disable_user_site

PROBE = "python3 -c \"import site, sys; print('user-site', site.ENABLE_USER_SITE, sys.flags.no_user_site)\""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, workspace_image):
    made = SandboxedLedger(tmp_path_factory.mktemp("hooks"), workspace_image, simulations=100)
    yield made
    made.close()


@pytest.mark.docker
def test_no_hook_planted_by_one_command_runs_in_the_next(sandbox):
    plant = sandbox.bash(
        "mkdir -p /tmp/.local/lib/python3.11/site-packages; echo mkdir=$?; "
        "mv /tmp/.local /tmp/moved; echo mv=$?; "
        "mkdir -p /tmp/hooks && echo 'raise SystemExit(\"HOOKED\")' > /tmp/hooks/sitecustomize.py && "
        "cp /tmp/hooks/sitecustomize.py /tmp/hooks/usercustomize.py && "
        "echo 'print(\"HOOKED\")' > /tmp/startup.py && "
        "export PYTHONPATH=/tmp/hooks PYTHONSTARTUP=/tmp/startup.py BASH_ENV=/tmp/startup.py && echo planted"
    )
    assert "mkdir=1" in plant.output and "mv=1" in plant.output and "planted" in plant.output, plant.output
    assert "Read-only file system" in plant.output
    later = sandbox.bash(f"{PROBE}; env | grep -c '^PYTHONPATH=' ; {QUICK} | tail -1")
    assert "HOOKED" not in later.output
    assert "user-site False 1" in later.output or "user-site None 1" in later.output, later.output
    assert later.output.splitlines()[1] == "0"  # the export died with its command
    assert later.note and "Simulation #1" in later.note  # the plain run was counted


@pytest.mark.docker
def test_hooks_a_command_sets_for_itself_stay_in_that_command(sandbox):
    """PYTHONSTARTUP and PYTHONINSPECT need a terminal (commands have none); PYTHONPATH's
    sitecustomize does run, in that command only: what it computes is the backstop's to bound."""
    done = sandbox.bash(
        "echo 'print(\"STARTUP-RAN\")' > /tmp/startup.py; "
        "PYTHONSTARTUP=/tmp/startup.py PYTHONINSPECT=1 python3 -c 'print(1)' </dev/null; "
        "python3 -X importtime -c 'pass' 2>&1 | grep -c sitecustomize; "
        "mkdir -p /tmp/sc && echo 'print(\"SITECUSTOMIZE-RAN\")' > /tmp/sc/sitecustomize.py; "
        "PYTHONPATH=/tmp/sc python3 -c 'pass'; python3 -c 'print(\"plain\")'"
    )
    assert "STARTUP-RAN" not in done.output
    assert done.output.count("SITECUSTOMIZE-RAN") == 1, done.output
    assert "plain" in done.output


@pytest.mark.docker
def test_the_writable_places_are_the_ones_the_readme_lists(sandbox):
    done = sandbox.bash(
        "for d in / /usr /etc /var /opt /dev /run /sys/fs/cgroup /tmp/.local /dev/shm /tmp /workspace/repo; do "
        "touch $d/.probe 2>/dev/null && echo writable:$d; done; df -k /dev/shm | tail -1; "
        "grep ' /dev/shm ' /proc/mounts"
    )
    writable = {line.split(":", 1)[1] for line in done.output.splitlines() if line.startswith("writable:")}
    assert writable == {"/dev/shm", "/tmp", "/workspace/repo"}, done.output
    shm = done.output.splitlines()[-2].split()
    assert int(shm[1]) == 64 * 1024  # 64 MiB, as the README says
    assert "noexec" in done.output.splitlines()[-1]


def test_built_images_have_the_user_site_off(tmp_path: Path):
    site_py = tmp_path / "usr/lib/python3.11/site.py"
    site_py.parent.mkdir(parents=True)
    site_py.write_text("import os\nENABLE_USER_SITE = None\nUSER_SITE = None\n")
    assert disable_user_site(tmp_path) == [site_py]
    assert USER_SITE_OFF in site_py.read_text() and "ENABLE_USER_SITE = None" not in site_py.read_text()
