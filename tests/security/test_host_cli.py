"""The host boundary at the command line: the unsafe local backend needs an explicit opt-in, and
cleanup (explicit, or on any exit of `glia bench`) touches only what it may: this invocation's
containers, this user's, or the run named exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker.errors
import pytest

from glia.cli import main
from glia.workspace import Limits, container_options
from glia.workspace.containers import INVOCATION_LABEL, OWNER_LABEL, RUN_LABEL

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK = str(REPO_ROOT / "tasks" / "llm_routing.md")


# ------------------------------------------------------------------ 5. the local backend is opt-in


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user config file (so the developer's own config cannot opt in for the test)."""
    config = tmp_path / "config.yaml"
    config.write_text("{}\n")
    monkeypatch.setenv("GLIA_CONFIG", str(config))
    return config


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "refusing --workspace local" in err and "not a sandbox" in err
    assert "--unsafe-local-workspace" in err and "allow_unsafe_local: true" in err
    return err


def test_bench_refuses_the_local_backend_without_the_opt_in(capsys, tmp_path, no_config):
    refused(capsys, ["bench", TASK, "--workspace", "local", "--router", "llq", "--root", str(tmp_path / "r")])
    assert not (tmp_path / "r").exists()


def test_solve_refuses_it_before_calling_any_model_or_making_a_run(capsys, tmp_path, no_config):
    argv = ["solve", TASK, "--workspace", "local", "--researcher-model", "openai:gpt-4o"]
    refused(capsys, [*argv, "--base-url", "http://127.0.0.1:9/v1", "--root", str(tmp_path / "r")])
    assert not (tmp_path / "r").exists()


def test_a_config_file_choosing_local_is_refused_too_unless_it_opts_in(capsys, tmp_path, no_config):
    no_config.write_text("workspace: local\nallow_unsafe_local: false\n")
    refused(capsys, ["bench", TASK, "--router", "llq", "--root", str(tmp_path / "r")])
    no_config.write_text("workspace: local\nallow_unsafe_local: yes-please\n")
    assert main(["bench", TASK, "--router", "llq", "--root", str(tmp_path / "r")]) == 2
    assert "allow_unsafe_local' must be bool" in capsys.readouterr().err


def test_resuming_a_local_run_needs_the_opt_in_again(capsys, tmp_path, no_config):
    run_dir = tmp_path / "runs" / "old-local-run"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"run_id": "old-local-run", "config": {"backend": "local"}}))
    refused(capsys, ["resume", str(run_dir)])


def test_with_the_opt_in_bench_warns_loudly_and_goes_ahead(capsys, tmp_path, no_config, monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(
        "glia.cli.bench._bench", lambda args, task, backend, config, run_id: ran.append(backend) or 0
    )
    argv = ["bench", TASK, "--router", "llq", "--workspace", "local", "--root", str(tmp_path)]
    assert main([*argv, "--unsafe-local-workspace"]) == 0
    assert capsys.readouterr().out.startswith(
        "WARNING: UNSAFE LOCAL WORKSPACE: the local workspace is not a sandbox"
    )
    no_config.write_text("allow_unsafe_local: true\n")
    assert main(argv) == 0
    assert "WARNING: UNSAFE LOCAL WORKSPACE" in capsys.readouterr().out
    assert ran == ["local", "local"]


# ------------------------------------------------------------------ 6. cleanup scope


def make_container(client, image: str, run_id: str, **labels: str | None):
    options = container_options(image, run_id, "1", Limits(lifetime_s=600))
    tags = {**options["labels"], **labels}
    options["labels"] = {key: value for key, value in tags.items() if value is not None}
    return client.containers.run(**options)


def exists(client, container) -> bool:
    try:
        client.containers.get(container.id)
    except docker.errors.NotFound:
        return False
    return True


@pytest.mark.docker
def test_cleanup_removes_only_this_users_containers_and_asks_first(
    docker_client, workspace_image, capsys, monkeypatch
):
    me = f"{os.getuid()}@test-{uuid.uuid4().hex[:8]}"  # a private identity: other sessions are untouched
    monkeypatch.setattr("glia.workspace.containers.owner", lambda: me)
    tag = uuid.uuid4().hex[:8]
    mine = make_container(docker_client, workspace_image, f"mine-{tag}", **{OWNER_LABEL: me})
    theirs = make_container(
        docker_client, workspace_image, f"theirs-{tag}", **{OWNER_LABEL: "4242@elsewhere"}
    )
    legacy = make_container(docker_client, workspace_image, f"legacy-{tag}", **{OWNER_LABEL: None})
    try:
        assert main(["cleanup"]) == 2  # no terminal to ask on: nothing removed without --yes
        assert "pass --yes" in capsys.readouterr().err
        assert exists(docker_client, mine)
        assert main(["cleanup", "--yes"]) == 0
        assert f"Removed 1 container(s) of {me}: {mine.name}" in capsys.readouterr().out
        assert not exists(docker_client, mine)
        assert exists(docker_client, theirs) and exists(docker_client, legacy)
        assert main(["cleanup", "--all-users"]) == 2  # says what it would do, then wants --yes
        out = capsys.readouterr().out
        assert "whoever started them" in out and theirs.name in out and legacy.name in out
        assert exists(docker_client, theirs) and exists(docker_client, legacy)
        assert main(["cleanup", "--run", f"theirs-{tag}"]) == 0  # a run named exactly
        assert not exists(docker_client, theirs) and exists(docker_client, legacy)
    finally:
        for container in (mine, theirs, legacy):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def bench_containers(client, invocation: str | None = None, exclude: set[str] = frozenset()) -> list:
    """Bench containers as the engine lists them (dicts: one call, safe against concurrent removals)."""
    found = client.api.containers(all=True, filters={"label": ["glia.managed=1"]})
    return [
        c
        for c in found
        if c["Labels"].get(RUN_LABEL, "").startswith("bench-llm_routing-")
        and c["Id"] not in exclude
        and (invocation is None or c["Labels"].get(INVOCATION_LABEL) == invocation)
    ]


@pytest.mark.docker
@pytest.mark.parametrize(("sig", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_bench_removes_its_own_containers_and_no_one_elses(
    docker_client, workspace_image, tmp_path, sig, exit_code
):
    decoy = make_container(
        docker_client,
        workspace_image,
        f"bench-llm_routing-decoy-{uuid.uuid4().hex[:6]}",
        **{INVOCATION_LABEL: "another-glia-process"},
    )
    before = {c["Id"] for c in bench_containers(docker_client)}
    argv = [sys.executable, "-m", "glia.cli", "bench", TASK, "--router", "llq", "--seeds", "10"]
    argv += ["--workloads", "main", "--root", str(tmp_path), "--image", workspace_image]
    child = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "120"},
    )
    try:
        deadline = time.monotonic() + 120
        started: list = []
        while not started and time.monotonic() < deadline and child.poll() is None:
            started = bench_containers(docker_client, exclude=before | {decoy.id})
            time.sleep(0.2)
        assert started, f"bench never started a container: {child.communicate(timeout=30)[0][-2000:]!r}"
        invocation = started[0]["Labels"][INVOCATION_LABEL]
        child.send_signal(sig)
        assert child.wait(timeout=60) == exit_code
        gone_by = time.monotonic() + 10
        while bench_containers(docker_client, invocation) and time.monotonic() < gone_by:
            time.sleep(0.2)
        assert bench_containers(docker_client, invocation) == []
        assert exists(docker_client, decoy)
    finally:
        child.kill()
        child.wait()
        decoy.remove(force=True)
