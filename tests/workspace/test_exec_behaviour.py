"""What a command does, identically on both backends: output, exit codes, time limits, files, secrets."""

from __future__ import annotations

import threading
import time
import uuid

from glia.workspace import Workspace


def run(workspace: Workspace, command: str, timeout_s: float | None = 20):
    return workspace.exec(command, timeout_s=timeout_s)


def unique_sleep() -> str:
    """A sleep command line that no other process on the machine has."""
    return f"sleep {1000 + uuid.uuid4().int % 9000}.{uuid.uuid4().int % 90 + 10}"


def is_running(workspace: Workspace, command_line: str) -> bool:
    """Whether a process with exactly this command line exists where the workspace runs commands."""
    pattern = "^" + command_line.replace(".", "[.]") + "$"
    return run(workspace, f"ps -eo args | grep -c -E '{pattern}'").output.strip() != "0"


def test_output_exit_code_and_duration(shared_workspace):
    result = run(shared_workspace, "echo out; echo err >&2; sleep 0.5; exit 3")
    assert result.exit_code == 3
    assert not result.timed_out
    assert result.output == "out\nerr\n"
    assert 0.5 <= result.duration_s < 3.0
    assert result.output_path.read_text() == "out\nerr\n"
    assert result.output_path.parent.name == "outputs" and result.output_path.name.startswith("cmd-")
    assert (result.truncated, result.output_bytes) == (False, 8)


def test_every_command_gets_a_fresh_shell_at_the_repo_root(shared_workspace):
    run(shared_workspace, "cd pkg; export LEFT_BEHIND=1")
    result = run(shared_workspace, 'ls -d pkg; echo "[${LEFT_BEHIND:-unset}]"; cat pkg/design.py')
    assert result.output == "pkg\n[unset]\nVALUE = 0\n"


def test_a_timed_out_command_and_its_children_are_dead(shared_workspace):
    sleeper = unique_sleep()
    result = run(shared_workspace, f"{sleeper} & {sleeper}; echo never", timeout_s=1.5)
    assert result.timed_out
    assert result.exit_code in (124, 137)
    assert 1.5 <= result.duration_s < 8
    assert "never" not in result.output
    assert not is_running(shared_workspace, sleeper)


def test_a_command_ignoring_sigterm_is_killed_after_the_grace_period(shared_workspace):
    result = run(shared_workspace, "trap '' TERM; while true; do sleep 0.1; done", timeout_s=1)
    assert result.timed_out
    assert result.exit_code == 137
    assert 5.5 <= result.duration_s < 12


def test_ten_megabytes_of_output_are_capped_for_the_model_and_the_log(shared_workspace):
    command = "seq 1 1500000; echo LAST-LINE"  # 10.9 MB
    result = run(shared_workspace, command, timeout_s=60)
    assert result.exit_code == 0
    assert result.truncated
    assert result.output_bytes == 10_888_906
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith("1500000\nLAST-LINE\n")
    assert len(result.output) < 2000 + 500  # the limit plus the marker
    assert str(result.output_path.name) in result.output
    keep = shared_workspace.limits.output_keep_bytes
    saved = result.output_path.read_bytes()
    assert len(saved) < 2 * keep + 200  # head and tail kept, the middle counted
    assert saved.startswith(b"1\n2\n3\n") and saved.endswith(b"1499999\n1500000\nLAST-LINE\n")
    assert f"{10_888_906 - 2 * keep} bytes of output cut here".encode() in saved


def test_a_host_api_key_is_invisible_inside(shared_workspace, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-123")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-host-secret-456")
    result = run(shared_workspace, "env; echo ${OPENAI_API_KEY:-no-key}")
    assert "host-secret" not in result.output
    assert "API_KEY" not in result.output
    assert result.output.rstrip().endswith("no-key")


def test_writes_land_in_the_repo_and_come_back_only_as_data(shared_workspace):
    result = run(shared_workspace, "echo tuned > pkg/new_file.txt && mkdir -p simulator_results/x && pwd")
    assert result.exit_code == 0
    assert result.output == f"{shared_workspace.workdir}\n"
    assert shared_workspace.read_file("pkg/new_file.txt", 100) == b"tuned\n"
    exported = shared_workspace.export_tree(excludes=(".git", "simulator_results"))
    assert exported["pkg/new_file.txt"].data == b"tuned\n"
    assert not any(path.startswith("simulator_results") for path in exported)
    run(shared_workspace, "rm pkg/new_file.txt")


def test_extra_environment_reaches_one_command_only(shared_workspace):
    assert run(shared_workspace, "echo ${GLIA_PROBE:-unset}").output == "unset\n"
    result = shared_workspace.exec("echo $GLIA_PROBE", timeout_s=10, env={"GLIA_PROBE": "set for one"})
    assert result.output == "set for one\n"
    assert run(shared_workspace, "echo ${GLIA_PROBE:-unset}").output == "unset\n"


def test_a_background_job_does_not_hold_exec(shared_workspace):
    sleeper = unique_sleep()
    started = time.monotonic()
    result = run(shared_workspace, f"setsid nohup {sleeper} > bg.log 2>&1 & echo launched")
    assert result.output == "launched\n"
    assert time.monotonic() - started < 2.0
    assert is_running(shared_workspace, sleeper)
    run(shared_workspace, f"pkill -f '^{sleeper}$'; rm -f bg.log")
    assert not is_running(shared_workspace, sleeper)


def test_parallel_commands_in_one_workspace(shared_workspace):
    results = {}

    def one(index: int) -> None:
        results[index] = run(shared_workspace, f"sleep 1; echo seed-{index}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 3.5  # they overlapped
    assert {i: r.output for i, r in results.items()} == {i: f"seed-{i}\n" for i in range(4)}
    assert len({r.output_path for r in results.values()}) == 4


def test_leftovers_in_the_command_group_die_with_it(shared_workspace):
    sleeper = unique_sleep()
    result = run(shared_workspace, f"{sleeper} & echo left-behind")
    assert (result.exit_code, result.output) == (0, "left-behind\n")
    assert not is_running(shared_workspace, sleeper)


def test_commands_reading_stdin_get_end_of_file(shared_workspace):
    result = run(shared_workspace, "cat; read -r line; echo after $?", timeout_s=10)
    assert (result.exit_code, result.timed_out, result.output) == (0, False, "after 1\n")


def test_a_command_that_closes_its_output_early_is_still_waited_for(shared_workspace):
    result = run(shared_workspace, "echo before; exec >&- 2>&-; sleep 1.5; exit 4", timeout_s=20)
    assert (result.exit_code, result.timed_out, result.output) == (4, False, "before\n")
    assert result.duration_s >= 1.5
